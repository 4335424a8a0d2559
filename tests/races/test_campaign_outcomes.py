"""Two people recording one campaign member's outcome at the same moment, on PostgreSQL
(SQLite serializes writers before they overlap): a meeting recorded while a response is
recorded stays a meeting, and two opportunities made from one member at once leave one
(both read the member before either wrote: the read-modify-write let the last write win)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from ogcrm.db import models as m
from ogcrm.db.session import Database
from ogcrm.errors import Conflict
from ogcrm.sales import campaigns
from tests.support import at_once


@pytest.fixture
def member(db: Database, users, settings, monkeypatch: pytest.MonkeyPatch) -> dict:
    if not settings.database_url.startswith("postgresql"):
        pytest.skip("needs PostgreSQL: SQLite serializes writers before they overlap")
    rep = users.create("sales")
    with db.unit_of_work() as s:
        org = m.Organization(name="Caprock LLC", normalized_name="CAPROCK", owner_id=rep.id)
        s.add(org)
        s.flush()
        campaign = m.Campaign(name="Q1 sand", status="active")
        s.add(campaign)
        s.flush()
        row = m.CampaignMember(campaign_id=campaign.id, organization_id=org.id, outcome="sent")
        s.add(row)
        s.flush()
        member_id = row.id
    # both callers have read the member before either writes
    monkeypatch.setenv("OGCRM_FAILPOINT", "campaign.outcome:sleep=1")
    return {"id": member_id, "rep": rep.principal(db)}


def test_a_meeting_and_a_response_at_once_stay_a_meeting(db: Database, member):
    done, refused = at_once(
        db,
        [
            lambda s: campaigns.record_outcome(s, member["rep"], member["id"], "meeting"),
            lambda s: campaigns.record_outcome(s, member["rep"], member["id"], "responded"),
        ],
        Conflict,
    )
    assert len(done) == 2 and refused == []
    with db.read() as s:
        row = s.get(m.CampaignMember, member["id"])
        assert row.outcome == "meeting" and row.responded_at is not None


def test_two_opportunities_from_one_member_at_once_leave_one(db: Database, member):
    done, refused = at_once(
        db,
        [
            lambda s: (
                campaigns.opportunity_from_member(s, member["rep"], member["id"], name="A").id
            ),
            lambda s: (
                campaigns.opportunity_from_member(s, member["rep"], member["id"], name="B").id
            ),
        ],
        Conflict,
    )
    assert len(done) == 1 and len(refused) == 1
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(m.Opportunity)) == 1
        assert s.get(m.CampaignMember, member["id"]).opportunity_id == done[0]
