"""The sales rep's working list: organizations by priority (or name), narrowed by owner,
geography, tags, priority, search and what happened lately, with the batched lookups a
list page needs (last interaction, open tasks, headline figures).

Every filter is SQL over indexed columns, applied together with the caller's scope
(:mod:`ogcrm.auth.policy`); pagination is keyset, so page 1,000 costs what page 1 does.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    Text,
    and_,
    bindparam,
    cast,
    exists,
    func,
    or_,
    select,
)
from sqlalchemy.orm import Session, contains_eager

from ogcrm.accounts import segments
from ogcrm.accounts.cleaning import clean_one, organization_name
from ogcrm.auth import policy
from ogcrm.auth.principal import Principal
from ogcrm.db.models import (
    Interaction,
    Organization,
    OrganizationIdentifier,
    OrganizationScore,
    Permit,
    Rule,
    ScoreSnapshot,
    Tag,
    Task,
    TaskStatus,
    Well,
    organization_tag,
)
from ogcrm.db.statements import StatementCache
from ogcrm.db.types import in_values, utcnow
from ogcrm.errors import InvalidInput
from ogcrm.scoring.features import features_select

#: Longer is no name anyone types (and SQLite refuses LIKE patterns past ~50 kB).
MAX_SEARCH = 200


class Owner(enum.StrEnum):
    MINE = "mine"
    UNOWNED = "unowned"
    TEAM = "team"


class Order(enum.StrEnum):
    PRIORITY = "priority"  # highest first
    NAME = "name"  # A to Z


@dataclass(frozen=True)
class PermitFilter:
    """Has a permit matching all of: county, state, issued in the last ``within_days``."""

    county: str | None = None
    state: str | None = None
    within_days: int | None = None


@dataclass(frozen=True)
class OrganizationFilter:
    """What narrows the list; every given part must hold."""

    owner: Owner | None = None
    owner_id: int | None = None
    state: str | None = None
    #: A county name (``REEVES``, ``Reeves County``) or its 5-digit FIPS code: the
    #: organization operates a well or holds a permit there.
    county: str | None = None
    tags_any: Sequence[str] = ()
    tags_all: Sequence[str] = ()
    priority_gte: float | None = None
    priority_lte: float | None = None
    search: str | None = None
    permit: PermitFilter | None = None
    #: Nobody has logged an interaction with it for this many days (or ever).
    no_interaction_days: int | None = None
    #: Only these organizations (does one of them match?).
    ids: Sequence[int] = ()
    #: Members of this segment (its filter compiled into the same statement).
    segment_id: int | None = None


#: A position in the list: (priority, id) or (normalized name, id).
Key = tuple[Any, int]


#: The columns of a list row, in this order: the organization's own and its ranking's.
#: A page is read as rows of these, not as entities: building 50 organizations and their
#: scores as ORM objects cost more than the statement (2.4 of 4.9 ms).
LISTED = (
    Organization.id,
    Organization.name,
    Organization.normalized_name,
    Organization.status,
    OrganizationScore.priority,
    Organization.street,
    Organization.city,
    Organization.state,
    Organization.postal_code,
    Organization.phone,
    Organization.website,
    Organization.aliases,
    Organization.owner_id,
    Organization.created_at,
    OrganizationScore.score,
    OrganizationScore.scored_at,
    OrganizationScore.snapshot_id,
    Organization.override_priority,
    Organization.override_reason,
    Organization.override_expires_at,
    Organization.override_by_id,
)


@dataclass(frozen=True)
class Page:
    #: Rows of :data:`LISTED` (``row.name``, ``row.priority``, ... or by position).
    rows: Sequence[Any]
    has_next: bool
    order: Order = Order.PRIORITY

    def key(self, row: Any) -> Key:
        # by position (id, name, normalized_name, status, priority): a row's attribute
        # lookup costs ten times its index
        return (row[4] if self.order is Order.PRIORITY else row[2], row[0])


def state_code(value: str, field_name: str) -> str:
    """The postal code of a state written as a name or a code, read by the cleaners."""
    cleaned, _ = clean_one("operator_state", value, label=field_name)
    if cleaned is None:
        raise InvalidInput(f"{value!r} is not a US state", field=field_name)
    return str(cleaned)


def county_clause(
    value: str, county: Any, fips: Any | None, field_name: str = "filter.county"
) -> ColumnElement[bool]:
    """``county`` (or ``fips``, for a 5-digit code) is the county ``value`` names, in any
    case and with or without the word COUNTY, as agencies write it both ways."""
    text = value.strip()
    if text.isdigit():
        if len(text) != 5 or fips is None:
            raise InvalidInput(
                f"{value!r}: a county code is the 5-digit FIPS code (state + county)",
                field=field_name,
            )
        return fips == text  # type: ignore[no-any-return]
    name = text.upper().removesuffix(" COUNTY").strip()
    if not name:
        raise InvalidInput("county must not be empty", field=field_name)
    return func.upper(county).in_([name, f"{name} COUNTY"])  # type: ignore[no-any-return]


def days_ago(value: int, field_name: str) -> dt.datetime:
    """The moment ``value`` days ago, refusing a span no filter means (0..100 years)."""
    if not 0 <= value <= 36_500:
        raise InvalidInput("days must be between 0 and 36500", field=field_name)
    return utcnow() - dt.timedelta(days=value)


def _search_clause(text: str) -> ColumnElement[bool]:
    """Name (any word's start), alias, or a government identifier, exactly."""
    if len(text) > MAX_SEARCH:
        raise InvalidInput(f"search is longer than {MAX_SEARCH} characters", field="search")
    try:
        key = organization_name(text).key
    except InvalidInput:
        raise InvalidInput(f"nothing to search for in {text!r}", field="search") from None
    ident = text.strip().upper()
    return or_(
        Organization.normalized_name.startswith(key, autoescape=True),
        Organization.normalized_name.contains(" " + key, autoescape=True),
        func.upper(cast(Organization.aliases, Text)).contains(
            text.strip().upper(), autoescape=True
        ),
        exists().where(
            OrganizationIdentifier.organization_id == Organization.id,
            OrganizationIdentifier.identifier == ident,
        ),
    )


def _where(f: OrganizationFilter, principal: Principal) -> list[ColumnElement[bool]]:
    out: list[ColumnElement[bool]] = []
    owner = Organization.owner_id
    if f.owner is Owner.MINE:
        out.append(owner == principal.user_id)
    elif f.owner is Owner.UNOWNED:
        out.append(owner.is_(None))
    elif f.owner is Owner.TEAM:
        out.append(owner.in_(policy.teammates(principal)))
    if f.owner_id is not None:
        out.append(owner == f.owner_id)
    if f.ids:
        out.append(Organization.id.in_(list(f.ids)))
    if f.state:
        out.append(Organization.state == state_code(f.state, "filter.state"))
    if f.county:
        out.append(
            or_(
                exists().where(
                    Well.operator_id == Organization.id,
                    county_clause(f.county, Well.county, Well.county_fips),
                ),
                exists().where(
                    Permit.operator_id == Organization.id,
                    county_clause(f.county, Permit.county, None)
                    if not f.county.strip().isdigit()
                    else Permit.well_id.in_(
                        select(Well.id).where(Well.county_fips == f.county.strip())
                    ),
                ),
            )
        )
    tagged = select(organization_tag.c.organization_id).join(
        Tag, Tag.id == organization_tag.c.tag_id
    )
    if f.tags_any:
        names = [t.strip().lower() for t in f.tags_any]
        out.append(Organization.id.in_(tagged.where(Tag.name.in_(names))))
    for name in f.tags_all:
        out.append(Organization.id.in_(tagged.where(Tag.name == name.strip().lower())))
    if f.priority_gte is not None:
        out.append(OrganizationScore.priority >= f.priority_gte)
    if f.priority_lte is not None:
        out.append(OrganizationScore.priority <= f.priority_lte)
    if f.search and f.search.strip():
        out.append(_search_clause(f.search))
    if f.permit is not None:
        p = f.permit
        conditions: list[ColumnElement[bool]] = [Permit.operator_id == Organization.id]
        if p.county:
            conditions.append(county_clause(p.county, Permit.county, None, "filter.permit.county"))
        if p.state:
            conditions.append(Permit.state == state_code(p.state, "filter.permit.state"))
        if p.within_days is not None:
            since = days_ago(p.within_days, "filter.permit.withinDays").date()
            conditions.append(Permit.issued_on >= since)
        out.append(exists().where(*conditions))
    if f.no_interaction_days is not None:
        since = days_ago(f.no_interaction_days, "filter.noInteractionForDays")
        out.append(
            ~exists().where(
                Interaction.organization_id == Organization.id, Interaction.occurred_at >= since
            )
        )
    return out


def _base(
    session: Session, f: OrganizationFilter | None, principal: Principal
) -> Select[tuple[Organization]]:
    stmt = (
        select(Organization)
        .join(Organization.ranking)
        .options(contains_eager(Organization.ranking))
    )
    f = f or OrganizationFilter()
    for clause in _where(f, principal):
        stmt = stmt.where(clause)
    if f.segment_id is not None:
        segment = segments.get_segment(session, principal, f.segment_id)
        stmt = segments.restrict(stmt, session, segment.filter)
    return policy.readable(stmt, "organization", principal)


def matching(
    session: Session, principal: Principal, where: OrganizationFilter | None = None
) -> Select[tuple[Organization]]:
    """The statement of every organization the list would show, all pages together,
    unordered: exports and reports select their own columns from it."""
    return _base(session, where, principal)


def list_organizations(
    session: Session,
    principal: Principal,
    *,
    first: int,
    after: Key | None = None,
    where: OrganizationFilter | None = None,
    order: Order = Order.PRIORITY,
) -> Page:
    """A page of the organizations the principal may read that match ``where``.

    Keyset pagination on ``(priority, id)`` (or ``(normalized name, id)``): the next
    page is found through the index whatever the depth, and rows inserted meanwhile
    never make a reader see one row twice.
    """
    if first < 0:
        raise InvalidInput("first must not be negative", field="first")
    stmt = _PAGES.get(
        _page_key(session, principal, after is not None, where, order),
        lambda: _page_statement(session, principal, after is not None, where, order),
    )
    values: dict[str, Any] = {"limit": first + 1}
    if after is not None:
        values["after_key"], values["after_id"] = after
    rows = session.connection().execute(stmt, values).all()
    return Page(rows=rows[:first], has_next=len(rows) > first, order=order)


def _page_statement(
    session: Session,
    principal: Principal,
    paged: bool,
    where: OrganizationFilter | None,
    order: Order,
) -> Select[Any]:
    """The page's statement; the position (``after_key``, ``after_id``) and ``limit``
    are bound when it runs, so every page of one list is one statement."""
    stmt = _base(session, where, principal)
    key: Any = (
        OrganizationScore.priority if order is Order.PRIORITY else Organization.normalized_name
    )
    if order is Order.PRIORITY:
        stmt = stmt.order_by(key.desc(), Organization.id.asc())
    else:
        stmt = stmt.order_by(key.asc(), Organization.id.asc())
    if paged:
        after_key = bindparam("after_key", type_=key.type)
        after_id = bindparam("after_id", type_=Organization.id.type)
        beyond = key < after_key if order is Order.PRIORITY else key > after_key
        stmt = stmt.where(or_(beyond, and_(key == after_key, Organization.id > after_id)))
    return stmt.with_only_columns(*LISTED).limit(bindparam("limit", type_=Integer))


#: A page statement per shape (user, filter, order, first page or not): see
#: :mod:`ogcrm.db.statements`.
_PAGES = StatementCache(256)


def _page_key(
    session: Session,
    principal: Principal,
    paged: bool,
    where: OrganizationFilter | None,
    order: Order,
) -> tuple[Any, ...] | None:
    """Everything a page statement is built from, or ``None`` when it also depends on
    what the database or the clock said when it was built (a segment's stored filter,
    "in the last N days"), which a cached statement would freeze.

    The principal enters whole (:attr:`Principal.identity`), not only the grants the
    statement reads today: a scope rule that comes to read another grant cannot then
    be served a statement built for another identity.
    """
    f = where or OrganizationFilter()
    if (
        f.segment_id is not None
        or f.no_interaction_days is not None
        or (f.permit is not None and f.permit.within_days is not None)
    ):
        return None
    try:
        frozen = replace(
            f, tags_any=tuple(f.tags_any), tags_all=tuple(f.tags_all), ids=tuple(f.ids)
        )
        hash(frozen)
    except TypeError:
        return None
    return (
        session.get_bind().dialect.name,
        principal.identity,
        frozen,
        order,
        paged,
    )


def count_organizations(
    session: Session, principal: Principal, where: OrganizationFilter | None = None
) -> int:
    """How many organizations the list would show, all pages together."""
    stmt = _base(session, where, principal).with_only_columns(func.count()).order_by(None)
    return int(session.scalar(stmt) or 0)


def last_interactions(
    session: Session, principal: Principal, org_ids: Sequence[int]
) -> dict[int, Any]:
    """Each organization's latest readable interaction, in one statement: rows with an
    interaction's columns (``row.subject``...), not entities, which a page of fifty
    spent more building than reading."""
    latest = policy.readable(
        select(
            Interaction.id,
            func.row_number()
            .over(
                partition_by=Interaction.organization_id,
                order_by=(Interaction.occurred_at.desc(), Interaction.id.desc()),
            )
            .label("n"),
        ).where(in_values(session, Interaction.organization_id, org_ids)),
        "interaction",
        principal,
    ).subquery()
    stmt = (
        select(*Interaction.__table__.columns)
        .join(latest, latest.c.id == Interaction.id)
        .where(latest.c.n == 1)
    )
    return {i.organization_id: i for i in session.connection().execute(stmt).all()}


def open_tasks(
    session: Session, principal: Principal, org_ids: Sequence[int]
) -> dict[int, list[Any]]:
    """Each organization's open tasks the principal may read, soonest due first: rows
    with a task's columns, not entities (as :func:`last_interactions`)."""
    stmt = policy.readable(
        select(*Task.__table__.columns)
        .where(in_values(session, Task.organization_id, org_ids), Task.status == TaskStatus.OPEN)
        .order_by(Task.due_at.is_(None), Task.due_at, Task.id),
        "task",
        principal,
    )
    grouped: dict[int, list[Any]] = defaultdict(list)
    for task in session.connection().execute(stmt).all():
        grouped[task.organization_id].append(task)
    return grouped


@dataclass(frozen=True)
class RuleContribution:
    rule: str
    weight: float
    contribution: float

    @property
    def value(self) -> float:
        """What the rule's logic gave: the contribution is value x weight (true is 1)."""
        return self.contribution / self.weight if self.weight else 0.0


@dataclass
class StoredExplanation:
    rule_set_id: int | None
    computed_at: dt.datetime | None
    parts: list[RuleContribution] = field(default_factory=list)


def explanations(session: Session, snapshot_ids: Sequence[int]) -> dict[int, StoredExplanation]:
    """Why each score is what it is: the rules that added something, from the score
    snapshots, joined to the rules they name in one statement (rule sets are immutable
    once saved, so a snapshot's positions name its rules for ever)."""
    stmt = (
        select(
            ScoreSnapshot.id,
            ScoreSnapshot.rule_set_id,
            ScoreSnapshot.computed_at,
            ScoreSnapshot.contributions,
            Rule.name,
            Rule.weight,
        )
        .outerjoin(Rule, and_(Rule.rule_set_id == ScoreSnapshot.rule_set_id, Rule.enabled))
        .where(in_values(session, ScoreSnapshot.id, snapshot_ids))
        .order_by(ScoreSnapshot.id, Rule.position)
    )
    out: dict[int, StoredExplanation] = {}
    seen: dict[int, int] = defaultdict(int)
    # all rows at once (iterating fetches them one by one from the driver)
    for sid, rule_set_id, computed_at, contributions, name, weight in (
        session.connection().execute(stmt).all()
    ):
        found = out.setdefault(sid, StoredExplanation(rule_set_id, computed_at))
        if name is None:
            continue
        position = seen[sid]
        seen[sid] += 1
        values = json.loads(contributions) if isinstance(contributions, str) else contributions
        values = values or []
        if position < len(values) and values[position]:
            found.parts.append(RuleContribution(name, float(weight), float(values[position])))
    return out


#: The scorer features a list row shows as its headline figures.
HEADLINE = (
    "permits_90d",
    "active_wells",
    "oil_bbl_12m",
    "gas_mcf_12m",
    "production_trend",
)


def headline_figures(session: Session, org_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """Permits in 90 days, active wells, oil and gas in 12 months and the production
    trend, computed by the scorers' own queries (the numbers rules see), in one
    statement for the whole page."""
    dialect = session.get_bind().dialect.name
    stmt = features_select(dialect, now=utcnow(), organization_ids=list(org_ids))
    out: dict[int, dict[str, Any]] = {}
    for row in session.execute(stmt).mappings():
        out[row["organization_id"]] = {name: row.get(name) for name in HEADLINE}
    return out
