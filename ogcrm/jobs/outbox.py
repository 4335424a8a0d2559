"""Jobs are sent after the transaction that calls for them commits, and re-sent by a
reconciler when a message was lost.

Sending inside a transaction races the commit: a worker can pick the message up before
the row it names is visible (AlmaLinux/build-system#541). So :func:`after_commit` keeps
the message on the session and sends it from SQLAlchemy's ``after_commit`` event; a
rollback drops it. Redis may also lose messages (a restart without persistence): the
database is the record of what is owed, and :func:`reconcile` re-sends whatever has
waited longer than its lease.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import dramatiq
from sqlalchemy import event, or_, select, update
from sqlalchemy.orm import Session

from ogcrm.db.models import Dataset, DatasetState
from ogcrm.db.session import Database
from ogcrm.db.types import utcnow
from ogcrm.jobs.actors import send

_KEY = "ogcrm.outbox"


def after_commit(session: Session, broker: dramatiq.Broker, job: str, *args: Any) -> None:
    """Send ``job`` once the session's transaction has committed (never if it rolls back)."""
    pending: list[tuple[dramatiq.Broker, str, tuple[Any, ...]]] = session.info.setdefault(_KEY, [])
    if not session.info.get(_KEY + ".listening"):
        event.listen(session, "after_commit", _send_pending)
        event.listen(session, "after_soft_rollback", _drop_pending)
        session.info[_KEY + ".listening"] = True
    pending.append((broker, job, args))


def _send_pending(session: Session) -> None:
    for broker, job, args in session.info.pop(_KEY, []):
        send(broker, job, *args)


def _drop_pending(session: Session, previous_transaction: Any) -> None:
    session.info.pop(_KEY, None)


def request_processing(session: Session, broker: dramatiq.Broker, dataset_id: int) -> None:
    after_commit(session, broker, "dataset.process", dataset_id)


def approve(session: Session, broker: dramatiq.Broker, principal: Any, dataset_id: int) -> None:
    """Record a person's approval and have the merge job run once it is committed."""
    from ogcrm.services.errors import InvalidInput

    moved = session.execute(
        update(Dataset)
        .where(
            Dataset.id == dataset_id,
            Dataset.state == DatasetState.AWAITING_REVIEW,
            Dataset.reviewed_at.is_(None),
        )
        .values(reviewed_by_id=principal.user_id, reviewed_at=utcnow())
    ).rowcount
    if not moved:
        raise InvalidInput(f"dataset {dataset_id} is not awaiting approval")
    after_commit(session, broker, "dataset.merge", dataset_id)


def reconcile(
    db: Database, broker: dramatiq.Broker, *, lease: dt.timedelta
) -> dict[str, list[int]]:
    """Re-send the jobs of datasets that have waited longer than ``lease``: received but
    never processed, processing for longer than a lease (its worker died: moved back to
    received first), or approved but never merged. Safe to run any time: the jobs'
    guarded state transitions make a duplicate a no-op."""
    cutoff = utcnow() - lease
    with db.unit_of_work() as session:
        session.execute(
            update(Dataset)
            .where(Dataset.state == DatasetState.PROCESSING, Dataset.started_at < cutoff)
            .values(state=DatasetState.RECEIVED)
        )
    with db.read() as session:
        to_process = list(
            session.scalars(
                select(Dataset.id).where(
                    Dataset.state == DatasetState.RECEIVED, Dataset.created_at < cutoff
                )
            )
        )
        to_merge = list(
            session.scalars(
                select(Dataset.id).where(
                    Dataset.state == DatasetState.AWAITING_REVIEW,
                    Dataset.reviewed_at.is_not(None),
                    or_(Dataset.reviewed_at < cutoff),
                )
            )
        )
    for dataset_id in to_process:
        send(broker, "dataset.process", dataset_id)
    for dataset_id in to_merge:
        send(broker, "dataset.merge", dataset_id)
    return {"process": to_process, "merge": to_merge}
