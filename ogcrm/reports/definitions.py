"""A report definition, read from JSON and checked against the catalog, and the saved,
named, shareable reports that hold one.

The JSON a client sends (and the ``report`` table stores)::

    {"subject": "permits",
     "dimensions": ["county", "month"],
     "metrics": ["count"],
     "filters": [{"dimension": "state", "in": ["TX"]}],
     "segment": 3,
     "sort": [{"by": "count", "descending": true}],
     "limit": 20,
     "chart": {"mark": "bar"}}

Every name must be in :mod:`ogcrm.reports.catalog`; one that is not is an
``InvalidInput`` naming it and the list it is not in, so a typo reads as one.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ogcrm.auth import audit, policy
from ogcrm.auth.principal import Principal
from ogcrm.db.models import Action, Report
from ogcrm.errors import Conflict, InvalidInput, NotFound
from ogcrm.reports.catalog import SUBJECTS, Subject

MAX_LIMIT = 10_000
MAX_NAME = 200


class Mark(enum.StrEnum):
    BAR = "bar"
    LINE = "line"
    AREA = "area"
    POINT = "point"
    ARC = "arc"  # a pie: one dimension, one metric


@dataclass(frozen=True)
class Filter:
    """Rows whose ``dimension`` is one of ``values`` (``in``), or within ``gte``/``lte``."""

    dimension: str
    values: tuple[Any, ...] = ()
    gte: Any = None
    lte: Any = None


@dataclass(frozen=True)
class Sort:
    by: str
    descending: bool = False


@dataclass(frozen=True)
class Period:
    """The subject's date within ``start`` .. ``end`` (both days included)."""

    start: dt.date | None = None
    end: dt.date | None = None


@dataclass(frozen=True)
class Definition:
    subject: str
    dimensions: tuple[str, ...]
    metrics: tuple[str, ...]
    filters: tuple[Filter, ...] = ()
    segment: int | None = None
    sort: tuple[Sort, ...] = ()
    limit: int = 1000
    mark: Mark | None = None
    #: A period the report always covers, relative to the day it runs: the last N days.
    last_days: int | None = None
    #: Which of the subject's dates a period applies to (default: its first).
    period_on: str | None = None

    @property
    def catalog(self) -> Subject:
        return SUBJECTS[self.subject]

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "subject": self.subject,
            "dimensions": list(self.dimensions),
            "metrics": list(self.metrics),
        }
        if self.filters:
            out["filters"] = [_filter_json(f) for f in self.filters]
        if self.segment is not None:
            out["segment"] = self.segment
        if self.sort:
            out["sort"] = [asdict(s) for s in self.sort]
        out["limit"] = self.limit
        if self.mark is not None:
            out["chart"] = {"mark": self.mark.value}
        if self.last_days is not None:
            out["lastDays"] = self.last_days
        if self.period_on is not None:
            out["periodOn"] = self.period_on
        return out


def _filter_json(f: Filter) -> dict[str, Any]:
    out: dict[str, Any] = {"dimension": f.dimension}
    if f.values:
        out["in"] = list(f.values)
    if f.gte is not None:
        out["gte"] = f.gte
    if f.lte is not None:
        out["lte"] = f.lte
    return out


def _known(kind: str, name: object, known: Sequence[str], field: str) -> str:
    if not isinstance(name, str) or name not in known:
        raise InvalidInput(
            f"{name!r} is not a {kind} of this subject (known: {', '.join(known)})", field=field
        )
    return name


def _list(data: Mapping[str, Any], key: str) -> list[Any]:
    value = data.get(key, [])
    if not isinstance(value, list):
        raise InvalidInput(f"{key} must be a list", field=key)
    return value


