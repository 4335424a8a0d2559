"""The HTTP surface: health, GraphiQL and introspection switches, limits, error masking."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from starlette.testclient import TestClient

import ogcrm
from ogcrm.api.app import MAX_BODY_BYTES, create_app
from ogcrm.api.schema import MAX_DEPTH, MAX_TOKENS
from ogcrm.config import Settings
from ogcrm.db.session import Database
from tests.api.conftest import LOGIN, gql, token_for
from tests.conftest import TEST_REDIS_URL, TEST_SECRET_KEY


class TestHealth:
    def test_healthy_installation(self, client: TestClient):
        response = client.get("/healthz")
        assert response.status_code == 200
        body = response.json()
        assert body["status"] == "ok"
        assert body["database"]["ok"] and body["schema"]["ok"]
        assert body["broker"] == {
            "kind": "redis" if TEST_REDIS_URL else "in-process",
            "ok": True,
            "error": None,
        }

    def test_schema_behind_head_is_unhealthy_and_says_how_to_fix(
        self, empty_database_url: str, tmp_path: Path
    ):
        settings = Settings(
            data_dir=tmp_path, database_url=empty_database_url, secret_key=TEST_SECRET_KEY
        )
        with TestClient(create_app(settings)) as client:
            response = client.get("/healthz")
        assert response.status_code == 503
        assert response.json()["schema"]["error"] == "schema is not at head: run `ogcrm db upgrade`"

    def test_unreachable_database_is_reported(self, tmp_path: Path):
        url = f"sqlite:///{tmp_path / 'missing-dir' / 'ogcrm.db'}"
        settings = Settings(data_dir=tmp_path, database_url=url, secret_key=TEST_SECRET_KEY)
        with TestClient(create_app(settings)) as client:
            response = client.get("/healthz")
        assert response.status_code == 503
        assert response.json()["database"]["ok"] is False
        assert "unable to open database file" in response.json()["database"]["error"]

    def test_unreachable_redis_is_reported(self, settings: Settings):
        from dataclasses import replace

        from tests.support import free_port

        down = replace(settings, redis_url=f"redis://127.0.0.1:{free_port()}/0")
        with TestClient(create_app(down)) as client:
            response = client.get("/healthz")
        assert response.status_code == 503
        assert response.json()["broker"]["kind"] == "redis"
        assert "ConnectionError" in response.json()["broker"]["error"]


class TestSwitches:
    def test_graphiql_is_served_to_browsers_by_default(self, client: TestClient):
        response = client.get("/graphql", headers={"accept": "text/html"})
        assert response.status_code == 200
        assert "GraphiQL" in response.text

    def test_production_switches_turn_off_graphiql_and_introspection(
        self, settings: Settings, db: Database
    ):
        from dataclasses import replace

        prod = replace(settings, graphiql=False, introspection=False)
        with TestClient(create_app(prod, db=db)) as client:
            page = client.get("/graphql", headers={"accept": "text/html"})
            assert "GraphiQL" not in page.text
            result = gql(client, "{ __schema { types { name } } }")
            assert result["data"] is None
            assert "introspection" in result["errors"][0]["message"].lower()
            assert gql(client, "{ version }")["data"]["version"]

    def test_with_introspection_off_no_error_suggests_a_name(
        self, settings: Settings, db: Database
    ):
        """Finding 7 of the outside attack: `{ versoin }` answered "Did you mean
        'version'?", handing out the schema one name at a time."""
        from dataclasses import replace

        typos = [
            "{ versoin }",
            "{ organizations(frist: 1) { totalCount } }",
            "{ myTasks(filter: {due: OVERDUEE}) { totalCount } }",
            "{ myTasks(filter: {dew: OVERDUE}) { totalCount } }",
            "query($f: TaskFiltr) { myTasks(filter: $f) { totalCount } }",
        ]
        with TestClient(create_app(settings, db=db)) as client:
            assert "Did you mean" in gql(client, typos[0])["errors"][0]["message"]  # for developers
        prod = replace(settings, introspection=False)
        with TestClient(create_app(prod, db=db)) as client:
            for query in typos:
                errors = gql(client, query)["errors"]
                assert errors and all("Did you mean" not in e["message"] for e in errors), errors


