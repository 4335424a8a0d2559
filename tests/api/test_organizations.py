"""The organizations connection: priority order, keyset cursors, page-size limits."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from ogcrm.accounts.organizations import create_organization
from ogcrm.api.pagination import encode_cursor
from ogcrm.auth.principal import system_principal
from ogcrm.db.session import Database
from tests.api.conftest import gql, token_for

SYSTEM = system_principal("test")

PAGE = """
query Page($first: Int!, $after: String) {
  organizations(first: $first, after: $after) {
    edges { cursor node { id name priority } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""


@pytest.fixture
def token(client: TestClient, users) -> str:
    return token_for(client, users.create("manager"))


@pytest.fixture
def seeded(db: Database) -> list[str]:
    """Twelve organizations; several share a priority so ties must break by id."""
    priorities = [5, 90, 5, 40, 5, 90, 0, 40, 5, 70, 0, 5]
    with db.unit_of_work() as session:
        orgs = [
            create_organization(session, SYSTEM, name=f"Operator {i:02d} LLC", priority=float(p))
            for i, p in enumerate(priorities)
        ]
        expected = sorted(orgs, key=lambda o: (-o.priority, o.id))
        return [o.name for o in expected]


class TestOrganizationsConnection:
    def test_version_is_served(self, client: TestClient):
        import ogcrm

        assert gql(client, "{ version }")["data"] == {"version": ogcrm.__version__}

    def test_paging_through_visits_every_organization_once_in_priority_order(
        self, client: TestClient, token: str, seeded: list[str]
    ):
        names, after, pages = [], None, 0
        while True:
            data = gql(client, PAGE, token=token, first=5, after=after)["data"]["organizations"]
            names += [edge["node"]["name"] for edge in data["edges"]]
            pages += 1
            assert data["pageInfo"]["hasPreviousPage"] is (after is not None)
            if not data["pageInfo"]["hasNextPage"]:
                break
            after = data["pageInfo"]["endCursor"]
        assert names == seeded
        assert pages == 3

    def test_rows_inserted_before_the_cursor_do_not_shift_the_next_page(
        self, client: TestClient, token: str, db: Database, seeded: list[str]
    ):
        first = gql(client, PAGE, token=token, first=4)["data"]["organizations"]
        with db.unit_of_work() as session:
            create_organization(session, SYSTEM, name="Late Arrival Top Priority", priority=1000.0)
        second = gql(client, PAGE, token=token, first=4, after=first["pageInfo"]["endCursor"])[
            "data"
        ]
        assert [e["node"]["name"] for e in second["organizations"]["edges"]] == seeded[4:8]

    def test_empty_database_gives_an_empty_connection(self, client: TestClient, token: str):
        data = gql(client, PAGE, token=token, first=10)["data"]["organizations"]
        assert data["edges"] == []
        assert data["pageInfo"] == {
            "hasNextPage": False,
            "hasPreviousPage": False,
            "startCursor": None,
            "endCursor": None,
        }

    @pytest.mark.parametrize(
        ("first", "message"), [(101, "between 0 and 100, not 101"), (-1, "not -1")]
    )
    def test_page_size_outside_the_limit_is_refused(
        self, client: TestClient, token: str, first, message
    ):
        result = gql(client, PAGE, token=token, first=first)
        assert result["data"] is None
        assert message in result["errors"][0]["message"]

    @pytest.mark.parametrize(
        "cursor",
        [
            "not-base64!",
            encode_cursor("contact", (1.0, 2)),
            encode_cursor("organization", ("x", 2)),
        ],
    )
    def test_malformed_or_foreign_cursors_are_refused(self, client: TestClient, token: str, cursor):
        result = gql(client, PAGE, token=token, first=5, after=cursor)
        assert "cursor" in result["errors"][0]["message"]
