"""What ``dramatiq`` imports in each ``ogcrm worker`` process.

Dramatiq forks worker processes; each builds its own broker (and later, its own database
engine) here, after the fork, so no connection is shared between processes.
"""

from __future__ import annotations

from ogcrm.config import Settings
from ogcrm.jobs.broker import build_broker


def setup() -> None:
    """Called by Dramatiq's CLI (``ogcrm.jobs.worker_entry:setup``) to set the broker."""
    settings = Settings.from_env()
    if not settings.uses_redis:
        raise SystemExit(
            "ogcrm worker needs OGCRM_REDIS_URL: without Redis, jobs run inside `ogcrm serve`"
        )
    build_broker(settings)