def _int(value: object, field: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidInput(f"{field} must be a whole number from {low} to {high}", field=field)
    return value


def _scalar(value: object, field: str) -> Any:
    if value is not None and not isinstance(value, (str, int, float)):
        raise InvalidInput(f"{field} must be text or a number", field=field)
    return value


def parse(data: object) -> Definition:
    """A definition from its JSON, every name checked against the catalog."""
    if not isinstance(data, Mapping):
        raise InvalidInput("a report definition is a JSON object", field="definition")
    unknown = sorted(set(data) - {"subject", "dimensions", "metrics", "filters", "segment",
                                  "sort", "limit", "chart", "lastDays", "periodOn"})  # fmt: skip
    if unknown:
        raise InvalidInput(f"unknown key {unknown[0]!r} in the definition", field=unknown[0])
    name = _known("subject", data.get("subject"), list(SUBJECTS), "subject")
    subject = SUBJECTS[name]
    dims = [_known("dimension", d, list(subject.dimensions), f"dimensions[{i}]")
            for i, d in enumerate(_list(data, "dimensions"))]  # fmt: skip
    metrics = [_known("metric", x, list(subject.metrics), f"metrics[{i}]")
               for i, x in enumerate(_list(data, "metrics"))]  # fmt: skip
    if not metrics:
        raise InvalidInput("a report needs at least one metric", field="metrics")
    if len(set(dims)) != len(dims) or len(set(metrics)) != len(metrics):
        raise InvalidInput("a dimension or metric is named twice", field="dimensions")
    filters = []
    for i, raw in enumerate(_list(data, "filters")):
        field = f"filters[{i}]"
        if not isinstance(raw, Mapping) or set(raw) - {"dimension", "in", "gte", "lte"}:
            raise InvalidInput("a filter is {dimension, in | gte | lte}", field=field)
        dim = _known(
            "dimension", raw.get("dimension"), list(subject.dimensions), f"{field}.dimension"
        )
        values = raw.get("in", [])
        if not isinstance(values, list) or len(values) > 1000:
            raise InvalidInput("in is a list of at most 1000 values", field=f"{field}.in")
        f = Filter(
            dim,
            tuple(_scalar(v, f"{field}.in") for v in values),
            _scalar(raw.get("gte"), f"{field}.gte"),
            _scalar(raw.get("lte"), f"{field}.lte"),
        )
        if not f.values and f.gte is None and f.lte is None:
            raise InvalidInput("a filter needs in, gte or lte", field=field)
        filters.append(f)
    segment = data.get("segment")
    if segment is not None:
        segment = _int(segment, "segment", 1, 2**53)
        if subject.organization is None:
            raise InvalidInput(
                f"{name} rows belong to no organization: no segment", field="segment"
            )
    sorts = []
    for i, raw in enumerate(_list(data, "sort")):
        if not isinstance(raw, Mapping):
            raise InvalidInput("a sort is {by, descending}", field=f"sort[{i}]")
        by = _known("column", raw.get("by"), [*dims, *metrics], f"sort[{i}].by")
        sorts.append(Sort(by, bool(raw.get("descending", False))))
    limit = _int(data.get("limit", 1000), "limit", 1, MAX_LIMIT)
    chart = data.get("chart") or {}
    if not isinstance(chart, Mapping) or set(chart) - {"mark"}:
        raise InvalidInput("chart is {mark}", field="chart")
    mark = None
    if "mark" in chart:
        try:
            mark = Mark(chart["mark"])
        except ValueError:
            known = ", ".join(m.value for m in Mark)
            raise InvalidInput(f"chart.mark is one of {known}", field="chart.mark") from None
    last_days = data.get("lastDays")
    if last_days is not None:
        last_days = _int(last_days, "lastDays", 1, 36_500)
    period_on = data.get("periodOn")
    if period_on is not None:
        period_on = _known("date", period_on, list(subject.dates), "periodOn")
    return Definition(name, tuple(dims), tuple(metrics), tuple(filters), segment,
                      tuple(sorts), limit, mark, last_days, period_on)  # fmt: skip


def _readable(principal: Principal) -> Any:
    return or_(policy.scope_filter("report", principal, Action.READ), Report.shared.is_(True))


def get_report(session: Session, principal: Principal, report_id: int) -> Report:
    """A report the principal may read (their own, a shared one, or by scope)."""
    policy.require(principal, "report", Action.READ)
    row = session.scalar(select(Report).where(Report.id == report_id, _readable(principal)))
    if row is None:
        raise NotFound(f"no report {report_id}")
    return row


def find_report(session: Session, principal: Principal, name: str) -> Report:
    """A readable report by name: the principal's own first, else the only other one."""
    policy.require(principal, "report", Action.READ)
    rows = session.scalars(
        select(Report).where(Report.name == name.strip(), _readable(principal)).order_by(Report.id)
    ).all()
    mine = [r for r in rows if r.owner_id is not None and r.owner_id == principal.user_id]
    if mine:
        return mine[0]
    if len(rows) == 1:
        return rows[0]
    if not rows:
        raise NotFound(f"no report named {name!r}")
    ids = ", ".join(str(r.id) for r in rows)
    raise InvalidInput(
        f"{len(rows)} reports are named {name!r} (ids {ids}): give the id", field="name"
    )


def list_reports(session: Session, principal: Principal) -> Sequence[Report]:
    policy.require(principal, "report", Action.READ)
    return session.scalars(
        select(Report).where(_readable(principal)).order_by(Report.name, Report.id)
    ).all()


def _name(value: str) -> str:
    name = value.strip()
    if not name:
        raise InvalidInput("a report needs a name", field="name")
    if len(name) > MAX_NAME:
        raise InvalidInput(f"name is longer than {MAX_NAME} characters", field="name")
    return name


def save_report(
    session: Session,
    principal: Principal,
    *,
    name: str,
    definition: object,
    description: str = "",
    shared: bool = False,
    report_id: int | None = None,
) -> Report:
    """Create a report (``report_id`` None) or replace one the principal may write."""
    policy.require(principal, "report", Action.WRITE)
    checked = parse(definition).as_json()
    if report_id is None:
        row = Report(owner_id=principal.user_id)
        session.add(row)
    else:
        row = get_report(session, principal, report_id)
        policy.authorize_write(session, principal, "report", row)
    row.name, row.description, row.shared, row.definition = (
        _name(name),
        description,
        shared,
        checked,
    )
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise Conflict(f"you already have a report named {row.name!r}") from None
    audit.record(session, principal, "report.saved", entity="report", entity_id=row.id,
                 name=row.name, shared=shared)  # fmt: skip
    return row


def delete_report(session: Session, principal: Principal, report_id: int) -> None:
    row = get_report(session, principal, report_id)
    policy.authorize_write(session, principal, "report", row)
    session.delete(row)
    audit.record(session, principal, "report.deleted", entity="report", entity_id=report_id,
                 name=row.name)  # fmt: skip


def reports_by_ids(session: Session, principal: Principal, ids: Sequence[int]) -> dict[int, Report]:
    """The readable reports among ``ids`` (relay ``node``), one statement."""
    if not policy.can(principal, "report", Action.READ):
        return {}
    rows = session.scalars(select(Report).where(Report.id.in_(list(ids)), _readable(principal)))
    return {r.id: r for r in rows}
