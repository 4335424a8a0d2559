"""Segments and campaigns, as the API shows them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry import relay
from strawberry.scalars import JSON
from strawberry.types import Info

from ogcrm.accounts import segments
from ogcrm.api.context import Context
from ogcrm.api.ids import gid, page_info
from ogcrm.api.nodes import scoped_nodes
from ogcrm.api.pagination import check_first, decode_cursor, encode_cursor
from ogcrm.api.types.access import Actor, actor
from ogcrm.db import models
from ogcrm.sales import campaigns

if TYPE_CHECKING:
    from ogcrm.api.types.organization import OrganizationConnection

strawberry.enum(models.CampaignStatus, name="CampaignStatus")


@strawberry.type(description="A saved filter over organizations, for targeted outreach.")
class Segment(relay.Node):
    id: relay.NodeID[int]
    name: str
    description: str
    filter: JSON = strawberry.field(description="JSON-logic over features and fields.")
    created_at: dt.datetime
    owner_pk: strawberry.Private[int | None]
    row: strawberry.Private[Any]

    @strawberry.field(description="Who made it.")
    async def owner(self, info: Info[Context, None]) -> Actor | None:
        return await actor(info, self.owner_pk)

    @strawberry.field(description="How many organizations you may see are in it (one statement).")
    async def count(self, info: Info[Context, None]) -> int:
        ctx = info.context
        return await ctx.read(segments.count_members, ctx.require_principal(), self.row)

    @strawberry.field(description="Its organizations you may see, by id.")
    async def members(
        self, info: Info[Context, None], first: int = 20, after: str | None = None
    ) -> Annotated[OrganizationConnection, strawberry.lazy("ogcrm.api.types.organization")]:
        from ogcrm.api.types.organization import Organization, OrganizationConnection

        ctx = info.context
        check_first(first, ctx.settings.max_page_size)
        key = decode_cursor("segment_member", after, (int,))[0] if after else None
        rows, has_next = await ctx.read(
            segments.members, ctx.require_principal(), self.row, first=first, after=key
        )
        edges = [
            relay.Edge(
                node=Organization.from_row(r), cursor=encode_cursor("segment_member", (r.id,))
            )
            for r in rows
        ]
        principal, row = ctx.require_principal(), self.row
        return OrganizationConnection(
            edges=edges,
            page_info=page_info(edges, has_next=has_next, after=after),
            count_query=lambda session: segments.count_members(session, principal, row),
        )

    @classmethod
    def from_row(cls, row: models.Segment) -> Segment:
        return cls(
            id=row.id,
            name=row.name,
            description=row.description,
            filter=row.filter,
            created_at=row.created_at,
            owner_pk=row.owner_id,
            row=row,
        )

    @classmethod
    async def resolve_nodes(
        cls, *, info: Info[Context, None], node_ids: Iterable[str], required: bool = False
    ) -> list[Any]:
        return await scoped_nodes(info, "segment", models.Segment, node_ids, cls.from_row)


@strawberry.type(description="What a campaign has achieved so far.")
class CampaignFigures:
    members: int
    reached: int = strawberry.field(description="Members whose message was sent.")
    skipped: int = strawberry.field(description="Members never sent anything (no address).")
    responses: int
    meetings: int
    opportunities: int
    pipeline_value: Decimal
    budget: Decimal | None
    cost_per_opportunity: Decimal | None


@strawberry.type(description="A contact a campaign targets, and what came of it.")
class CampaignMember:
    id: strawberry.ID
    organization_id: relay.GlobalID
    contact_id: relay.GlobalID | None
    outcome: str | None = strawberry.field(
        description="sent, responded, meeting or opportunity (null: never sent)."
    )
    responded_at: dt.datetime | None
    opportunity_id: relay.GlobalID | None


@strawberry.type(description="Targeted outreach to a segment.")
class Campaign(relay.Node):
    id: relay.NodeID[int]
    name: str
    goal: str
    status: models.CampaignStatus
    segment_id: relay.GlobalID | None
    budget: Decimal | None
    currency: str
    subject: str | None
    body: str | None
    starts_at: dt.datetime | None
    ends_at: dt.datetime | None
    created_at: dt.datetime
    row: strawberry.Private[Any]

    @strawberry.field(description="Its results so far.")
    async def figures(self, info: Info[Context, None]) -> CampaignFigures:
        found = await info.context.read(campaigns.figures, self.row)
        return CampaignFigures(**found.__dict__)

    @strawberry.field(description="Its members, in the order they were added.")
    async def members(self, info: Info[Context, None], first: int = 50) -> list[CampaignMember]:
        check_first(first, info.context.settings.max_page_size)
        rows = await info.context.read(campaigns.members_of, self.row.id, first)
        return [
            CampaignMember(
                id=strawberry.ID(str(m.id)),
                organization_id=relay.GlobalID("Organization", str(m.organization_id)),
                contact_id=gid("Contact", m.contact_id),
                outcome=m.outcome,
                responded_at=m.responded_at,
                opportunity_id=gid("Opportunity", m.opportunity_id),
            )
            for m in rows
        ]

    @classmethod
    def from_row(cls, row: models.Campaign) -> Campaign:
        return cls(
            id=row.id,
            name=row.name,
            goal=row.goal or "",
            status=row.status,
            segment_id=gid("Segment", row.segment_id),
            budget=row.budget,
            currency=row.currency,
            subject=row.subject,
            body=row.body,
            starts_at=row.starts_at,
            ends_at=row.ends_at,
            created_at=row.created_at,
            row=row,
        )

    @classmethod
    async def resolve_nodes(
        cls, *, info: Info[Context, None], node_ids: Iterable[str], required: bool = False
    ) -> list[Any]:
        return await scoped_nodes(info, "campaign", models.Campaign, node_ids, cls.from_row)
