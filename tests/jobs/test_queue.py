"""Jobs sent only after commit; a reconciler re-sends what a Redis restart lost."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import time
from dataclasses import replace

import dramatiq
import pytest
import redis

from ogcrm.auth.principal import system_principal
from ogcrm.datasets import service
from ogcrm.datasets.intake import receive
from ogcrm.datasets.staging import process
from ogcrm.db.models import Dataset, DatasetState
from ogcrm.jobs import queue
from ogcrm.jobs.reconciler import reconcile
from ogcrm.jobs.runtime import JobRuntime
from ogcrm.worker import build_broker
from tests.support import free_port

P = system_principal("test")


def _received(db, tmp_path) -> int:
    path = tmp_path / "w.csv"
    path.write_text("Operator Name,API #\nAcme Oil Co.,42-003-12345\n")
    with db.unit_of_work() as s:
        return receive(s, P, path, data_dir=tmp_path).dataset_id


def test_a_job_is_sent_after_commit_and_never_after_rollback(db, settings, tmp_path):
    broker = build_broker(replace(settings, redis_url=""))
    dataset_id = _received(db, tmp_path)
    with db.unit_of_work() as s:
        queue.after_commit(s, broker, "dataset.process", dataset_id)
        assert broker.queues.get("dataset") is None or broker.queues["dataset"].qsize() == 0
    assert broker.queues["dataset"].qsize() == 1
    with pytest.raises(RuntimeError), db.unit_of_work() as s:
        queue.after_commit(s, broker, "dataset.process", dataset_id)
        raise RuntimeError("the request failed")
    assert broker.queues["dataset"].qsize() == 1


def test_a_savepoint_released_sends_nothing_and_one_rolled_back_drops_only_its_own(
    db, settings, tmp_path
):
    """Services release savepoints (``begin_nested``) inside a request; the job must
    still wait for the outer commit. It did not: on PostgreSQL a rescore job read the
    account before the interaction that asked for it had committed."""
    broker = build_broker(replace(settings, redis_url=""))
    dataset_id = _received(db, tmp_path)
    waiting = lambda: broker.queues["dataset"].qsize() if "dataset" in broker.queues else 0  # noqa: E731
    with db.unit_of_work() as s:
        queue.after_commit(s, broker, "dataset.process", dataset_id)
        with s.begin_nested():
            pass  # a savepoint released
        assert waiting() == 0
        try:
            with s.begin_nested():
                queue.after_commit(s, broker, "dataset.merge", dataset_id)
                with s.begin_nested():
                    queue.after_commit(s, broker, "dataset.revert", dataset_id)
                raise LookupError("a unique key lost its race")
        except LookupError:
            pass
        with s.begin_nested():
            queue.after_commit(s, broker, "dataset.merge", dataset_id + 1)
        assert waiting() == 0
    sent = [dramatiq.Message.decode(m) for m in list(broker.queues["dataset"].queue)]
    assert [(m.actor_name, m.args) for m in sent] == [
        ("dataset.process", (dataset_id,)),
        ("dataset.merge", (dataset_id + 1,)),
    ]


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs the redis-server binary")
def test_messages_lost_with_redis_are_sent_again_by_the_reconciler(db, settings, tmp_path):
    port = free_port()

    def start_redis() -> subprocess.Popen:
        proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
        )
        client = redis.Redis(port=port)
        for _ in range(50):
            try:
                client.ping()
                return proc
            except redis.ConnectionError:
                time.sleep(0.1)
        raise RuntimeError("redis-server did not start")

    server = start_redis()
    try:
        url = f"redis://127.0.0.1:{port}/0"
        broker = build_broker(replace(settings, redis_url=url), JobRuntime(db, tmp_path))
        dataset_id = _received(db, tmp_path)
        process(db, dataset_id, data_dir=tmp_path)
        with db.unit_of_work() as s:
            service.approve(s, P, dataset_id)
        assert redis.Redis(port=port).dbsize() > 0  # the merge message is in Redis ...
        redis.Redis(port=port).shutdown(nosave=True)  # ... and Redis loses everything
        server.wait(timeout=10)
        server = start_redis()
        assert redis.Redis(port=port).dbsize() == 0
        resent = reconcile(db, broker, lease=dt.timedelta(0))
        # (the other domains' owed jobs, reminders and messages, have nothing owed)
        assert resent == {"process": [], "merge": [dataset_id], "remind": [], "send": []}
        worker = dramatiq.Worker(broker, worker_timeout=100)
        worker.start()
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                with db.read() as s:
                    if s.get(Dataset, dataset_id).state == DatasetState.MERGED:
                        break
                time.sleep(0.2)
        finally:
            worker.stop()
        with db.read() as s:
            assert s.get(Dataset, dataset_id).state == DatasetState.MERGED
    finally:
        server.terminate()
        server.wait(timeout=10)
