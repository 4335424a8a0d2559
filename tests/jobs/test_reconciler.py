"""Jobs whose messages were lost are sent again without anyone asking (RELIABILITY row 31):
by `ogcrm serve` on the embedded set-up when it starts, by `ogcrm worker` processes on
their schedule, and by `ogcrm reconcile` on demand."""

from __future__ import annotations

import datetime as dt
import json
import signal
import time
from dataclasses import replace

import pytest
from click.testing import CliRunner
from sqlalchemy import update
from starlette.testclient import TestClient

from ogcrm.api.app import create_app
from ogcrm.auth.principal import system_principal
from ogcrm.cli import main
from ogcrm.datasets.intake import receive
from ogcrm.db.models import Dataset, DatasetState
from ogcrm.db.session import Database
from ogcrm.db.types import utcnow
from ogcrm.jobs.reconciler import Reconciler, redis_lock
from ogcrm.worker import build_broker
from tests.conftest import TEST_REDIS_URL
from tests.support import spawn_worker, worker_env


def _received_without_a_job(db: Database, tmp_path) -> int:
    """A dataset whose processing job was never delivered (the message was lost)."""
    path = tmp_path / "upload.csv"
    path.write_text("Operator Name,API #\nAcme Oil Co.,42-003-12345\n")
    with db.unit_of_work() as s:
        return receive(s, system_principal("test"), path, data_dir=tmp_path).dataset_id


def _wait_for(db: Database, dataset_id: int, state: DatasetState, seconds: float) -> DatasetState:
    deadline = time.monotonic() + seconds
    while True:
        with db.read() as s:
            current = s.get(Dataset, dataset_id).state
        if current == state or time.monotonic() > deadline:
            return current
        time.sleep(0.2)


def test_the_embedded_server_works_off_what_its_last_run_left_queued(db, settings, tmp_path):
    dataset_id = _received_without_a_job(db, tmp_path)
    settings = replace(settings, data_dir=tmp_path, redis_url="")  # the embedded set-up
    with TestClient(create_app(settings, db=db)):
        state = _wait_for(db, dataset_id, DatasetState.AWAITING_REVIEW, 30)
    assert state == DatasetState.AWAITING_REVIEW


def test_a_dataset_whose_worker_died_while_processing_is_processed_again(db, settings, tmp_path):
    """A worker killed mid-import leaves its dataset ``processing`` (the claim was
    committed; the staging was rolled back with the process). Once that has lasted a
    lease, the reconciler hands the dataset back and re-sends its job."""
    dataset_id = _received_without_a_job(db, tmp_path)
    with db.unit_of_work() as s:
        s.execute(
            update(Dataset)
            .where(Dataset.id == dataset_id)
            .values(state=DatasetState.PROCESSING, started_at=utcnow() - dt.timedelta(hours=1))
        )
    settings = replace(settings, data_dir=tmp_path, redis_url="")
    with TestClient(create_app(settings, db=db)):
        state = _wait_for(db, dataset_id, DatasetState.AWAITING_REVIEW, 30)
    assert state == DatasetState.AWAITING_REVIEW


@pytest.mark.skipif(not TEST_REDIS_URL, reason="needs Redis: set OGCRM_TEST_REDIS_URL")
def test_a_worker_re_sends_a_lost_job_on_its_own(db, settings, tmp_path):
    dataset_id = _received_without_a_job(db, tmp_path)
    env = worker_env(
        settings, tmp_path, heartbeat_ms=2000, OGCRM_RECONCILE_EVERY="1", OGCRM_JOB_LEASE="0"
    )
    worker = spawn_worker(env)
    try:
        state = _wait_for(db, dataset_id, DatasetState.AWAITING_REVIEW, 60)
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)
    assert state == DatasetState.AWAITING_REVIEW


@pytest.mark.skipif(not TEST_REDIS_URL, reason="needs Redis: set OGCRM_TEST_REDIS_URL")
def test_one_process_per_interval_reconciles(db, settings):
    settings = replace(settings, redis_url=TEST_REDIS_URL, reconcile_every=30)
    broker = build_broker(settings)
    broker.client.delete(f"{settings.instance_name}:reconciler")
    first, second = (
        Reconciler(db, broker, every=30, lease=dt.timedelta(0), lock=redis_lock(broker, settings))
        for _ in range(2)
    )
    assert first.run_once() is not None
    assert second.run_once() is None  # the other process has this interval
    broker.client.delete(f"{settings.instance_name}:reconciler")


def test_reconcile_command_refuses_a_negative_lease(settings, monkeypatch):
    monkeypatch.setenv("OGCRM_DATABASE_URL", settings.database_url)
    result = CliRunner().invoke(main, ["reconcile", "--lease", "-5"])
    assert result.exit_code == 2
    assert "Invalid value for '--lease'" in result.output


def test_reconcile_command_needs_redis(settings, monkeypatch):
    monkeypatch.setenv("OGCRM_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("OGCRM_REDIS_URL", "")
    result = CliRunner().invoke(main, ["reconcile", "--json"])
    assert result.exit_code != 0
    assert "re-sends them itself" in result.output


@pytest.mark.skipif(not TEST_REDIS_URL, reason="needs Redis: set OGCRM_TEST_REDIS_URL")
def test_reconcile_command_re_sends_now(db, settings, tmp_path, monkeypatch):
    dataset_id = _received_without_a_job(db, tmp_path)
    monkeypatch.setenv("OGCRM_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("OGCRM_REDIS_URL", TEST_REDIS_URL)
    monkeypatch.setenv("OGCRM_INSTANCE_NAME", settings.instance_name)
    result = CliRunner().invoke(main, ["reconcile", "--lease", "0", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {
        "process": [dataset_id],
        "merge": [],
        "remind": [],
        "send": [],
    }
