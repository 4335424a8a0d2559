"""The per-request context every resolver receives."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import anyio.to_thread
from starlette.requests import Request
from starlette.websockets import WebSocket

from ogcrm.api.loaders import Loaders
from ogcrm.auth.principal import Principal
from ogcrm.auth.throttle import LoginThrottle
from ogcrm.config import Settings
from ogcrm.db.session import Database
from ogcrm.errors import AuthenticationFailed

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
    #: Given by the app for each request (:meth:`ogcrm.api.app.GraphQLApp.get_context`).
    loaders: Loaders = field(init=False)

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
        """Run ``fn(session, *args, **kwargs)`` in a read session, in a worker thread.

        Services are synchronous; running them in a thread keeps the event loop free
        while the database works, with one engine and one pool for API, CLI and jobs.
        """

        def call() -> T:
            with self.db.read() as session:
                return fn(session, *args, **kwargs)

        return await anyio.to_thread.run_sync(call)

    async def write(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """Like :meth:`read`, in a unit of work that commits when ``fn`` returns."""

        def call() -> T:
            with self.db.unit_of_work() as session:
                return fn(session, *args, **kwargs)

        return await anyio.to_thread.run_sync(call)
