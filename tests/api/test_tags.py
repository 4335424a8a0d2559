"""Tags as a team keeps them: bulk tagging of accounts and contacts within one's scope,
renaming and merging spellings (managers), and the use of each tag."""

from __future__ import annotations

from starlette.testclient import TestClient

from ogcrm.accounts.organizations import create_organization
from ogcrm.db.models import Contact
from ogcrm.db.session import Database
from tests.support import global_id, gql, token_for


def test_bulk_tagging_renaming_and_merging(client: TestClient, db: Database, users):
    rep, other, manager = users.create("sales"), users.create("sales"), users.create("manager")
    with db.unit_of_work() as s:
        mine = [create_organization(s, rep.principal(db), name=f"Mine {n}").id for n in range(3)]
        theirs = create_organization(s, other.principal(db), name="Theirs").id
        contact = Contact(organization_id=mine[0], full_name="Ann Buyer")
        s.add(contact)
        s.flush()
        contact_id = contact.id
    token, boss = token_for(client, rep), token_for(client, manager)
    orgs = [global_id("Organization", i) for i in mine]

    tagged = gql(
        client,
        'mutation($ids: [ID!]!) { tagOrganizations(ids: $ids, add: ["Permian ", "frac-sand"]) '
        "{ ... on TaggedRecords { records { id tags } } } }",
        token=token,
        ids=orgs,
    )["data"]["tagOrganizations"]["records"]
    assert [r["tags"] for r in tagged] == [["frac-sand", "permian"]] * 3
    refused = gql(
        client,
        'mutation($ids: [ID!]!) { tagOrganizations(ids: $ids, add: ["x"]) { __typename } }',
        token=token,
        ids=[orgs[0], global_id("Organization", theirs)],
    )["data"]["tagOrganizations"]
    assert refused["__typename"] == "NotFound"  # all or nothing: the first was not tagged
    people = gql(
        client,
        'mutation($ids: [ID!]!) { tagContacts(ids: $ids, add: ["Decision maker"]) '
        "{ ... on TaggedRecords { records { tags } } } }",
        token=token,
        ids=[global_id("Contact", contact_id)],
    )["data"]["tagContacts"]["records"]
    assert people == [{"tags": ["decision maker"]}]

    denied = gql(
        client,
        'mutation { renameTag(name: "permian", to: "delaware") { __typename } }',
        token=token,
    )
    assert denied["data"]["renameTag"]["__typename"] == "PermissionDenied"
    clash = gql(client, 'mutation { renameTag(name: "permian", to: "frac-sand") '
                '{ ... on ValidationError { field message } } }', token=boss)  # fmt: skip
    assert clash["data"]["renameTag"]["field"] == "to"
    merged = gql(
        client,
        'mutation { mergeTags(names: ["frac-sand", "decision maker"], into: "Permian") '
        "{ ... on TagName { name } } }",
        token=boss,
    )
    assert merged["data"]["mergeTags"] == {"name": "permian"}
    use = gql(client, "{ tags { name organizations contacts } }", token=token)["data"]["tags"]
    assert use == [{"name": "permian", "organizations": 3, "contacts": 1}]
    page = gql(
        client,
        "query($id: ID!) { organization(id: $id) { tags contacts { tags } } }",
        token=token,
        id=orgs[0],
    )["data"]["organization"]
    assert page == {"tags": ["permian"], "contacts": [{"tags": ["permian"]}]}
