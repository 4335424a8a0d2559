"""Segments and campaigns over GraphQL, through the operations in graphql/operations/: a
manager saves a segment, runs a campaign on it (the e-mails go to the outbox file here;
tests/sales/test_campaigns.py delivers them to a real SMTP server), the account's rep
records a response and the opportunity, the manager reads the figures."""

from __future__ import annotations

import json
from pathlib import Path

from starlette.testclient import TestClient

from ogcrm.accounts.organizations import create_organization
from ogcrm.config import Settings
from ogcrm.db.models import ConsentStatus, Contact, ContactEmail, OutboundMessageRecord
from ogcrm.db.session import Database
from ogcrm.jobs.runtime import JobRuntime
from ogcrm.messaging.tasks import send_message
from tests.support import gql, token_for

OPERATIONS = Path(__file__).resolve().parents[2] / "graphql" / "operations"
OUTREACH_OPERATIONS = {
    "CreateSegment",
    "CreateCampaign",
    "StartCampaign",
    "RecordCampaignResponse",
    "CampaignResults",
}


def op(name: str) -> str:
    return (OPERATIONS / f"{name}.graphql").read_text()


def test_a_campaign_over_graphql(client: TestClient, db: Database, settings: Settings, users):
    manager, rep = users.create("manager"), users.create("sales")
    with db.unit_of_work() as s:
        org = create_organization(s, manager.principal(db), name="Caprock Operating LLC",
                                  state="Texas", owner_id=rep.id).id  # fmt: skip
        create_organization(s, manager.principal(db), name="Lea County Resources", state="NM")
        for name, consent in (
            ("Ann Buyer", ConsentStatus.GRANTED),
            ("No Mail", ConsentStatus.DENIED),
        ):
            contact = Contact(organization_id=org, full_name=name, consent=consent)
            s.add(contact)
            s.flush()
            s.add(
                ContactEmail(
                    contact_id=contact.id, address=f"{contact.id}@example.com", is_primary=True
                )
            )
    boss, mine = token_for(client, manager), token_for(client, rep)

    bad = gql(
        client, op("CreateSegment"), token=boss, name="x", filter={"==": [{"var": "sate"}, "TX"]}
    )
    assert bad["data"]["createSegment"]["faults"][0]["path"] == "/filter/==/0/var"
    segment = gql(
        client,
        op("CreateSegment"),
        token=boss,
        name="Texas",
        filter={"==": [{"var": "state"}, "TX"]},
    )["data"]["createSegment"]
    assert segment["count"] == 1
    assert [e["node"]["name"] for e in segment["members"]["edges"]] == ["Caprock Operating LLC"]
    listed = gql(
        client,
        "query($s: ID!) { prioritizedOrganizations(filter: {segment: $s}) { totalCount } }",
        token=boss,
        s=segment["id"],
    )
    assert listed["data"]["prioritizedOrganizations"]["totalCount"] == 1

    refused = gql(
        client, op("CreateCampaign"), token=mine,
        input={"name": "mine", "segmentId": segment["id"], "subject": "x", "body": "x"},
    )["data"]["createCampaign"]  # fmt: skip
    assert refused["__typename"] == "PermissionDenied"  # reps read campaigns, managers run them
    campaign = gql(
        client, op("CreateCampaign"), token=boss,
        input={"name": "Q1 sand", "segmentId": segment["id"], "subject": "Sand for Q1",
               "body": "Hello {contact} at {organization}", "budget": "900", "goal": "contracts"},
    )["data"]["createCampaign"]  # fmt: skip
    started = gql(client, op("StartCampaign"), token=boss, id=campaign["id"])["data"][
        "startCampaign"
    ]
    (member,) = started["members"]  # "No Mail" opted out: never a member
    assert member["outcome"] == "sent"
    again = gql(client, op("StartCampaign"), token=boss, id=campaign["id"])["data"]["startCampaign"]
    assert again["currentState"] == "active"

    with db.read() as s:
        (message_id,) = [m.id for m in s.query(OutboundMessageRecord)]
    send_message(JobRuntime(db, settings.data_dir, None, settings), message_id)
    (sent,) = [json.loads(x) for x in (settings.data_dir / "outbox.jsonl").read_text().splitlines()]
    assert sent["body"] == "Hello Ann Buyer at Caprock Operating LLC"

    followed = gql(
        client, op("RecordCampaignResponse"), token=mine, memberId=member["id"],
        name="Sand contract", amount="30000",
    )["data"]  # fmt: skip
    assert followed["recordCampaignResponse"]["outcome"] == "responded"
    assert followed["createOpportunityFromCampaign"]["source"] == "CAMPAIGN"
    results = gql(client, op("CampaignResults"), token=boss, id=campaign["id"])["data"]["node"]
    assert results["figures"] == {
        "members": 1, "reached": 1, "skipped": 0, "responses": 1, "meetings": 1,
        "opportunities": 1, "pipelineValue": "30000.00", "budget": "900.00",
        "costPerOpportunity": "900.00",
    }  # fmt: skip
