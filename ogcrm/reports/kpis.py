"""The KPIs a manager tracks, each a report over the catalog with a fixed definition
(so it runs through the same scoped, one-statement path as any saved report), plus the
score movers, which compare two moments rather than group rows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ogcrm.auth import policy
from ogcrm.auth.principal import Principal
from ogcrm.db.models import Action, Organization, OrganizationScore, ScoreSnapshot
from ogcrm.errors import InvalidInput
from ogcrm.reports import charts
from ogcrm.reports.catalog import Shape
from ogcrm.reports.definitions import Definition, Mark, Period, parse
from ogcrm.reports.run import Result, ResultColumn, run

#: Orders that count as sold (a draft is not yet an order, a cancelled one no longer).
SOLD = ["confirmed", "scheduled", "delivered", "invoiced"]


@dataclass(frozen=True)
class Kpi:
    name: str
    title: str
    description: str
    #: Checked against the catalog once, when the module loads (a KPI naming something
    #: the catalog lost fails at import, not on a manager's dashboard).
    definition: Definition


def _kpi(name: str, title: str, description: str, **definition: Any) -> Kpi:
    return Kpi(name, title, description, parse(definition))


KPIS: dict[str, Kpi] = {
    k.name: k
    for k in (
        _kpi("pipeline_by_stage", "Pipeline by stage",
             "Opportunities, amount and probability-weighted amount per stage.",
             subject="opportunities", dimensions=["stage"],
             metrics=["count", "amount", "weighted_amount"]),
        _kpi("pipeline_by_close_month", "Pipeline forecast by close month",
             "Method: probability-weighted pipeline. Each open opportunity's amount times its "
             "stage's win probability, summed by expected close month.",
             subject="opportunities", dimensions=["close_month"],
             metrics=["count", "amount", "weighted_amount"],
             filters=[{"dimension": "stage",
                       "in": ["prospecting", "qualification", "proposal", "negotiation"]}]),
        _kpi("win_rate_by_owner", "Win rate by owner",
             "Won / (won + lost) and average days from creation to a win, per owner, "
             "over opportunities closed in the period.",
             subject="opportunities", dimensions=["owner"],
             metrics=["won", "lost", "win_rate", "avg_days_to_close"],
             filters=[{"dimension": "stage", "in": ["won", "lost"]}], periodOn="closed"),
        _kpi("interactions_per_rep_week", "Interactions per rep per week",
             "Calls, e-mails, meetings and notes logged, per rep and ISO week (Monday).",
             subject="interactions", dimensions=["week", "rep"], metrics=["count"], lastDays=84),
        _kpi("follow_ups", "Open and overdue follow-ups", "Open and overdue tasks per assignee.",
             subject="tasks", dimensions=["assignee"], metrics=["open", "overdue"],
             filters=[{"dimension": "status", "in": ["open"]}],
             sort=[{"by": "overdue", "descending": True}]),
        _kpi("permits_by_operator_month", "New permits per operator per month",
             "Drilling permits issued, per operator and month.",
             subject="permits", dimensions=["month", "operator"], metrics=["count"], lastDays=365),
        _kpi("permits_by_county_month", "New permits per county per month",
             "Drilling permits issued, per county and month.",
             subject="permits", dimensions=["month", "county"], metrics=["count"], lastDays=365),
        _kpi("active_wells_by_operator", "Active wells per operator",
             "Wells and active wells per operator, most active first.",
             subject="wells", dimensions=["operator"], metrics=["active", "count"],
             sort=[{"by": "active", "descending": True}], limit=50),
        _kpi("production_by_operator_month", "Production trend per operator",
             "Oil, gas and barrels of oil equivalent per operator and month.",
             subject="production", dimensions=["month", "operator"],
             metrics=["oil_bbl", "gas_mcf", "boe"], lastDays=730),
        _kpi("score_distribution", "Score distribution",
             "Accounts per priority bucket of 10 points.",
             subject="organizations", dimensions=["priority_bucket"], metrics=["count"]),
        _kpi("service_requests_by_county", "Service requests by county, kind and status",
             "Requests opened in the period.",
             subject="service_requests", dimensions=["county", "kind", "status"], metrics=["count"]),
        _kpi("service_resolution", "Time to resolve and satisfaction",
             "Average hours from opening to resolution, and the customers' average rating, per kind.",
             subject="service_requests", dimensions=["kind"],
             metrics=["count", "avg_hours_to_resolve", "avg_rating", "rated"]),
        _kpi("revenue_by_product_month", "Orders and revenue per product per month",
             "Confirmed (or later) orders' quantity and revenue per product and order month.",
             subject="order_lines", dimensions=["month", "product"],
             metrics=["orders", "quantity", "revenue"],
             filters=[{"dimension": "status", "in": SOLD}]),
        _kpi("revenue_by_county_month", "Orders and revenue per county per month",
             "Confirmed (or later) orders and revenue per delivery county and order month.",
             subject="order_lines", dimensions=["month", "county"], metrics=["orders", "revenue"],
             filters=[{"dimension": "status", "in": SOLD}]),
        _kpi("rows_by_outcome", "Data quality: rows by outcome",
             "Each dataset's rows: clean, fixed, quarantined, duplicate.",
             subject="staged_rows", dimensions=["dataset", "outcome"], metrics=["count"]),
        _kpi("issues_by_cleaner", "Data quality: issues per cleaner and column",
             "What the cleaners corrected or flagged, per dataset, cleaner and column.",
             subject="cell_issues", dimensions=["dataset", "cleaner", "column"], metrics=["count"],
             sort=[{"by": "count", "descending": True}]),
    )
}  # fmt: skip

#: Not a catalog report: the accounts whose priority moved most since a date.
MOVERS = "score_movers"
ALL = (*KPIS, MOVERS)


def kpi(
    session: Session,
    principal: Principal,
    name: str,
    *,
    period: Period | None = None,
    since: dt.datetime | None = None,
) -> Result:
    """The KPI ``name`` in the principal's scope over ``period`` (score movers: since
    ``since``, default 30 days ago)."""
    if name == MOVERS:
        return score_movers(session, principal, since=since)
    found = KPIS.get(name)
    if found is None:
        raise InvalidInput(f"no KPI {name!r} (known: {', '.join(ALL)})", field="name")
    return run(session, principal, found.definition, period=period, title=found.title)


def score_movers(
    session: Session,
    principal: Principal,
    *,
    since: dt.datetime | None = None,
    limit: int = 20,
) -> Result:
    """The readable accounts whose priority changed most since ``since``: the priority
    of the last snapshot before then against today's. One statement."""
    policy.require(principal, "organization", Action.READ)
    since = since or (dt.datetime.now(dt.UTC) - dt.timedelta(days=30))
    latest = (
        select(ScoreSnapshot.organization_id, func.max(ScoreSnapshot.id).label("snapshot_id"))
        .where(ScoreSnapshot.computed_at < since)
        .group_by(ScoreSnapshot.organization_id)
        .subquery()
    )
    change = OrganizationScore.priority - ScoreSnapshot.priority
    stmt = (
        select(Organization.name, ScoreSnapshot.priority, OrganizationScore.priority, change)
        .join(OrganizationScore, OrganizationScore.organization_id == Organization.id)
        .join(latest, latest.c.organization_id == Organization.id)
        .join(ScoreSnapshot, ScoreSnapshot.id == latest.c.snapshot_id)
        .where(change != 0, policy.scope_filter("organization", principal))
        .order_by(func.abs(change).desc(), Organization.id)
        .limit(limit)
    )
    columns = [
        ResultColumn("organization", "Account", "dimension", Shape.NOMINAL),
        ResultColumn("before", "Priority then", "metric", Shape.QUANTITATIVE),
        ResultColumn("after", "Priority now", "metric", Shape.QUANTITATIVE),
        ResultColumn("change", "Change", "metric", Shape.QUANTITATIVE),
    ]
    rows = [[n, round(b, 6), round(a, 6), round(c, 6)] for n, b, a, c in session.execute(stmt)]
    result = Result(
        f"Score movers since {since.date().isoformat()}", "organizations", columns, rows
    )
    # the chart shows how far each moved
    moves = replace(result, columns=[columns[0], columns[3]], rows=[[r[0], r[3]] for r in rows])
    return replace(result, chart=charts.spec(moves, Mark.BAR))
