"""A scoring feature rules can use: in how many states the operator took out drilling
permits in the last year (an operator expanding into new basins buys new services).

The scorer contract: declare the features, return one set-based SELECT with an
``organization_id`` column and one column per feature, at most one row per
organization; organizations without a row get the feature's default.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select

from ogcrm import Feature, FeatureContext, Scorer


class PermitStatesScorer(Scorer):
    name = "permit_states"
    version = "1"

    def features(self) -> list[Feature]:
        return [
            Feature(
                "permit_states_365d",
                "number",
                "States the operator was issued drilling permits in over the last 365 days",
                0,
            )
        ]

    def query(self, context: FeatureContext) -> Any:
        permit = context.tables["permit"]
        since = context.now.date() - dt.timedelta(days=365)
        return (
            select(
                permit.c.operator_id.label("organization_id"),
                func.count(func.distinct(permit.c.state)).label("permit_states_365d"),
            )
            .where(permit.c.operator_id.is_not(None), permit.c.issued_on >= since)
            .group_by(permit.c.operator_id)
        )
