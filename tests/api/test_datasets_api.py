"""The analyst's workflow through GraphQL: follow a dataset, page its issues and rows,
decide a match, approve (merged by the in-process job), revert; every illegal
transition a Conflict naming the state; other roles see nothing and change nothing."""

from __future__ import annotations

import threading
import time
from dataclasses import replace

import pytest
from sqlalchemy import event, func, select
from starlette.testclient import TestClient

from ogcrm.accounts.organizations import create_organization
from ogcrm.api.app import create_app
from ogcrm.auth.principal import system_principal
from ogcrm.datasets.intake import receive
from ogcrm.datasets.staging import process
from ogcrm.db.models import AuditEvent, Organization
from tests.support import gql, token_for

SYSTEM = system_principal("test")

#: 12 rows: one exact duplicate, one bad API number (quarantined), a name close to a
#: stored company (a match candidate), the rest new operators; US dates made ISO
CSV = (
    "Operator Name,API #,County,Spud Date\n"
    + "".join(f"Operator {i} LLC,42-003-{10000 + i},ANDREWS,3/{i + 1}/2024\n" for i in range(8))
    + (
        "Operator 0 LLC,42-003-10000,ANDREWS,3/1/2024\n"
        "Broken Oil LLC,42-000-00001,ANDREWS,3/9/2024\n"
        "Pennzoil Products Co.,42-003-20001,ANDREWS,2024-03-10\n"
        "Pennzoil Products Co.,42-003-20002,ANDREWS,2024-03-11\n"
    )
)

DATASET = """
query($id: ID!) { dataset(id: $id) {
  id filename state source format
  counts { read clean fixed quarantined duplicates }
  uploadedBy { name } reviewedBy { name } reviewedAt
  preview { kind new existing }
  mergeResult { created { kind count } changes removed { kind count } conflicts }
  issueSummary { cleaner column severity count }
  matchCandidates { incoming organizationId organizationName similarity reason }
} }
"""
ISSUES = """
query($id: ID!, $first: Int!, $after: String) { dataset(id: $id) {
  issues(first: $first, after: $after) {
    edges { cursor node { row column original corrected cleaner severity message } }
    pageInfo { hasNextPage endCursor } } } }
"""
ROWS = """
query($id: ID!, $outcome: RowOutcome) { dataset(id: $id) {
  rows(first: 50, filter: {outcome: $outcome}) {
    edges { node { row outcome values corrections { column original corrected } } } } } }
"""
APPROVE = """
mutation($id: ID!) { approveDataset(id: $id) {
  __typename ... on Dataset { state reviewedBy { name } }
  ... on Conflict { message currentState } ... on NotFound { message }
  ... on PermissionDenied { message } } }
"""
REVERT = """
mutation($id: ID!) { revertDataset(id: $id) {
  __typename ... on RevertDatasetPayload { fieldsReverted removed { kind count }
    conflicts { entity field } dataset { state } }
  ... on Conflict { message currentState } ... on NotFound { message } } }
"""
REJECT = """
mutation($id: ID!) { rejectDataset(id: $id, reason: "wrong file") {
  __typename ... on Dataset { state } ... on Conflict { message currentState } } }
"""


@pytest.fixture
def app_client(settings, db):
    """The embedded set-up: the merge job runs in the app's own worker thread."""
    with TestClient(create_app(replace(settings, redis_url=""), db=db)) as client:
        yield client


@pytest.fixture
def awaiting(db, tmp_path, users):
    analyst = users.create("analyst")
    with db.unit_of_work() as s:
        create_organization(s, SYSTEM, name="Pennzoil Producing Company")
    path = tmp_path / "permits.csv"
    path.write_text(CSV)
    with db.unit_of_work() as s:
        dataset_id = receive(s, analyst.principal(db), path, data_dir=tmp_path).dataset_id
    process(db, dataset_id, data_dir=tmp_path)
    return {"analyst": analyst, "id": f"{dataset_id}", "gid": _gid(dataset_id)}


def _name(db, user) -> str:
    from ogcrm.db.models import User

    with db.read() as s:
        return s.get(User, user.id).name


def _gid(dataset_id: int) -> str:
    import base64

    return base64.b64encode(f"Dataset:{dataset_id}".encode()).decode()


