"""The sending job: one message, rate-limited, through the configured notifier."""

from __future__ import annotations

import datetime as dt
import logging
import time

from limits import RateLimitItemPerMinute
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from ogcrm.db.session import Database
from ogcrm.db.types import utcnow
from ogcrm.jobs.registry import job, owed
from ogcrm.jobs.runtime import JobRuntime
from ogcrm.messaging import outbox
from ogcrm.pipeline.contracts import NotifierError
from ogcrm.plugins import default_registry

log = logging.getLogger(__name__)
_limiters: dict[str, MovingWindowRateLimiter] = {}


def _wait_for_slot(rt: JobRuntime, notifier: str) -> None:
    """Block until the notifier's per-minute budget has room (shared through Redis by
    every worker when there is one)."""
    settings = rt.config()
    uri = settings.redis_url or "memory://"
    limiter = _limiters.setdefault(uri, MovingWindowRateLimiter(storage_from_string(uri)))
    limit = RateLimitItemPerMinute(settings.messages_per_minute)
    namespace = f"{settings.instance_name}:messages"
    while not limiter.hit(limit, namespace, notifier):
        reset = limiter.get_window_stats(limit, namespace, notifier).reset_time
        time.sleep(min(60.0, max(0.05, reset - time.time())))


@job(outbox.SEND_JOB)
def send_message(rt: JobRuntime, message_id: int) -> None:
    with rt.db.unit_of_work() as session:
        message = outbox.take(session, message_id, now=utcnow())
    if message is None:
        return
    notifier = outbox.notifier_for(rt.config(), default_registry())
    _wait_for_slot(rt, notifier.name)
    try:
        provider_id, error, retryable = notifier.send(message), None, False
    except NotifierError as exc:
        provider_id, error, retryable = None, str(exc), exc.retryable
        log.warning("message %s via %s failed: %s", message_id, notifier.name, exc)
    with rt.db.unit_of_work() as session:
        outbox.settle(
            session,
            message_id,
            notifier=notifier.name,
            provider_id=provider_id,
            error=error,
            retryable=retryable,
        )


@owed
def owed_messages(db: Database, cutoff: dt.datetime) -> dict[str, list[int]]:
    with db.unit_of_work() as session:
        return {outbox.SEND_JOB: outbox.owed(session, cutoff=cutoff)}
