"""Service requests: a customer's call for service, routed to staff, resolved, rated.
This module owns the request's states:

    open --start--> in_progress --resolve--> resolved --close--> closed
    open --resolve--> resolved --reopen--> in_progress

A new request gets its SLA due time from its kind and priority, its location from the
well named (county and state) or as given, and its assignee from the routing rules
(:mod:`ogcrm.accounts.routing`). Feedback (a 1-5 rating and a comment) is recorded once,
after it is resolved.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import Session

from ogcrm.accounts import routing
from ogcrm.accounts.worklist import state_code
from ogcrm.auth import audit, policy
from ogcrm.auth.principal import Principal
from ogcrm.db.models import (
    ServiceRequest,
    ServiceRequestPriority,
    ServiceRequestStatus,
    Team,
    Well,
)
from ogcrm.db.types import utcnow
from ogcrm.errors import Conflict, InvalidInput
from ogcrm.identifiers import IdentifierError, normalize_api_number
from ogcrm.sales._common import active_user, clean_text, contact_of, long_text, move

_O, _P, _R, _C = (
    ServiceRequestStatus.OPEN,
    ServiceRequestStatus.IN_PROGRESS,
    ServiceRequestStatus.RESOLVED,
    ServiceRequestStatus.CLOSED,
)
#: action -> (states it may start from, state it leads to)
MOVES: dict[str, tuple[frozenset[ServiceRequestStatus], ServiceRequestStatus]] = {
    "start": (frozenset({_O}), _P),
    "resolve": (frozenset({_O, _P}), _R),
    "reopen": (frozenset({_R}), _P),
    "close": (frozenset({_R}), _C),
}
#: Hours to resolve by priority, unless a kind says otherwise (``SLA_BY_KIND``).
SLA_HOURS: dict[ServiceRequestPriority, int] = {
    ServiceRequestPriority.URGENT: 4,
    ServiceRequestPriority.HIGH: 24,
    ServiceRequestPriority.NORMAL: 72,
    ServiceRequestPriority.LOW: 168,
}
#: Kinds whose SLA is shorter than their priority's (a well down loses production).
SLA_BY_KIND: dict[str, Mapping[ServiceRequestPriority, int]] = {
    "well_down": {ServiceRequestPriority.URGENT: 2, ServiceRequestPriority.HIGH: 8},
}
_KIND = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


@dataclass(frozen=True)
class ServiceRequestFilter:
    status: ServiceRequestStatus | None = None
    assignee_id: int | None = None
    team_id: int | None = None
    organization_id: int | None = None
    kind: str | None = None
    sla_breached: bool | None = None


def sla_due(kind: str, priority: ServiceRequestPriority, now: dt.datetime) -> dt.datetime:
    hours = SLA_BY_KIND.get(kind, {}).get(priority, SLA_HOURS[priority])
    return now + dt.timedelta(hours=hours)


def _location(
    session: Session, api_number: str | None, county: str | None, state: str | None
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "well_id": None,
        "county": clean_text(county, "county", 100),
        "state": state_code(state, "state") if state else None,
    }
    if out["county"]:
        out["county"] = out["county"].upper().removesuffix(" COUNTY").strip()
    if api_number:
        try:
            api10 = normalize_api_number(api_number).api10
        except IdentifierError as exc:
            raise InvalidInput(str(exc), field="apiNumber") from None
        well = session.scalar(select(Well).where(Well.api10 == api10))
        if well is None:
            raise InvalidInput(f"no well with API number {api10}", field="apiNumber")
        out["well_id"] = well.id
        out["county"] = out["county"] or (well.county.upper() if well.county else None)
        out["state"] = out["state"] or well.state
    return out


def create_service_request(
    session: Session,
    principal: Principal,
    *,
    organization_id: int,
    kind: str,
    subject: str,
    description: str = "",
    priority: ServiceRequestPriority = ServiceRequestPriority.NORMAL,
    contact_id: int | None = None,
    api_number: str | None = None,
    county: str | None = None,
    state: str | None = None,
    address: str | None = None,
) -> ServiceRequest:
    """A request on an account the principal may read, routed by the rules."""
    policy.get_readable(session, "organization", principal, organization_id)
    kind = kind.strip().lower().replace(" ", "_")
    if not _KIND.match(kind):
        raise InvalidInput("kind is a word like well_service (letters, digits, _)", field="kind")
    now = utcnow()
    row = ServiceRequest(
        organization_id=organization_id,
        contact_id=contact_of(session, contact_id, organization_id),
        kind=kind,
        priority=priority,
        subject=clean_text(subject, "subject", 300, required=True),
        description=long_text(description, "description"),
        location=clean_text(address, "address", 2_000),
        sla_due_at=sla_due(kind, priority, now),
        **_location(session, api_number, county, state),
    )
    policy.authorize_write(session, principal, "service_request", row)
    rule = routing.route(session, row)
    session.add(row)
    session.flush()
    audit.record(
        session, principal, "service_request.create", entity="service_request",
        entity_id=row.id, organization_id=organization_id, kind=kind,
        routed_by=rule.name if rule else None,
    )  # fmt: skip
    return row


def _writable(session: Session, principal: Principal, request_id: int) -> ServiceRequest:
    row: ServiceRequest = policy.get_readable(session, "service_request", principal, request_id)
    policy.authorize_write(session, principal, "service_request", row)
    return row


def move_service_request(
    session: Session,
    principal: Principal,
    request_id: int,
    action: str,
    *,
    resolution: str | None = None,
) -> ServiceRequest:
    """Start, resolve (with a resolution), reopen or close; an illegal move is a Conflict
    naming the request's state."""
    if action not in MOVES:
        raise InvalidInput(f"unknown action {action!r}", field="action")
    row = _writable(session, principal, request_id)
    values: dict[str, Any] = {}
    if action == "resolve":
        text = long_text(resolution, "resolution").strip()
        if not text:
            raise InvalidInput("say how it was resolved", field="resolution")
        values.update(resolution=text, resolved_at=utcnow())
    elif action == "reopen":
        values.update(resolved_at=None)
    allowed, to = MOVES[action]
    move(session, row, ServiceRequest.status, allowed, action, status=to, **values)
    audit.record(
        session, principal, f"service_request.{action}", entity="service_request",
        entity_id=request_id,
    )  # fmt: skip
    return row


