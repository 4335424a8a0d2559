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
import math
import operator
from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy import Select, exists, func, literal, select
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
from ogcrm.scoring.features import catalog, counted_rows, scorer_columns

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

    A condition of the filter's top-level ``and`` that only asks whether a count is
    zero (``permits_90d >= 1``) becomes ``EXISTS`` (or ``NOT EXISTS``) over the rows
    the scorer counts: PostgreSQL plans it as a semi-join sharing one hash across its
    parallel workers and never counts, half the time of the aggregate on a million
    organizations. The rest is compiled by the rules compiler, and the scorers' grouped
    subqueries it needs are outer-joined to the statement's own ``organization``, not
    tested through ``IN`` a second scan of it, so PostgreSQL can merge-join them in id
    order and stop after a page (549 ms to about 1 ms for the first page of a million).
    """
    dialect = session.get_bind().dialect.name
    now = now or utcnow()
    rest: list[Any] = []
    for item in _conjuncts(logic):
        test = _presence(item)
        rows = counted_rows(test[0], dialect, now=now) if test is not None else None
        if test is None or rows is None:
            rest.append(item)
            continue
        _, some = test
        sub = rows.subquery()
        found = exists(select(literal(1)).where(sub.c.organization_id == Organization.id))
        stmt = stmt.where(found if some else ~found)
    if not rest:
        return stmt
    logic = rest[0] if len(rest) == 1 else {"and": rest}
    columns, subqueries = _typed_columns(logic, dialect, now, None)
    condition = truthy(compile_rule(logic, columns, dialect))
    if {"score", "priority"} & set(_names(logic)):
        stmt = stmt.outerjoin(_SCORE, _SCORE.organization_id == Organization.id)
    for sub in subqueries:
        stmt = stmt.outerjoin(sub, sub.c.organization_id == Organization.id)
    return stmt.where(condition)


def _conjuncts(logic: Any) -> Iterator[Any]:
    """The conditions of a top-level ``and``, nested ones flattened: as a filter, the
    ``and`` holds exactly when each of them is truthy."""
    if isinstance(logic, dict) and len(logic) == 1 and "and" in logic:
        args = logic["and"]
        if isinstance(args, list) and args:
            for arg in args:
                yield from _conjuncts(arg)
            return
    yield logic


#: Comparisons with a number, and each one with its operands swapped.
_RELATIONS: dict[str, tuple[Callable[[float, float], bool], str]] = {
    ">=": (operator.ge, "<="),
    ">": (operator.gt, "<"),
    "<=": (operator.le, ">="),
    "<": (operator.lt, ">"),
    "==": (operator.eq, "=="),
    "===": (operator.eq, "==="),
    "!=": (operator.ne, "!="),
    "!==": (operator.ne, "!=="),
}


def _presence(logic: Any) -> tuple[str, bool] | None:
    """``(feature, True)`` when ``logic`` compares a feature with a number so that it
    holds for every count of at least 1 and not for 0 (``>= 1``, ``> 0``, ``!= 0``),
    ``(feature, False)`` for the opposite (``== 0``, ``< 1``); None for anything else,
    such as ``>= 2``. Whether the feature is a count is its scorer's to say."""
    if not isinstance(logic, dict) or len(logic) != 1:
        return None
    ((op, args),) = logic.items()
    if op not in _RELATIONS or not isinstance(args, list) or len(args) != 2:
        return None
    relation, swapped = _RELATIONS[op]
    name, number = _feature_name(args[0]), args[1]
    if name is None:
        relation = _RELATIONS[swapped][0]
        name, number = _feature_name(args[1]), args[0]
    if name is None or isinstance(number, bool) or not isinstance(number, (int, float)):
        return None
    if not math.isfinite(number):
        return None
    at_one = relation(1, number)
    # a whole count: 0, then 1, 2 and beyond (equality differs at one point, order
    # relations are monotone, so these four points decide every count)
    if relation(0, number) == at_one or not at_one == relation(2, number) == relation(
        math.inf, number
    ):
        return None
    return name, at_one


def _feature_name(logic: Any) -> str | None:
    """The name in ``{"var": name}`` (with no default), else None."""
    if not isinstance(logic, dict) or list(logic) != ["var"]:
        return None
    args = logic["var"]
    if isinstance(args, list):
        if len(args) != 1:
            return None
        args = args[0]
    return args.removeprefix("features.") if isinstance(args, str) else None


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
