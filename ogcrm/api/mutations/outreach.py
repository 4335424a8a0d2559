"""Segments and campaigns: save a segment (a filter with faults is an
``InvalidRuleSet``), create, start and complete a campaign, record what its members did."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import Annotated

import strawberry
from sqlalchemy.orm import Session
from strawberry import relay
from strawberry.scalars import JSON
from strawberry.types import Info

from ogcrm.accounts import segments
from ogcrm.api.context import Context
from ogcrm.api.errors import UserErrors, guarded
from ogcrm.api.ids import local_id
from ogcrm.api.types.outreach import Campaign, Segment
from ogcrm.api.types.rules import InvalidRuleSet
from ogcrm.api.types.sales import Opportunity
from ogcrm.rules.ruleset import RuleSetInvalid
from ogcrm.sales import campaigns

SegmentResult = Annotated[Segment | InvalidRuleSet | UserErrors, strawberry.union("SegmentResult")]
CampaignResult = Annotated[Campaign | UserErrors, strawberry.union("CampaignResult")]
MemberOpportunityResult = Annotated[
    Opportunity | UserErrors, strawberry.union("MemberOpportunityResult")
]


@strawberry.type(description="A member's outcome after it was recorded.")
class MemberOutcome:
    member_id: strawberry.ID
    outcome: str | None


MemberOutcomeResult = Annotated[MemberOutcome | UserErrors, strawberry.union("MemberOutcomeResult")]


@strawberry.input
class CreateCampaignInput:
    name: str
    segment_id: relay.GlobalID
    subject: str
    body: str = strawberry.field(
        description="The message; {contact} and {organization} are filled in."
    )
    goal: str = ""
    budget: Decimal | None = None
    currency: str = "USD"
    starts_at: dt.datetime | None = None
    ends_at: dt.datetime | None = None


@strawberry.enum(description="What a campaign member did.")
class MemberResponse(enum.Enum):
    RESPONDED = "responded"
    MEETING = "meeting"


def _member_id(value: strawberry.ID) -> int:
    try:
        return int(value)
    except ValueError:
        from ogcrm.errors import InvalidInput

        raise InvalidInput("invalid member id", field="memberId") from None


@strawberry.type
class OutreachMutations:
    @strawberry.mutation(description="Save a new segment (its filter is checked first).")
    async def create_segment(
        self, info: Info[Context, None], name: str, filter: JSON, description: str = ""
    ) -> SegmentResult:
        ctx = info.context

        async def _call() -> Segment | InvalidRuleSet:
            principal = ctx.require_principal()

            def _save(session: Session) -> Segment | InvalidRuleSet:
                try:
                    row = segments.create_segment(
                        session, principal, name=name, logic=filter, description=description
                    )
                except RuleSetInvalid as exc:
                    return InvalidRuleSet.from_faults(exc.faults)
                return Segment.from_row(row)

            return await ctx.write(_save)

        return await guarded(ctx, _call)

    @strawberry.mutation(description="Create a draft campaign targeting a segment.")
    async def create_campaign(
        self, info: Info[Context, None], input: CreateCampaignInput
    ) -> CampaignResult:
        ctx = info.context

        async def _call() -> Campaign:
            row = await ctx.write(
                campaigns.create_campaign,
                ctx.require_principal(),
                name=input.name,
                segment_id=local_id(input.segment_id, "Segment", field="segmentId"),
                subject=input.subject,
                body=input.body,
                goal=input.goal,
                budget=input.budget,
                currency=input.currency,
                starts_at=input.starts_at,
                ends_at=input.ends_at,
            )
            return Campaign.from_row(row)

        return await guarded(ctx, _call)

    @strawberry.mutation(description="Start: fix the members and send each the message.")
    async def start_campaign(self, info: Info[Context, None], id: relay.GlobalID) -> CampaignResult:
        ctx = info.context

        async def _call() -> Campaign:
            row = await ctx.write(
                campaigns.start_campaign, ctx.require_principal(), local_id(id, "Campaign")
            )
            return Campaign.from_row(row)

        return await guarded(ctx, _call)

    @strawberry.mutation(description="Record that a member responded or met (never moves back).")
    async def record_campaign_response(
        self, info: Info[Context, None], member_id: strawberry.ID, response: MemberResponse
    ) -> MemberOutcomeResult:
        ctx = info.context

        async def _call() -> MemberOutcome:
            row = await ctx.write(
                campaigns.record_outcome,
                ctx.require_principal(),
                _member_id(member_id),
                response.value,
            )
            return MemberOutcome(member_id=strawberry.ID(str(row.id)), outcome=row.outcome)

        return await guarded(ctx, _call)

    @strawberry.mutation(
        description="Open an opportunity for a member's account, sourced from the campaign."
    )
    async def create_opportunity_from_campaign(
        self,
        info: Info[Context, None],
        member_id: strawberry.ID,
        name: str,
        amount: Decimal | None = None,
        expected_close: dt.date | None = None,
    ) -> MemberOpportunityResult:
        ctx = info.context

        async def _call() -> Opportunity:
            row = await ctx.write(
                campaigns.opportunity_from_member,
                ctx.require_principal(),
                _member_id(member_id),
                name=name,
                amount=amount,
                expected_close=expected_close,
            )
            return Opportunity.from_row(row)

        return await guarded(ctx, _call)
