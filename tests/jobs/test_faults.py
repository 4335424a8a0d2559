"""Faults in the middle of an import or a merge: the connection dropped by the server, the
worker killed. Each is one transaction, so nothing of it stays, and the retried job
completes with exact totals."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import replace

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError

from ogcrm.auth.principal import system_principal
from ogcrm.datasets.intake import receive
from ogcrm.datasets.lifecycle import MAX_MERGE_ATTEMPTS
from ogcrm.datasets.merge import approve_and_merge
from ogcrm.datasets.staging import process
from ogcrm.db.models import ChangeRecord, Dataset, DatasetState, Permit, StagedRow, Well
from ogcrm.db.session import Database
from ogcrm.jobs.queue import send
from ogcrm.jobs.registry import retry_when
from ogcrm.worker import build_broker
from tests.conftest import TEST_REDIS_URL
from tests.support import spawn_worker, worker_env

P = system_principal("test")
ROWS = 3_000


def _received(db: Database, tmp_path, rows: int) -> int:
    """A received dataset of ``rows`` permits from 40 operators."""
    path = tmp_path / "permits.csv"
    path.write_text(
        "permit_number,Operator Name,API #\n"
        + "".join(f"P{i},Operator {i % 40} LLC,42-003-{i:05d}\n" for i in range(1, rows + 1))
    )
    with db.unit_of_work() as s:
        return receive(s, P, path, data_dir=tmp_path).dataset_id


def _staged(db: Database, tmp_path, rows: int) -> int:
    """The same, processed: awaiting review."""
    dataset_id = _received(db, tmp_path, rows)
    process(db, dataset_id, data_dir=tmp_path)
    return dataset_id


def _counts(db: Database, dataset_id: int) -> tuple[int, int, int, DatasetState]:
    with db.read() as s:
        return (
            s.scalar(select(func.count()).select_from(Well)),
            s.scalar(select(func.count()).select_from(Permit)),
            s.scalar(select(func.count()).where(ChangeRecord.dataset_id == dataset_id)),
            s.get(Dataset, dataset_id).state,
        )


def _cut_connection_during(
    db: Database, settings, work: Callable[[Database], object], name: str
) -> tuple[int, list[BaseException]]:
    """Run ``work`` on a connection of its own (named ``name``) in a thread, terminate
    that connection while it is inside its transaction (paused at a failpoint), and
    return how many backends were ended and what ``work`` raised."""
    worker_db = Database(replace(settings), application_name=name)
    failure: list[BaseException] = []

    def run() -> None:
        try:
            work(worker_db)
        except BaseException as exc:  # the test inspects what the worker saw
            failure.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    try:
        killed = 0
        deadline = time.monotonic() + 30
        while not killed and time.monotonic() < deadline and thread.is_alive():
            time.sleep(0.3)  # let the job write a good part first
            with db.engine.connect() as conn:
                killed = conn.execute(
                    text(
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                        "WHERE application_name = :name AND state <> 'idle'"
                    ),
                    {"name": name},
                ).scalar()
        thread.join(timeout=60)
    finally:
        worker_db.dispose()
    return killed, failure


def test_connection_killed_mid_merge_leaves_nothing_and_the_retry_completes(
    db, settings, tmp_path, monkeypatch
):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("terminating a server backend needs PostgreSQL (pg_terminate_backend)")
    dataset_id = _staged(db, tmp_path, ROWS)
    # the merge pauses after writing its rows, inside its transaction: the connection is
    # cut there, not at whatever point a race happens to reach
    monkeypatch.setenv("OGCRM_FAILPOINT", "merge.after_batch:sleep=3")

    def merge(worker_db: Database) -> None:
        with worker_db.unit_of_work() as s:
            approve_and_merge(s, P, dataset_id)

    killed, failure = _cut_connection_during(db, settings, merge, "ogcrm-merge-fault")
    assert killed, "the merge finished before it could be interrupted"
    # the worker saw its connection go (the server ended it while the merge waited)
    assert failure and isinstance(failure[0], OperationalError), failure
    assert "connection" in str(failure[0]).lower()
    wells, permits, changes, state = _counts(db, dataset_id)
    assert (wells, permits, changes, state) == (0, 0, 0, DatasetState.AWAITING_REVIEW)
    # the retried job (what Dramatiq's retry does for a database fault) completes
    monkeypatch.delenv("OGCRM_FAILPOINT")
    with db.unit_of_work() as s:
        counts = approve_and_merge(s, P, dataset_id)
    wells, permits, changes, state = _counts(db, dataset_id)
    assert (wells, permits, state) == (ROWS, ROWS, DatasetState.MERGED)
    assert changes == counts["changes"]


def test_connection_killed_mid_processing_stages_nothing_and_the_retry_completes(
    db, settings, tmp_path, monkeypatch
):
    """The import's staging is one transaction too: a dropped connection leaves no staged
    row, puts the dataset back to ``received`` and raises a database fault (which the
    job retries); the retry stages every row once."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("terminating a server backend needs PostgreSQL (pg_terminate_backend)")
    dataset_id = _received(db, tmp_path, ROWS)
    # processing pauses after handing its (only) chunk to the writer, inside its
    # transaction: the connection is cut there
    monkeypatch.setenv("OGCRM_FAILPOINT", "process.after_chunk:sleep=3")
    killed, failure = _cut_connection_during(
        db,
        settings,
        lambda worker_db: process(worker_db, dataset_id, data_dir=tmp_path),
        "ogcrm-process-fault",
    )
    assert killed, "processing finished before it could be interrupted"
    assert failure and isinstance(failure[0], OperationalError), failure
    assert retry_when(0, failure[0]), "a dropped connection is retried"
    with db.read() as s:
        assert s.scalar(select(func.count()).where(StagedRow.dataset_id == dataset_id)) == 0
        assert s.get(Dataset, dataset_id).state == DatasetState.RECEIVED
    monkeypatch.delenv("OGCRM_FAILPOINT")
    dataset = process(db, dataset_id, data_dir=tmp_path)
    assert (dataset.state, dataset.rows_read) == (DatasetState.AWAITING_REVIEW, ROWS)
    with db.read() as s:
        assert s.scalar(select(func.count()).where(StagedRow.dataset_id == dataset_id)) == ROWS


