"""Events: in-process and across processes through Redis; dataset progress published by
the processing job."""

from __future__ import annotations

import pytest

from ogcrm.auth.principal import system_principal
from ogcrm.datasets import tasks
from ogcrm.datasets.intake import receive
from ogcrm.events import InProcessBus, RedisBus, bind, iterate, publish_after_commit
from ogcrm.jobs.runtime import JobRuntime
from tests.conftest import TEST_REDIS_URL


def test_in_process_subscribers_get_what_is_published():
    bus = InProcessBus()
    sub = bus.subscribe("dataset:1")
    other = bus.subscribe("dataset:2")
    bus.publish("dataset:1", {"rows_done": 10})
    assert list(iterate(sub, timeout=0.1)) == [{"rows_done": 10}]
    assert list(iterate(other, timeout=0.1)) == []
    sub.close()
    bus.publish("dataset:1", {"rows_done": 20})
    assert sub.get(0.05) is None


@pytest.mark.skipif(not TEST_REDIS_URL, reason="needs Redis: set OGCRM_TEST_REDIS_URL")
def test_redis_carries_events_between_bus_instances():
    publisher = RedisBus(TEST_REDIS_URL, "ogcrm-test-events")
    subscriber = RedisBus(TEST_REDIS_URL, "ogcrm-test-events")
    sub = subscriber.subscribe("dataset:7")
    publisher.publish("dataset:7", {"stage": "processing", "rows_done": 5})
    assert sub.get(5.0) == {"stage": "processing", "rows_done": 5}
    sub.close()


def test_processing_publishes_progress(db, settings, tmp_path):
    bus = InProcessBus()
    path = tmp_path / "u.csv"
    path.write_text(
        "Operator Name,API #\n" + "".join(f"Acme {i},42-003-{i:05d}\n" for i in range(1, 121))
    )
    with db.unit_of_work() as s:
        dataset_id = receive(s, system_principal("test"), path, data_dir=tmp_path).dataset_id
    sub = bus.subscribe(f"dataset:{dataset_id}")
    tasks.process_dataset(JobRuntime(db, tmp_path, bus), dataset_id)
    events = list(iterate(sub, timeout=0.2))
    assert events[0] == {"dataset_id": dataset_id, "stage": "processing", "rows_done": 120}
    assert events[-1]["stage"] == "awaiting_review" and events[-1]["rows_total"] == 120


def test_an_event_waits_for_the_outermost_commit_and_a_rolled_back_savepoint_takes_its_own(db):
    """What a subscriber is told must be committed: not at a savepoint released (SQLAlchemy
    fires after_commit for those too), never what a rolled-back savepoint published."""
    bus = InProcessBus()
    bind(db.info, bus)
    sub = bus.subscribe("account:1")
    try:
        with db.unit_of_work() as s:
            publish_after_commit(s, "account:1", {"n": 1})
            with s.begin_nested():
                publish_after_commit(s, "account:1", {"n": 2})
            try:
                with s.begin_nested():
                    publish_after_commit(s, "account:1", {"n": 3})
                    raise LookupError("a unique key lost its race")
            except LookupError:
                pass
            assert sub.get(0.05) is None  # nothing before the commit
        assert list(iterate(sub, timeout=0.1)) == [{"n": 1}, {"n": 2}]
        with pytest.raises(RuntimeError), db.unit_of_work() as s:
            publish_after_commit(s, "account:1", {"n": 4})
            raise RuntimeError("the request failed")
        assert sub.get(0.05) is None
    finally:
        sub.close()
        bind(db.info, None)
