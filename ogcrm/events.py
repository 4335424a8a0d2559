"""Publish/subscribe for what jobs report (dataset progress, account changes).

Two implementations behind one interface, chosen like the job broker: in-process queues
on the embedded set-up, Redis pub/sub when ``OGCRM_REDIS_URL`` is set, so any API process
sees any worker's events. Channels are names such as ``dataset:42``; payloads are JSON
objects. Delivery is best effort (pub/sub, not a queue): the database stays the record of
what happened, events only say so sooner.
"""

from __future__ import annotations

import contextlib
import json
import queue
import threading
from collections import defaultdict
from collections.abc import Iterator
from typing import Any, Protocol

from ogcrm.config import Settings


class Subscription(Protocol):
    def get(self, timeout: float) -> dict[str, Any] | None: ...

    def close(self) -> None: ...


class EventBus(Protocol):
    def publish(self, channel: str, payload: dict[str, Any]) -> None: ...

    def subscribe(self, channel: str) -> Subscription: ...


class _QueueSubscription:
    def __init__(self, bus: InProcessBus, channel: str) -> None:
        self._bus, self._channel = bus, channel
        self.queue: queue.Queue[dict[str, Any]] = queue.Queue(maxsize=1000)

    def get(self, timeout: float) -> dict[str, Any] | None:
        try:
            return self.queue.get(timeout=timeout)
        except queue.Empty:
            return None

    def close(self) -> None:
        self._bus._remove(self._channel, self)


class InProcessBus:
    """Subscribers in this process; a slow one loses events rather than blocking jobs."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: dict[str, list[_QueueSubscription]] = defaultdict(list)

    def publish(self, channel: str, payload: dict[str, Any]) -> None:
        with self._lock:
            targets = list(self._subscribers.get(channel, ()))
        for sub in targets:
            with contextlib.suppress(queue.Full):  # a slow subscriber misses events
                sub.queue.put_nowait(payload)

    def subscribe(self, channel: str) -> Subscription:
        sub = _QueueSubscription(self, channel)
        with self._lock:
            self._subscribers[channel].append(sub)
        return sub

    def _remove(self, channel: str, sub: _QueueSubscription) -> None:
        with self._lock:
            if sub in self._subscribers.get(channel, []):
                self._subscribers[channel].remove(sub)


class _RedisSubscription:
    def __init__(self, pubsub: Any) -> None:
        self._pubsub = pubsub

    def get(self, timeout: float) -> dict[str, Any] | None:
        message = self._pubsub.get_message(ignore_subscribe_messages=True, timeout=timeout)
        if message is None or message.get("type") != "message":
            return None
        data: dict[str, Any] = json.loads(message["data"])
        return data

    def close(self) -> None:
        self._pubsub.close()


class RedisBus:
    """Redis pub/sub, channel names prefixed by the installation's instance name."""

    def __init__(self, url: str, prefix: str) -> None:
        import redis

        self._client = redis.Redis.from_url(url)
        self._prefix = prefix

    def publish(self, channel: str, payload: dict[str, Any]) -> None:
        self._client.publish(f"{self._prefix}:{channel}", json.dumps(payload, default=str))

    def subscribe(self, channel: str) -> Subscription:
        pubsub = self._client.pubsub()
        pubsub.subscribe(f"{self._prefix}:{channel}")
        pubsub.get_message(timeout=1.0)  # the subscription confirmation
        return _RedisSubscription(pubsub)


_in_process = InProcessBus()


def build_bus(settings: Settings) -> EventBus:
    """Redis pub/sub when configured, else the process's in-process bus."""
    if settings.uses_redis:
        return RedisBus(settings.redis_url, settings.instance_name)
    return _in_process


def iterate(subscription: Subscription, *, timeout: float) -> Iterator[dict[str, Any]]:
    """Events until none arrives for ``timeout`` seconds."""
    while (event := subscription.get(timeout)) is not None:
        yield event
