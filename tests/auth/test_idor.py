"""A sales rep cannot reach another rep's contact by any path (one test per path).

Refused rows look exactly like missing ones (null, empty list, NotFound), and the
statements that read contacts carry the owner predicate: filtered in SQL, not in Python.
"""

from __future__ import annotations

import base64

import pytest
from sqlalchemy import event
from starlette.testclient import TestClient

from ogcrm.accounts.contacts import create_contact
from ogcrm.accounts.organizations import create_organization
from ogcrm.auth.principal import system_principal
from ogcrm.db.session import Database
from tests.api.conftest import gql, token_for


def gid(type_name: str, pk: int) -> str:
    return base64.b64encode(f"{type_name}:{pk}".encode()).decode()


@pytest.fixture
def world(db: Database, users, client: TestClient) -> dict:
    """Two reps; each owns one organization with one contact."""
    alice, bob = users.create("sales"), users.create("sales")
    system = system_principal("test")
    with db.unit_of_work() as s:
        ids = {}
        for rep, name in ((alice, "Alice"), (bob, "Bob")):
            org = create_organization(s, system, name=f"{name} Operating LLC", owner_id=rep.id)
            contact = create_contact(
                s,
                system,
                organization_id=org.id,
                full_name=f"{name}'s Contact",
                emails=[f"{name.lower()}.contact@example.com"],
                phones=["(432) 555-0100"],
            )
            ids[name] = {"org": org.id, "contact": contact.id}
    return {"alice": token_for(client, alice), "ids": ids}


@pytest.fixture
def statements(db: Database) -> list[str]:
    seen: list[str] = []

    def capture(conn, cursor, statement, *args):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", capture)
    yield seen
    event.remove(db.engine, "before_cursor_execute", capture)


def _contact_reads_filtered_by_owner(statements: list[str]) -> bool:
    reads = [
        s for s in statements if "FROM contact" in s and s.lstrip().upper().startswith("SELECT")
    ]
    return bool(reads) and all("owner_id" in s for s in reads)


