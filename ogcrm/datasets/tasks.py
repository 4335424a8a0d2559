"""The dataset jobs: thin, idempotent, by id. Each calls one operation of
:mod:`ogcrm.datasets.service` (or :mod:`~ogcrm.datasets.staging`) and publishes progress;
the state machine underneath (:mod:`ogcrm.datasets.lifecycle`) makes a second delivery
find nothing to do.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from ogcrm.auth.principal import system_principal
from ogcrm.datasets import lifecycle, service, staging
from ogcrm.db.models import Dataset, DatasetState
from ogcrm.db.session import Database
from ogcrm.errors import DomainError
from ogcrm.jobs.registry import job, owed
from ogcrm.jobs.runtime import JobRuntime
from ogcrm.pipeline.errors import ReaderError
from ogcrm.progress import Tick

#: bad input: failed at once, never retried
_BAD_INPUT = (ReaderError, DomainError)


@job(service.PROCESS_JOB, throws=_BAD_INPUT)
def process_dataset(rt: JobRuntime, dataset_id: int) -> None:
    channel = f"dataset:{dataset_id}"

    def progress(tick: Tick) -> None:
        if not tick.rows:
            return  # the start: "processing" says nothing yet that the state does not
        rt.publish(
            channel, {"dataset_id": dataset_id, "stage": "processing", "rows_done": tick.rows}
        )

    dataset = staging.process(rt.db, dataset_id, data_dir=rt.data_dir, progress=progress)
    rt.publish(
        channel,
        {
            "dataset_id": dataset_id,
            "stage": str(dataset.state),
            "rows_done": dataset.rows_read,
            "rows_total": dataset.rows_read,
            "error": dataset.error,
        },
    )


@job(service.MERGE_JOB, throws=_BAD_INPUT)
def merge_dataset(rt: JobRuntime, dataset_id: int, user_id: int | None = None) -> None:
    """``user_id`` is accepted for messages queued by older versions; the approver is
    read from the dataset."""
    counts = service.merge_approved(rt.db, dataset_id)
    if counts is not None:
        rt.publish(
            f"dataset:{dataset_id}",
            {"dataset_id": dataset_id, "stage": "merged", "counts": counts},
        )


@job(service.REVERT_JOB, throws=_BAD_INPUT)
def revert_dataset(rt: JobRuntime, dataset_id: int) -> None:
    service.revert_now(rt.db, system_principal("job"), dataset_id)


@owed
def owed_dataset_jobs(db: Database, cutoff: dt.datetime) -> dict[str, list[int]]:
    """Received but never processed, processing since before the cutoff (its worker
    died: handed back first), approved but never merged."""
    with db.unit_of_work() as session:
        lifecycle.release_stale(session, cutoff)
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
                    Dataset.reviewed_at < cutoff,
                )
            )
        )
    return {service.PROCESS_JOB: to_process, service.MERGE_JOB: to_merge}
