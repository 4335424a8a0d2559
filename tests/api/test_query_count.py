"""A list page costs a fixed number of SQL statements, whatever its size.

On PostgreSQL the statements are counted as the server receives them, by a proxy that
reads the wire protocol (pings, BEGIN/COMMIT and audit writes included); on SQLite, as
the driver executes them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import replace

import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient

from ogcrm.accounts.contacts import create_contact
from ogcrm.accounts.organizations import create_organization
from ogcrm.api.app import create_app
from ogcrm.auth.principal import system_principal
from ogcrm.config import Settings
from ogcrm.db.models import AuditEvent, Interaction, InteractionKind, Task
from ogcrm.db.session import Database
from ogcrm.db.types import utcnow
from ogcrm.rules.ruleset import parse
from ogcrm.scoring.rule_sets import activate, save_rule_set
from tests.support import PostgresWireCounter, gql, login, request_statements

CONTACTS = """
query($first: Int!) { organizations(first: $first) {
  edges { node { name priority contacts { fullName emails phones } } } } }
"""

WORKLIST = """
query($first: Int!) { prioritizedOrganizations(first: $first) { edges { node {
  name priority
  owner { name }
  explanation { contributions { rule contribution } }
  contacts { fullName }
  lastInteraction { kind occurredAt }
  openTasks { title dueAt }
  nextTaskDue
} } } }
"""


def _seed(db: Database, rep_id: int) -> None:
    system = system_principal("test")
    with db.unit_of_work() as s:
        for i in range(60):
            org = create_organization(
                s, system, name=f"Operator {i} LLC", owner_id=rep_id, priority=float(i)
            )
            for j in range(3):
                create_contact(
                    s,
                    system,
                    organization_id=org.id,
                    full_name=f"P{i}-{j}",
                    emails=[f"p{i}.{j}@example.com"],
                )
            s.add(
                Interaction(
                    organization_id=org.id,
                    user_id=rep_id,
                    kind=InteractionKind.CALL,
                    occurred_at=utcnow() - dt.timedelta(days=i % 40),
                )
            )
            s.add(
                Task(
                    organization_id=org.id,
                    assignee_id=rep_id,
                    title=f"call {i}",
                    due_at=utcnow() + dt.timedelta(days=i % 7),
                )
            )
        spec = parse(
            {
                "name": "r",
                "rules": [
                    {
                        "name": "quiet",
                        "logic": {">": [{"var": "days_since_last_interaction"}, 9]},
                        "weight": 5,
                    },
                ],
            }
        )
        activate(s, system, save_rule_set(s, system, spec).id)


def _check_page(result: dict, field: str, first: int) -> None:
    assert "errors" not in result, result
    edges = result["data"][field]["edges"]
    assert len(edges) == first
    assert all(len(e["node"]["contacts"]) == 3 for e in edges)


class TestSQLite:
    """Statements as the driver runs them for the request's own threads (the embedded
    app's reconciler and job threads may query meanwhile)."""

    @pytest.fixture
    def token(self, client: TestClient, db: Database, users) -> str:
        rep = users.create("sales")
        _seed(db, rep.id)
        return login(client, rep)["accessToken"]

    def _count(self, db: Database, client: TestClient, token: str, query: str, first: int) -> int:
        with request_statements(db.engine) as seen:
            result = gql(client, query, token=token, first=first)
        field = "organizations" if query is CONTACTS else "prioritizedOrganizations"
        _check_page(result, field, first)
        return len(seen)

    @pytest.mark.parametrize("query", [CONTACTS, WORKLIST], ids=["contacts", "worklist"])
    def test_statement_count_does_not_grow_with_page_size(
        self, client: TestClient, db: Database, token: str, query: str
    ):
        small = self._count(db, client, token, query, 5)
        large = self._count(db, client, token, query, 50)
        assert small == large
        # contacts: authenticate, organizations, contacts with e-mails, phones, one audit
        # worklist: authenticate, organizations, owner, explanation, contacts, last
        # interaction, open tasks
        assert large <= 7

    def test_a_page_of_contact_details_is_one_audit_event_naming_them(
        self, client: TestClient, db: Database, token: str
    ):
        with db.read() as s:
            before = s.scalar(select(func.count()).select_from(AuditEvent))
        _check_page(gql(client, CONTACTS, token=token, first=50), "organizations", 50)
        with db.read() as s:
            events = s.scalars(select(AuditEvent).order_by(AuditEvent.id).offset(before)).all()
        reads = [e for e in events if e.action == "contact.read"]
        assert len(reads) == 1
        assert reads[0].details["count"] == 150 and len(reads[0].details["ids"]) == 150


@pytest.mark.postgres_only
class TestPostgresWire:
    @pytest.fixture
    def wire(self, settings: Settings, db: Database, users) -> Iterator[tuple]:
        if not settings.database_url.startswith("postgresql"):
            pytest.skip("counts PostgreSQL's wire protocol: set OGCRM_TEST_DATABASE_URL")
        rep = users.create("sales")
        _seed(db, rep.id)
        counter = PostgresWireCounter(settings.database_url)
        # no reconciler: only the requests' statements cross the proxy
        proxied = replace(settings, database_url=counter.url, reconcile_every=0)
        database = Database(proxied)
        try:
            with TestClient(create_app(proxied, db=database)) as client:
                token = login(client, rep)["accessToken"]
                yield client, token, counter
        finally:
            database.dispose()
            counter.close()

    def _count(self, wire: tuple, query: str, field: str, first: int) -> list[str]:
        client, token, counter = wire
        gql(client, query, token=token, first=first)  # warm: the pool's first connection
        counter.reset()
        _check_page(gql(client, query, token=token, first=first), field, first)
        return counter.snapshot()

    def test_the_working_list_costs_the_same_for_5_and_50_and_at_most_8(self, wire):
        small = self._count(wire, WORKLIST, "prioritizedOrganizations", 5)
        large = self._count(wire, WORKLIST, "prioritizedOrganizations", 50)
        assert len(small) == len(large), (small, large)
        assert len(large) <= 8, large
        assert not any(s.upper().startswith(("BEGIN", "COMMIT")) for s in large), large

    def test_contacts_with_details_audit_once_per_request(self, wire):
        statements = self._count(wire, CONTACTS, "organizations", 50)
        audit_writes = [s for s in statements if s.upper().startswith("INSERT INTO AUDIT_EVENT")]
        assert len(audit_writes) == 1, statements
        assert len(statements) <= 8, statements
