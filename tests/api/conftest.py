from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from ogcrm.api.app import create_app
from ogcrm.config import Settings
from ogcrm.db.session import Database
from tests.conftest import AppUser

LOGIN = """
mutation Login($email: String!, $password: String!) {
  login(email: $email, password: $password) {
    __typename
    ... on AuthPayload { accessToken refreshToken expiresAt user { id email role } }
    ... on UserError { message }
    ... on RateLimited { retryAfter }
  }
}
"""


@pytest.fixture
def client(settings: Settings, db: Database) -> Iterator[TestClient]:
    with TestClient(create_app(settings, db=db)) as test_client:
        yield test_client


def gql(client: TestClient, query: str, *, token: str | None = None, **variables) -> dict:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    response = client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    assert response.status_code == 200, response.text
    return response.json()


def login(client: TestClient, user: AppUser, password: str | None = None) -> dict:
    """The login mutation's result for ``user``."""
    return gql(client, LOGIN, email=user.email, password=password or user.password)["data"]["login"]


def token_for(client: TestClient, user: AppUser) -> str:
    result = login(client, user)
    assert result["__typename"] == "AuthPayload", result
    return result["accessToken"]
