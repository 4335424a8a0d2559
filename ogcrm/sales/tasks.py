"""Tasks: follow-ups someone must do by a date, on an account (and optionally one of its
contacts or opportunities). This module owns the task's states:

    open --complete--> done --reopen--> open
    open --cancel----> cancelled --reopen--> open

Rescheduling an open task re-arms its reminder; the reminder job tells the assignee
once, shortly before it falls due (:func:`claim_reminder` makes "once" hold when two
workers look at the same moment).
"""

from __future__ import annotations

import datetime as dt
import enum
import zoneinfo
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, literal, select, tuple_, update
from sqlalchemy.orm import Session

from ogcrm.auth import audit, policy
from ogcrm.auth.principal import Principal
from ogcrm.db.models import Opportunity, Task, TaskStatus
from ogcrm.db.types import utcnow
from ogcrm.errors import InvalidInput
from ogcrm.sales._common import active_user, aware, clean_text, contact_of, long_text, move

MAX_TITLE = 300
#: Undated tasks sort after every dated one (the key stays a comparable timestamp).
_NEVER = dt.datetime(9999, 12, 31, tzinfo=dt.UTC)

_OPEN, _DONE, _CANCELLED = TaskStatus.OPEN, TaskStatus.DONE, TaskStatus.CANCELLED


class Due(enum.StrEnum):
    OVERDUE = "overdue"  # open and past its due time
    TODAY = "today"  # due during today (in the time zone asked for, UTC by default)
    WEEK = "week"  # due within the next seven days (overdue ones not included)


@dataclass(frozen=True)
class TaskFilter:
    assignee_id: int | None = None
    organization_id: int | None = None
    opportunity_id: int | None = None
    status: TaskStatus | None = None
    due: Due | None = None
    time_zone: str | None = None


@dataclass(frozen=True)
class TaskPage:
    rows: list[Task]
    has_next: bool

    @staticmethod
    def key(task: Task) -> tuple[str, int]:
        return ((task.due_at or _NEVER).isoformat(), task.id)


def _sort_key() -> Any:
    return func.coalesce(Task.due_at, literal(_NEVER, Task.due_at.type))


def _day_bounds(time_zone: str | None, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    try:
        zone = zoneinfo.ZoneInfo(time_zone) if time_zone else dt.UTC
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"unknown time zone {time_zone!r}", field="filter.timeZone") from None
    local = now.astimezone(zone)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return start.astimezone(dt.UTC), (start + dt.timedelta(days=1)).astimezone(dt.UTC)


def _filtered(stmt: Select[Any], f: TaskFilter) -> Select[Any]:
    now = utcnow()
    if f.assignee_id is not None:
        stmt = stmt.where(Task.assignee_id == f.assignee_id)
    if f.organization_id is not None:
        stmt = stmt.where(Task.organization_id == f.organization_id)
    if f.opportunity_id is not None:
        stmt = stmt.where(Task.opportunity_id == f.opportunity_id)
    status = f.status if f.status is not None else (_OPEN if f.due else None)
    if status is not None:
        stmt = stmt.where(Task.status == status)
    if f.due is Due.OVERDUE:
        stmt = stmt.where(Task.due_at < now)
    elif f.due is Due.TODAY:
        start, end = _day_bounds(f.time_zone, now)
        stmt = stmt.where(Task.due_at >= start, Task.due_at < end)
    elif f.due is Due.WEEK:
        stmt = stmt.where(Task.due_at >= now, Task.due_at < now + dt.timedelta(days=7))
    return stmt


def list_tasks(
    session: Session,
    principal: Principal,
    *,
    where: TaskFilter,
    first: int,
    after: tuple[dt.datetime, int] | None = None,
) -> TaskPage:
    """Readable tasks matching ``where``, soonest due first (undated last), by keyset."""
    stmt = policy.readable(_filtered(select(Task), where), "task", principal)
    key = _sort_key()
    if after is not None:
        stmt = stmt.where(
            tuple_(key, Task.id) > tuple_(literal(after[0], Task.due_at.type), after[1])
        )
    rows = list(session.scalars(stmt.order_by(key, Task.id).limit(first + 1)))
    return TaskPage(rows[:first], len(rows) > first)


def count_tasks(session: Session, principal: Principal, where: TaskFilter) -> int:
    stmt = policy.readable(_filtered(select(func.count(Task.id)), where), "task", principal)
    return int(session.scalar(stmt) or 0)


def assignee_of(session: Session, principal: Principal, task_id: int) -> int | None:
    """Whom a task the principal may read is assigned to (None: unassigned, or a task
    they may not read): what decides, when its reminder is delivered, who hears it."""
    stmt = select(Task.assignee_id).where(Task.id == task_id)
    assignee: int | None = session.scalar(policy.readable(stmt, "task", principal))
    return assignee


def _writable(session: Session, principal: Principal, task_id: int) -> Task:
    row: Task = policy.get_readable(session, "task", principal, task_id)
    policy.authorize_write(session, principal, "task", row)
    return row


