"""A campaign end to end: a segment, start, members fixed (an opted-out contact left out),
an e-mail delivered to a real SMTP server (aiosmtpd), a response, an opportunity, the
figures; and segments as filters (one statement, the working list, bad filters)."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from email import message_from_bytes

import pytest
from sqlalchemy import select

from ogcrm.accounts import segments, worklist
from ogcrm.accounts.organizations import create_organization
from ogcrm.config import Settings
from ogcrm.db.models import (
    CampaignMember,
    ConsentStatus,
    Contact,
    ContactEmail,
    OutboundMessageRecord,
    Permit,
)
from ogcrm.db.session import Database
from ogcrm.db.types import utcnow
from ogcrm.errors import Conflict
from ogcrm.jobs.runtime import JobRuntime
from ogcrm.messaging.tasks import send_message
from ogcrm.rules.ruleset import RuleSetInvalid
from ogcrm.sales import campaigns
from tests.messaging.test_delivery import Inbox, smtp  # noqa: F401  (the fixture)

PERMIAN_ACTIVE = {"and": [{"==": [{"var": "state"}, "TX"]}, {">=": [{"var": "permits_90d"}, 1]}]}


@pytest.fixture
def market(db: Database, users) -> dict:
    """Three Texas operators (two with a fresh permit) and one in New Mexico; contacts
    with e-mails, one of whom opted out."""
    manager, rep = users.create("manager"), users.create("sales")
    ids: dict[str, int] = {}
    with db.unit_of_work() as s:
        for name, state, permits, owner in (
            ("Caprock Operating LLC", "TX", 1, rep),
            ("Pecos Valley Energy", "TX", 2, rep),
            ("Quiet Texas Oil", "TX", 0, rep),
            ("Lea County Resources", "NM", 3, manager),
        ):
            org = create_organization(
                s, manager.principal(db), name=name, state=state, owner_id=owner.id
            )
            ids[name] = org.id
            for n in range(permits):
                s.add(Permit(agency="rrc", permit_number=f"{org.id}-{n}", operator_id=org.id,
                             issued_on=utcnow().date()))  # fmt: skip
        people = {}
        for org, person, consent in (
            ("Caprock Operating LLC", "Ann Buyer", ConsentStatus.GRANTED),
            ("Caprock Operating LLC", "Opted Out", ConsentStatus.DENIED),
            ("Pecos Valley Energy", "Pat Engineer", ConsentStatus.UNKNOWN),
        ):
            contact = Contact(organization_id=ids[org], full_name=person, consent=consent)
            s.add(contact)
            s.flush()
            address = person.lower().replace(" ", ".") + "@example.com"
            s.add(ContactEmail(contact_id=contact.id, address=address, is_primary=True))
            people[person] = contact.id
    return {"manager": manager, "rep": rep, "orgs": ids, "people": people}


def test_a_segment_is_one_statement_and_narrows_the_working_list(db: Database, market: dict):
    manager = market["manager"].principal(db)
    with db.unit_of_work() as s:
        segment = segments.create_segment(s, manager, name="Active in Texas", logic=PERMIAN_ACTIVE)
        segment_id = segment.id
    with db.read() as s:
        segment = segments.get_segment(s, manager, segment_id)
        assert segments.count_members(s, manager, segment) == 2
        rows, more = segments.members(s, manager, segment, first=1)
        assert [r.name for r in rows] == ["Caprock Operating LLC"] and more
        page = worklist.list_organizations(
            s, manager, first=10, where=worklist.OrganizationFilter(segment_id=segment_id)
        )
    assert sorted(o.name for o in page.rows) == ["Caprock Operating LLC", "Pecos Valley Energy"]
    with db.unit_of_work() as s, pytest.raises(RuleSetInvalid) as refused:
        segments.create_segment(s, manager, name="typo", logic={">": [{"var": "permitz"}, 1]})
    assert [f.path for f in refused.value.faults] == ["/filter/>/0/var"]


def test_a_campaign_end_to_end(
    db: Database,
    settings: Settings,
    market: dict,
    smtp,  # noqa: F811
):
    inbox, port = smtp
    manager = market["manager"].principal(db)
    with db.unit_of_work() as s:
        segment = segments.create_segment(s, manager, name="Active in Texas", logic=PERMIAN_ACTIVE)
        campaign = campaigns.create_campaign(
            s, manager, name="Q1 frac sand", segment_id=segment.id, subject="Frac sand for Q1",
            body="Hello {contact},\n\nsand for {organization}'s Q1 program?",
            budget=Decimal("1500"), goal="two new sand contracts",
        )  # fmt: skip
        campaign_id = campaign.id
    with db.unit_of_work() as s:
        campaigns.start_campaign(s, manager, campaign_id)
    with db.unit_of_work() as s, pytest.raises(Conflict) as again:
        campaigns.start_campaign(s, manager, campaign_id)
    assert again.value.state == "active"

    with db.read() as s:
        members = s.scalars(select(CampaignMember).order_by(CampaignMember.id)).all()
        messages = s.scalars(select(OutboundMessageRecord.id)).all()
    people = market["people"]
    assert sorted(m.contact_id for m in members) == sorted(
        [people["Ann Buyer"], people["Pat Engineer"]]
    )  # the opted-out contact is no member, and Lea County (NM) is outside the segment
    rt = JobRuntime(db, settings.data_dir, None,
                    dataclasses.replace(settings, smtp_url=f"smtp://127.0.0.1:{port}"))  # fmt: skip
    for message_id in messages:
        send_message(rt, message_id)
    delivered = {tuple(to): message_from_bytes(content) for _, to, content in inbox.messages}
    assert set(delivered) == {("ann.buyer@example.com",), ("pat.engineer@example.com",)}
    ann = delivered[("ann.buyer@example.com",)]
    assert ann["Subject"] == "Frac sand for Q1"
    assert "Hello Ann Buyer" in ann.get_payload() and "Caprock Operating LLC's" in ann.get_payload()

    ann_member = next(m for m in members if m.contact_id == people["Ann Buyer"])
    rep = market["rep"].principal(db)  # the account's owner follows up
    with db.unit_of_work() as s:
        campaigns.record_outcome(s, rep, ann_member.id, "responded")
        opportunity = campaigns.opportunity_from_member(
            s, rep, ann_member.id, name="Sand, Q1", amount=Decimal("48000")
        )
        assert opportunity.source_campaign_id == campaign_id
    with db.unit_of_work() as s:
        campaigns.record_outcome(s, rep, ann_member.id, "responded")  # never moves back
    with db.read() as s:
        row = s.get(campaigns.Campaign, campaign_id)
        figures = campaigns.figures(s, row)
        assert s.get(CampaignMember, ann_member.id).outcome == "opportunity"
    assert figures == campaigns.CampaignFigures(
        members=2,
        reached=2,
        skipped=0,
        responses=1,
        meetings=1,
        opportunities=1,
        pipeline_value=Decimal("48000.00"),
        budget=Decimal("1500.00"),
        cost_per_opportunity=Decimal("1500.00"),
    )
