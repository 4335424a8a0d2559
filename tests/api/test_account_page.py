"""The account page: an organization with its identifiers, tags, interactions, tasks,
wells, permits, production, score history, field history and timeline."""

from __future__ import annotations

from pathlib import Path

from starlette.testclient import TestClient

from ogcrm.db.session import Database
from ogcrm.scoring.overrides import set_override
from tests.api.test_worklist import world  # noqa: F401  (the fixture)
from tests.support import global_id, gql, request_statements, token_for

PAGE = (
    Path(__file__).resolve().parents[2] / "graphql" / "operations" / "AccountPage.graphql"
).read_text()


def test_the_account_page_shows_what_the_database_holds(client: TestClient, db: Database, world):  # noqa: F811
    caprock = world["ids"]["Caprock Operating LLC"]
    with db.unit_of_work() as s:
        set_override(s, world["manager"].principal(db), caprock, priority=70.0, reason="expo")
    token = token_for(client, world["alice"])
    result = gql(client, PAGE, token=token, id=global_id("Organization", caprock))
    assert "errors" not in result, result
    org = result["data"]["organization"]
    assert org["tags"] == ["permian", "vip"]
    assert [i["subject"] for i in org["interactions"]] == ["intro call", "older"]
    assert [t["title"] for t in org["tasks"]] == ["follow up", "send quote"]
    assert [w["api10"] for w in org["wells"]] == ["4238912345"]
    assert [(p["permitNumber"], p["county"]) for p in org["permits"]] == [("P1", "REEVES")]
    (month,) = org["production"]
    assert (month["oilBbl"], month["gasMcf"], month["waterBbl"]) == (1200.0, 300.0, 0.0)
    (snapshot,) = org["scoreHistory"]
    assert snapshot["score"] == 39.0 and snapshot["contributions"] == [10.0, 24.0, 5.0]
    fields = {c["field"]: c for c in org["changes"]}
    assert fields["override_priority"]["after"] == 70.0
    assert fields["override_priority"]["by"]["name"] == "Manager 3"
    assert org["events"] == []

    prairie = world["ids"]["Prairie Resources Inc"]
    other = gql(client, PAGE, token=token, id=global_id("Organization", prairie))["data"]
    assert other["organization"]["identifiers"] == [{"agency": "rrc", "identifier": "020528"}]


def test_a_list_of_account_pages_costs_the_same_statements_as_one(
    client: TestClient,
    db: Database,
    world,  # noqa: F811
):
    token = token_for(client, world["manager"])
    query = """query($first: Int!) { organizations(first: $first) { edges { node {
      tags wells { api10 } permits { permitNumber } production { month }
      scoreHistory { score } changes { field } events { kind } interactions { kind }
      tasks { title } identifiers { agency } } } } }"""

    def count(first: int) -> int:
        with request_statements(db.engine) as seen:
            result = gql(client, query, token=token, first=first)
        assert len(result["data"]["organizations"]["edges"]) == first
        return len(seen)

    assert count(1) == count(4)


def test_bad_account_page_arguments_name_their_field(client: TestClient, world):  # noqa: F811
    token = token_for(client, world["alice"])
    org = global_id("Organization", world["ids"]["Caprock Operating LLC"])
    for field, query in (
        ("months", "query($id: ID!) { organization(id: $id) { production(months: 0) { month } } }"),
        (
            "withinDays",
            "query($id: ID!) { organization(id: $id) { permits(withinDays: 99999999) { id } } }",
        ),
    ):
        error = gql(client, query, token=token, id=org)["errors"][0]
        assert error["extensions"] == {"code": "ValidationError", "field": field}, error
