"""Organization: the account a sales rep works, as GraphQL sees it."""

from __future__ import annotations

import datetime as dt

import strawberry
from strawberry import relay

from ogcrm.db import models

OrganizationStatus = strawberry.enum(models.OrganizationStatus, name="OrganizationStatus")


@strawberry.type
class Organization(relay.Node):
    """An operator or company, with its effective priority."""

    id: relay.NodeID[int]
    name: str
    normalized_name: str = strawberry.field(description="Matching key used for deduplication.")
    status: OrganizationStatus  # type: ignore[valid-type]
    priority: float = strawberry.field(
        description="Effective priority: a manual override in force, else the rule score."
    )
    state: str | None
    city: str | None
    phone: str | None
    website: str | None
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
            created_at=row.created_at,
        )


@strawberry.type(description="Organizations in priority order, highest first.")
class OrganizationConnection(relay.Connection[Organization]):
    pass
