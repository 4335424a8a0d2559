"""Organization: the account a sales rep works, as GraphQL sees it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry import relay
from strawberry.types import Info

from ogcrm.api.context import Context
from ogcrm.db import models

if TYPE_CHECKING:
    from ogcrm.api.types.contact import Contact

# strawberry.enum marks the model's own class: fields are annotated with it directly
strawberry.enum(models.OrganizationStatus, name="OrganizationStatus")


@strawberry.type
class Organization(relay.Node):
    """An operator or company, with its effective priority."""

    id: relay.NodeID[int]
    name: str
    normalized_name: str = strawberry.field(description="Matching key used for deduplication.")
    status: models.OrganizationStatus
    priority: float = strawberry.field(
        description="Effective priority: a manual override in force, else the rule score."
    )
    state: str | None
    city: str | None
    phone: str | None
    website: str | None
    owner_id: relay.GlobalID | None = strawberry.field(
        description="The owning user; null for a prospect."
    )
    created_at: dt.datetime

    @classmethod
    def from_row(cls, row: models.Organization) -> Organization:
        return cls(
            id=row.id,
            name=row.name,
            normalized_name=row.normalized_name,
            status=row.status,
            priority=row.priority,
            state=row.state,
            city=row.city,
            phone=row.phone,
            website=row.website,
            owner_id=relay.GlobalID("User", str(row.owner_id))
            if row.owner_id is not None
            else None,
            created_at=row.created_at,
        )

    @strawberry.field(description="The contacts of this organization you may see.")
    async def contacts(
        self, info: Info[Context, None]
    ) -> list[Annotated[Contact, strawberry.lazy("ogcrm.api.types.contact")]]:
        from ogcrm.api.types.contact import Contact

        rows = await info.context.loaders.contacts_of.load(self.id)
        return [Contact.from_row(row) for row in rows]

    @classmethod
    async def resolve_nodes(
        cls, *, info: Info[Context, None], node_ids: Iterable[str], required: bool = False
    ) -> list[Any]:
        ids = [int(i) for i in node_ids]
        rows = await info.context.loaders.organization.load_many(ids)
        return [cls.from_row(row) if row is not None else None for row in rows]


@strawberry.type(description="Organizations in priority order, highest first.")
class OrganizationConnection(relay.Connection[Organization]):
    pass
