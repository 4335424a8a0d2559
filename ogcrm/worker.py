"""The composition root of the jobs: every domain's jobs imported, a broker built with
them, and what ``dramatiq`` runs in each ``ogcrm worker`` process.

Dramatiq forks worker processes; each builds its own broker here, after the fork, and its
own database engine on the first job (:func:`ogcrm.jobs.runtime.lazy`), so no connection
is shared between processes.
"""

from __future__ import annotations

import datetime as dt

import dramatiq

# Each domain declares its jobs in its ``tasks`` module (``jobs`` in sales, whose
# ``tasks`` are follow-ups); importing them here is what puts them on every broker this
# process builds.
import ogcrm.datasets.tasks
import ogcrm.messaging.tasks
import ogcrm.sales.jobs
import ogcrm.scoring.tasks  # noqa: F401
from ogcrm.config import Settings
from ogcrm.jobs import broker as _broker
from ogcrm.jobs import queue
from ogcrm.jobs import runtime as _runtime
from ogcrm.jobs.reconciler import Reconciler, redis_lock

__all__ = ["build_broker", "setup"]


def build_broker(settings: Settings, runtime: _runtime.JobRuntime | None = None) -> dramatiq.Broker:
    """The broker ``settings`` ask for, with every job of every domain declared on it.

    ``runtime`` is what the jobs run with; by default one built from ``settings`` on the
    first job (a worker process, after the fork). Its database is bound to the broker,
    so the jobs a job calls for (a rescore after a merge) go to the same place.
    """
    made: list[dramatiq.Broker] = []

    def build() -> _runtime.JobRuntime:
        rt = _runtime.JobRuntime.from_env(settings)
        queue.bind(rt.db, made[0])
        return rt

    factory = _runtime.fixed(runtime) if runtime is not None else _runtime.lazy(build)
    broker = _broker.build_broker(settings, factory)
    made.append(broker)
    if runtime is not None:
        queue.bind(runtime.db, broker)
    return broker


def setup() -> None:
    """Called by Dramatiq's CLI (``ogcrm.worker:setup``) in each worker process: set the
    broker, and start this process's reconciler (lost jobs re-sent; one process per
    interval acts)."""
    settings = Settings.from_env()
    if not settings.uses_redis:
        raise SystemExit(
            "ogcrm worker needs OGCRM_REDIS_URL: without Redis, jobs run inside `ogcrm serve`"
        )
    broker = build_broker(settings)
    database = _runtime.lazy(lambda: _runtime.JobRuntime.from_env(settings))
    Reconciler(
        lambda: database().db,
        broker,
        every=settings.reconcile_every,
        lease=dt.timedelta(seconds=settings.job_lease),
        lock=redis_lock(broker, settings),
    ).start()
