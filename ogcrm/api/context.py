"""The per-request context every resolver receives."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import anyio.to_thread
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.websockets import WebSocket

from ogcrm.api.loaders import Loaders
from ogcrm.auth import audit
from ogcrm.auth.principal import Principal
from ogcrm.auth.throttle import LoginThrottle
from ogcrm.config import Settings
from ogcrm.db.session import Database
from ogcrm.errors import AuthenticationFailed
from ogcrm.events import EventBus

T = TypeVar("T")


@dataclass
class Context:
    """Built fresh for each request, so loaders and their caches, and the identity, never
    leak between requests or users (lablup/backend.ai#12020)."""

    settings: Settings
    db: Database
    throttle: LoginThrottle
    request: Request | WebSocket
    response: Any = None
    principal: Principal | None = None
    connection_params: dict[str, Any] | None = None
    #: Where committed changes are announced (subscriptions listen there).
    bus: EventBus | None = None
    #: A websocket's ``connection_init`` credentials, re-checked while it subscribes.
    authorization: object = None
    #: Given by the app for each request (:meth:`ogcrm.api.app.GraphQLApp.get_context`).
    loaders: Loaders = field(init=False)
    #: The HTTP request's one database session (see :meth:`read`); ``None`` until used.
    _session: Session | None = field(default=None, init=False, repr=False)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock, init=False, repr=False)
    #: What the query asked for below a field, per field node (:mod:`ogcrm.api.selection`).
    selections: dict[tuple[Any, ...], tuple[str, ...] | None] = field(
        default_factory=dict, init=False, repr=False
    )
    #: Records whose reading is audited, by entity: one event per request (:meth:`finish`).
    _reads: dict[str, set[int]] = field(
        default_factory=lambda: defaultdict(set), init=False, repr=False
    )

    @property
    def per_request(self) -> bool:
        """An HTTP request (one session for all its reads), not a websocket connection
        (which lives for hours and opens a session per use)."""
        return isinstance(self.request, Request)

    @property
    def client_addr(self) -> str | None:
        """The peer's address as the ASGI server reports it. ``X-Forwarded-For`` counts
        only when uvicorn was told to trust the proxy (``OGCRM_TRUSTED_PROXIES``)."""
        client = self.request.client
        return client.host if client else None

    def require_principal(self) -> Principal:
        if self.principal is None:
            raise AuthenticationFailed(
                "sign in first: send Authorization: Bearer <access token>", reason="anonymous"
            )
        return self.principal

    async def read(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """Run ``fn(session, *args, **kwargs)`` for reading, in a worker thread.

        Services are synchronous; running them in a thread keeps the event loop free
        while the database works, with one engine and one pool for API, CLI and jobs.
        An HTTP request's reads share one connection and no transaction
        (:meth:`ogcrm.db.session.Database.request_session`): checked out and pinged once,
        never BEGIN or COMMIT, whatever the number of fields. The DataLoaders of one tick
        take turns on it.
        """
        if not self.per_request:

            def call() -> T:
                with self.db.read() as session:
                    return fn(session, *args, **kwargs)

            return await anyio.to_thread.run_sync(call)

        def shared() -> T:
            if self._session is None:
                self._session = self.db.request_session()
            return fn(self._session, *args, **kwargs)

        async with self._lock:
            return await anyio.to_thread.run_sync(shared)

    async def audit_read(self, entity: str, ids: Iterable[int]) -> None:
        """Audit reading these records: in one event with the request's other reads of
        ``entity`` when the request ends (:meth:`finish`), at once on a websocket."""
        if self.per_request:
            self._reads[entity].update(ids)
            return
        principal, wanted = self.principal, sorted(ids)
        await self.write(lambda s: audit.record_reads(s, principal, entity, wanted))

    async def finish(self) -> None:
        """Write the request's read audit events (one per entity, naming the records),
        then give the connection back, in one trip to a worker thread. Called before
        the response leaves, so data is never sent unaudited."""
        reads = {entity: sorted(ids) for entity, ids in self._reads.items() if ids}
        self._reads.clear()
        if not reads:
            await self.close()
            return
        principal = self.principal

        def record_and_close() -> None:
            session = self._session or self.db.request_session()
            try:
                for entity, ids in reads.items():
                    audit.record_reads(session, principal, entity, ids)
            finally:
                self._session = None
                session.close()

        async with self._lock:
            await anyio.to_thread.run_sync(record_and_close)

    async def close(self) -> None:
        if self._session is not None:
            session, self._session = self._session, None
            await anyio.to_thread.run_sync(session.close)

    async def write(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """Like :meth:`read`, in a unit of work that commits when ``fn`` returns."""

        def call() -> T:
            with self.db.unit_of_work() as session:
                return fn(session, *args, **kwargs)

        return await anyio.to_thread.run_sync(call)
