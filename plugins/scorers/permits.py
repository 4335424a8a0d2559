"""Drilling-permit activity per operator: permits issued in the last 30, 90, 365 days."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import case, func, select

from ogcrm import hookimpl
from ogcrm.pipeline.contracts import Feature, FeatureContext, Scorer

#: The look-back windows, in days, each a feature ``permits_<days>d``.
WINDOWS = (30, 90, 365)


class PermitScorer(Scorer):
    name = "permits"

    def features(self) -> list[Feature]:
        return [
            Feature(
                f"permits_{d}d", "number", f"Permits issued to the operator in the last {d} days", 0
            )
            for d in WINDOWS
        ]

    def query(self, context: FeatureContext) -> Any:
        permit = context.tables["permit"]
        today = context.now.date()
        # Only the windows asked for, and permits as old as the widest of them: a
        # segment on permits_90d reads a quarter of a year's permits, not all of it.
        windows = [d for d in WINDOWS if context.wants(f"permits_{d}d")] or list(WINDOWS)

        def since(days: int) -> Any:
            if days == max(windows):
                return func.count()
            return func.sum(case((_issued_within(permit, today, days), 1), else_=0))

        return (
            select(
                permit.c.operator_id.label("organization_id"),
                *(since(d).label(f"permits_{d}d") for d in windows),
            )
            .where(permit.c.operator_id.is_not(None), _issued_within(permit, today, max(windows)))
            .group_by(permit.c.operator_id)
        )

    def counted_rows(self, feature: str, context: FeatureContext) -> Any | None:
        days = {f"permits_{d}d": d for d in WINDOWS}.get(feature)
        if days is None:
            return None
        permit = context.tables["permit"]
        return select(permit.c.operator_id.label("organization_id")).where(
            permit.c.operator_id.is_not(None), _issued_within(permit, context.now.date(), days)
        )


def _issued_within(permit: Any, today: dt.date, days: int) -> Any:
    """Issued in the last ``days`` days: one window for the counts and the rows counted."""
    return permit.c.issued_on >= today - dt.timedelta(days=days)


@hookimpl
def ogcrm_register_scorers() -> list[type[Scorer]]:
    return [PermitScorer]
