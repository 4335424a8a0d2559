"""The Query root, assembled from one mixin per domain: thin resolvers that parse
arguments and call services, which apply the caller's scope in SQL
(``ogcrm.auth.policy``); nothing here filters rows itself."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry import relay
from strawberry.types import Info

import ogcrm
from ogcrm.api.context import Context
from ogcrm.api.ids import local_id
from ogcrm.api.queries.accounts import AccountQueries
from ogcrm.api.queries.datasets import DatasetQueries
from ogcrm.api.queries.outreach import OutreachQueries
from ogcrm.api.queries.reports import ReportQueries
from ogcrm.api.queries.rules import RuleQueries
from ogcrm.api.queries.sales import SalesQueries, ServiceQueries
from ogcrm.api.types.access import User
from ogcrm.api.types.contact import Contact
from ogcrm.api.types.dataset import Dataset
from ogcrm.api.types.organization import Organization
from ogcrm.api.types.outreach import Campaign, Segment
from ogcrm.api.types.regulatory import Permit, Well
from ogcrm.api.types.reports import Report
from ogcrm.api.types.rules import RuleSet
from ogcrm.api.types.sales import Opportunity, Order, Product, ServiceRequest
from ogcrm.api.types.task import Task
from ogcrm.errors import InvalidInput

#: An explicit allow-list of node types: a global id naming any other type is refused
#: instead of being resolved by whatever class answers to the name (GHSA-5xh2-23cc-5jc6,
#: node type confusion).
NODE_TYPES: dict[str, Any] = {
    "Organization": Organization,
    "Contact": Contact,
    "Dataset": Dataset,
    "RuleSet": RuleSet,
    "User": User,
    "Well": Well,
    "Permit": Permit,
    "Task": Task,
    "Opportunity": Opportunity,
    "Product": Product,
    "Order": Order,
    "ServiceRequest": ServiceRequest,
    "Segment": Segment,
    "Campaign": Campaign,
    "Report": Report,
}


@strawberry.type
class Query(
    AccountQueries,
    DatasetQueries,
    RuleQueries,
    SalesQueries,
    ServiceQueries,
    OutreachQueries,
    ReportQueries,
):
    @strawberry.field(description="Any object by its global id, if you may see it.")
    async def node(self, info: Info[Context, None], id: relay.GlobalID) -> relay.Node | None:
        node_type = NODE_TYPES.get(id.type_name)
        if node_type is None:
            raise InvalidInput(f"no object type {id.type_name!r} has global ids", field="id")
        info.context.require_principal()
        nodes = await node_type.resolve_nodes(info=info, node_ids=[str(local_id(id, id.type_name))])
        return nodes[0]

    @strawberry.field(description="The running ogcrm's version.")
    def version(self) -> str:
        return ogcrm.__version__
