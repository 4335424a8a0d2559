"""Editing an account: the import's cleaners run on what a person types, each change is
recorded as theirs (and an import then leaves it alone), tags and identifiers."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from starlette.testclient import TestClient

from ogcrm.accounts.organizations import create_organization
from ogcrm.auth.principal import system_principal
from ogcrm.datasets.service import import_now
from ogcrm.db.models import AuditEvent, ChangeRecord, Organization
from ogcrm.db.session import Database
from tests.support import global_id, gql, token_for

UPDATE = """
mutation($id: ID!, $input: UpdateOrganizationInput!) {
  updateOrganization(id: $id, input: $input) {
    __typename
    ... on UpdateOrganizationPayload {
      organization { name state phone city aliases identifiers { agency identifier } }
      corrections { field original corrected cleaner }
    }
    ... on ValidationError { message field }
    ... on PermissionDenied { message }
  }
}
"""
TAG = """
mutation($id: ID!, $add: [String!], $remove: [String!]) {
  tagOrganization(id: $id, add: $add, remove: $remove) {
    __typename ... on Organization { tags } ... on ValidationError { message field }
  }
}
"""
CREATE = """
mutation($input: CreateOrganizationInput!) {
  createOrganization(input: $input) { __typename ... on Organization { state phone } }
}
"""


def _org(db: Database, owner_id: int, name: str = "Caprock Operating LLC") -> int:
    with db.unit_of_work() as s:
        return create_organization(s, system_principal("test"), name=name, owner_id=owner_id).id


def test_typed_values_are_cleaned_like_an_import_and_the_corrections_shown(
    client: TestClient, db: Database, users
):
    rep = users.create("sales")
    org_id = _org(db, rep.id)
    token = token_for(client, rep)
    result = gql(
        client,
        UPDATE,
        token=token,
        id=global_id("Organization", org_id),
        input={
            "state": "Texas",
            "phone": "(432) 555-0199",
            "city": "  Midland ",
            "aliases": ["Caprock", " caprock ", "CAPROCK OPERATING"],
            "identifiers": [{"agency": "rrc", "identifier": "20528"}],
        },
    )["data"]["updateOrganization"]
    assert result["__typename"] == "UpdateOrganizationPayload", result
    org = result["organization"]
    assert (org["state"], org["phone"], org["city"]) == ("TX", "+14325550199", "Midland")
    assert org["aliases"] == ["Caprock", "CAPROCK OPERATING"]
    assert org["identifiers"] == [{"agency": "rrc", "identifier": "20528"}]
    fixed = {c["field"]: (c["original"], c["corrected"]) for c in result["corrections"]}
    assert fixed["state"] == ("Texas", "TX")
    assert fixed["phone"] == ("(432) 555-0199", "+14325550199")
    with db.read() as s:
        changes = s.scalars(
            select(ChangeRecord).where(
                ChangeRecord.entity == "organization", ChangeRecord.entity_id == org_id
            )
        ).all()
        audit = s.scalars(
            select(AuditEvent).where(AuditEvent.action == "organization.update")
        ).one()
    assert {c.field for c in changes} >= {"state", "phone", "city", "aliases", "identifier:rrc"}
    assert all(c.user_id == rep.id and c.dataset_id is None for c in changes)
    assert "phone" in audit.details["fields"]


def test_created_organizations_are_cleaned_too(client: TestClient, users):
    token = token_for(client, users.create("sales"))
    created = gql(
        client,
        CREATE,
        token=token,
        input={"name": "New Co LLC", "state": "Texas", "phone": "432-555-0199"},
    )["data"]["createOrganization"]
    assert created == {"__typename": "Organization", "state": "TX", "phone": "+14325550199"}


def test_a_persons_edit_survives_an_import_of_the_same_field(
    client: TestClient, db: Database, users, tmp_path: Path
):
    rep = users.create("sales")
    org_id = _org(db, rep.id, "Permian Holdings LLC")
    token = token_for(client, rep)
    gql(
        client,
        UPDATE,
        token=token,
        id=global_id("Organization", org_id),
        input={"phone": "432-555-0199"},
    )
    listing = tmp_path / "operators.csv"
    listing.write_text("Operator Name,Phone,City\nPermian Holdings LLC,(915) 555-0100,Odessa\n")
    import_now(db, system_principal("test"), listing, data_dir=tmp_path, approve=True)
    with db.read() as s:
        org = s.get(Organization, org_id)
        assert org is not None
        assert org.phone == "+14325550199"  # the rep's, not the file's
        assert org.city == "Odessa"  # nobody had typed one: the import fills it


def test_refused_values_name_their_field(client: TestClient, db: Database, users):
    rep = users.create("sales")
    org_id = _org(db, rep.id)
    token = token_for(client, rep)
    for value, field in (({"state": "Narnia"}, "state"), ({"phone": "12"}, "phone")):
        result = gql(
            client, UPDATE, token=token, id=global_id("Organization", org_id), input=value
        )["data"]["updateOrganization"]
        assert result["__typename"] == "ValidationError" and result["field"] == field, result
    cleared = gql(
        client, UPDATE, token=token, id=global_id("Organization", org_id), input={"name": None}
    )["data"]["updateOrganization"]
    assert cleared == {
        "__typename": "ValidationError",
        "message": "name cannot be cleared",
        "field": "name",
    }


def test_another_reps_account_cannot_be_edited(client: TestClient, db: Database, users):
    owner, other = users.create("sales"), users.create("sales")
    org_id = _org(db, owner.id)
    result = gql(
        client,
        UPDATE,
        token=token_for(client, other),
        id=global_id("Organization", org_id),
        input={"city": "Midland"},
    )["data"]["updateOrganization"]
    assert result["__typename"] in {"PermissionDenied", "NotFound"}, result
    with db.read() as s:
        assert s.get(Organization, org_id).city is None  # nothing stored


def test_tags_are_added_and_removed(client: TestClient, db: Database, users):
    rep = users.create("sales")
    org_id = _org(db, rep.id)
    token = token_for(client, rep)
    gid = global_id("Organization", org_id)
    tagged = gql(client, TAG, token=token, id=gid, add=["VIP", " Permian  Basin "])
    assert tagged["data"]["tagOrganization"]["tags"] == ["permian basin", "vip"]
    untagged = gql(client, TAG, token=token, id=gid, remove=["vip"])
    assert untagged["data"]["tagOrganization"]["tags"] == ["permian basin"]
    bad = gql(client, TAG, token=token, id=gid, add=[" "])["data"]["tagOrganization"]
    assert bad["__typename"] == "ValidationError" and bad["field"] == "add"


def test_a_value_longer_than_its_column_is_refused_alike_on_both_databases(
    client: TestClient, db: Database, users
):
    rep = users.create("sales")
    org_id = _org(db, rep.id)
    token = token_for(client, rep)
    result = gql(
        client, UPDATE, token=token, id=global_id("Organization", org_id), input={"city": "M" * 121}
    )["data"]["updateOrganization"]
    assert result == {
        "__typename": "ValidationError",
        "message": "city is longer than 120 characters",
        "field": "city",
    }
    with db.read() as s:
        assert s.get(Organization, org_id).city is None


def test_two_people_tagging_one_account_at_once_both_succeed(
    settings, db: Database, users, monkeypatch
):
    """Both read the account's tags, wait at the failpoint, then both create the tag and
    the link: the second finds them there instead of failing on the unique keys."""
    import threading

    import pytest

    from ogcrm.accounts.organizations import set_tags

    if not settings.database_url.startswith("postgresql"):
        pytest.skip("needs PostgreSQL: SQLite serializes writers before they overlap")
    rep = users.create("sales")
    org_id = _org(db, rep.id)
    principal = rep.principal(db)
    monkeypatch.setenv("OGCRM_FAILPOINT", "organization.tag:sleep=1")
    barrier, results, errors = threading.Barrier(2), [], []

    def tag() -> None:
        barrier.wait()
        try:
            with db.unit_of_work() as s:
                results.append(set_tags(s, principal, org_id, add=["vip"]))
        except Exception as exc:  # the failure the test is about
            errors.append(exc)

    threads = [threading.Thread(target=tag) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and results == [["vip"], ["vip"]]
