"""The sales modules over GraphQL, through the operations in graphql/operations/: a rep's
day (follow-ups, an opportunity, an order), a manager's pipeline, and another rep who can
neither read nor change any of it by any field or id."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from ogcrm.accounts.organizations import create_organization
from ogcrm.db.models import Well
from ogcrm.db.session import Database
from ogcrm.db.types import utcnow
from tests.support import global_id, gql, token_for

OPERATIONS = Path(__file__).resolve().parents[2] / "graphql" / "operations"
#: The operations this flow runs (tests/e2e checks every file is run by some test).
SALES_OPERATIONS = {
    "MyTasks",
    "CreateTask",
    "CompleteTask",
    "CreateOpportunity",
    "MoveOpportunity",
    "Pipeline",
    "CreateOrder",
    "MoveOrder",
}


def op(name: str) -> str:
    return (OPERATIONS / f"{name}.graphql").read_text()


@pytest.fixture
def world(client: TestClient, db: Database, users) -> dict:
    alice, bob = users.create("sales"), users.create("sales")
    manager, admin = users.create("manager"), users.create("admin")
    with db.unit_of_work() as s:
        org = create_organization(s, alice.principal(db), name="Caprock Operating LLC").id
        s.add(Well(api10="4238912345", state="TX", county="Reeves", operator_id=org))
    tokens = {
        name: token_for(client, user)
        for name, user in (("alice", alice), ("bob", bob), ("manager", manager), ("admin", admin))
    }
    product = gql(
        client,
        """mutation { createProduct(input: {sku: "sand-40/70", name: "Frac sand", unit: "ton",
           unitPrice: "38.75"}) { ... on Product { id sku unitPrice } } }""",
        token=tokens["admin"],
    )["data"]["createProduct"]
    assert product["sku"] == "SAND-40/70" and product["unitPrice"] == "38.75"
    return {"tokens": tokens, "org": global_id("Organization", org), "product": product["id"],
            "alice": alice}  # fmt: skip


def test_a_reps_day_and_a_managers_pipeline(client: TestClient, world: dict):
    alice, manager = world["tokens"]["alice"], world["tokens"]["manager"]
    late = (utcnow() - dt.timedelta(hours=2)).isoformat()
    created = gql(
        client,
        op("CreateTask"),
        token=alice,
        input={"organizationId": world["org"], "title": "Call about the Reeves permit",
               "dueAt": late},
    )["data"]["createTask"]  # fmt: skip
    assert created["__typename"] == "Task" and created["assignee"]["name"]
    overdue = gql(client, op("MyTasks"), token=alice, due="OVERDUE")["data"]["myTasks"]
    assert overdue["totalCount"] == 1
    (edge,) = overdue["edges"]
    assert edge["node"]["overdue"] is True and edge["node"]["openedByRule"] is None
    assert gql(client, op("MyTasks"), token=alice, due="WEEK")["data"]["myTasks"]["edges"] == []
    done = gql(client, op("CompleteTask"), token=alice, id=created["id"])["data"]["completeTask"]
    assert done["status"] == "DONE" and done["completedAt"]
    again = gql(client, op("CompleteTask"), token=alice, id=created["id"])["data"]["completeTask"]
    assert again == {
        "__typename": "Conflict",
        "message": f"task {int(_local(created['id']))} is done: cannot complete",
        "currentState": "done",
    }

    opportunity = gql(
        client,
        op("CreateOpportunity"),
        token=alice,
        input={"organizationId": world["org"], "name": "Frac sand, Q1", "amount": "120000",
               "expectedClose": "2027-03-31", "source": "PERSON", "nextStep": "send quote"},
    )["data"]["createOpportunity"]  # fmt: skip
    assert opportunity["amount"] == "120000.00" and opportunity["stage"] == "PROSPECTING"
    assert opportunity["sourceUser"] == opportunity["owner"]
    moved = gql(client, op("MoveOpportunity"), token=alice, id=opportunity["id"], stage="PROPOSAL")
    history = moved["data"]["moveOpportunity"]["stageHistory"]
    assert [(h["fromStage"], h["toStage"]) for h in history] == [
        (None, "PROSPECTING"),
        ("PROSPECTING", "PROPOSAL"),
    ]
    lost = gql(client, op("MoveOpportunity"), token=alice, id=opportunity["id"], stage="LOST")
    assert lost["data"]["moveOpportunity"] == {
        "__typename": "ValidationError",
        "message": "say why it was lost",
        "field": "lostReason",
    }
    pipeline = gql(client, op("Pipeline"), token=manager)["data"]["pipeline"]
    assert pipeline == [
        {"stage": "PROPOSAL", "currency": "USD", "count": 1, "amount": "120000.00",
         "weightedAmount": "60000.00", "probability": 0.5},
    ]  # fmt: skip

    order = gql(
        client,
        op("CreateOrder"),
        token=alice,
        input={"organizationId": world["org"],
               "lines": [{"productId": world["product"], "quantity": "12.5"}],
               "delivery": {"lease": "Hill 4", "apiNumber": "42-389-12345", "date": "2027-01-05"}},
    )["data"]["createOrder"]  # fmt: skip
    assert order["total"] == "484.38" and order["lines"][0]["total"] == "484.38"
    assert (order["delivery"]["county"], order["delivery"]["state"]) == ("REEVES", "TX")
    assert order["number"].startswith("SO-") and order["status"] == "DRAFT"
    early = gql(client, op("MoveOrder"), token=alice, id=order["id"], action="INVOICE")
    assert early["data"]["moveOrder"]["currentState"] == "draft"
    confirmed = gql(client, op("MoveOrder"), token=alice, id=order["id"], action="CONFIRM")
    assert confirmed["data"]["moveOrder"]["status"] == "CONFIRMED"


def _local(global_id_: str) -> str:
    import base64

    return base64.b64decode(global_id_).decode().split(":", 1)[1]


def test_another_rep_can_neither_read_nor_change_any_of_it(client: TestClient, world: dict):
    alice, bob = world["tokens"]["alice"], world["tokens"]["bob"]
    task = gql(
        client, op("CreateTask"), token=alice, input={"organizationId": world["org"], "title": "t"}
    )["data"]["createTask"]["id"]
    opportunity = gql(
        client,
        op("CreateOpportunity"),
        token=alice,
        input={"organizationId": world["org"], "name": "o", "amount": "10"},
    )["data"]["createOpportunity"]["id"]
    order = gql(
        client,
        op("CreateOrder"),
        token=alice,
        input={"organizationId": world["org"],
               "lines": [{"productId": world["product"], "quantity": "1"}]},
    )["data"]["createOrder"]["id"]  # fmt: skip

    for node in (task, opportunity, order):
        found = gql(client, "query($id: ID!) { node(id: $id) { id } }", token=bob, id=node)
        assert found["data"]["node"] is None
    lists = gql(
        client,
        """{ tasks { totalCount } myTasks { totalCount } opportunities { totalCount }
             orders { totalCount } pipeline { count } }""",
        token=bob,
    )["data"]
    assert lists == {
        "tasks": {"totalCount": 0},
        "myTasks": {"totalCount": 0},
        "opportunities": {"totalCount": 0},
        "orders": {"totalCount": 0},
        "pipeline": [],
    }
    by_filter = gql(
        client,
        "query($org: ID!) { tasks(filter: {organizationId: $org}) { totalCount } "
        "opportunities(filter: {organizationId: $org}) { totalCount } }",
        token=bob,
        org=world["org"],
    )["data"]
    assert by_filter == {"tasks": {"totalCount": 0}, "opportunities": {"totalCount": 0}}
    changes = [
        (op("CompleteTask"), {"id": task}, "completeTask"),
        (op("MoveOpportunity"), {"id": opportunity, "stage": "WON"}, "moveOpportunity"),
        (op("MoveOrder"), {"id": order, "action": "CANCEL"}, "moveOrder"),
        (
            'mutation($id: ID!) { updateTask(id: $id, input: {title: "mine"}) { __typename } }',
            {"id": task},
            "updateTask",
        ),
        (op("CreateTask"), {"input": {"organizationId": world["org"], "title": "x"}}, "createTask"),
    ]
    for query, variables, field in changes:
        result = gql(client, query, token=bob, **variables)["data"][field]
        assert result["__typename"] == "NotFound", (field, result)
    # and nothing changed
    still = gql(client, op("MyTasks"), token=alice)["data"]["myTasks"]["edges"]
    assert [e["node"]["status"] for e in still] == ["OPEN"]


def test_work_handed_to_a_rep_on_another_account_is_theirs(
    client: TestClient, world: dict, users, db: Database
):
    """A manager assigns Bob a task on Alice's account: Bob sees and completes that task,
    and still sees nothing else of the account."""
    bob = world["tokens"]["bob"]
    bob_id = _bob_id(client, bob)
    handed = gql(
        client,
        op("CreateTask"),
        token=world["tokens"]["manager"],
        input={"organizationId": world["org"], "title": "cover for Alice", "assigneeId": bob_id},
    )["data"]["createTask"]
    assert handed["__typename"] == "Task"
    mine = gql(client, op("MyTasks"), token=bob)["data"]["myTasks"]
    assert [e["node"]["title"] for e in mine["edges"]] == ["cover for Alice"]
    done = gql(client, op("CompleteTask"), token=bob, id=handed["id"])["data"]["completeTask"]
    assert done["status"] == "DONE"
    org = gql(client, "query($id: ID!) { node(id: $id) { id } }", token=bob, id=world["org"])
    assert org["data"]["node"] is None


def _bob_id(client: TestClient, token: str) -> str:
    return gql(client, "{ me { id } }", token=token)["data"]["me"]["id"]


def test_bad_input_names_its_field(client: TestClient, world: dict):
    alice = world["tokens"]["alice"]
    cases = [
        (op("CreateTask"), {"input": {"organizationId": world["org"], "title": " "}}, "title"),
        (
            op("CreateTask"),
            {"input": {"organizationId": world["org"], "title": "x", "dueAt": "2030-01-01T09:00"}},
            "dueAt",
        ),
        (
            op("CreateOpportunity"),
            {"input": {"organizationId": world["org"], "name": "x", "amount": "-1"}},
            "amount",
        ),
        (
            op("CreateOpportunity"),
            {"input": {"organizationId": world["org"], "name": "x", "currency": "dollars"}},
            "currency",
        ),
        (
            op("CreateOrder"),
            {"input": {"organizationId": world["org"], "delivery": {"apiNumber": "42-1"}}},
            "delivery.apiNumber",
        ),
        (
            op("CreateOrder"),
            {
                "input": {
                    "organizationId": world["org"],
                    "lines": [{"productId": world["product"], "quantity": "0"}],
                }
            },
            "lines.quantity",
        ),
        (op("MyTasks"), {"due": "TODAY", "timeZone": "Mars/Olympus"}, "filter.timeZone"),
    ]
    for query, variables, field in cases:
        result = gql(client, query, token=alice, **variables)
        if "errors" in result:  # a query's bad argument is a GraphQL error with the field
            assert result["errors"][0]["extensions"]["field"] == field, result
            continue
        (payload,) = result["data"].values()
        assert payload["__typename"] == "ValidationError", (field, payload)
        assert payload["field"] == field


def test_every_sales_operation_parses_against_the_schema():
    """The flows above run each of these; this catches one that no longer validates."""
    from graphql import parse, validate
    from ogcrm.api.schema import build_schema
    from ogcrm.config import Settings

    schema = build_schema(Settings())._schema
    for name in SALES_OPERATIONS:
        assert validate(schema, parse(op(name))) == [], name
