"""Users, roles, grants and audit events."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import strawberry
from strawberry import relay
from strawberry.scalars import JSON
from strawberry.types import Info

from ogcrm.db import models

# Registered with strawberry once; strawberry.enum marks the model's own enum class, so
# fields are annotated with ``models.Scope`` / ``models.Action`` themselves.
strawberry.enum(models.Scope, name="Scope")
strawberry.enum(models.Action, name="Action")


@strawberry.type
class User(relay.Node):
    id: relay.NodeID[int]
    email: str
    name: str
    role: str
    is_active: bool
    last_login_at: dt.datetime | None

    @classmethod
    def from_row(cls, row: Any, role: str) -> User:
        """From a user, or a row of its id, email, name, is_active and last_login_at."""
        return cls(
            id=row.id,
            email=row.email,
            name=row.name,
            role=role,
            is_active=row.is_active,
            last_login_at=row.last_login_at,
        )

    @classmethod
    async def resolve_nodes(
        cls, *, info: Info[Any, None], node_ids: Iterable[str], required: bool = False
    ) -> list[Any]:
        from ogcrm.auth import users

        wanted = [int(i) for i in node_ids]
        principal = info.context.require_principal()
        found = await info.context.read(users.users_with_roles, principal, wanted)
        by_id = {u.id: cls.from_row(u, role) for u, role in found}
        return [by_id.get(i) for i in wanted]


@strawberry.type(description="Who did something (uploaded, reviewed, saved, activated).")
class Actor:
    id: relay.GlobalID
    name: str


async def actor(info: Info[Any, None], user_id: int | None) -> Actor | None:
    """The user behind ``user_id``, by name (one batched lookup per request)."""
    if user_id is None:
        return None
    name = await info.context.loaders.user_name.load(user_id)
    return Actor(id=relay.GlobalID("User", str(user_id)), name=name) if name is not None else None


@strawberry.type(description="One permission of a role: `action` on `entity` within `scope`.")
class Grant:
    entity: str
    action: models.Action
    scope: models.Scope

    @classmethod
    def from_row(cls, row: models.RolePermission) -> Grant:
        return cls(entity=row.entity, action=row.action, scope=row.scope)


@strawberry.type
class Role:
    id: strawberry.ID
    name: str
    description: str
    grants: list[Grant]

    @classmethod
    def from_row(cls, row: models.Role, grants: list[models.RolePermission]) -> Role:
        return cls(
            id=strawberry.ID(str(row.id)),
            name=row.name,
            description=row.description,
            grants=[Grant.from_row(g) for g in grants],
        )


@strawberry.type
class AuditEvent:
    id: strawberry.ID
    occurred_at: dt.datetime
    user_id: relay.GlobalID | None
    action: str
    entity: str | None
    entity_id: str | None
    client_addr: str | None
    details: JSON

    @classmethod
    def from_row(cls, row: models.AuditEvent) -> AuditEvent:
        details: Any = row.details
        return cls(
            id=strawberry.ID(str(row.id)),
            occurred_at=row.occurred_at,
            user_id=relay.GlobalID("User", str(row.user_id)) if row.user_id is not None else None,
            action=row.action,
            entity=row.entity,
            entity_id=row.entity_id,
            client_addr=row.client_addr,
            details=details,
        )


@strawberry.type
class AuditEventEdge:
    cursor: str
    node: AuditEvent


@strawberry.type(description="Audit events, newest first.")
class AuditEventConnection:
    edges: list[AuditEventEdge]
    page_info: relay.PageInfo


@strawberry.input(description="Narrow the audit log; every given field must match.")
class AuditEventFilter:
    user_id: relay.GlobalID | None = None
    action: str | None = None
    entity: str | None = None
    entity_id: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
