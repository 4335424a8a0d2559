"""The Mutation root, assembled from one mixin per domain area."""

from __future__ import annotations

import strawberry

from ogcrm.api.mutations.admin import AdminMutations
from ogcrm.api.mutations.auth import AuthMutations
from ogcrm.api.mutations.crm import CrmMutations
from ogcrm.api.mutations.datasets import DatasetMutations
from ogcrm.api.mutations.outreach import OutreachMutations
from ogcrm.api.mutations.reports import ReportMutations
from ogcrm.api.mutations.rules import RuleMutations
from ogcrm.api.mutations.sales import SalesMutations
from ogcrm.api.mutations.service import ServiceMutations
from ogcrm.api.mutations.tags import TagMutations


@strawberry.type
class Mutation(
    AuthMutations,
    CrmMutations,
    AdminMutations,
    DatasetMutations,
    RuleMutations,
    SalesMutations,
    ServiceMutations,
    OutreachMutations,
    TagMutations,
    ReportMutations,
):
    pass
