"""The service desk over GraphQL, through the operations in graphql/operations/: a
manager previews and saves routing rules, a request is routed, resolved and rated; a rep
sees only the requests of their accounts or assigned to them."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.testclient import TestClient

from ogcrm.accounts.organizations import create_organization
from ogcrm.db.models import Well
from ogcrm.db.session import Database
from tests.support import global_id, gql, token_for

OPERATIONS = Path(__file__).resolve().parents[2] / "graphql" / "operations"
SERVICE_OPERATIONS = {
    "CreateServiceRequest",
    "ResolveServiceRequest",
    "SaveRoutingRules",
    "ServiceRequests",
}


def op(name: str) -> str:
    return (OPERATIONS / f"{name}.graphql").read_text()


def _named(client: TestClient, name: str, operation: str, token: str, **variables) -> dict:
    response = client.post(
        "/graphql",
        json={"query": op(name), "operationName": operation, "variables": variables},
        headers={"authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def desk(client: TestClient, db: Database, users) -> dict:
    alice, bob, manager = users.create("sales"), users.create("sales"), users.create("manager")
    with db.unit_of_work() as s:
        mine = create_organization(s, alice.principal(db), name="Caprock Operating LLC").id
        theirs = create_organization(s, bob.principal(db), name="Basin Energy Inc").id
        s.add(Well(api10="4238912345", state="TX", county="Reeves", operator_id=mine))
    return {
        "alice": token_for(client, alice),
        "bob": token_for(client, bob),
        "manager": token_for(client, manager),
        "alice_id": global_id("User", alice.id),
        "mine": global_id("Organization", mine),
        "theirs": global_id("Organization", theirs),
    }


def test_route_resolve_and_rate_a_request(client: TestClient, desk: dict):
    manager = desk["manager"]
    rules = [
        {"name": "Reeves to Alice", "logic": {"==": [{"var": "county"}, "REEVES"]},
         "assignUserId": desk["alice_id"]},
    ]  # fmt: skip
    bad = [
        {
            "name": "typo",
            "logic": {"==": [{"var": "cnty"}, "REEVES"]},
            "assignUserId": desk["alice_id"],
        }
    ]
    refused = _named(client, "SaveRoutingRules", "SaveRoutingRules", manager, rules=bad)
    result = refused["data"]["saveRoutingRules"]
    assert result["__typename"] == "InvalidRuleSet"
    assert result["faults"] == [
        {"rule": "typo", "path": "/rules/0/logic/==/0/var", "message": "unknown feature 'cnty'"}
    ]
    saved = _named(client, "SaveRoutingRules", "SaveRoutingRules", manager, rules=rules)
    assert [r["name"] for r in saved["data"]["saveRoutingRules"]["rules"]] == ["Reeves to Alice"]

    created = gql(
        client,
        op("CreateServiceRequest"),
        token=desk["alice"],
        input={"organizationId": desk["mine"], "kind": "well_service", "priority": "HIGH",
               "subject": "Rod pump failure", "apiNumber": "4238912345"},
    )["data"]["createServiceRequest"]  # fmt: skip
    assert created["__typename"] == "ServiceRequest"
    assert (created["routedByRule"], created["county"], created["state"]) == (
        "Reeves to Alice",
        "REEVES",
        "TX",
    )
    assert created["assignee"]["name"] and created["slaDueAt"]
    preview = _named(client, "SaveRoutingRules", "PreviewRoutingRules", manager, rules=[])
    rows = preview["data"]["previewRoutingRules"]["rows"]
    assert [(r["requestId"], r["rule"]) for r in rows] == [(created["id"], None)]

    done = gql(
        client,
        op("ResolveServiceRequest"),
        token=desk["alice"],
        id=created["id"],
        resolution="replaced the rod string",
        rating=5,
        comment="back online the same day",
    )["data"]
    assert done["moveServiceRequest"]["status"] == "RESOLVED"
    assert done["moveServiceRequest"]["slaBreached"] is False
    assert done["recordServiceFeedback"]["feedback"]["rating"] == 5
    again = gql(
        client, op("ResolveServiceRequest"), token=desk["alice"], id=created["id"],
        resolution="again", rating=1, comment="",
    )["data"]  # fmt: skip
    assert again["moveServiceRequest"]["currentState"] == "resolved"
    assert again["recordServiceFeedback"]["__typename"] == "Conflict"

    listed = gql(client, op("ServiceRequests"), token=manager, filter={"slaBreached": False})
    assert listed["data"]["serviceRequests"]["totalCount"] == 1


def test_a_rep_sees_only_their_requests_and_may_not_route(client: TestClient, desk: dict):
    gql(
        client,
        op("CreateServiceRequest"),
        token=desk["alice"],
        input={"organizationId": desk["mine"], "kind": "inspection", "subject": "gauge"},
    )
    bob = desk["bob"]
    assert gql(client, op("ServiceRequests"), token=bob)["data"]["serviceRequests"] == {
        "totalCount": 0,
        "edges": [],
        "pageInfo": {"hasNextPage": False, "endCursor": None},
    }
    sneaked = gql(
        client,
        op("CreateServiceRequest"),
        token=bob,
        input={"organizationId": desk["mine"], "kind": "inspection", "subject": "x"},
    )["data"]["createServiceRequest"]
    assert sneaked["__typename"] == "NotFound"
    denied = _named(client, "SaveRoutingRules", "SaveRoutingRules", bob, rules=[])
    assert denied["data"]["saveRoutingRules"]["__typename"] == "PermissionDenied"
