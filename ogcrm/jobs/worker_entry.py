"""What ``dramatiq`` imports in each ``ogcrm worker`` process.

Dramatiq forks worker processes; each builds its own broker (and later, its own database
engine) here, after the fork, so no connection is shared between processes.
"""

from __future__ import annotations

import datetime as dt

from ogcrm.config import Settings
from ogcrm.jobs.broker import build_broker


def setup() -> None:
    """Called by Dramatiq's CLI (``ogcrm.jobs.worker_entry:setup``) to set the broker, and
    start this process's reconciler (lost jobs re-sent; one process per interval acts)."""
    settings = Settings.from_env()
    if not settings.uses_redis:
        raise SystemExit(
            "ogcrm worker needs OGCRM_REDIS_URL: without Redis, jobs run inside `ogcrm serve`"
        )
    broker = build_broker(settings)
    # imported once the broker is set: the actors declare themselves on it
    from ogcrm.jobs.actors import database
    from ogcrm.jobs.reconciler import Reconciler, redis_lock

    Reconciler(
        database,
        broker,
        every=settings.reconcile_every,
        lease=dt.timedelta(seconds=settings.job_lease),
        lock=redis_lock(broker, settings),
    ).start()
