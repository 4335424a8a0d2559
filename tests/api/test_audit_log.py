"""Admins query the audit log through GraphQL with filters; nobody else can."""

from __future__ import annotations

from starlette.testclient import TestClient

from tests.support import gql, login, user_gid

AUDIT = """
query($f: AuditEventFilter, $first: Int!, $after: String) {
  auditEvents(first: $first, after: $after, filter: $f) {
    edges { cursor node { action entity entityId userId clientAddr details } }
    pageInfo { hasNextPage endCursor }
  }
}
"""


def test_every_write_is_audited_and_filterable(client: TestClient, users):
    admin, rep = users.create("admin"), users.create("sales")
    admin_token = login(client, admin)["accessToken"]
    rep_token = login(client, rep)["accessToken"]
    org = gql(
        client,
        'mutation { createOrganization(input: {name: "Audit Trail Operating LLC"}) { ... on Organization { id } } }',
        token=rep_token,
    )["data"]["createOrganization"]["id"]
    contact = gql(
        client,
        'mutation($o: ID!) { createContact(input: {organizationId: $o, fullName: "Pat Doe", phones: ["(432) 555-0100"]}) { __typename ... on Contact { id } } }',
        token=rep_token,
        o=org,
    )["data"]["createContact"]
    assert contact["__typename"] == "Contact"
    updated = gql(
        client,
        'mutation($id: ID!) { updateContact(id: $id, input: {title: "Foreman"}) { __typename } }',
        token=rep_token,
        id=contact["id"],
    )
    assert updated["data"]["updateContact"]["__typename"] == "Contact"
    gql(
        client,
        "mutation($id: ID!) { deleteContact(id: $id) { __typename } }",
        token=rep_token,
        id=contact["id"],
    )

    mine = gql(client, AUDIT, token=admin_token, first=50, f={"userId": user_gid(rep)})["data"][
        "auditEvents"
    ]
    actions = [e["node"]["action"] for e in mine["edges"]]
    assert actions == [
        "contact.delete",
        "contact.update",
        "contact.create",
        "organization.create",
        "login",
    ]
    assert {e["node"]["clientAddr"] for e in mine["edges"]} == {"testclient"}

    creates = gql(client, AUDIT, token=admin_token, first=50, f={"action": "contact.create"})[
        "data"
    ]["auditEvents"]
    assert [e["node"]["userId"] for e in creates["edges"]] == [user_gid(rep)]


def test_audit_log_pages_newest_first(client: TestClient, users):
    admin = users.create("admin")
    token = login(client, admin)["accessToken"]
    for _ in range(3):
        login(client, admin)
    first = gql(client, AUDIT, token=token, first=2, f={"action": "login"})["data"]["auditEvents"]
    second = gql(
        client,
        AUDIT,
        token=token,
        first=2,
        f={"action": "login"},
        after=first["pageInfo"]["endCursor"],
    )["data"]["auditEvents"]
    assert len(first["edges"]) == 2 and first["pageInfo"]["hasNextPage"]
    assert len(second["edges"]) == 2 and not second["pageInfo"]["hasNextPage"]


def test_sales_cannot_read_the_audit_log(client: TestClient, users):
    token = login(client, users.create("sales"))["accessToken"]
    result = gql(client, AUDIT, token=token, first=5)
    assert result["data"] is None
    assert result["errors"][0]["message"] == "your role (sales) may not read audit_event records"


def test_a_refused_write_is_audited(client: TestClient, users):
    admin, viewer = users.create("admin"), users.create("viewer")
    token = login(client, viewer)["accessToken"]
    result = gql(
        client,
        'mutation { createOrganization(input: {name: "Nope LLC"}) { __typename } }',
        token=token,
    )
    assert result["data"]["createOrganization"]["__typename"] == "PermissionDenied"
    admin_token = login(client, admin)["accessToken"]
    denied = gql(client, AUDIT, token=admin_token, first=5, f={"action": "permission_denied"})[
        "data"
    ]["auditEvents"]
    assert [e["node"]["userId"] for e in denied["edges"]] == [user_gid(viewer)]
