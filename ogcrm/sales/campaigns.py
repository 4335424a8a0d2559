"""Campaigns: targeted outreach to a segment. This module owns the campaign's states:

    draft --start--> active --complete--> completed

Starting fixes the members: every contact of the segment's organizations, in one
``INSERT ... SELECT``, never one whose consent is denied (opted out); each member with an
e-mail address is sent the campaign's message through the notifier (recorded, rate
limited, audited: :mod:`ogcrm.messaging`). A member's outcome only moves forward:
sent -> responded -> meeting -> opportunity. The figures (members, reached, responses,
opportunities and their pipeline value, cost per opportunity) are computed from the
members and the opportunities whose source is the campaign.
"""

from __future__ import annotations

import datetime as dt
import string
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, insert, literal, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ogcrm.accounts.segments import member_ids
from ogcrm.auth import audit, policy
from ogcrm.auth.principal import Principal
from ogcrm.db.models import (
    Action,
    Campaign,
    CampaignMember,
    CampaignStatus,
    ConsentStatus,
    Contact,
    ContactEmail,
    MessageStatus,
    Opportunity,
    OpportunitySource,
    Organization,
    OutboundMessageRecord,
    Segment,
)
from ogcrm.db.types import utcnow
from ogcrm.errors import Conflict, InvalidInput
from ogcrm.failpoints import failpoint
from ogcrm.messaging.outbox import Recipient, queue_message
from ogcrm.sales import opportunities
from ogcrm.sales._common import CENT, clean_text, currency_code, long_text, money, move

#: A member's outcome, furthest last: recording one never moves a member back.
OUTCOMES = ("sent", "responded", "meeting", "opportunity")


@dataclass(frozen=True)
class CampaignFigures:
    members: int
    reached: int  # their message was sent
    skipped: int  # never sent: no address
    responses: int  # responded, met or became an opportunity
    meetings: int
    opportunities: int
    pipeline_value: Decimal
    budget: Decimal | None
    cost_per_opportunity: Decimal | None


