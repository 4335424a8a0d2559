"""The dataset lifecycle as jobs: processed and merged by a worker, bad input failing
at once, database faults retried."""

from __future__ import annotations

from dataclasses import replace

import dramatiq
import pytest
from sqlalchemy.exc import OperationalError

from ogcrm.auth.principal import system_principal
from ogcrm.datasets import staging, tasks
from ogcrm.datasets.intake import receive
from ogcrm.db.models import Dataset, DatasetState
from ogcrm.errors import InvalidInput
from ogcrm.jobs.queue import send
from ogcrm.jobs.runtime import JobRuntime
from ogcrm.worker import build_broker


@pytest.fixture
def jobs(settings, db, tmp_path):
    broker = build_broker(replace(settings, redis_url=""), JobRuntime(db, tmp_path))
    worker = dramatiq.Worker(broker, worker_timeout=50)
    worker.start()
    yield broker
    worker.stop()
    broker.flush_all()


def _received(db, tmp_path, text: str) -> int:
    path = tmp_path / "upload.csv"
    path.write_text(text)
    with db.unit_of_work() as s:
        return receive(s, system_principal("test"), path, data_dir=tmp_path).dataset_id


def _state(db, dataset_id: int) -> DatasetState:
    with db.read() as s:
        return s.get(Dataset, dataset_id).state


def test_a_worker_processes_then_merges(jobs, db, tmp_path):
    dataset_id = _received(db, tmp_path, "Operator Name,API #\nAcme Oil Co.,42-003-12345\n")
    send(jobs, "dataset.process", dataset_id)
    jobs.join("dataset", fail_fast=True)
    assert _state(db, dataset_id) == DatasetState.AWAITING_REVIEW
    send(jobs, "dataset.merge", dataset_id)
    jobs.join("dataset", fail_fast=True)
    assert _state(db, dataset_id) == DatasetState.MERGED


def test_bad_input_fails_at_once_without_retries(jobs, db, tmp_path):
    dataset_id = _received(db, tmp_path, "Operator Name,API #\nAcme Oil Co.,42-003-12345\n")
    send(jobs, "dataset.merge", dataset_id)  # not processed: wrong state
    with pytest.raises(InvalidInput, match="not awaiting review"):
        jobs.join("dataset", fail_fast=True)
    (dead,) = jobs.dead_letters
    assert dead.options.get("retries", 0) == 0
    assert _state(db, dataset_id) == DatasetState.RECEIVED


def test_a_delivered_twice_merge_merges_once(jobs, db, tmp_path):
    dataset_id = _received(db, tmp_path, "Operator Name,API #\nAcme Oil Co.,42-003-12345\n")
    rt = JobRuntime(db, tmp_path)
    tasks.process_dataset(rt, dataset_id)
    tasks.merge_dataset(rt, dataset_id)
    with pytest.raises(InvalidInput):
        tasks.merge_dataset(rt, dataset_id)  # the redelivered message finds it merged
    assert _state(db, dataset_id) == DatasetState.MERGED


def test_database_faults_are_retried(jobs, db, tmp_path, monkeypatch):
    dataset_id = _received(db, tmp_path, "Operator Name,API #\nAcme Oil Co.,42-003-12345\n")
    real = staging.process
    calls = []

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("SELECT 1", {}, Exception("server closed the connection"))
        return real(*args, **kwargs)

    monkeypatch.setattr(staging, "process", flaky)
    send(jobs, "dataset.process", dataset_id)
    jobs.join("dataset", fail_fast=True, timeout=20_000)
    assert len(calls) == 2
    assert _state(db, dataset_id) == DatasetState.AWAITING_REVIEW