@pytest.mark.skipif(not TEST_REDIS_URL, reason="needs Redis: set OGCRM_TEST_REDIS_URL")
def test_worker_killed_mid_merge_then_the_redelivered_job_merges_once(db, settings, tmp_path):
    """RELIABILITY row 27: a real `ogcrm worker` on Redis, SIGKILLed while merging."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("watching the worker's transaction needs PostgreSQL (pg_stat_activity)")
    dataset_id = _staged(db, tmp_path, ROWS)
    env = worker_env(settings, tmp_path, heartbeat_ms=2000)
    broker = build_broker(replace(settings, redis_url=TEST_REDIS_URL))

    def start_worker(**extra: str) -> subprocess.Popen:
        return spawn_worker({**env, **extra})

    # the first worker holds still after writing the batch, inside the merge's transaction
    first = start_worker(OGCRM_FAILPOINT="merge.after_batch:sleep=30")
    try:
        send(broker, "dataset.merge", dataset_id)
        deadline = time.monotonic() + 60
        busy = False
        while not busy and time.monotonic() < deadline:
            time.sleep(0.2)
            with db.engine.connect() as conn:
                busy = bool(
                    conn.execute(
                        text(
                            "SELECT count(*) FROM pg_stat_activity WHERE application_name = "
                            "'ogcrm-worker' AND xact_start < now() - interval '300 milliseconds'"
                        )
                    ).scalar()
                )
        assert busy, "the worker never started merging"
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
    time.sleep(1)  # PostgreSQL notices the dead backend and rolls its transaction back
    wells, permits, changes, state = _counts(db, dataset_id)
    assert (wells, permits, changes, state) == (0, 0, 0, DatasetState.AWAITING_REVIEW)
    second = start_worker()
    try:
        deadline = time.monotonic() + 90
        while _counts(db, dataset_id)[3] != DatasetState.MERGED and time.monotonic() < deadline:
            time.sleep(0.5)
    finally:
        os.killpg(second.pid, signal.SIGTERM)
        second.wait(timeout=30)
    wells, permits, changes, state = _counts(db, dataset_id)
    assert (wells, permits, state) == (ROWS, ROWS, DatasetState.MERGED)
    with db.read() as s:
        created = s.scalar(
            select(func.count()).where(
                ChangeRecord.dataset_id == dataset_id, ChangeRecord.field == "__created__"
            )
        )
    assert created == ROWS * 2 + 40  # wells, permits and the 40 operators, once each


@pytest.mark.skipif(not TEST_REDIS_URL, reason="needs Redis: set OGCRM_TEST_REDIS_URL")
def test_a_merge_that_kills_its_worker_every_time_is_given_up(db, settings, tmp_path):
    """RELIABILITY row 28: a poison dataset (the failpoint kills the worker in every
    attempt) ends `failed` with a reason after a bounded number of attempts."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("runs with the PostgreSQL + Redis set-up, like the worker it kills")
    dataset_id = _staged(db, tmp_path, 1)
    env = worker_env(
        settings, tmp_path, heartbeat_ms=1000, OGCRM_FAILPOINT="merge.after_batch:sigkill"
    )
    broker = build_broker(replace(settings, redis_url=TEST_REDIS_URL))
    send(broker, "dataset.merge", dataset_id)
    starts = 0
    deadline = time.monotonic() + 120
    while _counts(db, dataset_id)[3] != DatasetState.FAILED and time.monotonic() < deadline:
        starts += 1
        worker = spawn_worker(env)
        try:
            until = time.monotonic() + 20
            while worker.poll() is None and time.monotonic() < until:
                if _counts(db, dataset_id)[3] == DatasetState.FAILED:
                    break
                time.sleep(0.3)
        finally:
            if worker.poll() is None:
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait(timeout=10)
    with db.read() as s:
        dataset = s.get(Dataset, dataset_id)
    assert dataset.state == DatasetState.FAILED, f"still {dataset.state} after {starts} workers"
    assert dataset.attempts == MAX_MERGE_ATTEMPTS + 1
    assert "did not complete in 3 attempts" in dataset.error
    assert _counts(db, dataset_id)[:3] == (0, 0, 0)
