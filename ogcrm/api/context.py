"""The per-request context every resolver receives."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import anyio.to_thread
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.websockets import WebSocket

from ogcrm.config import Settings
from ogcrm.db.session import Database

T = TypeVar("T")


@dataclass
class Context:
    """Built fresh for each request, so nothing (loaders, caches, identity) leaks between
    requests or users."""

    settings: Settings
    db: Database
    request: Request | WebSocket
    response: Any = None

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
            session: Session
            with self.db.unit_of_work() as session:
                return fn(session, *args, **kwargs)

        return await anyio.to_thread.run_sync(call)
