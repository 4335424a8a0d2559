"""Running a report definition: one grouped SELECT over the catalog's expressions, in
the caller's scope, narrowed by period, filters and segment; its rows, typed columns and
chart.

The statement is built by SQLAlchemy from catalog entries only (names were checked by
:func:`ogcrm.reports.definitions.parse`), and values a user gave travel as bound
parameters, so a report can neither name a column outside the catalog nor inject SQL.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, case, select
from sqlalchemy.orm import Session

from ogcrm.accounts import segments
from ogcrm.auth import policy
from ogcrm.auth.principal import Principal
from ogcrm.db.models import Action
from ogcrm.db.types import UTCDateTime, utcnow
from ogcrm.errors import InvalidInput
from ogcrm.reports import charts
from ogcrm.reports.catalog import Shape
from ogcrm.reports.definitions import Definition, Period


@dataclass(frozen=True)
class ResultColumn:
    name: str
    label: str
    #: ``dimension`` (grouped by) or ``metric`` (aggregated)
    role: str
    shape: Shape
    integer: bool = False
    order: tuple[str, ...] = ()


@dataclass(frozen=True)
class Result:
    title: str
    subject: str
    columns: Sequence[ResultColumn]
    rows: list[list[Any]]
    #: More groups exist than the limit let through.
    truncated: bool = False
    chart: dict[str, Any] = field(default_factory=dict)

    def records(self) -> list[dict[str, Any]]:
        names = [c.name for c in self.columns]
        return [dict(zip(names, row, strict=True)) for row in self.rows]


def period_of(definition: Definition, period: Period | None) -> Period | None:
    """The period asked for at run time, else the definition's own (the last N days)."""
    if period is not None and (period.start or period.end):
        if period.start and period.end and period.start > period.end:
            raise InvalidInput("the period ends before it starts", field="period.end")
        return period
    if definition.last_days is not None:
        return Period(start=utcnow().date() - dt.timedelta(days=definition.last_days))
    return None


def _period_clauses(when: Any, period: Period) -> list[Any]:
    out = []
    timestamp = isinstance(when.type, UTCDateTime)
    if period.start is not None:
        start = dt.datetime.combine(period.start, dt.time(), dt.UTC) if timestamp else period.start
        out.append(when >= start)
    if period.end is not None:
        if timestamp:
            end = dt.datetime.combine(period.end + dt.timedelta(days=1), dt.time(), dt.UTC)
            out.append(when < end)
        else:
            out.append(when <= period.end)
    return out


def statement(
    session: Session, principal: Principal, definition: Definition, period: Period | None = None
) -> Select[Any]:
    """The one SELECT the report runs (one row more than its limit, to tell it was cut)."""
    subject = definition.catalog
    policy.require(principal, subject.scope, Action.READ)
    dims = [subject.dimensions[n] for n in definition.dimensions]
    metrics = [subject.metrics[n] for n in definition.metrics]
    stmt = subject.source().add_columns(
        *(d.expr.label(d.name) for d in dims), *(x.expr.label(x.name) for x in metrics)
    )
    stmt = stmt.where(policy.scope_filter(subject.scope, principal, Action.READ))
    chosen = period_of(definition, period)
    if chosen is not None:
        if not subject.dates:
            raise InvalidInput(f"{subject.name} have no date to filter by", field="period")
        when = subject.dates[definition.period_on or next(iter(subject.dates))]
        stmt = stmt.where(*_period_clauses(when, chosen))
    for f in definition.filters:
        expr = subject.dimensions[f.dimension].expr
        if f.values:
            stmt = stmt.where(expr.in_(list(f.values)))
        if f.gte is not None:
            stmt = stmt.where(expr >= f.gte)
        if f.lte is not None:
            stmt = stmt.where(expr <= f.lte)
    if definition.segment is not None:
        segment = segments.get_segment(session, principal, definition.segment)
        members = segments.member_ids(session, segment.filter).subquery()
        stmt = stmt.where(subject.organization.in_(select(members.c.id)))
    if dims:
        stmt = stmt.group_by(*(d.expr for d in dims))
    order = ordering(definition, lambda name: stmt.selected_columns[name])
    return stmt.order_by(*order).limit(definition.limit + 1)


def ordering(definition: Definition, column: Callable[[str], Any]) -> list[Any]:
    """The result's order: the sorts asked for, then each dimension in its natural
    order (pipeline stages as the pipeline runs, else ascending). ``column`` gives the
    expression of a result column by name (in the statement, or in a subquery of it)."""
    order: list[Any] = []
    for s in definition.sort:
        order.append(column(s.by).desc() if s.descending else column(s.by).asc())
    for name in definition.dimensions:
        dim, expr = definition.catalog.dimensions[name], column(name)
        if dim.order:
            order.append(
                case({v: i for i, v in enumerate(dim.order)}, value=expr, else_=len(dim.order))
            )
        order.append(expr.asc())
    return order


def _plain(value: Any, integer: bool) -> Any:
    if value is None:
        return None
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, (Decimal, float)):
        return int(value) if integer else round(float(value), 6)
    return value


def run(
    session: Session,
    principal: Principal,
    definition: Definition,
    *,
    period: Period | None = None,
    title: str = "",
) -> Result:
    """Run the definition: its rows (plain JSON values), columns and chart."""
    columns = result_columns(definition)
    raw = session.execute(statement(session, principal, definition, period)).all()
    rows = [[_plain(v, c.integer) for v, c in zip(row, columns, strict=True)] for row in raw]
    truncated = len(rows) > definition.limit
    result = Result(title or definition.catalog.label, definition.subject, columns,
                    rows[: definition.limit], truncated)  # fmt: skip
    return replace(result, chart=charts.spec(result, definition.mark))


def result_columns(definition: Definition) -> list[ResultColumn]:
    subject = definition.catalog
    return [
        *(ResultColumn(d.name, d.label, "dimension", d.shape, order=d.order)
          for d in (subject.dimensions[n] for n in definition.dimensions)),
        *(ResultColumn(x.name, x.label, "metric", Shape.QUANTITATIVE, x.integer)
          for x in (subject.metrics[n] for n in definition.metrics)),
    ]  # fmt: skip