class TestAnotherRepsContactIsUnreachable:
    def test_by_id(self, client: TestClient, world: dict, statements: list[str]):
        bob = world["ids"]["Bob"]["contact"]
        result = gql(
            client,
            "query($id: ID!) { contact(id: $id) { fullName emails } }",
            token=world["alice"],
            id=gid("Contact", bob),
        )
        assert result == {"data": {"contact": None}}
        assert _contact_reads_filtered_by_owner(statements)

    def test_by_global_node_id(self, client: TestClient, world: dict):
        bob = world["ids"]["Bob"]["contact"]
        result = gql(
            client,
            "query($id: ID!) { node(id: $id) { id ... on Contact { fullName } } }",
            token=world["alice"],
            id=gid("Contact", bob),
        )
        assert result == {"data": {"node": None}}

    def test_through_the_connection(self, client: TestClient, world: dict, statements: list[str]):
        result = gql(
            client, "{ contacts(first: 100) { edges { node { fullName } } } }", token=world["alice"]
        )
        names = [e["node"]["fullName"] for e in result["data"]["contacts"]["edges"]]
        assert names == ["Alice's Contact"]
        assert _contact_reads_filtered_by_owner(statements)

    def test_by_search(self, client: TestClient, world: dict):
        for needle in ("Bob", "bob.contact@example.com", "contact"):
            result = gql(
                client,
                "query($q: String) { contacts(first: 10, search: $q) { edges { node { fullName } } } }",
                token=world["alice"],
                q=needle,
            )
            names = [e["node"]["fullName"] for e in result["data"]["contacts"]["edges"]]
            assert "Bob's Contact" not in names, needle

    def test_by_filtering_the_connection_on_the_other_reps_organization(
        self, client: TestClient, world: dict
    ):
        bob_org = world["ids"]["Bob"]["org"]
        result = gql(
            client,
            "query($o: ID) { contacts(first: 10, organizationId: $o) { edges { node { fullName } } } }",
            token=world["alice"],
            o=gid("Organization", bob_org),
        )
        assert result["data"]["contacts"]["edges"] == []

    def test_through_the_nested_field_of_an_organization(self, client: TestClient, world: dict):
        bob_org = world["ids"]["Bob"]["org"]
        by_id = gql(
            client,
            "query($id: ID!) { organization(id: $id) { contacts { fullName } } }",
            token=world["alice"],
            id=gid("Organization", bob_org),
        )
        assert by_id == {"data": {"organization": None}}
        listed = gql(
            client,
            "{ organizations(first: 50) { edges { node { name contacts { fullName } } } } }",
            token=world["alice"],
        )
        everyone = [
            c["fullName"]
            for e in listed["data"]["organizations"]["edges"]
            for c in e["node"]["contacts"]
        ]
        assert everyone == ["Alice's Contact"]

    def test_through_writes(self, client: TestClient, world: dict, db: Database):
        bob = gid("Contact", world["ids"]["Bob"]["contact"])
        update = gql(
            client,
            'mutation($id: ID!) { updateContact(id: $id, input: {fullName: "Hacked"}) { __typename ... on UserError { message } } }',
            token=world["alice"],
            id=bob,
        )
        delete = gql(
            client,
            "mutation($id: ID!) { deleteContact(id: $id) { __typename } }",
            token=world["alice"],
            id=bob,
        )
        assert update["data"]["updateContact"]["__typename"] == "NotFound"
        assert delete["data"]["deleteContact"]["__typename"] == "NotFound"
        from ogcrm.db.models import Contact

        with db.read() as s:
            assert s.get(Contact, world["ids"]["Bob"]["contact"]).full_name == "Bob's Contact"

    def test_own_contact_is_reachable_by_every_path(self, client: TestClient, world: dict):
        mine = gid("Contact", world["ids"]["Alice"]["contact"])
        by_id = gql(
            client,
            "query($id: ID!) { contact(id: $id) { fullName emails phones organization { name } } }",
            token=world["alice"],
            id=mine,
        )
        assert by_id["data"]["contact"] == {
            "fullName": "Alice's Contact",
            "emails": ["alice.contact@example.com"],
            "phones": ["+14325550100"],
            "organization": {"name": "Alice Operating LLC"},
        }
        node = gql(
            client,
            "query($id: ID!) { node(id: $id) { ... on Contact { fullName } } }",
            token=world["alice"],
            id=mine,
        )
        assert node["data"]["node"] == {"fullName": "Alice's Contact"}

    def test_a_global_id_of_an_unexposed_type_is_refused(self, client: TestClient, world: dict):
        result = gql(
            client,
            "query($id: ID!) { node(id: $id) { id } }",
            token=world["alice"],
            id=gid("Role", 1),  # roles are named, not fetched by id
        )
        assert "no object type 'Role'" in result["errors"][0]["message"]


class TestAuditOfContactDetails:
    def test_reading_details_is_audited_once_per_contact(
        self, client: TestClient, world: dict, db: Database
    ):
        from sqlalchemy import select

        from ogcrm.db.models import AuditEvent

        gql(
            client,
            "{ contacts(first: 10) { edges { node { fullName emails phones } } } }",
            token=world["alice"],
        )
        gql(client, "{ contacts(first: 10) { edges { node { fullName } } } }", token=world["alice"])
        with db.read() as s:
            reads = s.scalars(select(AuditEvent).where(AuditEvent.action == "contact.read")).all()
        assert [(e.entity, e.entity_id) for e in reads] == [
            ("contact", str(world["ids"]["Alice"]["contact"]))
        ]
        assert reads[0].client_addr == "testclient"


def test_a_user_fetched_by_global_id_is_scoped(client: TestClient, users):
    """Users are nodes now; a role without user read access finds none by id."""
    from tests.support import token_for, user_gid

    admin, rep = users.create("admin"), users.create("sales")
    query = "query($id: ID!) { node(id: $id) { ... on User { email } } }"
    seen = gql(client, query, token=token_for(client, admin), id=user_gid(rep))["data"]["node"]
    assert seen == {"email": rep.email}
    hidden = gql(client, query, token=token_for(client, rep), id=user_gid(admin))["data"]["node"]
    assert hidden is None
