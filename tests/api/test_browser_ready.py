"""What a browser front end needs: CORS for configured origins (preflight included),
GraphiQL's assets from ogcrm itself, and refused tokens answered in GraphQL's shape with
a code the client can act on."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest
from starlette.testclient import TestClient

from ogcrm.api.app import create_app
from ogcrm.api.graphiql import START_DOCUMENT
from ogcrm.auth.tokens import issue_access_token
from ogcrm.config import ConfigError, Settings
from tests.conftest import TEST_SECRET_KEY
from tests.support import token_for

ME = "{ me { email } }"
FRONT_END = "https://crm.example.com"


@pytest.fixture
def cors_client(settings: Settings, db) -> TestClient:
    with TestClient(create_app(replace(settings, cors_origins=FRONT_END), db=db)) as client:
        yield client


def test_preflight_from_a_configured_origin_is_allowed(cors_client: TestClient):
    response = cors_client.options(
        "/graphql",
        headers={
            "origin": FRONT_END,
            "access-control-request-method": "POST",
            "access-control-request-headers": "authorization, content-type",
        },
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == FRONT_END
    assert "authorization" in response.headers["access-control-allow-headers"].lower()
    posted = cors_client.post(
        "/graphql", json={"query": "{ version }"}, headers={"origin": FRONT_END}
    )
    assert posted.headers["access-control-allow-origin"] == FRONT_END


def test_another_origin_gets_no_cors_headers(cors_client: TestClient, client: TestClient):
    evil = "https://evil.example"
    preflight = cors_client.options(
        "/graphql", headers={"origin": evil, "access-control-request-method": "POST"}
    )
    assert preflight.status_code == 400
    assert "access-control-allow-origin" not in preflight.headers
    # none configured (the default): no CORS at all
    response = client.post("/graphql", json={"query": "{ version }"}, headers={"origin": evil})
    assert "access-control-allow-origin" not in response.headers


def test_a_wildcard_origin_is_refused_at_start_up(tmp_path):
    with pytest.raises(ConfigError, match="CORS_ORIGINS cannot be"):
        Settings(data_dir=tmp_path, cors_origins="*")


def test_graphiql_page_and_assets_come_from_ogcrm(client: TestClient):
    page = client.get("/graphql", headers={"accept": "text/html"})
    assert page.status_code == 200
    assert "https://" not in "".join(
        line for line in page.text.splitlines() if "src=" in line or "href=" in line
    )
    script = client.get("/graphiql/static/graphiql.min.js", headers={"accept-encoding": "gzip"})
    assert script.status_code == 200 and len(script.content) > 1_000_000
    assert script.headers["content-encoding"] == "gzip"


def test_an_expired_token_gets_a_graphql_error_with_a_refresh_code(client: TestClient, users):
    user = users.create("sales")
    token_for(client, user)  # a real session exists; the token below is already expired
    token, _ = issue_access_token(
        TEST_SECRET_KEY,
        user_id=user.id,
        session_id=1,
        token_version=0,
        ttl=dt.timedelta(seconds=1),
        now=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1),
    )
    response = client.post(
        "/graphql", json={"query": ME}, headers={"authorization": f"Bearer {token}"}
    )
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/json"
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == "TOKEN_EXPIRED"
    assert "expired" in error["message"]
    assert response.headers["www-authenticate"].startswith('Bearer error="invalid_token"')


def test_a_revoked_token_gets_a_sign_in_again_code(client: TestClient, users):
    user = users.create("sales")
    token = token_for(client, user)
    headers = {"authorization": f"Bearer {token}"}
    client.post("/graphql", json={"query": "mutation { logout { __typename } }"}, headers=headers)
    response = client.post("/graphql", json={"query": ME}, headers=headers)
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "SESSION_ENDED"


def test_graphiql_opens_on_a_start_document_that_signs_in_and_lists_my_accounts(
    client: TestClient, users
):
    """The page's default document is ogcrm's (not Strawberry's welcome text), and both
    of its operations run as written: sign in, then the rep's working list."""
    page = client.get("/graphql", headers={"accept": "text/html"}).text
    assert "Welcome to GraphiQL" not in page and "query MyWorkingList" in page
    document = START_DOCUMENT.read_text()
    rep = users.create("sales")
    signed_in = client.post(
        "/graphql",
        json={
            "query": document,
            "operationName": "SignIn",
            "variables": {"email": rep.email, "password": rep.password},
        },
    ).json()
    assert signed_in["data"]["login"]["__typename"] == "AuthPayload", signed_in
    token = signed_in["data"]["login"]["accessToken"]
    listed = client.post(
        "/graphql",
        json={"query": document, "operationName": "MyWorkingList"},
        headers={"authorization": f"Bearer {token}"},
    ).json()
    assert "errors" not in listed, listed
    assert listed["data"]["prioritizedOrganizations"]["totalCount"] == 0  # a new rep's list
