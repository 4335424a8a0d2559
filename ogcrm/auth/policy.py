"""The one place where scopes become SQL: every read and write goes through here.

Reads: :func:`readable` adds the principal's scope to a ``SELECT`` as a ``WHERE`` clause,
so rows a user may not see are never fetched (not fetched and then hidden).
Writes: :func:`authorize_write` checks the row's owner against the write scope.

Ownership: an organization belongs to its ``owner_id``; everything under an organization
(contacts, interactions, tasks, opportunities, orders, service requests) belongs to the
organization's owner, and also to the person it names (a task's assignee, an
opportunity's or order's owner, a service request's assignee), so work handed to a rep
on someone else's account is theirs to see and do. ``team`` scope reaches rows owned
by anyone who shares a team with the principal. Unowned organizations are *prospects*: a role with read access to the
``prospect`` kind sees them (their public regulatory data) so its users can claim them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, false, select, true
from sqlalchemy.orm import InstrumentedAttribute, Session, aliased

from ogcrm.auth.principal import Principal
from ogcrm.db import models as m
from ogcrm.db.models import Action, Scope
from ogcrm.errors import NotFound, PermissionDenied

T = TypeVar("T", bound=tuple[Any, ...])


@dataclass(frozen=True)
class EntityKind:
    """How to find the owner of a row of one kind."""

    name: str
    model: type[m.Base] | None
    #: Column holding the owning user's id (for organization-scoped kinds: the parent
    #: organization's owner, reached through ``org_fk``).
    owner: InstrumentedAttribute[Any] | None = None
    org_fk: InstrumentedAttribute[Any] | None = None
    #: Kinds without an owner: any non-``none`` scope reaches every row.
    ownerless: bool = False
    #: The person a row of an organization-scoped kind is also theirs: a task's
    #: assignee, an opportunity's or order's owner. They reach it (with ``own``
    #: scope) even on an account someone else owns.
    holder: InstrumentedAttribute[Any] | None = None


_ORG_SCOPED = {
    "contact": m.Contact.organization_id,
    "interaction": m.Interaction.organization_id,
    "task": m.Task.organization_id,
    "opportunity": m.Opportunity.organization_id,
    "order": m.Order.organization_id,
    "service_request": m.ServiceRequest.organization_id,
}

_HOLDERS = {
    "task": m.Task.assignee_id,
    "opportunity": m.Opportunity.owner_id,
    "order": m.Order.owner_id,
    "service_request": m.ServiceRequest.assignee_id,
}

ENTITY_KINDS: dict[str, EntityKind] = {
    "organization": EntityKind("organization", m.Organization, owner=m.Organization.owner_id),
    # Not a table: the unowned organizations, readable by whoever may claim them.
    "prospect": EntityKind("prospect", m.Organization, ownerless=True),
    **{
        name: EntityKind(name, fk.class_, org_fk=fk, holder=_HOLDERS.get(name))  # type: ignore[attr-defined]
        for name, fk in _ORG_SCOPED.items()
    },
    **{
        name: EntityKind(name, model, ownerless=True)
        for name, model in {
            "product": m.Product,
            "segment": m.Segment,
            "campaign": m.Campaign,
            "well": m.Well,
            "permit": m.Permit,
            "production": m.ProductionReport,
            "source": m.Source,
            "dataset": m.Dataset,
            "rule_set": m.RuleSet,
            "user": m.User,
            "role": m.Role,
            "team": m.Team,
            "audit_event": m.AuditEvent,
        }.items()
    },
    # Saved reports: their owner's (a shared one is readable by every reader of reports).
    "report": EntityKind("report", m.Report, owner=m.Report.owner_id),
    # The tag vocabulary: creating, renaming and merging tags (admins and managers);
    # tagging a record is a change to that record.
    "tag": EntityKind("tag", m.Tag, ownerless=True),
    # The service requests' routing rules (admins and managers by default).
    "routing_rule": EntityKind("routing_rule", m.RoutingRule, ownerless=True),
    # Each pipeline stage's default win probability (admins only by default).
    "pipeline_stage": EntityKind("pipeline_stage", m.PipelineStage, ownerless=True),
    # An ability rather than a table: activating a rule set (admins only by default).
    "rule_activation": EntityKind("rule_activation", None, ownerless=True),
    # Pinning an account's priority by hand, scoped like the account itself.
    "priority_override": EntityKind(
        "priority_override", m.Organization, owner=m.Organization.owner_id
    ),
}


def teammates(principal: Principal) -> Select[tuple[int]]:
    """User ids sharing at least one team with the principal (the principal included)."""
    mine = aliased(m.team_membership)
    theirs = aliased(m.team_membership)
    return (
        select(theirs.c.user_id)
        .join(mine, mine.c.team_id == theirs.c.team_id)
        .where(mine.c.user_id == principal.user_id)
        .union(select(m.User.id).where(m.User.id == principal.user_id))
    )


def _owner_clause(
    owner: ColumnElement[Any], principal: Principal, scope: Scope
) -> ColumnElement[bool]:
    if scope is Scope.ALL:
        return true()
    if scope is Scope.NONE or principal.user_id is None:
        return false()
    if scope is Scope.OWN:
        return owner == principal.user_id
    return owner.in_(teammates(principal))


def organization_filter(principal: Principal, action: Action = Action.READ) -> ColumnElement[bool]:
    """Which organizations ``principal`` may act on: by owner scope, plus prospects."""
    clause = _owner_clause(
        m.Organization.owner_id, principal, principal.scope("organization", action)
    )
    if principal.scope("prospect", action) is not Scope.NONE:
        clause = clause | m.Organization.owner_id.is_(None)
    return clause


def scope_filter(
    kind: str, principal: Principal, action: Action = Action.READ
) -> ColumnElement[bool]:
    """A boolean SQL expression over ``kind``'s table: true for rows within scope."""
    entity = ENTITY_KINDS[kind]
    scope = principal.scope(kind, action)
    if kind == "organization":
        return organization_filter(principal, action)
    if kind == "user" and action is Action.READ and scope is Scope.NONE and principal.user_id:
        # everyone may see themselves (an account's owner, when the account is theirs)
        return m.User.id == principal.user_id
    if entity.ownerless:
        return true() if scope is not Scope.NONE else false()
    if scope is Scope.ALL:
        return true()
    if scope is Scope.NONE:
        return false()
    if entity.owner is not None:
        return _owner_clause(entity.owner, principal, scope)
    assert entity.org_fk is not None
    owned = select(m.Organization.id).where(
        _owner_clause(m.Organization.owner_id, principal, scope)
    )
    clause = entity.org_fk.in_(owned)
    if entity.holder is not None:
        clause = clause | _owner_clause(entity.holder, principal, scope)
    return clause


