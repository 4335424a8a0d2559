from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from ogcrm.api.app import create_app
from ogcrm.config import Settings
from ogcrm.db.session import Database


@pytest.fixture
def client(settings: Settings, db: Database) -> Iterator[TestClient]:
    with TestClient(create_app(settings, db=db)) as test_client:
        yield test_client


def gql(client: TestClient, query: str, **variables) -> dict:
    response = client.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    return response.json()
