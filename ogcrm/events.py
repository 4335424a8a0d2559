"""Publish/subscribe for what jobs report (dataset progress, account changes).

Two implementations behind one interface, chosen like the job broker: in-process queues
on the embedded set-up, Redis pub/sub when ``OGCRM_REDIS_URL`` is set, so any API process
sees any worker's events. Channels are names such as ``dataset:42``; payloads are JSON
objects. Delivery is best effort (pub/sub, not a queue): the database stays the record of
what happened, events only say so sooner.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import queue
import threading
from collections import defaultdict
from collections.abc import Iterator
from typing import Any, Protocol

from sqlalchemy.orm import Session

from ogcrm.config import Settings
from ogcrm.db.deferred import on_commit

log = logging.getLogger(__name__)

#: Channels of account-wide news, one each; every subscriber filters by scope.
PRIORITY_CHANNEL = "priority"
ACCOUNTS_CHANNEL = "accounts"


class Subscription(Protocol):
    def get(self, timeout: float) -> dict[str, Any] | None: ...

    def close(self) -> None: ...


class AsyncSubscription(Protocol):
    async def get(self, timeout: float) -> dict[str, Any] | None: ...

    async def close(self) -> None: ...


class EventBus(Protocol):
    def publish(self, channel: str, payload: dict[str, Any]) -> None: ...

    def subscribe(self, channel: str) -> Subscription: ...

    async def subscribe_async(self, channel: str) -> AsyncSubscription:
        """For a subscriber on an event loop (a GraphQL subscription): waiting holds no
        thread."""
        ...


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


class _LoopSubscription:
    """An asyncio queue filled from any thread through its loop."""

    def __init__(self, bus: InProcessBus, channel: str) -> None:
        self._bus, self._channel = bus, channel
        self._loop = asyncio.get_running_loop()
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=1000)

    def put_threadsafe(self, payload: dict[str, Any]) -> None:
        def put() -> None:
            with contextlib.suppress(asyncio.QueueFull):  # a slow subscriber misses events
                self.queue.put_nowait(payload)

        with contextlib.suppress(RuntimeError):  # its loop has closed
            self._loop.call_soon_threadsafe(put)

    async def get(self, timeout: float) -> dict[str, Any] | None:
        try:
            return await asyncio.wait_for(self.queue.get(), timeout)
        except TimeoutError:
            return None

    async def close(self) -> None:
        self._bus._remove(self._channel, self)


class InProcessBus:
    """Subscribers in this process; a slow one loses events rather than blocking jobs."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: dict[str, list[Any]] = defaultdict(list)

    def publish(self, channel: str, payload: dict[str, Any]) -> None:
        with self._lock:
            targets = list(self._subscribers.get(channel, ()))
        for sub in targets:
            if isinstance(sub, _LoopSubscription):
                sub.put_threadsafe(payload)
                continue
            with contextlib.suppress(queue.Full):  # a slow subscriber misses events
                sub.queue.put_nowait(payload)

    async def subscribe_async(self, channel: str) -> AsyncSubscription:
        sub = _LoopSubscription(self, channel)
        with self._lock:
            self._subscribers[channel].append(sub)
        return sub

    def subscribe(self, channel: str) -> Subscription:
        sub = _QueueSubscription(self, channel)
        with self._lock:
            self._subscribers[channel].append(sub)
        return sub

    def _remove(self, channel: str, sub: Any) -> None:
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


class _AsyncRedisSubscription:
    def __init__(self, client: Any, pubsub: Any) -> None:
        self._client, self._pubsub = client, pubsub

    async def get(self, timeout: float) -> dict[str, Any] | None:
        message = await self._pubsub.get_message(ignore_subscribe_messages=True, timeout=timeout)
        if message is None or message.get("type") != "message":
            return None
        data: dict[str, Any] = json.loads(message["data"])
        return data

    async def close(self) -> None:
        await self._pubsub.aclose()
        await self._client.aclose()


class RedisBus:
    """Redis pub/sub, channel names prefixed by the installation's instance name."""

    def __init__(self, url: str, prefix: str) -> None:
        import redis

        self._url = url
        self._client = redis.Redis.from_url(url)
        self._prefix = prefix

    async def subscribe_async(self, channel: str) -> AsyncSubscription:
        import redis.asyncio

        client = redis.asyncio.Redis.from_url(self._url)
        pubsub = client.pubsub()
        await pubsub.subscribe(f"{self._prefix}:{channel}")
        return _AsyncRedisSubscription(client, pubsub)

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


_BUS_KEY = "ogcrm_event_bus"


def bind(info: dict[str, Any], bus: EventBus | None) -> None:
    """Make the sessions of a database (its ``Database.info``) publish to ``bus``
    (``None``: publish nothing, as a CLI without Redis)."""
    if bus is None:
        info.pop(_BUS_KEY, None)
    else:
        info[_BUS_KEY] = bus


def publish_after_commit(session: Session, channel: str, payload: dict[str, Any]) -> None:
    """Publish ``payload`` once the session's transaction commits; never if it, or the
    savepoint it was published in, rolls back. A subscriber is never told of a change
    the database does not hold."""
    bus = session.info.get(_BUS_KEY)
    if bus is None:
        return

    def publish_all(items: list[tuple[str, dict[str, Any]]]) -> None:
        for name, data in items:
            try:
                bus.publish(name, data)
            except Exception:  # an event lost is no reason to fail a commit
                log.warning("could not publish to %s", name, exc_info=True)

    on_commit(session, "events", (channel, payload), publish_all)


def has_bus(session: Session) -> bool:
    """Whether anything published from this session can reach a subscriber (so work
    done only to tell subscribers can be skipped)."""
    return _BUS_KEY in session.info
