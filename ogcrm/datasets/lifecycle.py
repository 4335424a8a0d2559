"""The dataset state machine: every write of ``Dataset.state`` is in this module.

::

    received ──claim──> processing ──finish──> awaiting_review ──start_merge──> merging
       ^  (release: a database fault)  │ fail                │ reject    │ give_up   │ finish_merge
       └───────────────────────────────┘                     v           v           v
                                    failed            rejected     failed      merged ──revert──> reverted

Each transition is one conditional ``UPDATE ... WHERE state = <the state it leaves>``
with its row count checked, so a message delivered twice, a reconciler racing a worker
or two reviewers clicking at once change the row once; the loser learns it from the
return value (or a typed error) instead of overwriting the winner.

Approval is not a state of its own: a person approves a dataset *awaiting review*
(``reviewed_by_id``/``reviewed_at`` written, an audit event recorded) and the merge job
later moves it to ``merging``. The merge keeps the approver: whoever runs the job (a
worker acting as the system) is not the person who approved.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, update
from sqlalchemy.orm import Session

from ogcrm.auth import audit
from ogcrm.auth.principal import Principal
from ogcrm.db.models import Dataset, DatasetState
from ogcrm.db.types import utcnow
from ogcrm.errors import Conflict, NotFound
from ogcrm.events import publish_after_commit

#: A merge whose worker dies this many times (SIGKILL does not count as a Dramatiq retry,
#: Bogdanp/dramatiq#213) is given up on, so a poison dataset cannot loop forever.
MAX_MERGE_ATTEMPTS = 3

S = DatasetState

#: Every move the machine allows (a test holds the functions below to it).
TRANSITIONS: frozenset[tuple[DatasetState, DatasetState]] = frozenset(
    {
        (S.RECEIVED, S.PROCESSING),
        (S.PROCESSING, S.RECEIVED),
        (S.PROCESSING, S.AWAITING_REVIEW),
        (S.PROCESSING, S.FAILED),
        (S.AWAITING_REVIEW, S.MERGING),
        (S.AWAITING_REVIEW, S.REJECTED),
        (S.AWAITING_REVIEW, S.FAILED),
        (S.MERGING, S.MERGED),
        (S.MERGED, S.REVERTED),
    }
)


def _move(
    session: Session, dataset_id: int, before: DatasetState, after: DatasetState, **values: Any
) -> bool:
    """Move one dataset from ``before`` to ``after``; ``False`` when it was not in
    ``before`` (someone else moved it first)."""
    assert (before, after) in TRANSITIONS, f"{before} -> {after} is not a dataset transition"
    moved = bool(
        session.execute(
            update(Dataset)
            .where(Dataset.id == dataset_id, Dataset.state == before)
            .values(state=after, **values)
        ).rowcount
    )
    if moved:  # subscribers (datasetProgress) hear of it once it is committed
        publish_after_commit(
            session,
            f"dataset:{dataset_id}",
            {"dataset_id": dataset_id, "stage": str(after), "previous": str(before)},
        )
    return moved


def get(session: Session, dataset_id: int) -> Dataset:
    dataset = session.get(Dataset, dataset_id)
    if dataset is None:
        raise NotFound(f"dataset {dataset_id} not found")
    return dataset


# --------------------------------------------------------------------- intake


def open_received(session: Session, **fields: Any) -> Dataset:
    """A new dataset whose file is stored and readable: ``received``."""
    dataset = Dataset(state=S.RECEIVED, **fields)
    session.add(dataset)
    session.flush()
    return dataset


def open_failed(session: Session, *, reason: str, **fields: Any) -> Dataset:
    """A new dataset whose file no reader can read: ``failed`` at once, with the reason."""
    dataset = Dataset(state=S.FAILED, error=reason, finished_at=utcnow(), **fields)
    session.add(dataset)
    session.flush()
    return dataset


# --------------------------------------------------------------------- processing


def claim(session: Session, dataset_id: int) -> Dataset:
    """Received -> processing, counting the attempt; a second caller gets
    :class:`~ogcrm.errors.Conflict` (the job then finds nothing to do)."""
    moved = _move(
        session,
        dataset_id,
        S.RECEIVED,
        S.PROCESSING,
        started_at=utcnow(),
        attempts=Dataset.attempts + 1,
    )
    dataset = get(session, dataset_id)
    if not moved:
        raise Conflict(
            f"dataset {dataset_id} is {dataset.state}, not received", state=str(dataset.state)
        )
    return dataset


def finish_processing(session: Session, dataset_id: int, **values: Any) -> bool:
    """Processing -> awaiting review, with the counts and timings of the run. Attempts
    count the current stage's jobs, so the merge starts from zero."""
    return _move(
        session,
        dataset_id,
        S.PROCESSING,
        S.AWAITING_REVIEW,
        attempts=0,
        finished_at=utcnow(),
        error=None,
        **values,
    )


def release(session: Session, dataset_id: int) -> bool:
    """Processing -> received after a database fault: the retried job claims it again."""
    return _move(session, dataset_id, S.PROCESSING, S.RECEIVED)


