"""The obvious alternative for ``api_latency.py``: a bare Strawberry + Starlette app with
one DataLoader, serving the same nested shape (50 organizations by priority, each with
its contacts and their e-mails) straight from psycopg. No auth, no scope, no audit.

    OGCRM_BENCH_PG=postgresql://... uvicorn bench.bare_app:app --port 8001
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

import psycopg
import strawberry
from starlette.applications import Starlette
from starlette.routing import Route
from strawberry.asgi import GraphQL
from strawberry.dataloader import DataLoader
from strawberry.types import Info

URL = os.environ.get("OGCRM_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/test")
_conn: list[psycopg.AsyncConnection[Any]] = []
_lock = asyncio.Lock()


@contextlib.asynccontextmanager
async def connection() -> AsyncIterator[psycopg.AsyncConnection[Any]]:
    """One autocommit connection kept open (the benchmark is sequential): the
    cheapest a hand-written app gets."""
    async with _lock:
        if not _conn:
            _conn.append(await psycopg.AsyncConnection.connect(URL, autocommit=True))
        yield _conn[0]


async def _contacts(org_ids: list[int]) -> list[list[Contact]]:
    async with connection() as conn:
        rows = await conn.execute(
            "SELECT c.organization_id, c.id, c.full_name, e.address FROM contact c "
            "LEFT JOIN contact_email e ON e.contact_id = c.id "
            "WHERE c.organization_id = ANY(%s) ORDER BY c.id, e.id",
            (list(org_ids),),
        )
        by_org: dict[int, dict[int, Contact]] = defaultdict(dict)
        async for org_id, cid, name, email in rows:
            contact = by_org[org_id].setdefault(cid, Contact(full_name=name, emails=[]))
            if email is not None:
                contact.emails.append(email)
    return [list(by_org[i].values()) for i in org_ids]


@strawberry.type
class Contact:
    full_name: str
    emails: list[str]


@strawberry.type
class Organization:
    id: int
    name: str
    priority: float

    @strawberry.field
    async def contacts(self, info: Info) -> list[Contact]:
        return await info.context["contacts"].load(self.id)


@strawberry.type
class Query:
    @strawberry.field
    async def organizations(self, first: int = 50) -> list[Organization]:
        async with connection() as conn:
            rows = await conn.execute(
                "SELECT o.id, o.name, s.priority FROM organization o "
                "JOIN organization_score s ON s.organization_id = o.id "
                "ORDER BY s.priority DESC, o.id LIMIT %s",
                (first,),
            )
            return [Organization(id=i, name=n, priority=p) async for i, n, p in rows]


class App(GraphQL[Any, None]):
    async def get_context(self, request: Any, response: Any = None) -> Any:
        return {"contacts": DataLoader(_contacts)}


app = Starlette(routes=[Route("/graphql", App(strawberry.Schema(query=Query)), methods=["POST"])])