def _opportunity_of(session: Session, opportunity_id: int | None, organization_id: int) -> None:
    if opportunity_id is None:
        return
    org = session.scalar(
        select(Opportunity.organization_id).where(Opportunity.id == opportunity_id)
    )
    if org != organization_id:
        raise InvalidInput(
            "that opportunity is not one of this organization's", field="opportunityId"
        )


def create_task(
    session: Session,
    principal: Principal,
    *,
    organization_id: int,
    title: str,
    due_at: dt.datetime | None = None,
    description: str = "",
    assignee_id: int | None = None,
    contact_id: int | None = None,
    opportunity_id: int | None = None,
) -> Task:
    """A task on an account the principal may read, for ``assignee_id`` (the principal
    by default), within the principal's write scope."""
    policy.get_readable(session, "organization", principal, organization_id)
    assignee = assignee_id if assignee_id is not None else principal.user_id
    if assignee is not None:
        active_user(session, assignee, "assigneeId")
    _opportunity_of(session, opportunity_id, organization_id)
    row = Task(
        organization_id=organization_id,
        contact_id=contact_of(session, contact_id, organization_id),
        opportunity_id=opportunity_id,
        assignee_id=assignee,
        created_by_id=principal.user_id,
        title=clean_text(title, "title", MAX_TITLE, required=True),
        description=long_text(description, "description"),
        due_at=aware(due_at, "dueAt"),
    )
    policy.authorize_write(session, principal, "task", row)
    session.add(row)
    session.flush()
    audit.record(
        session,
        principal,
        "task.create",
        entity="task",
        entity_id=row.id,
        organization_id=organization_id,
        assignee_id=assignee,
    )
    return row


_UNSET: Any = object()


def update_task(
    session: Session,
    principal: Principal,
    task_id: int,
    *,
    title: str | None = _UNSET,
    description: str | None = _UNSET,
    due_at: dt.datetime | None = _UNSET,
    assignee_id: int | None = _UNSET,
) -> Task:
    """Change what is given: rename, describe, reschedule (which re-arms the reminder),
    assign (to an active user; ``None`` leaves it unassigned)."""
    row = _writable(session, principal, task_id)
    changed: dict[str, Any] = {}
    if title is not _UNSET:
        changed["title"] = clean_text(title, "title", MAX_TITLE, required=True)
    if description is not _UNSET:
        changed["description"] = long_text(description, "description")
    if due_at is not _UNSET:
        changed["due_at"] = aware(due_at, "dueAt")
        changed["reminded_at"] = None
    if assignee_id is not _UNSET:
        if assignee_id is not None:
            active_user(session, assignee_id, "assigneeId")
        changed["assignee_id"] = assignee_id
        changed["reminded_at"] = None
    for name, value in changed.items():
        setattr(row, name, value)
    if changed:
        # the new assignee must be someone the principal may hand this account's work to
        policy.authorize_write(session, principal, "task", row)
        session.flush()
        audit.record(
            session,
            principal,
            "task.update",
            entity="task",
            entity_id=row.id,
            fields=sorted(k for k in changed if k != "reminded_at"),
        )
    return row


#: action -> (states it may start from, state it leads to)
MOVES: dict[str, tuple[frozenset[TaskStatus], TaskStatus]] = {
    "complete": (frozenset({_OPEN}), _DONE),
    "cancel": (frozenset({_OPEN}), _CANCELLED),
    "reopen": (frozenset({_DONE, _CANCELLED}), _OPEN),
}


def move_task(session: Session, principal: Principal, task_id: int, action: str) -> Task:
    """Complete, cancel or reopen; any other move is a Conflict naming the task's state."""
    if action not in MOVES:
        raise InvalidInput(f"unknown action {action!r}", field="action")
    row = _writable(session, principal, task_id)
    allowed, to = MOVES[action]
    move(
        session,
        row,
        Task.status,
        allowed,
        action,
        status=to,
        completed_at=utcnow() if to is _DONE else None,
    )
    audit.record(session, principal, f"task.{action}", entity="task", entity_id=task_id)
    return row


def due_for_reminder(session: Session, *, now: dt.datetime, ahead: dt.timedelta) -> list[int]:
    """Open, assigned tasks falling due before ``now + ahead`` whose assignee was not
    told yet."""
    return list(
        session.scalars(
            select(Task.id)
            .where(
                Task.status == _OPEN,
                Task.assignee_id.is_not(None),
                Task.due_at < now + ahead,
                Task.reminded_at.is_(None),
            )
            .order_by(Task.due_at)
        )
    )


def claim_reminder(session: Session, task_id: int, *, now: dt.datetime) -> Task | None:
    """Mark the task reminded, if nobody has and it is still open: the one caller that
    gets the task back sends the reminder (a second worker, or a retry, gets ``None``)."""
    result = session.execute(
        update(Task)
        .where(Task.id == task_id, Task.reminded_at.is_(None), Task.status == _OPEN)
        .values(reminded_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return None
    return session.scalar(
        select(Task).where(Task.id == task_id).execution_options(populate_existing=True)
    )
