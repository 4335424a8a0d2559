"""Production per operator over the last 12 months, and its trend.

``production_trend`` compares the last six reported months with the six before, in
barrels of oil equivalent (gas at 6 mcf per barrel): ``(recent - prior) / prior``, so
0.25 is up a quarter and -0.5 down by half; no value when there was nothing before.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import case, func, literal, select

from ogcrm import hookimpl
from ogcrm.pipeline.contracts import Feature, FeatureContext, Scorer


def _months_back(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 - months
    return dt.date(index // 12, index % 12 + 1, 1)


class ProductionScorer(Scorer):
    name = "production"

    def features(self) -> list[Feature]:
        return [
            Feature(
                "oil_bbl_12m",
                "number",
                "Oil produced by the operator's wells, last 12 months (bbl)",
                0,
            ),
            Feature("gas_mcf_12m", "number", "Gas produced, last 12 months (mcf)", 0),
            Feature(
                "production_trend",
                "number",
                "Change of the last 6 months' production (BOE) against the 6 before, as a fraction",
            ),
        ]

    def query(self, context: FeatureContext) -> Any:
        report = context.tables["production_report"]
        today = context.now.date()
        start12, start6 = _months_back(today, 12), _months_back(today, 6)
        boe = func.coalesce(report.c.oil_bbl, 0) + func.coalesce(report.c.gas_mcf, 0) / 6.0
        recent = func.sum(case((report.c.month >= start6, boe), else_=0.0))
        prior = func.sum(case((report.c.month < start6, boe), else_=0.0))
        return (
            select(
                report.c.operator_id.label("organization_id"),
                func.sum(func.coalesce(report.c.oil_bbl, 0)).label("oil_bbl_12m"),
                func.sum(func.coalesce(report.c.gas_mcf, 0)).label("gas_mcf_12m"),
                case((prior > 0, (recent - prior) / prior), else_=literal(None)).label(
                    "production_trend"
                ),
            )
            .where(report.c.operator_id.is_not(None), report.c.month >= start12)
            .group_by(report.c.operator_id)
        )


@hookimpl
def ogcrm_register_scorers() -> list[type[Scorer]]:
    return [ProductionScorer]
