"""Queries of segments and campaigns: thin resolvers over :mod:`ogcrm.accounts.segments`
and :mod:`ogcrm.sales.campaigns`."""

from __future__ import annotations

from typing import Any

import strawberry
from sqlalchemy import select
from strawberry.types import Info

from ogcrm.accounts import tags
from ogcrm.api.context import Context
from ogcrm.api.permissions import IsAuthenticated
from ogcrm.api.types.outreach import Campaign, Segment
from ogcrm.auth import policy
from ogcrm.db import models
from ogcrm.sales import campaigns


@strawberry.type(description="A tag and how many records carry it.")
class TagUse:
    name: str
    organizations: int
    contacts: int


@strawberry.type
class OutreachQueries:
    @strawberry.field(
        description="Every tag, by name, with its use.", permission_classes=[IsAuthenticated]
    )
    async def tags(self, info: Info[Context, None]) -> list[TagUse]:
        info.context.require_principal()
        found = await info.context.read(tags.list_tags)
        return [
            TagUse(name=t.name, organizations=t.organizations, contacts=t.contacts) for t in found
        ]

    @strawberry.field(
        description="Segments you may see, by name.", permission_classes=[IsAuthenticated]
    )
    async def segments(self, info: Info[Context, None]) -> list[Segment]:
        principal = info.context.require_principal()

        def _load(session: Any) -> list[Any]:
            stmt = select(models.Segment).order_by(models.Segment.name)
            return list(session.scalars(policy.readable(stmt, "segment", principal)))

        return [Segment.from_row(r) for r in await info.context.read(_load)]

    @strawberry.field(
        description="Campaigns you may see, newest first.", permission_classes=[IsAuthenticated]
    )
    async def campaigns(self, info: Info[Context, None]) -> list[Campaign]:
        rows = await info.context.read(campaigns.list_campaigns, info.context.require_principal())
        return [Campaign.from_row(r) for r in rows]