class TestLimits:
    def test_token_bombs_are_refused_before_execution(self, client: TestClient):
        query = "{ " + " ".join(["version"] * (MAX_TOKENS + 10)) + " }"
        result = gql(client, query)
        assert result["data"] is None
        assert "token" in result["errors"][0]["message"].lower()

    def test_a_query_nested_deeper_than_the_limit_is_refused(self, client: TestClient):
        inner = "id"
        for _ in range(MAX_DEPTH):
            inner = f"contacts {{ organization {{ {inner} }} }}"
        result = gql(client, f"{{ organizations(first: 1) {{ edges {{ node {{ {inner} }} }} }} }}")
        assert result["data"] is None
        assert "exceeds maximum operation depth" in result["errors"][0]["message"]

    def test_a_document_sent_again_is_not_validated_again(
        self, client: TestClient, monkeypatch: pytest.MonkeyPatch
    ):
        """The limits are part of the validation cache's key: made per request, they
        made every request a miss."""
        from strawberry.schema import schema as strawberry_schema

        calls = []
        real = strawberry_schema.validate

        def counting(*args: object, **kwargs: object) -> object:
            calls.append(1)
            return real(*args, **kwargs)

        monkeypatch.setattr(strawberry_schema, "validate", counting)
        query = f"query Q{uuid.uuid4().hex} {{ version }}"
        for _ in range(3):
            assert gql(client, query)["data"] == {"version": ogcrm.__version__}
        assert len(calls) == 1

    def test_alias_overloading_is_refused(self, client: TestClient):
        query = (
            "{ "
            + " ".join(f"a{i}: organizations(first: 1) {{ edges {{ cursor }} }}" for i in range(31))
            + " }"
        )
        result = gql(client, query)
        assert result["data"] is None
        assert "aliases" in result["errors"][0]["message"].lower()

    def test_oversized_body_is_refused_with_413_even_without_content_length(
        self, client: TestClient
    ):
        def body():
            chunk = b" " * 65536
            for _ in range(MAX_BODY_BYTES // len(chunk) + 2):
                yield chunk

        response = client.post(
            "/graphql", content=body(), headers={"content-type": "application/json"}
        )
        assert response.status_code == 413


class TestErrorMasking:
    @pytest.fixture
    def broken_client(self, settings: Settings, db: Database, tmp_path: Path):
        """An app whose database file vanished after start-up: every query fails inside."""
        from dataclasses import replace

        url = f"sqlite:///{tmp_path / 'gone' / 'ogcrm.db'}"
        broken = Database(replace(settings, database_url=url))
        with TestClient(create_app(replace(settings, database_url=url), db=broken)) as client:
            yield client
        broken.dispose()

    def test_unexpected_errors_are_masked_for_clients_and_logged(self, broken_client, caplog):
        result = gql(broken_client, LOGIN, email="a@example.com", password="whatever-long")
        assert result["errors"][0]["message"] == "Unexpected error."
        assert "sqlite" not in str(result).lower()
        assert "unable to open database file" in caplog.text

    def test_user_errors_are_not_masked(self, client: TestClient, users):
        token = token_for(client, users.create("viewer"))
        result = gql(client, "{ organizations(first: 1000) { edges { cursor } } }", token=token)
        assert "between 0 and 100" in result["errors"][0]["message"]

    def test_sign_in_required_is_not_masked(self, client: TestClient):
        result = gql(client, "{ organizations(first: 1) { edges { cursor } } }")
        assert result["errors"][0]["message"].startswith("sign in first")

    def test_debug_mode_shows_the_real_error(self, settings: Settings, tmp_path: Path):
        from dataclasses import replace

        url = f"sqlite:///{tmp_path / 'gone' / 'ogcrm.db'}"
        with TestClient(create_app(replace(settings, database_url=url, debug=True))) as client:
            result = gql(client, LOGIN, email="a@example.com", password="whatever-long")
        assert "unable to open database file" in result["errors"][0]["message"]


def test_schema_file_matches_the_code():
    """graphql/schema.graphql is exported from the code; a change to one needs the other."""
    from ogcrm.api.schema import export_sdl

    path = Path(__file__).resolve().parents[2] / "graphql" / "schema.graphql"
    assert path.read_text(encoding="utf-8") == export_sdl(), (
        "run: ogcrm export-schema > graphql/schema.graphql"
    )


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b"null", "must be a JSON object"),
        (b'"x"', "must be a JSON object"),
        (b"123", "must be a JSON object"),
        (b'{"query": "{ version }"\xff}', "not UTF-8"),
        (
            b'{"query": "{ version }", "variables": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
            "nests too deeply",
        ),
        (b"{not json", "Unable to parse"),
    ],
    ids=["null", "string", "number", "invalid-utf8", "deep", "broken"],
)
def test_a_malformed_body_is_a_400_that_says_why(client: TestClient, body: bytes, says: str):
    """Finding 8 of the outside attack: these were HTTP 500s."""
    response = client.post("/graphql", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert says in error["message"] and error["extensions"]["code"] == "BAD_REQUEST"


def test_client_mistakes_are_typed_errors_on_both_databases(client: TestClient, users):
    """Finding 8 of the outside attack: on PostgreSQL these were "Unexpected error." with
    a traceback in the log, where SQLite stored the value."""
    import base64

    token = token_for(client, users.create("manager"))
    too_big = base64.b64encode(b"Organization:99999999999999999999").decode()
    found = gql(client, "query($id: ID!) { node(id: $id) { id } }", token=token, id=too_big)
    assert found["errors"][0]["extensions"] == {"code": "ValidationError", "field": "id"}
    create = (
        "mutation($name: String!) { createOrganization(input: {name: $name}) "
        "{ __typename ... on ValidationError { field message } } }"
    )
    long = gql(client, create, token=token, name="x" * 400)["data"]["createOrganization"]
    assert long == {
        "__typename": "ValidationError",
        "field": "name",
        "message": "name is longer than 300 characters",
    }
    literal = gql(
        client,
        'mutation { createOrganization(input: {name: "a\\u0000b"}) { __typename } }',
        token=token,
    )
    assert literal["errors"][0]["message"] == "text may not contain NUL characters"
    response = client.post(
        "/graphql",
        json={"query": create, "variables": {"name": "a\x00b"}},
        headers={"authorization": f"Bearer {token}"},
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"] == "text may not contain NUL characters"


def test_contact_search_takes_what_was_typed_literally(client: TestClient, db: Database, users):
    """Finding 8 of the outside attack: `%` and `_` acted as wildcards, and a 900 KB search
    failed on SQLite (`LIKE or GLOB pattern too complex`)."""
    from ogcrm.accounts.organizations import create_organization
    from ogcrm.db.models import Contact

    rep = users.create("sales")
    with db.unit_of_work() as s:
        org = create_organization(s, rep.principal(db), name="Caprock Operating LLC").id
        s.add_all([Contact(organization_id=org, full_name=n) for n in ("Ann Buyer", "50% Partner")])
    token = token_for(client, rep)
    query = "query($q: String!) { contacts(search: $q) { edges { node { fullName } } } }"

    def names(q: str) -> list[str]:
        return [
            e["node"]["fullName"]
            for e in gql(client, query, token=token, q=q)["data"]["contacts"]["edges"]
        ]

    assert names("%") == ["50% Partner"]
    assert names("a_n") == []  # not "Ann" through a wildcard
    assert names("ann") == ["Ann Buyer"]
    refused = gql(client, query, token=token, q="x" * 900_000)
    assert refused["errors"][0]["extensions"] == {"code": "ValidationError", "field": "search"}


def test_contact_text_longer_than_its_column_is_a_validation_error(
    client: TestClient, db: Database, users
):
    """Finding 8: on PostgreSQL a too-long value was "Unexpected error.", on SQLite stored."""
    from ogcrm.accounts.organizations import create_organization

    rep = users.create("sales")
    with db.unit_of_work() as s:
        org = create_organization(s, rep.principal(db), name="Caprock Operating LLC").id
    token = token_for(client, rep)
    query = (
        "mutation($o: ID!, $n: String!, $t: String) { createContact(input: {organizationId: $o, "
        "fullName: $n, title: $t}) { __typename ... on ValidationError { field message } } }"
    )
    from tests.support import global_id

    org_gid = global_id("Organization", org)
    for name, title, field in (("x" * 201, None, "fullName"), ("Pat Doe", "t" * 201, "title")):
        result = gql(client, query, token=token, o=org_gid, n=name, t=title)["data"][
            "createContact"
        ]
        assert result == {
            "__typename": "ValidationError",
            "field": field,
            "message": f"{field} is longer than 200 characters",
        }
