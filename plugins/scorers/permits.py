"""Drilling-permit activity per operator: permits issued in the last 30, 90, 365 days."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import case, func, select

from ogcrm import hookimpl
from ogcrm.pipeline.contracts import Feature, FeatureContext, Scorer


class PermitScorer(Scorer):
    name = "permits"

    def features(self) -> list[Feature]:
        return [
            Feature(
                f"permits_{d}d", "number", f"Permits issued to the operator in the last {d} days", 0
            )
            for d in (30, 90, 365)
        ]

    def query(self, context: FeatureContext) -> Any:
        permit = context.tables["permit"]
        today = context.now.date()

        def since(days: int) -> Any:
            return func.sum(
                case((permit.c.issued_on >= today - dt.timedelta(days=days), 1), else_=0)
            )

        return (
            select(
                permit.c.operator_id.label("organization_id"),
                since(30).label("permits_30d"),
                since(90).label("permits_90d"),
                since(365).label("permits_365d"),
            )
            .where(
                permit.c.operator_id.is_not(None),
                permit.c.issued_on >= today - dt.timedelta(days=365),
            )
            .group_by(permit.c.operator_id)
        )


@hookimpl
def ogcrm_register_scorers() -> list[type[Scorer]]:
    return [PermitScorer]
