"""Jobs run in-process on the embedded set-up and in `ogcrm worker` processes on Redis."""

from __future__ import annotations

import signal
import subprocess
import threading
import time
from pathlib import Path

import dramatiq
import pytest
from starlette.testclient import TestClient

from ogcrm.api.app import create_app
from ogcrm.config import Settings
from ogcrm.db.session import Database
from ogcrm.jobs.broker import broker_status
from ogcrm.worker import build_broker
from tests.conftest import TEST_REDIS_URL
from tests.support import ogcrm_command, subprocess_env


def test_the_api_process_works_jobs_itself_without_redis(settings: Settings, db: Database):
    from dataclasses import replace

    embedded = replace(settings, redis_url="")
    app = create_app(embedded, db=db)
    done = threading.Event()

    @dramatiq.actor(broker=app.state.broker, queue_name="test", max_retries=0)
    def mark_done() -> None:
        done.set()

    with TestClient(app):
        mark_done.send()
        assert done.wait(timeout=10), "the in-process worker did not run the job"


@pytest.mark.skipif(not TEST_REDIS_URL, reason="needs Redis: set OGCRM_TEST_REDIS_URL")
class TestRedis:
    def test_broker_reports_redis_reachable(self, tmp_path: Path):
        broker = build_broker(Settings(data_dir=tmp_path, redis_url=TEST_REDIS_URL))
        assert broker_status(broker).ok

    def test_worker_processes_start_and_stop_cleanly(self, tmp_path: Path):
        proc = subprocess.Popen(
            ogcrm_command("worker", "--processes", "1", "--threads", "1"),
            env=subprocess_env(OGCRM_REDIS_URL=TEST_REDIS_URL, OGCRM_DATA_DIR=str(tmp_path)),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + 20
            output = b""
            while time.monotonic() < deadline and b"is ready for action" not in output:
                assert proc.poll() is None, proc.stdout.read().decode()
                output += proc.stdout.read1(4096)  # type: ignore[union-attr]
            assert b"is ready for action" in output
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
        assert proc.returncode == 0