class _Fields(dict[str, str]):
    """Placeholders of a message, unknown ones left as written."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def render(template: str, fields: Mapping[str, str]) -> str:
    """``template`` with ``{contact}`` and ``{organization}`` filled in."""
    names = [n for _, n, _, _ in string.Formatter().parse(template) if n]
    if any(not n.isidentifier() for n in names):
        raise InvalidInput("placeholders are {contact} and {organization}", field="body")
    return template.format_map(_Fields(fields))


def create_campaign(
    session: Session,
    principal: Principal,
    *,
    name: str,
    segment_id: int,
    subject: str,
    body: str,
    goal: str = "",
    budget: Decimal | None = None,
    currency: str = "USD",
    starts_at: dt.datetime | None = None,
    ends_at: dt.datetime | None = None,
) -> Campaign:
    """A draft campaign targeting a segment, with the message its members get."""
    policy.require(principal, "campaign", Action.WRITE)
    policy.get_readable(session, "segment", principal, segment_id)
    if starts_at and ends_at and ends_at < starts_at:
        raise InvalidInput("a campaign ends after it starts", field="endsAt")
    render(body, {})
    row = Campaign(
        name=clean_text(name, "name", 200, required=True),
        segment_id=segment_id,
        owner_id=principal.user_id,
        goal=long_text(goal, "goal"),
        budget=money(budget, "budget"),
        currency=currency_code(currency),
        subject=clean_text(subject, "subject", 300, required=True),
        body=long_text(body, "body"),
        starts_at=starts_at,
        ends_at=ends_at,
    )
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        raise InvalidInput(f"a campaign named {row.name!r} exists", field="name") from None
    audit.record(session, principal, "campaign.create", entity="campaign", entity_id=row.id)
    return row


def _writable(session: Session, principal: Principal, campaign_id: int) -> Campaign:
    policy.require(principal, "campaign", Action.WRITE)
    row: Campaign = policy.get_readable(session, "campaign", principal, campaign_id)
    return row


def start_campaign(session: Session, principal: Principal, campaign_id: int) -> Campaign:
    """Fix the members and send each the message; a second start is a Conflict."""
    row = _writable(session, principal, campaign_id)
    segment = session.get(Segment, row.segment_id) if row.segment_id else None
    if segment is None:
        raise InvalidInput("the campaign's segment is gone", field="segmentId")
    move(
        session, row, Campaign.status, [CampaignStatus.DRAFT], "start", status=CampaignStatus.ACTIVE
    )
    targeted = member_ids(session, segment.filter).subquery()
    eligible = (
        select(
            literal(campaign_id, Campaign.id.type),
            Contact.organization_id,
            Contact.id,
        )
        .where(Contact.organization_id.in_(select(targeted.c.id)))
        .where(Contact.consent != ConsentStatus.DENIED)
    )
    session.execute(
        insert(CampaignMember).from_select(
            ["campaign_id", "organization_id", "contact_id"], eligible
        )
    )
    for member, contact, org_name, address in session.execute(_unsent(campaign_id)):
        message = queue_message(
            session,
            principal,
            Recipient(address=address, name=contact.full_name, contact_id=contact.id),
            template=f"campaign:{campaign_id}",
            subject=row.subject or row.name,
            body=render(row.body or "", {"contact": contact.full_name, "organization": org_name}),
        )
        member.message_id = message.id
        member.outcome = "sent" if message.status is not MessageStatus.SKIPPED else None
    session.flush()
    audit.record(session, principal, "campaign.start", entity="campaign", entity_id=campaign_id)
    return row


def _unsent(campaign_id: int) -> Select[Any]:
    """Members, their contact, organization name and primary e-mail (or none)."""
    primary = (
        select(ContactEmail.address)
        .where(ContactEmail.contact_id == Contact.id)
        .order_by(ContactEmail.is_primary.desc(), ContactEmail.id)
        .limit(1)
        .scalar_subquery()
    )
    return (
        select(CampaignMember, Contact, Organization.name, primary)
        .join(Contact, Contact.id == CampaignMember.contact_id)
        .join(Organization, Organization.id == CampaignMember.organization_id)
        .where(CampaignMember.campaign_id == campaign_id, CampaignMember.message_id.is_(None))
        .order_by(CampaignMember.id)
    )


def complete_campaign(session: Session, principal: Principal, campaign_id: int) -> Campaign:
    row = _writable(session, principal, campaign_id)
    move(
        session,
        row,
        Campaign.status,
        [CampaignStatus.ACTIVE],
        "complete",
        status=CampaignStatus.COMPLETED,
    )
    audit.record(session, principal, "campaign.complete", entity="campaign", entity_id=campaign_id)
    return row


def _member(session: Session, principal: Principal, member_id: int) -> CampaignMember:
    member = session.get(CampaignMember, member_id)
    if member is None:
        raise InvalidInput(f"no campaign member {member_id}", field="memberId")
    # the member's account must be one the principal may change
    org = policy.get_readable(session, "organization", principal, member.organization_id)
    policy.authorize_write(session, principal, "organization", org)
    return member


def _advance(session: Session, member_id: int, outcome: str, **values: Any) -> bool:
    """Move a member's outcome forward to ``outcome`` in one conditional UPDATE (only
    from an outcome before it), so two people recording at once can never move it
    back: a ``meeting`` recorded while someone records ``responded`` stays a meeting.
    Whether this call moved it."""
    earlier = list(OUTCOMES[: OUTCOMES.index(outcome)])
    failpoint("campaign.outcome")  # between reading the member and moving it (race tests)
    moved = session.execute(
        update(CampaignMember)
        .where(
            CampaignMember.id == member_id,
            or_(CampaignMember.outcome.is_(None), CampaignMember.outcome.in_(earlier)),
        )
        .values(outcome=outcome, **values)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(CampaignMember)
        .where(CampaignMember.id == member_id, CampaignMember.responded_at.is_(None))
        .values(responded_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return bool(moved.rowcount)


def record_outcome(
    session: Session, principal: Principal, member_id: int, outcome: str
) -> CampaignMember:
    """Record what a member did (responded, meeting); an outcome never moves back."""
    if outcome not in ("responded", "meeting"):
        raise InvalidInput("an outcome is responded or meeting", field="outcome")
    member = _member(session, principal, member_id)
    _advance(session, member_id, outcome)
    session.refresh(member)
    audit.record(
        session, principal, "campaign.outcome", entity="campaign", entity_id=member.campaign_id,
        member_id=member_id, outcome=outcome,
    )  # fmt: skip
    return member


def opportunity_from_member(
    session: Session,
    principal: Principal,
    member_id: int,
    *,
    name: str,
    amount: Decimal | None = None,
    expected_close: dt.date | None = None,
) -> Opportunity:
    """An opportunity on the member's account whose source is the campaign; one per
    member (a second, even at the same moment, is a Conflict and makes nothing)."""
    member = _member(session, principal, member_id)
    if member.opportunity_id is not None:
        raise Conflict("this member already has an opportunity", state="opportunity")
    row = opportunities.create_opportunity(
        session,
        principal,
        organization_id=member.organization_id,
        name=name,
        amount=amount,
        expected_close=expected_close,
        source=OpportunitySource.CAMPAIGN,
        source_campaign_id=member.campaign_id,
    )
    if not _advance(session, member_id, "opportunity", opportunity_id=row.id):
        # someone made one meanwhile: this one is rolled back with the transaction
        raise Conflict("this member already has an opportunity", state="opportunity")
    session.refresh(member)
    return row


def figures(session: Session, campaign: Campaign) -> CampaignFigures:
    """The campaign's results, in two grouped statements."""
    m = CampaignMember
    members, reached, skipped, responses, meetings = session.execute(
        select(
            func.count(m.id),
            func.count(OutboundMessageRecord.id).filter(
                OutboundMessageRecord.status == MessageStatus.SENT
            ),
            func.count(OutboundMessageRecord.id).filter(
                OutboundMessageRecord.status == MessageStatus.SKIPPED
            ),
            func.count(m.id).filter(m.outcome.in_(OUTCOMES[1:])),
            func.count(m.id).filter(m.outcome.in_(OUTCOMES[2:])),
        )
        .outerjoin(OutboundMessageRecord, OutboundMessageRecord.id == m.message_id)
        .where(m.campaign_id == campaign.id)
    ).one()
    count, value = session.execute(
        select(func.count(Opportunity.id), func.coalesce(func.sum(Opportunity.amount), 0)).where(
            Opportunity.source_campaign_id == campaign.id
        )
    ).one()
    value = Decimal(str(value)).quantize(CENT)
    budget = Decimal(campaign.budget).quantize(CENT) if campaign.budget is not None else None
    return CampaignFigures(
        members=int(members),
        reached=int(reached),
        skipped=int(skipped),
        responses=int(responses),
        meetings=int(meetings),
        opportunities=int(count),
        pipeline_value=value,
        budget=budget,
        cost_per_opportunity=(budget / count).quantize(CENT)
        if budget is not None and count
        else None,
    )


def members_of(session: Session, campaign_id: int, first: int) -> list[CampaignMember]:
    """The campaign's first ``first`` members, in the order they were added."""
    return list(
        session.scalars(
            select(CampaignMember)
            .where(CampaignMember.campaign_id == campaign_id)
            .order_by(CampaignMember.id)
            .limit(first)
        )
    )


def list_campaigns(session: Session, principal: Principal) -> list[Campaign]:
    stmt = policy.readable(select(Campaign).order_by(Campaign.id.desc()), "campaign", principal)
    return list(session.scalars(stmt))