def readable(stmt: Select[T], kind: str, principal: Principal) -> Select[T]:
    """``stmt`` restricted to the rows of ``kind`` that ``principal`` may read."""
    return stmt.where(scope_filter(kind, principal, Action.READ))


def can(principal: Principal, kind: str, action: Action) -> bool:
    """Whether the principal has any scope at all for ``action`` on ``kind``."""
    if kind == "organization" and principal.scope("prospect", action) is not Scope.NONE:
        return True
    return principal.scope(kind, action) is not Scope.NONE


def require(principal: Principal, kind: str, action: Action) -> None:
    """Refuse outright when the principal has no scope for ``action`` on ``kind``."""
    if not can(principal, kind, action):
        raise PermissionDenied(
            f"your role ({principal.role}) may not {action.value} {kind} records"
        )


def _owner_of(session: Session, kind: str, row: Any) -> int | None:
    entity = ENTITY_KINDS[kind]
    if entity.owner is not None:
        owner: int | None = getattr(row, entity.owner.key)
        return owner
    assert entity.org_fk is not None
    org_id = getattr(row, entity.org_fk.key)
    return session.scalar(select(m.Organization.owner_id).where(m.Organization.id == org_id))


def _is_teammate(session: Session, principal: Principal, owner_id: int) -> bool:
    mates = teammates(principal).subquery()
    return (
        session.scalar(select(mates.c.user_id).where(mates.c.user_id == owner_id).limit(1))
        is not None
    )


def authorize_write(session: Session, principal: Principal, kind: str, row: Any) -> None:
    """Raise :class:`PermissionDenied` unless the principal may write ``row`` of ``kind``.

    For a new row, pass it unsaved with its parent set (e.g. a contact's
    ``organization_id``): the check is on the owner it would have.
    """
    entity = ENTITY_KINDS[kind]
    scope = principal.scope(kind, Action.WRITE)
    if scope is Scope.ALL:
        return
    if scope is not Scope.NONE and not entity.ownerless:
        holders = [_owner_of(session, kind, row)]
        if entity.holder is not None:
            holders.append(getattr(row, entity.holder.key))
        for owner in holders:
            if owner is None or principal.user_id is None:
                continue
            if owner == principal.user_id:
                return
            if scope is Scope.TEAM and _is_teammate(session, principal, owner):
                return
    elif scope is not Scope.NONE:
        return
    raise PermissionDenied(f"your role ({principal.role}) may not change this {kind}")


def get_readable(session: Session, kind: str, principal: Principal, row_id: int) -> Any:
    """Fetch one row of ``kind`` by id if the principal may read it.

    A row outside the principal's scope is reported exactly as a missing one, so ids
    cannot be probed for existence.
    """
    entity = ENTITY_KINDS[kind]
    assert entity.model is not None
    stmt = readable(select(entity.model).where(entity.model.id == row_id), kind, principal)  # type: ignore[attr-defined]
    row = session.scalar(stmt)
    if row is None:
        raise NotFound(f"{kind} {row_id} not found")
    return row