def _wait_for_state(client, token, gid, state: str, seconds: float = 30) -> dict:
    deadline = time.monotonic() + seconds
    while True:
        found = gql(client, DATASET, token=token, id=gid)["data"]["dataset"]
        if found["state"] == state or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def test_an_analyst_follows_reviews_approves_and_reverts(app_client, db, awaiting):
    token = token_for(app_client, awaiting["analyst"])
    listed = gql(app_client, "{ datasets(first: 5) { edges { node { id state } } } }", token=token)
    assert [e["node"]["id"] for e in listed["data"]["datasets"]["edges"]] == [awaiting["gid"]]

    found = gql(app_client, DATASET, token=token, id=awaiting["gid"])["data"]["dataset"]
    assert found["state"] == "AWAITING_REVIEW" and found["filename"] == "permits.csv"
    rows = found["counts"]
    assert rows["read"] == 12 and rows["duplicates"] == 1 and rows["quarantined"] >= 1
    assert rows["read"] == sum(rows[k] for k in ("clean", "fixed", "quarantined", "duplicates"))
    assert found["uploadedBy"] == {"name": _name(db, awaiting["analyst"])}
    preview = {p["kind"]: p for p in found["preview"]}
    assert preview["well"]["new"] == 10
    assert any(i["cleaner"] == "api_number" for i in found["issueSummary"])
    (candidate,) = found["matchCandidates"]
    assert candidate["incoming"] == "Pennzoil Products Co."
    assert candidate["organizationName"] == "Pennzoil Producing Company"
    assert 0 < candidate["similarity"] < 100 and candidate["reason"]

    quarantined = gql(app_client, ROWS, token=token, id=awaiting["gid"], outcome="QUARANTINED")
    (bad,) = quarantined["data"]["dataset"]["rows"]["edges"]
    assert bad["node"]["values"]["operator_name"] == "Broken Oil LLC"

    decided = gql(
        app_client,
        """mutation($d: ID!, $o: ID!) { decideMatch(datasetId: $d, incoming:
             "Pennzoil Products Co.", organizationId: $o, decision: SAME) {
             __typename ... on MatchDecisionPayload { decision } } }""",
        token=token,
        d=awaiting["gid"],
        o=candidate["organizationId"],
    )["data"]["decideMatch"]
    assert decided == {"__typename": "MatchDecisionPayload", "decision": "SAME"}

    response = gql(app_client, APPROVE, token=token, id=awaiting["gid"])
    assert response.get("data"), response
    approved = response["data"]["approveDataset"]
    assert approved["__typename"] == "Dataset"
    merged = _wait_for_state(app_client, token, awaiting["gid"], "MERGED")
    assert merged["state"] == "MERGED"
    assert merged["reviewedBy"] == {"name": _name(db, awaiting["analyst"])}
    created = {c["kind"]: c["count"] for c in merged["mergeResult"]["created"]}
    assert created["well"] == 10 and created["organization"] == 8  # Pennzoil joined the stored one
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(Organization)) == 9
        approvals = s.scalar(
            select(func.count()).where(
                AuditEvent.action == "dataset.approve",
                AuditEvent.user_id == awaiting["analyst"].id,
            )
        )
    assert approvals == 1

    again = gql(app_client, APPROVE, token=token, id=awaiting["gid"])["data"]["approveDataset"]
    assert again["__typename"] == "Conflict" and again["currentState"] == "merged"

    reverted = gql(app_client, REVERT, token=token, id=awaiting["gid"])["data"]["revertDataset"]
    assert reverted["__typename"] == "RevertDatasetPayload", reverted
    assert reverted["dataset"]["state"] == "REVERTED"
    removed = {r["kind"]: r["count"] for r in reverted["removed"]}
    assert removed["organization"] == 8 and removed["well"] == 10
    after = gql(app_client, DATASET, token=token, id=awaiting["gid"])["data"]["dataset"]
    assert {r["kind"]: r["count"] for r in after["mergeResult"]["removed"]} == removed
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(Organization)) == 1


@pytest.mark.parametrize(
    ("setup", "mutation", "state"),
    [
        ("reject", APPROVE, "rejected"),  # approve a rejected dataset
        ("none", REVERT, "awaiting_review"),  # revert one never merged
        ("reject", REJECT, "rejected"),  # reject twice
    ],
)
def test_an_illegal_transition_is_a_conflict_naming_the_state(
    app_client, awaiting, setup, mutation, state
):
    token = token_for(app_client, awaiting["analyst"])
    if setup == "reject":
        first = gql(app_client, REJECT, token=token, id=awaiting["gid"])["data"]["rejectDataset"]
        assert first == {"__typename": "Dataset", "state": "REJECTED"}
    result = next(iter(gql(app_client, mutation, token=token, id=awaiting["gid"])["data"].values()))
    assert result["__typename"] == "Conflict" and result["currentState"] == state, result


