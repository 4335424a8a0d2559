"""The account page: an organization with its identifiers, tags, interactions, tasks,
wells, permits, production, score history, field history and timeline."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from starlette.testclient import TestClient

from ogcrm.db.models import Well
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
    assert [e["node"]["api10"] for e in org["wells"]["edges"]] == ["4238912345"]
    assert org["wells"]["totalCount"] == 1
    permits = [(e["node"]["permitNumber"], e["node"]["county"]) for e in org["permits"]["edges"]]
    assert permits == [("P1", "REEVES")]
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
      tags wells { totalCount edges { node { api10 } } }
      permits { totalCount edges { node { permitNumber } } } production { month }
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
            "filter.withinDays",
            "query($id: ID!) { organization(id: $id) { "
            "permits(filter: {withinDays: 99999999}) { totalCount } } }",
        ),
        (
            "filter.county",
            'query($id: ID!) { organization(id: $id) { wells(filter: {county: "123"}) '
            "{ totalCount } } }",
        ),
        (
            "after",
            'query($id: ID!) { organization(id: $id) { wells(after: "bm9wZQ") { totalCount } } }',
        ),
    ):
        error = gql(client, query, token=token, id=org)["errors"][0]
        assert error["extensions"] == {"code": "ValidationError", "field": field}, error


def test_an_operators_wells_page_by_cursor_in_each_order_and_filter(
    client: TestClient,
    db: Database,
    world,  # noqa: F811
):
    """Forty wells, pages of 15: every well once, in order, whichever order is asked,
    the count over all pages, and a filter narrowing both."""
    caprock = world["ids"]["Caprock Operating LLC"]
    with db.unit_of_work() as s:
        for n in range(40):
            s.add(
                Well(
                    api10=f"42301{n:05d}",
                    operator_id=caprock,
                    county="LOVING" if n % 2 else "WARD",
                    status="AC" if n % 4 else "PA",
                    # Three wells share each date and a few have none: ties and nulls.
                    spud_date=None if n % 10 == 9 else dt.date(2020, 1, 1 + n // 3),
                )
            )
    token = token_for(client, world["alice"])
    query = """query($id: ID!, $order: WellOrder!, $after: String, $filter: WellFilter) {
      organization(id: $id) { wells(first: 15, after: $after, orderBy: $order, filter: $filter) {
        totalCount edges { cursor node { api10 spudDate } } pageInfo { hasNextPage endCursor } } } }"""

    def walk(order: str, filter: dict | None = None) -> tuple[list[dict], int]:
        seen, after = [], None
        for _ in range(10):  # 41 wells are 3 pages; more means the cursor went nowhere
            result = gql(
                client,
                query,
                token=token,
                id=global_id("Organization", caprock),
                order=order,
                after=after,
                filter=filter,
            )
            assert "errors" not in result, result
            wells = result["data"]["organization"]["wells"]
            seen += [e["node"] for e in wells["edges"]]
            if not wells["pageInfo"]["hasNextPage"]:
                return seen, wells["totalCount"]
            after = wells["pageInfo"]["endCursor"]
        raise AssertionError("the pages never ended")

    by_api, total = walk("API_NUMBER")
    assert total == 41 and len(by_api) == 41  # the fixture's own well too
    assert [w["api10"] for w in by_api] == sorted(w["api10"] for w in by_api)
    newest, _ = walk("NEWEST_SPUD")
    assert sorted(w["api10"] for w in newest) == sorted(w["api10"] for w in by_api)
    dated = [w["spudDate"] for w in newest if w["spudDate"]]
    assert dated == sorted(dated, reverse=True)
    assert all(w["spudDate"] is None for w in newest[len(dated) :])  # undated last
    loving, count = walk("API_NUMBER", {"county": "loving county", "status": "ac"})
    expected = [f"42301{n:05d}" for n in range(40) if n % 2 and n % 4]
    assert [w["api10"] for w in loving] == expected and count == len(expected)
