"""The sales jobs: tell a task's assignee it falls due, once.

The reconciler asks :func:`owed_reminders` on its schedule which open tasks fall due
within ``OGCRM_REMINDER_AHEAD_MINUTES`` and were not reminded; each gets a
``sales.remind`` job, which claims the reminder (one conditional UPDATE, so a second
worker or a re-sent job reminds nobody twice), tells the assignee's subscriptions
(``myAccountsChanged``: a ``task_due`` event addressed to them) and queues an e-mail
through the notifier.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from ogcrm.accounts.events import account_event
from ogcrm.db.models import Organization, Task, User
from ogcrm.db.session import Database
from ogcrm.db.types import utcnow
from ogcrm.jobs.registry import job, owed
from ogcrm.jobs.runtime import JobRuntime
from ogcrm.messaging.outbox import Recipient, queue_message
from ogcrm.sales import tasks

REMIND_JOB = "sales.remind"


def remind(session: Session, task_id: int, *, now: dt.datetime) -> bool:
    """Remind the task's assignee if nobody has: an event and an e-mail. ``False`` when
    the reminder was claimed already (or the task is no longer open)."""
    task: Task | None = tasks.claim_reminder(session, task_id, now=now)
    if task is None or task.assignee_id is None:
        return False
    user = session.get(User, task.assignee_id)
    account = session.scalar(
        select(Organization.name).where(Organization.id == task.organization_id)
    )
    due = task.due_at.strftime("%Y-%m-%d %H:%M UTC") if task.due_at else "soon"
    account_event(
        session,
        task.organization_id,
        "task_due",
        f"Task due {due}: {task.title}",
        owner_id=task.assignee_id,  # addressed to the assignee, whoever owns the account
        data={"task_id": task.id, "due_at": task.due_at.isoformat() if task.due_at else None},
    )
    if user is not None and user.is_active:
        queue_message(
            session,
            None,
            Recipient(address=user.email, name=user.name, user_id=user.id),
            template="task_reminder",
            subject=f"Due {due}: {task.title}",
            body=(
                f"Hello {user.name},\n\n"
                f"Your task on {account} falls due {due}:\n\n"
                f"    {task.title}\n\n{task.description}\n".rstrip()
                + "\n\n-- ogcrm\n"
            ),
            task_id=task.id,
        )
    return True


@job(REMIND_JOB)
def remind_task(rt: JobRuntime, task_id: int) -> None:
    with rt.db.unit_of_work() as session:
        remind(session, task_id, now=utcnow())


@owed
def owed_reminders(db: Database, cutoff: dt.datetime) -> dict[str, list[int]]:
    """Open tasks falling due soon whose assignee has not been told."""
    ahead = dt.timedelta(minutes=db.settings.reminder_ahead_minutes)
    with db.read() as session:
        return {REMIND_JOB: tasks.due_for_reminder(session, now=utcnow(), ahead=ahead)}