@pytest.mark.parametrize("role", ["sales", "viewer"])
def test_other_roles_neither_see_nor_change_datasets(app_client, db, awaiting, users, role):
    token = token_for(app_client, users.create(role))
    listed = gql(app_client, "{ datasets(first: 5) { edges { node { id } } } }", token=token)
    assert listed["data"]["datasets"]["edges"] == []
    assert gql(app_client, DATASET, token=token, id=awaiting["gid"])["data"]["dataset"] is None
    node = gql(
        app_client, "query($id: ID!) { node(id: $id) { id } }", token=token, id=awaiting["gid"]
    )
    assert node["data"]["node"] is None
    for mutation in (APPROVE, REVERT, REJECT):
        result = next(
            iter(gql(app_client, mutation, token=token, id=awaiting["gid"])["data"].values())
        )
        assert result["__typename"] == "NotFound", (mutation, result)
    with db.read() as s:
        assert s.scalar(select(func.count()).where(AuditEvent.action == "dataset.approve")) == 0


def _statements(db, client, token, query, **variables) -> tuple[dict, int]:
    seen: list[str] = []

    def capture(conn, cursor, statement, *args):
        # the request's own: the app's reconciler and job threads may query meanwhile
        if threading.current_thread().name.startswith("AnyIO worker thread"):
            seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        result = gql(client, query, token=token, **variables)
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)
    skip = ("BEGIN", "SAVEPOINT", "RELEASE", "PRAGMA")
    return result, len([s for s in seen if not s.strip().upper().startswith(skip)])


def test_a_page_of_issues_or_rows_costs_the_same_statements_whatever_its_size(client, db, awaiting):
    token = token_for(client, awaiting["analyst"])
    rows_query = """query($id: ID!, $first: Int!) { dataset(id: $id) {
      rows(first: $first) { edges { node { row corrections { column } } } } } }"""
    small, n_small = _statements(db, client, token, ISSUES, id=awaiting["gid"], first=2)
    large, n_large = _statements(db, client, token, ISSUES, id=awaiting["gid"], first=50)
    assert len(small["data"]["dataset"]["issues"]["edges"]) == 2
    assert len(large["data"]["dataset"]["issues"]["edges"]) > 2
    assert 0 < n_small == n_large
    small, n_small = _statements(db, client, token, rows_query, id=awaiting["gid"], first=2)
    large, n_large = _statements(db, client, token, rows_query, id=awaiting["gid"], first=50)
    assert len(large["data"]["dataset"]["rows"]["edges"]) == 12
    assert 0 < n_small == n_large


def test_issues_page_through_with_cursors(client, awaiting):
    token = token_for(client, awaiting["analyst"])
    seen, after = [], None
    while True:
        page = gql(client, ISSUES, token=token, id=awaiting["gid"], first=2, after=after)
        conn = page["data"]["dataset"]["issues"]
        seen += [e["node"] for e in conn["edges"]]
        if not conn["pageInfo"]["hasNextPage"]:
            break
        after = conn["pageInfo"]["endCursor"]
    everything = gql(client, ISSUES, token=token, id=awaiting["gid"], first=100)
    assert seen == [e["node"] for e in everything["data"]["dataset"]["issues"]["edges"]]
    assert len(seen) == 3  # the bad API number and two dates in the minority form


@pytest.mark.parametrize("role", ["sales", "viewer"])
def test_other_roles_neither_decide_nor_edit(app_client, db, awaiting, users, role):
    token = token_for(app_client, users.create(role))
    decided = gql(
        app_client,
        """mutation($d: ID!) { decideMatch(datasetId: $d, incoming: "Pennzoil Products Co.",
             organizationId: "T3JnYW5pemF0aW9uOjE=", decision: SAME) { __typename } }""",
        token=token,
        d=awaiting["gid"],
    )["data"]["decideMatch"]
    edited = gql(
        app_client,
        """mutation($d: ID!) { editStagedRow(datasetId: $d, row: 11, values: {api: "4200312346"})
             { __typename } }""",
        token=token,
        d=awaiting["gid"],
    )["data"]["editStagedRow"]
    assert decided["__typename"] == edited["__typename"] == "NotFound"
