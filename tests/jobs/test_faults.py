"""Faults in the middle of a merge: the connection dropped by the server. The merge is one
transaction, so nothing of it stays, and the retried job completes with exact totals."""

from __future__ import annotations

import threading
import time
from dataclasses import replace

import pytest
from sqlalchemy import func, select, text

from ogcrm.auth.principal import system_principal
from ogcrm.db.models import ChangeRecord, Dataset, DatasetState, Permit, Well
from ogcrm.db.session import Database
from ogcrm.services.datasets import process, receive
from ogcrm.services.merge import approve_and_merge

P = system_principal("test")
ROWS = 3_000


def _counts(db: Database, dataset_id: int) -> tuple[int, int, int, DatasetState]:
    with db.read() as s:
        return (
            s.scalar(select(func.count()).select_from(Well)),
            s.scalar(select(func.count()).select_from(Permit)),
            s.scalar(select(func.count()).where(ChangeRecord.dataset_id == dataset_id)),
            s.get(Dataset, dataset_id).state,
        )


def test_connection_killed_mid_merge_leaves_nothing_and_the_retry_completes(db, settings, tmp_path):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("terminating a server backend needs PostgreSQL (pg_terminate_backend)")
    path = tmp_path / "permits.csv"
    path.write_text(
        "permit_number,Operator Name,API #\n"
        + "".join(f"P{i},Operator {i % 40} LLC,42-003-{i:05d}\n" for i in range(1, ROWS + 1))
    )
    with db.unit_of_work() as s:
        dataset_id = receive(s, P, path, data_dir=tmp_path).dataset_id
    process(db, dataset_id, data_dir=tmp_path)
    worker_db = Database(replace(settings), application_name="ogcrm-merge-fault")
    failure: list[BaseException] = []

    def merge() -> None:
        try:
            with worker_db.unit_of_work() as s:
                approve_and_merge(s, P, dataset_id)
        except BaseException as exc:  # the test inspects what the worker saw
            failure.append(exc)

    thread = threading.Thread(target=merge)
    thread.start()
    try:
        killed = 0
        deadline = time.monotonic() + 30
        while not killed and time.monotonic() < deadline and thread.is_alive():
            time.sleep(0.3)  # let the merge write a good part first
            with db.engine.connect() as conn:
                killed = conn.execute(
                    text(
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                        "WHERE application_name = 'ogcrm-merge-fault' AND state <> 'idle'"
                    )
                ).scalar()
        thread.join(timeout=60)
    finally:
        worker_db.dispose()
    assert killed, "the merge finished before it could be interrupted"
    assert failure and "terminat" in str(failure[0]).lower()
    wells, permits, changes, state = _counts(db, dataset_id)
    assert (wells, permits, changes, state) == (0, 0, 0, DatasetState.AWAITING_REVIEW)
    # the retried job (what Dramatiq's retry does for a database fault) completes
    with db.unit_of_work() as s:
        counts = approve_and_merge(s, P, dataset_id)
    wells, permits, changes, state = _counts(db, dataset_id)
    assert (wells, permits, state) == (ROWS, ROWS, DatasetState.MERGED)
    assert changes == counts["changes"]
