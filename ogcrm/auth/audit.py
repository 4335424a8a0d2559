"""The audit trail: who did what to which record, when, from where.

Rows are append-only in the database itself (triggers refuse UPDATE and DELETE), so this
module only ever inserts and reads.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from ogcrm.auth import policy
from ogcrm.auth.principal import Principal
from ogcrm.db.models import Action, AuditEvent
from ogcrm.db.types import utcnow


def record(
    session: Session,
    principal: Principal | None,
    action: str,
    *,
    entity: str | None = None,
    entity_id: int | str | None = None,
    client_addr: str | None = None,
    user_id: int | None = None,
    **details: Any,
) -> None:
    """Append one event. ``user_id`` names the subject when there is no principal yet
    (a failed login names the account it targeted, if it exists)."""
    session.add(
        AuditEvent(
            user_id=principal.user_id if principal else user_id,
            action=action,
            entity=entity,
            entity_id=None if entity_id is None else str(entity_id),
            client_addr=client_addr or (principal.client_addr if principal else None),
            details=details,
        )
    )


def record_reads(
    session: Session, principal: Principal | None, entity: str, ids: Iterable[int]
) -> None:
    """One ``<entity>.read`` event naming every record read (``details.ids``): a page
    of 50 contacts is one row, not 50. ``entity_id`` is set when one record was read,
    so the log can still be filtered by it."""
    wanted = sorted(set(ids))
    if not wanted:
        return
    session.connection().execute(
        _INSERT,
        {
            "occurred_at": utcnow(),
            "user_id": principal.user_id if principal else None,
            "action": f"{entity}.read",
            "entity": entity,
            "entity_id": str(wanted[0]) if len(wanted) == 1 else None,
            "client_addr": principal.client_addr if principal else None,
            "details": {"ids": wanted, "count": len(wanted)},
        },
    )


#: Every API request that reads contact details ends with this statement: built once, and
#: run on the session's connection (the ORM's bulk-insert path around it cost 0.6 ms).
_INSERT = insert(AuditEvent)


@dataclass(frozen=True)
class AuditFilter:
    user_id: int | None = None
    action: str | None = None
    entity: str | None = None
    entity_id: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None


def list_events(
    session: Session,
    principal: Principal,
    *,
    first: int,
    before_id: int | None = None,
    where: AuditFilter = AuditFilter(),
) -> tuple[Sequence[AuditEvent], bool]:
    """Newest first, keyset-paginated on id. Requires read access to ``audit_event``."""
    policy.require(principal, "audit_event", Action.READ)
    stmt = select(AuditEvent).order_by(AuditEvent.id.desc())
    if before_id is not None:
        stmt = stmt.where(AuditEvent.id < before_id)
    if where.user_id is not None:
        stmt = stmt.where(AuditEvent.user_id == where.user_id)
    if where.action:
        stmt = stmt.where(AuditEvent.action == where.action)
    if where.entity:
        stmt = stmt.where(AuditEvent.entity == where.entity)
    if where.entity_id:
        stmt = stmt.where(AuditEvent.entity_id == where.entity_id)
    if where.since:
        stmt = stmt.where(AuditEvent.occurred_at >= where.since)
    if where.until:
        stmt = stmt.where(AuditEvent.occurred_at < where.until)
    rows = session.scalars(policy.readable(stmt, "audit_event", principal).limit(first + 1)).all()
    return rows[:first], len(rows) > first
