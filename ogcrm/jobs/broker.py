"""Build the Dramatiq broker from settings, and run the in-process worker.

With ``OGCRM_REDIS_URL`` set, jobs go to Redis and ``ogcrm worker`` processes run them.
Without it, jobs go to Dramatiq's StubBroker and a worker thread inside ``ogcrm serve``
runs them: the same actors, the same code path, nothing to install.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import dramatiq
from dramatiq.brokers.stub import StubBroker

from ogcrm.config import Settings
from ogcrm.jobs.registry import declare
from ogcrm.jobs.runtime import RuntimeFactory

log = logging.getLogger(__name__)

#: Redis broker tuning lives in the settings (``job_heartbeat_timeout_ms``,
#: ``job_maintenance_chance``): Dramatiq's defaults leave a dead worker's messages unacked
#: for a minute and run maintenance rarely (Bogdanp/dramatiq#64, #527); the database remains
#: the source of truth for job state either way (docs/architecture.md, "Jobs").


def build_broker(settings: Settings, runtime: RuntimeFactory) -> dramatiq.Broker:
    """Create the broker ``settings`` ask for, make it Dramatiq's global broker and
    declare on it every job registered so far, running with ``runtime()``
    (:func:`ogcrm.worker.build_broker` imports every domain's jobs first)."""
    broker: dramatiq.Broker
    if settings.uses_redis:
        from dramatiq.brokers.redis import RedisBroker

        broker = RedisBroker(
            url=settings.redis_url,
            heartbeat_timeout=settings.job_heartbeat_timeout_ms,
            maintenance_chance=settings.job_maintenance_chance,
            namespace=f"{settings.instance_name}-jobs",
        )
    else:
        broker = StubBroker()
        broker.emit_after("process_boot")
    dramatiq.set_broker(broker)
    declare(broker, runtime)
    return broker


@dataclass(frozen=True)
class BrokerStatus:
    kind: str
    ok: bool
    error: str | None = None


def broker_status(broker: dramatiq.Broker) -> BrokerStatus:
    """Whether the broker answers; for Redis, a PING round trip."""
    if isinstance(broker, StubBroker):
        return BrokerStatus(kind="in-process", ok=True)
    try:
        broker.client.ping()  # type: ignore[attr-defined]
    except Exception as exc:  # any failure means "not reachable" to a health check
        return BrokerStatus(kind="redis", ok=False, error=f"{type(exc).__name__}: {exc}")
    return BrokerStatus(kind="redis", ok=True)


class InProcessWorker:
    """A Dramatiq worker thread pool living inside the API process (embedded set-up only)."""

    def __init__(self, broker: dramatiq.Broker, *, threads: int) -> None:
        self._worker = dramatiq.Worker(broker, worker_threads=threads, worker_timeout=250)

    def start(self) -> None:
        self._worker.start()
        log.info("in-process job worker started")

    def stop(self) -> None:
        self._worker.stop()
        log.info("in-process job worker stopped")