def release_stale(session: Session, cutoff: Any) -> int:
    """Processing since before ``cutoff`` -> received (their worker died)."""
    return int(
        session.execute(
            update(Dataset)
            .where(Dataset.state == S.PROCESSING, Dataset.started_at < cutoff)
            .values(state=S.RECEIVED)
        ).rowcount
    )


def fail_processing(session: Session, dataset_id: int, reason: str) -> bool:
    """Processing -> failed: the file could not be read (the reason names file, row
    and column)."""
    return _move(session, dataset_id, S.PROCESSING, S.FAILED, error=reason, finished_at=utcnow())


# --------------------------------------------------------------------- review


def _record_approval(session: Session, principal: Principal, dataset_id: int) -> bool:
    """Write and audit ``principal``'s approval if the dataset awaits review and nobody
    approved it yet; ``False`` otherwise (one conditional UPDATE: of two at once, one)."""
    moved = session.execute(
        update(Dataset)
        .where(
            Dataset.id == dataset_id,
            Dataset.state == S.AWAITING_REVIEW,
            Dataset.reviewed_at.is_(None),
        )
        .values(reviewed_by_id=principal.user_id, reviewed_at=utcnow())
    ).rowcount
    if moved:
        audit.record(session, principal, "dataset.approve", entity="dataset", entity_id=dataset_id)
    return bool(moved)


def approve(session: Session, principal: Principal, dataset_id: int) -> Dataset:
    """Record a person's approval of a dataset awaiting review, and audit it.

    Raises:
        NotFound: no such dataset.
        Conflict: it is not awaiting review, or was approved already.
    """
    approved = _record_approval(session, principal, dataset_id)
    dataset = get(session, dataset_id)
    if not approved:
        raise Conflict(
            f"dataset {dataset_id} is {dataset.state}, not awaiting approval",
            state=str(dataset.state),
        )
    session.refresh(dataset)
    return dataset


def reject(session: Session, principal: Principal, dataset_id: int, *, reason: str = "") -> None:
    """Awaiting review -> rejected; the staged rows stay for the record."""
    dataset = get(session, dataset_id)
    if not _move(
        session,
        dataset_id,
        S.AWAITING_REVIEW,
        S.REJECTED,
        reviewed_by_id=principal.user_id,
        reviewed_at=utcnow(),
        error=reason or None,
    ):
        session.refresh(dataset)
        raise Conflict(
            f"dataset {dataset_id} is {dataset.state}, not awaiting review",
            state=str(dataset.state),
        )
    audit.record(
        session, principal, "dataset.reject", entity="dataset", entity_id=dataset_id, reason=reason
    )


# --------------------------------------------------------------------- merge


def count_merge_attempt(session: Session, dataset_id: int) -> int | None:
    """Count one more merge job for an approved dataset (committed before the merge
    starts, so a worker killed mid-merge still counts); ``None`` when it is not
    awaiting its merge."""
    attempts: int | None = session.execute(
        update(Dataset)
        .where(Dataset.id == dataset_id, Dataset.state == S.AWAITING_REVIEW)
        .values(attempts=Dataset.attempts + 1)
        .returning(Dataset.attempts)
    ).scalar()
    return attempts


def give_up_merge(session: Session, dataset_id: int) -> bool:
    """Awaiting review -> failed after :data:`MAX_MERGE_ATTEMPTS` dead merges."""
    return _move(
        session,
        dataset_id,
        S.AWAITING_REVIEW,
        S.FAILED,
        finished_at=utcnow(),
        error=(
            f"the merge did not complete in {MAX_MERGE_ATTEMPTS} attempts (its worker "
            "stopped each time); nothing of it was kept"
        ),
    )


def start_merge(session: Session, principal: Principal, dataset_id: int) -> Dataset:
    """Awaiting review -> merging. A dataset nobody approved yet is approved here by
    ``principal`` (the CLI's ``--approve``); an approved one keeps its approver."""
    dataset = get(session, dataset_id)
    _record_approval(session, principal, dataset_id)  # nothing when someone approved it
    if not _move(
        session,
        dataset_id,
        S.AWAITING_REVIEW,
        S.MERGING,
        reviewed_by_id=func.coalesce(Dataset.reviewed_by_id, principal.user_id),
        reviewed_at=func.coalesce(Dataset.reviewed_at, utcnow()),
    ):
        session.refresh(dataset)  # as the one who moved it first left it
        raise Conflict(
            f"dataset {dataset_id} is {dataset.state}, not awaiting review",
            state=str(dataset.state),
        )
    session.refresh(dataset)
    return dataset


def finish_merge(session: Session, dataset_id: int, **values: Any) -> bool:
    """Merging -> merged, in the merge's own transaction (all or nothing)."""
    return _move(session, dataset_id, S.MERGING, S.MERGED, merged_at=utcnow(), **values)


def check_revertable(session: Session, dataset_id: int) -> Dataset:
    dataset = get(session, dataset_id)
    if dataset.state != S.MERGED:
        raise Conflict(
            f"dataset {dataset_id} is {dataset.state}, not merged", state=str(dataset.state)
        )
    return dataset


def finish_revert(session: Session, dataset_id: int, **values: Any) -> bool:
    """Merged -> reverted, in the revert's own transaction."""
    return _move(session, dataset_id, S.MERGED, S.REVERTED, reverted_at=utcnow(), **values)
