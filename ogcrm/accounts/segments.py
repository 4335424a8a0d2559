"""Segments: saved, named filters over organizations for targeted outreach.

A segment's filter is JSON-logic over the scoring features (``permits_90d``,
``oil_bbl_12m``, ``tags``...) and the organization's own fields (``state``, ``city``,
``status``, ``score``, ``priority``), compiled to SQL by the rules compiler, so
membership is one statement whatever the number of organizations. Only the scorers whose
features the filter names are joined in (a filter on ``state`` alone never aggregates a
permit). The same compiled filter narrows the working list (``filter.segment``) and the
campaigns built on a segment.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from ogcrm.auth import audit, policy
from ogcrm.auth.principal import Principal
from ogcrm.db.models import Action, Organization, OrganizationScore, Segment
from ogcrm.db.types import utcnow
from ogcrm.errors import InvalidInput
from ogcrm.pipeline.contracts import Feature
from ogcrm.plugins import Registry, default_registry
from ogcrm.rules.compiler import Unsupported, compile_rule, truthy
from ogcrm.rules.ruleset import Fault, RuleSetInvalid, logic_faults
from ogcrm.scoring.features import catalog, scorer_columns

#: The score row a segment on ``score`` or ``priority`` joins, aliased so the working
#: list (which joins the score table for its order) can be restricted by a segment.
_SCORE = aliased(OrganizationScore, name="segment_score")

#: The organization's own fields a segment may use, beside the scoring features.
ORGANIZATION_FIELDS: dict[str, tuple[Feature, Any]] = {
    f.name: (f, column)
    for f, column in (
        (Feature("state", "string", "The organization's state (postal code)."), Organization.state),
        (Feature("city", "string", "The organization's city."), Organization.city),
        (
            Feature("status", "string", "prospect, customer, partner or inactive."),
            Organization.status,
        ),
        (Feature("score", "number", "The organization's score."), _SCORE.score),
        (
            Feature("priority", "number", "Its priority (score, or an override)."),
            _SCORE.priority,
        ),
    )
}


def variables(registry: Registry | None = None) -> dict[str, Feature]:
    """Everything a segment filter may refer to."""
    out = {name: feature for name, (feature, _) in catalog(registry).items()}
    out.update({name: feature for name, (feature, _) in ORGANIZATION_FIELDS.items()})
    return out


def _names(logic: Any) -> Iterator[str]:
    if isinstance(logic, list):
        for item in logic:
            yield from _names(item)
    elif isinstance(logic, dict):
        for op, args in logic.items():
            if op == "var":
                name = args[0] if isinstance(args, list) and args else args
                if isinstance(name, str):
                    yield name.removeprefix("features.")
            else:
                yield from _names(args)


def validate_filter(logic: Any, registry: Registry | None = None) -> list[Fault]:
    """Every fault of ``logic`` as a segment filter, with JSON Pointers under ``/filter``."""
    faults = [
        Fault(None, path, message)
        for path, message in logic_faults(logic, "/filter", variables(registry))
    ]
    if not faults:
        try:
            compile_rule(logic, _typed_columns(logic, "sqlite", utcnow(), registry)[0], "sqlite")
        except Unsupported as exc:
            faults.append(
                Fault(None, "/filter" + (exc.path if exc.path != "/" else ""), exc.reason)
            )
    return faults


def _typed_columns(
    logic: Any, dialect: str, now: dt.datetime, registry: Registry | None
) -> tuple[dict[str, tuple[Any, str]], list[Any]]:
    """The columns the filter's variables read, and the scorer subqueries they come
    from: only the scorers it names, each asked for only the features it names."""
    registry = registry or default_registry()
    wanted = frozenset(_names(logic))
    features = catalog(registry)
    columns: dict[str, tuple[Any, str]] = {
        name: (column, feature.type) for name, (feature, column) in ORGANIZATION_FIELDS.items()
    }
    subqueries: list[Any] = []
    if wanted & features.keys():
        subqueries, values = scorer_columns(
            dialect, now=now, registry=registry, wanted=wanted & features.keys()
        )
        for name, value in values.items():
            columns[name] = (value, features[name][0].type)
    return columns, subqueries


def restrict(
    stmt: Select[Any], session: Session, logic: Any, *, now: dt.datetime | None = None
) -> Select[Any]:
    """``stmt`` (which selects from ``organization``) narrowed to the organizations
    matching ``logic``, unscoped: the caller applies the principal's scope.

    The scorers' grouped subqueries are outer-joined to the statement's own
    ``organization``, not tested through ``IN`` a second scan of it, so PostgreSQL can
    merge-join them in id order and stop after a page (549 ms to about 1 ms for the
    first page of a million organizations).
    """
    dialect = session.get_bind().dialect.name
    columns, subqueries = _typed_columns(logic, dialect, now or utcnow(), None)
    condition = truthy(compile_rule(logic, columns, dialect))
    if {"score", "priority"} & set(_names(logic)):
        stmt = stmt.outerjoin(_SCORE, _SCORE.organization_id == Organization.id)
    for sub in subqueries:
        stmt = stmt.outerjoin(sub, sub.c.organization_id == Organization.id)
    return stmt.where(condition)


def member_ids(session: Session, logic: Any, *, now: dt.datetime | None = None) -> Select[Any]:
    """``SELECT organization.id`` of every organization matching ``logic`` (unscoped)."""
    return restrict(select(Organization.id), session, logic, now=now)


def _checked(logic: Any) -> Any:
    faults = validate_filter(logic)
    if faults:
        raise RuleSetInvalid(faults)
    return logic


def create_segment(
    session: Session, principal: Principal, *, name: str, logic: Any, description: str = ""
) -> Segment:
    """A named segment (names are unique); a filter with faults is ``RuleSetInvalid``."""
    policy.require(principal, "segment", Action.WRITE)
    clean = " ".join(name.split())
    if not clean or len(clean) > 200:
        raise InvalidInput("a segment's name is 1 to 200 characters", field="name")
    row = Segment(
        name=clean, description=description, filter=_checked(logic), owner_id=principal.user_id
    )
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        raise InvalidInput(f"a segment named {clean!r} exists", field="name") from None
    audit.record(session, principal, "segment.create", entity="segment", entity_id=row.id)
    return row


def update_segment(
    session: Session,
    principal: Principal,
    segment_id: int,
    *,
    logic: Any = None,
    description: str | None = None,
) -> Segment:
    policy.require(principal, "segment", Action.WRITE)
    row: Segment = policy.get_readable(session, "segment", principal, segment_id)
    if logic is not None:
        row.filter = _checked(logic)
    if description is not None:
        row.description = description
    session.flush()
    audit.record(session, principal, "segment.update", entity="segment", entity_id=row.id)
    return row


def get_segment(session: Session, principal: Principal, segment_id: int) -> Segment:
    row: Segment = policy.get_readable(session, "segment", principal, segment_id)
    return row


def count_members(session: Session, principal: Principal, segment: Segment) -> int:
    """How many organizations the principal may read are in the segment (one statement)."""
    ids = policy.readable(member_ids(session, segment.filter), "organization", principal)
    return int(session.scalar(select(func.count()).select_from(ids.subquery())) or 0)


def members(
    session: Session,
    principal: Principal,
    segment: Segment,
    *,
    first: int,
    after: int | None = None,
) -> tuple[list[Organization], bool]:
    """A page of the segment's organizations the principal may read, by id."""
    stmt = policy.readable(
        restrict(select(Organization), session, segment.filter), "organization", principal
    )
    if after is not None:
        stmt = stmt.where(Organization.id > after)
    rows = list(session.scalars(stmt.order_by(Organization.id).limit(first + 1)))
    return rows[:first], len(rows) > first
