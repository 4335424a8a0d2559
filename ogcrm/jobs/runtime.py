"""What a job runs with: the database, the data directory, the event bus.

A runtime is handed to the actors when they are declared on a broker
(:func:`ogcrm.jobs.registry.declare`), never kept in a module global: the API process
gives its own engine and bus to the in-process worker, a worker process builds one from
the environment on first use (after Dramatiq has forked it, so no connection is shared
between processes), and a test builds as many as it likes side by side.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ogcrm.config import Settings
from ogcrm.db.session import Database
from ogcrm.events import EventBus, bind, build_bus

log = logging.getLogger(__name__)


@dataclass
class JobRuntime:
    db: Database
    data_dir: Path
    bus: EventBus | None = None
    #: What the jobs are configured with (notifiers, reminders); from the environment
    #: when not given.
    settings: Settings | None = None

    def config(self) -> Settings:
        if self.settings is None:
            self.settings = Settings.from_env()
        return self.settings

    def publish(self, channel: str, payload: dict[str, Any]) -> None:
        """Publish progress; an event lost is no reason to fail the job."""
        if self.bus is None:
            return
        try:
            self.bus.publish(channel, payload)
        except Exception:
            log.warning("could not publish to %s", channel, exc_info=True)

    @classmethod
    def from_env(cls, settings: Settings | None = None) -> JobRuntime:
        settings = settings or Settings.from_env()
        db = Database(settings, application_name="ogcrm-worker")
        bus = build_bus(settings)
        bind(db.info, bus)  # what the jobs commit is told to subscribers
        return cls(db, settings.data_dir, bus, settings)


RuntimeFactory = Callable[[], JobRuntime]


def fixed(runtime: JobRuntime) -> RuntimeFactory:
    """A factory that always gives ``runtime`` (the API's in-process worker, tests)."""
    return lambda: runtime


def lazy(build: Callable[[], JobRuntime] = JobRuntime.from_env) -> RuntimeFactory:
    """A factory that builds the runtime on first use and then keeps it (worker processes)."""
    made: list[JobRuntime] = []
    lock = threading.Lock()

    def get() -> JobRuntime:
        if not made:
            with lock:
                if not made:
                    made.append(build())
        return made[0]

    return get
