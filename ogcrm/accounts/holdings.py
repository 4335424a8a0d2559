"""An operator's wells and permits as the account page pages through them.

A big operator holds tens of thousands of wells, so these are keyset pages, not a
top-``n`` list: each order is a tuple of columns that is unique per row (the id breaks
ties), and a cursor is that tuple. Many organizations asked for at once (a list of
account pages) are still one statement: a window function ranks each organization's
rows after the cursor and keeps the first ``first + 1`` (the extra one says whether
there is a next page).

Wells and permits are public data, readable by whoever may read the organization they
hang off; the caller has already loaded that organization in scope.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, func, literal, select, tuple_
from sqlalchemy.orm import Session

from ogcrm.accounts.worklist import PermitFilter, county_clause, days_ago, state_code
from ogcrm.db.models import Permit, Well
from ogcrm.db.types import in_values
from ogcrm.errors import InvalidInput

#: Rows with no date sort after every dated one, as a date (so the key stays comparable).
_UNDATED = dt.date(1, 1, 1)


class WellOrder(enum.StrEnum):
    NEWEST_SPUD = "newest_spud"  # spudded most recently first, undated last
    API_NUMBER = "api_number"  # by API number, ascending


class PermitOrder(enum.StrEnum):
    NEWEST = "newest"  # issued most recently first, unissued last
    OLDEST = "oldest"


@dataclass(frozen=True)
class WellFilter:
    """Wells matching all of: county (name or FIPS), state, status."""

    county: str | None = None
    state: str | None = None
    status: str | None = None


@dataclass(frozen=True)
class Holding:
    """One row and its position in the order (what its cursor encodes)."""

    row: Any
    key: tuple[Any, ...]


@dataclass(frozen=True)
class _Order:
    columns: tuple[Any, ...]
    descending: bool
    #: How each key part is written in a cursor and read back from one.
    types: tuple[type, ...]


def _orders(model: Any, order: WellOrder | PermitOrder) -> _Order:
    if order is WellOrder.API_NUMBER:
        return _Order((Well.api10,), False, (str,))
    dated = Well.spud_date if model is Well else Permit.issued_on
    day = func.coalesce(dated, literal(_UNDATED, dated.type))
    return _Order((day, model.id), order is not PermitOrder.OLDEST, (str, int))


def cursor_key(key: tuple[Any, ...]) -> tuple[Any, ...]:
    """``key`` as JSON can carry it (dates as ISO text)."""
    return tuple(v.isoformat() if isinstance(v, dt.date) else v for v in key)


def key_types(model: Any, order: WellOrder | PermitOrder) -> tuple[type, ...]:
    """The JSON types of a cursor's values in ``order`` (dates travel as ISO text)."""
    return _orders(model, order).types


def read_key(order: WellOrder | PermitOrder, raw: tuple[Any, ...]) -> tuple[Any, ...]:
    """A cursor's values (checked against :func:`key_types`) back as the order's key; a
    forged date is an ``InvalidInput``."""
    if order is WellOrder.API_NUMBER:
        return raw
    try:
        return (dt.date.fromisoformat(raw[0]), raw[1])
    except ValueError:
        raise InvalidInput("invalid cursor", field="after") from None


def well_conditions(f: WellFilter | None) -> list[ColumnElement[bool]]:
    if f is None:
        return []
    out: list[ColumnElement[bool]] = []
    if f.county:
        out.append(county_clause(f.county, Well.county, Well.county_fips, "filter.county"))
    if f.state:
        out.append(Well.state == state_code(f.state, "filter.state"))
    if f.status and f.status.strip():
        out.append(func.upper(Well.status) == f.status.strip().upper())
    return out


def permit_conditions(f: PermitFilter | None) -> list[ColumnElement[bool]]:
    if f is None:
        return []
    out: list[ColumnElement[bool]] = []
    if f.county:
        out.append(county_clause(f.county, Permit.county, None, "filter.county"))
    if f.state:
        out.append(Permit.state == state_code(f.state, "filter.state"))
    if f.within_days is not None:
        out.append(Permit.issued_on >= days_ago(f.within_days, "filter.withinDays").date())
    return out


def _page(
    session: Session,
    model: Any,
    org_ids: Sequence[int],
    where: Sequence[ColumnElement[bool]],
    order: WellOrder | PermitOrder,
    first: int,
    after: tuple[Any, ...] | None,
) -> dict[int, list[Holding]]:
    spec = _orders(model, order)
    keys = [c.label(f"k{i}") for i, c in enumerate(spec.columns)]
    sort = [c.desc() if spec.descending else c.asc() for c in spec.columns]
    conditions = [in_values(session, model.operator_id, org_ids), *where]
    if after is not None:
        position = tuple_(*spec.columns)
        conditions.append(
            position < tuple_(*after) if spec.descending else position > tuple_(*after)
        )
    ranked = (
        select(
            model.id.label("id"),
            *keys,
            func.row_number().over(partition_by=model.operator_id, order_by=sort).label("n"),
        )
        .where(*conditions)
        .subquery()
    )
    key_columns = [ranked.c[f"k{i}"] for i in range(len(keys))]
    stmt = (
        select(model, *key_columns)
        .join(ranked, ranked.c.id == model.id)
        .where(ranked.c.n <= first + 1)
        .order_by(model.operator_id, ranked.c.n)
    )
    grouped: dict[int, list[Holding]] = defaultdict(list)
    for row, *key in session.execute(stmt):
        grouped[row.operator_id].append(Holding(row, tuple(key)))
    return grouped


def wells_page(
    session: Session,
    org_ids: Sequence[int],
    where: WellFilter | None,
    order: WellOrder,
    first: int,
    after: tuple[Any, ...] | None,
) -> dict[int, list[Holding]]:
    """Up to ``first + 1`` wells of each organization after ``after``, in ``order``."""
    return _page(session, Well, org_ids, well_conditions(where), order, first, after)


def permits_page(
    session: Session,
    org_ids: Sequence[int],
    where: PermitFilter | None,
    order: PermitOrder,
    first: int,
    after: tuple[Any, ...] | None,
) -> dict[int, list[Holding]]:
    """Up to ``first + 1`` permits of each organization after ``after``, in ``order``."""
    return _page(session, Permit, org_ids, permit_conditions(where), order, first, after)


def wells_counted(
    session: Session, org_ids: Sequence[int], where: WellFilter | None
) -> dict[int, int]:
    """How many wells of each organization match, all pages together."""
    return _count(session, Well, org_ids, well_conditions(where))


def permits_counted(
    session: Session, org_ids: Sequence[int], where: PermitFilter | None
) -> dict[int, int]:
    return _count(session, Permit, org_ids, permit_conditions(where))


def _count(
    session: Session, model: Any, org_ids: Sequence[int], where: Sequence[ColumnElement[bool]]
) -> dict[int, int]:
    stmt = (
        select(model.operator_id, func.count())
        .where(in_values(session, model.operator_id, org_ids), *where)
        .group_by(model.operator_id)
    )
    return {org_id: int(n) for org_id, n in session.execute(stmt)}
