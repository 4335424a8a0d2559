"""The prioritized list costs a fixed number of SQL statements, whatever the page size."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import event
from starlette.testclient import TestClient

from ogcrm.accounts.contacts import create_contact
from ogcrm.accounts.organizations import create_organization
from ogcrm.auth.principal import system_principal
from ogcrm.db.session import Database
from tests.support import gql, login

LIST = """
query($first: Int!) { organizations(first: $first) {
  edges { node { name priority contacts { fullName emails phones } } } } }
"""


@pytest.fixture
def token(client: TestClient, db: Database, users) -> str:
    rep = users.create("sales")
    system = system_principal("test")
    with db.unit_of_work() as s:
        for i in range(60):
            org = create_organization(
                s, system, name=f"Operator {i} LLC", owner_id=rep.id, priority=float(i)
            )
            for j in range(3):
                create_contact(
                    s,
                    system,
                    organization_id=org.id,
                    full_name=f"P{i}-{j}",
                    emails=[f"p{i}.{j}@example.com"],
                )
    return login(client, rep)["accessToken"]


def _count(db: Database, client: TestClient, token: str, first: int) -> int:
    seen: list[str] = []

    def capture(conn, cursor, statement, *args):
        # the request's own: the app's reconciler and job threads may query meanwhile
        if threading.current_thread().name.startswith("AnyIO worker thread"):
            seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        result = gql(client, LIST, token=token, first=first)
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)
    edges = result["data"]["organizations"]["edges"]
    assert len(edges) == first and all(len(e["node"]["contacts"]) == 3 for e in edges)
    return len(
        [
            s
            for s in seen
            if not s.strip().upper().startswith(("BEGIN", "SAVEPOINT", "RELEASE", "PRAGMA"))
        ]
    )


def test_statement_count_does_not_grow_with_page_size(client: TestClient, db: Database, token: str):
    small, large = _count(db, client, token, 5), _count(db, client, token, 50)
    assert small == large
    # authenticate, organizations, contacts, and the audited contact details
    # (readable ids, e-mails, phones, audit insert)
    assert large <= 7