def assign_service_request(
    session: Session,
    principal: Principal,
    request_id: int,
    *,
    assignee_id: int | None = None,
    team_id: int | None = None,
) -> ServiceRequest:
    """Hand a request to a person or a team by hand (it then names no routing rule)."""
    row = _writable(session, principal, request_id)
    if assignee_id is not None:
        active_user(session, assignee_id, "assigneeId")
    if team_id is not None and session.get(Team, team_id) is None:
        raise InvalidInput(f"team {team_id} does not exist", field="teamId")
    row.assignee_id, row.team_id, row.routed_by_rule = assignee_id, team_id, None
    session.flush()
    audit.record(
        session, principal, "service_request.assign", entity="service_request",
        entity_id=request_id, assignee_id=assignee_id, team_id=team_id,
    )  # fmt: skip
    return row


def record_feedback(
    session: Session, principal: Principal, request_id: int, *, rating: int, comment: str = ""
) -> ServiceRequest:
    """The customer's rating (1-5) and comment, once, after the request is resolved."""
    if not 1 <= rating <= 5:
        raise InvalidInput("rating is 1 to 5", field="rating")
    row = _writable(session, principal, request_id)
    result = session.execute(
        update(ServiceRequest)
        .where(
            ServiceRequest.id == request_id,
            ServiceRequest.status.in_([_R, _C]),
            ServiceRequest.rating.is_(None),
        )
        .values(rating=rating, feedback=long_text(comment, "comment") or None, feedback_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        session.refresh(row)
        if row.rating is not None:
            raise Conflict("feedback was recorded already", state=row.status.value)
        raise Conflict(
            f"service_request {request_id} is {row.status.value}: feedback comes once it is resolved",
            state=row.status.value,
        )
    session.refresh(row)
    audit.record(
        session, principal, "service_request.feedback", entity="service_request",
        entity_id=request_id, rating=rating,
    )  # fmt: skip
    return row


def _filtered(stmt: Select[Any], f: ServiceRequestFilter) -> Select[Any]:
    if f.status is not None:
        stmt = stmt.where(ServiceRequest.status == f.status)
    if f.assignee_id is not None:
        stmt = stmt.where(ServiceRequest.assignee_id == f.assignee_id)
    if f.team_id is not None:
        stmt = stmt.where(ServiceRequest.team_id == f.team_id)
    if f.organization_id is not None:
        stmt = stmt.where(ServiceRequest.organization_id == f.organization_id)
    if f.kind:
        stmt = stmt.where(ServiceRequest.kind == f.kind.strip().lower())
    if f.sla_breached is not None:
        late = ServiceRequest.sla_due_at < func.coalesce(ServiceRequest.resolved_at, utcnow())
        stmt = stmt.where(late if f.sla_breached else ~late)
    return stmt


def list_service_requests(
    session: Session,
    principal: Principal,
    *,
    where: ServiceRequestFilter,
    first: int,
    after: int | None = None,
) -> tuple[list[ServiceRequest], bool]:
    """Readable requests matching ``where``, newest first (keyset on id)."""
    stmt = policy.readable(_filtered(select(ServiceRequest), where), "service_request", principal)
    if after is not None:
        stmt = stmt.where(ServiceRequest.id < after)
    rows = list(session.scalars(stmt.order_by(ServiceRequest.id.desc()).limit(first + 1)))
    return rows[:first], len(rows) > first


def count_service_requests(
    session: Session, principal: Principal, where: ServiceRequestFilter
) -> int:
    stmt = _filtered(select(func.count(ServiceRequest.id)), where)
    return int(session.scalar(policy.readable(stmt, "service_request", principal)) or 0)
