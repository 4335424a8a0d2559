"""Loading nodes by global id, through the policy layer."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from strawberry.types import Info

from ogcrm.api.context import Context
from ogcrm.auth import policy


async def scoped_nodes(
    info: Info[Context, None], kind: str, model: Any, node_ids: Iterable[str], build: Any
) -> list[Any]:
    """The rows of ``model`` among ``node_ids`` the caller may read, in their order
    (``None`` for the others), built by ``build``: one scoped statement."""
    ids = [int(i) for i in node_ids]
    principal = info.context.require_principal()

    def load(session: Any) -> dict[int, Any]:
        stmt = policy.readable(select(model).where(model.id.in_(ids)), kind, principal)
        return {row.id: row for row in session.scalars(stmt)}

    found = await info.context.read(load)
    return [build(found[i]) if i in found else None for i in ids]
