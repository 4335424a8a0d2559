"""The reconciler, run on a schedule: jobs whose messages were lost are sent again.

The database is the record of what is owed: each domain declares, with
:func:`ogcrm.jobs.registry.owed`, which of its jobs are due again (datasets: received but
never processed, processing past a lease, approved but never merged). :func:`reconcile`
asks them all and re-sends; :class:`Reconciler` runs it every ``reconcile_every`` seconds in the background of the processes that work
jobs: every ``ogcrm worker`` process, and ``ogcrm serve`` on the embedded set-up. With
Redis, a lock taken for one interval lets one process of all of them do it; a duplicate
would be harmless anyway (the jobs' guarded state transitions), only wasted work.

On the embedded set-up the queue lives in the API process's memory, so whatever it held
is gone after a restart: the first run there re-sends every job owed, however recent.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
from collections.abc import Callable

import dramatiq

from ogcrm.config import Settings
from ogcrm.db.session import Database
from ogcrm.db.types import utcnow
from ogcrm.jobs import registry
from ogcrm.jobs.queue import send

log = logging.getLogger(__name__)


def reconcile(
    db: Database, broker: dramatiq.Broker, *, lease: dt.timedelta
) -> dict[str, list[int]]:
    """Re-send every job owed since longer than ``lease`` ago; returns the ids re-sent by
    job verb (``{"process": [...], "merge": [...]}``). Safe to run any time: the jobs'
    guarded state transitions make a duplicate a no-op."""
    cutoff = utcnow() - lease
    resent: dict[str, list[int]] = {}
    for owed in registry.OWED:
        for job, ids in owed(db, cutoff).items():
            resent.setdefault(job.rsplit(".", 1)[-1], []).extend(ids)
            for id_ in ids:
                send(broker, job, id_)
    return resent


class Reconciler:
    """A daemon thread calling :func:`reconcile` every ``every`` seconds."""

    def __init__(
        self,
        db: Database | Callable[[], Database],
        broker: dramatiq.Broker,
        *,
        every: float,
        lease: dt.timedelta,
        first_lease: dt.timedelta | None = None,
        lock: Callable[[], bool] | None = None,
    ) -> None:
        self._db = db
        self._broker = broker
        self._every = every
        self._lease = lease
        self._first_lease = lease if first_lease is None else first_lease
        self._lock = lock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._every <= 0:
            return
        self._thread = threading.Thread(target=self._run, name="ogcrm-reconciler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def run_once(self, lease: dt.timedelta | None = None) -> dict[str, list[int]] | None:
        """One pass; ``None`` when another process holds this interval's lock."""
        if self._lock is not None and not self._lock():
            return None
        db = self._db() if callable(self._db) else self._db
        resent = reconcile(db, self._broker, lease=self._lease if lease is None else lease)
        if any(resent.values()):
            log.warning("reconciler re-sent lost jobs: %s", resent)
        return resent

    def _run(self) -> None:
        lease = self._first_lease
        while not self._stop.is_set():
            try:
                self.run_once(lease)
            except Exception:  # the next pass tries again; a dead thread would not
                log.exception("reconciler pass failed")
            lease = self._lease
            self._stop.wait(self._every)


def redis_lock(broker: dramatiq.Broker, settings: Settings) -> Callable[[], bool]:
    """One holder per interval across all processes sharing this Redis."""
    client = broker.client  # type: ignore[attr-defined]
    key = f"{settings.instance_name}:reconciler"
    seconds = max(1, int(settings.reconcile_every))

    def take() -> bool:
        return bool(client.set(key, os.getpid(), nx=True, ex=seconds))

    return take
