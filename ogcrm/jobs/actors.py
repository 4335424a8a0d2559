"""Dramatiq actors: thin, idempotent wrappers that take ids and call one service.

Actors are registered on a broker by :func:`register`, which ``build_broker`` calls, not
at import time, so every broker a process builds (tests build many) has them, and
``ogcrm worker``'s ``setup`` registers them before Dramatiq starts consuming.

Each job opens its own unit of work. Bad input (an unreadable file, a dataset in the
wrong state) is declared in ``throws`` and fails at once; database faults (a dropped
connection, a restart) are retried with backoff. Idempotency comes from the services'
guarded state transitions: a message delivered twice finds nothing to do the second
time.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import dramatiq
from sqlalchemy.exc import DBAPIError, OperationalError

from ogcrm.config import Settings
from ogcrm.db.session import Database
from ogcrm.events import EventBus, build_bus
from ogcrm.pipeline.errors import ReaderError
from ogcrm.services.errors import DomainError

log = logging.getLogger(__name__)

_database: Database | None = None
_data_dir: Path | None = None
_bus: EventBus | None = None


def use_database(db: Database, data_dir: Path, bus: EventBus | None = None) -> None:
    """Let this process's jobs use an existing database (the API's, in-process)."""
    global _database, _data_dir, _bus
    _database, _data_dir, _bus = db, data_dir, bus


def _db() -> tuple[Database, Path]:
    """The process's database, built from the environment on first use (after the
    worker has forked, so no connection is shared between processes)."""
    global _database, _data_dir, _bus
    if _database is None:
        settings = Settings.from_env()
        _database = Database(settings, application_name="ogcrm-worker")
        _data_dir = settings.data_dir
        _bus = build_bus(settings)
    assert _data_dir is not None
    return _database, _data_dir


def _publish(channel: str, payload: dict[str, Any]) -> None:
    if _bus is not None:
        try:
            _bus.publish(channel, payload)
        except Exception:  # an event lost is no reason to fail the job
            log.warning("could not publish to %s", channel, exc_info=True)


def _retry_when(retries: int, exc: Exception) -> bool:
    """Retry database faults a few times; never bad input."""
    return retries < 5 and isinstance(exc, (OperationalError, DBAPIError))


def process_dataset(dataset_id: int) -> None:
    from ogcrm.services.datasets import process

    db, data_dir = _db()
    channel = f"dataset:{dataset_id}"
    done = 0

    def progress(rows: int) -> None:
        nonlocal done
        done += rows
        _publish(channel, {"dataset_id": dataset_id, "stage": "processing", "rows_done": done})

    dataset = process(db, dataset_id, data_dir=data_dir, progress=progress)
    _publish(
        channel,
        {
            "dataset_id": dataset_id,
            "stage": str(dataset.state),
            "rows_done": dataset.rows_read,
            "rows_total": dataset.rows_read,
            "error": dataset.error,
        },
    )


#: A merge whose worker dies this many times (SIGKILL does not count as a Dramatiq retry,
#: Bogdanp/dramatiq#213) is given up on, so a poison dataset cannot loop forever.
MAX_MERGE_ATTEMPTS = 3


def merge_dataset(dataset_id: int, user_id: int | None = None) -> None:
    from sqlalchemy import update

    from ogcrm.auth.principal import system_principal
    from ogcrm.db.models import Dataset, DatasetState
    from ogcrm.db.types import utcnow
    from ogcrm.services.merge import approve_and_merge, touched_organizations

    db, _ = _db()
    with db.unit_of_work() as session:  # counted and committed before the merge starts
        attempts = session.execute(
            update(Dataset)
            .where(Dataset.id == dataset_id, Dataset.state == DatasetState.AWAITING_REVIEW)
            .values(attempts=Dataset.attempts + 1)
            .returning(Dataset.attempts)
        ).scalar()
        if attempts is not None and attempts > MAX_MERGE_ATTEMPTS:
            session.execute(
                update(Dataset)
                .where(Dataset.id == dataset_id)
                .values(
                    state=DatasetState.FAILED,
                    finished_at=utcnow(),
                    error=(
                        f"the merge did not complete in {MAX_MERGE_ATTEMPTS} attempts (its "
                        "worker stopped each time); nothing of it was kept"
                    ),
                )
            )
            log.error(
                "dataset %s: merge given up after %s attempts", dataset_id, MAX_MERGE_ATTEMPTS
            )
            return
    with db.unit_of_work() as session:
        counts = approve_and_merge(session, system_principal("job"), dataset_id)
    _publish(
        f"dataset:{dataset_id}", {"dataset_id": dataset_id, "stage": "merged", "counts": counts}
    )
    with db.read() as session:
        touched = touched_organizations(session, dataset_id)
    if touched:  # rescoring is its own job: the merge is done once it has committed
        send(dramatiq.get_broker(), "rules.rescore", touched)


def revert_dataset(dataset_id: int) -> None:
    from ogcrm.auth.principal import system_principal
    from ogcrm.services.merge import revert

    db, _ = _db()
    with db.unit_of_work() as session:
        revert(session, system_principal("job"), dataset_id)


def rescore_organizations(organization_ids: list[int] | None = None) -> None:
    from ogcrm.rules.scoring import NoActiveRuleSet, rescore

    db, _ = _db()
    with db.unit_of_work() as session:
        try:
            rescore(session, organization_ids=organization_ids)
        except NoActiveRuleSet:
            log.info("no active rule set: nothing to rescore")


JOBS: dict[str, Any] = {
    "dataset.process": process_dataset,
    "dataset.merge": merge_dataset,
    "dataset.revert": revert_dataset,
    "rules.rescore": rescore_organizations,
}


def register(broker: dramatiq.Broker) -> None:
    """Declare every job on ``broker`` (once per broker)."""
    for name, fn in JOBS.items():
        if name in broker.actors:
            continue
        dramatiq.Actor(
            fn,
            broker=broker,
            actor_name=name,
            queue_name=name.split(".", 1)[0],
            priority=0,
            options={
                "max_retries": 5,
                "min_backoff": 1_000,
                "max_backoff": 60_000,
                "time_limit": 60 * 60 * 1000,
                "throws": (ReaderError, DomainError),
                "retry_when": _retry_when,
            },
        )


def database() -> Database:
    """This process's database (for the reconciler of a worker process)."""
    return _db()[0]


def send(broker: dramatiq.Broker, job: str, *args: Any) -> None:
    """Enqueue a job by name (call after the transaction that made it necessary)."""
    broker.get_actor(job).send(*args)
