"""Wells per operator: active ones, newly spudded ones, and how many counties they span."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import case, func, select

from ogcrm import hookimpl
from ogcrm.pipeline.contracts import Feature, FeatureContext, Scorer

#: Status codes (agencies' and spelled out) of a well that will not produce again.
INACTIVE = ("PA", "P&A", "PLUGGED", "ABANDONED", "DA", "CNL", "CANCELLED", "EXPIRED", "LA")


class WellScorer(Scorer):
    name = "wells"

    def features(self) -> list[Feature]:
        return [
            Feature(
                "active_wells", "number", "Operated wells not plugged, abandoned or cancelled", 0
            ),
            Feature("new_wells_12m", "number", "Operated wells spudded in the last 12 months", 0),
            Feature("counties", "number", "Distinct counties the operator's wells are in", 0),
        ]

    def query(self, context: FeatureContext) -> Any:
        well = context.tables["well"]
        since = _since(context)
        inactive = _inactive(well)
        return (
            select(
                well.c.operator_id.label("organization_id"),
                func.sum(case((inactive, 0), else_=1)).label("active_wells"),
                func.sum(case((well.c.spud_date >= since, 1), else_=0)).label("new_wells_12m"),
                func.count(func.distinct(func.coalesce(well.c.county_fips, well.c.county))).label(
                    "counties"
                ),
            )
            .where(well.c.operator_id.is_not(None))
            .group_by(well.c.operator_id)
        )

    def counted_rows(self, feature: str, context: FeatureContext) -> Any | None:
        well = context.tables["well"]
        counted = {
            "active_wells": ~_inactive(well),
            "new_wells_12m": well.c.spud_date >= _since(context),
            # a distinct count is at least 1 exactly when one value is not null
            "counties": func.coalesce(well.c.county_fips, well.c.county).is_not(None),
        }.get(feature)
        if counted is None:
            return None
        return select(well.c.operator_id.label("organization_id")).where(
            well.c.operator_id.is_not(None), counted
        )


def _since(context: FeatureContext) -> dt.date:
    return context.now.date() - dt.timedelta(days=365)


def _inactive(well: Any) -> Any:
    return func.upper(func.coalesce(well.c.status, "")).in_(INACTIVE)


@hookimpl
def ogcrm_register_scorers() -> list[type[Scorer]]:
    return [WellScorer]
