"""The analyst's and the admin's day against a real `ogcrm serve` process (and, on
PostgreSQL + Redis, a real `ogcrm worker`), through the named operations in
graphql/operations: upload a real agency file by multipart, follow it, page its issues,
fix a row, decide a match, approve, see the accounts appear, revert with a conflict
reported; validate, preview, save and activate a rule set; pin a priority."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ogcrm.accounts.organizations import create_organization
from ogcrm.auth.principal import system_principal
from ogcrm.db.session import Database
from tests.conftest import AppUser
from tests.support import serving

OPERATIONS = Path(__file__).resolve().parents[2] / "graphql" / "operations"
#: the operations this flow runs (the rep's run in test_server.py); together: all of them
ANALYST_OPERATIONS = {
    "UploadDataset",
    "FollowDataset",
    "DatasetIssues",
    "DatasetRows",
    "EditStagedRow",
    "DecideMatch",
    "ApproveDataset",
    "RevertDataset",
    "ValidateRuleSet",
    "PreviewRuleSet",
    "SaveRuleSet",
    "ActivateRuleSet",
    "SetPriorityOverride",
    "ClearPriorityOverride",
}
TX_PERMITS = "tx-rrc-drilling-permits-daf420.dat"
RULES = {
    "name": "Permian priorities",
    "rules": [
        {"name": "fresh permits", "logic": {">=": [{"var": "permits_90d"}, 1]}, "weight": 10},
        {
            "name": "gone quiet",
            "logic": {">": [{"var": ["days_since_last_interaction", 9999]}, 30]},
            "weight": 5,
        },
    ],
}


class Client:
    def __init__(self, base: str) -> None:
        self.base = base
        self.ran: set[str] = set()

    def login(self, user: AppUser) -> str:
        data = self.op("Login", None, email=user.email, password=user.password)
        return str(data["login"]["accessToken"])

    def op(self, name: str, token: str | None, **variables: object) -> dict:
        self.ran.add(name)
        headers = {"authorization": f"Bearer {token}"} if token else {}
        response = httpx.post(
            f"{self.base}/graphql",
            json={"query": (OPERATIONS / f"{name}.graphql").read_text(), "variables": variables},
            headers=headers,
            timeout=60,
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert "errors" not in body, body
        return dict(body["data"])

    def upload(self, token: str, path: Path, **variables: object) -> dict:
        self.ran.add("UploadDataset")
        query = (OPERATIONS / "UploadDataset.graphql").read_text()
        with path.open("rb") as fh:
            response = httpx.post(
                f"{self.base}/graphql",
                data={
                    "operations": json.dumps(
                        {"query": query, "variables": {"file": None, **variables}}
                    ),
                    "map": json.dumps({"0": ["variables.file"]}),
                },
                files={"0": (path.name, fh, "application/octet-stream")},
                headers={"authorization": f"Bearer {token}"},
                timeout=60,
            )
        assert response.status_code == 200, response.text
        return dict(response.json()["data"]["uploadDataset"])

    def wait(self, token: str, dataset_id: str, state: str, seconds: float = 60) -> dict:
        deadline = time.monotonic() + seconds
        while True:
            found = self.op("FollowDataset", token, id=dataset_id)["dataset"]
            if found["state"] == state or time.monotonic() > deadline:
                return found
            time.sleep(0.2)


@pytest.fixture
def people(users) -> dict[str, AppUser]:
    return {role: users.create(role) for role in ("analyst", "admin", "manager")}


@pytest.fixture
def server(database_url: str, db: Database, settings, tmp_path: Path) -> Iterator[Client]:
    with db.unit_of_work() as session:  # a stored company the file's APACHE resembles
        create_organization(session, system_principal("test"), name="Apache Corporation of Texas")
    with serving(database_url, tmp_path, settings.instance_name) as base:
        yield Client(base)


def test_the_analyst_and_admin_flow_over_a_real_server(
    server: Client, people, shared_data, tmp_path
):
    analyst = server.login(people["analyst"])

    # a small file with one bad row: fixed by hand before anything is approved
    small = tmp_path / "small.csv"
    small.write_text("Operator Name,API #\nAcme Oil Co.,42-003-12345\nBroken Oil,42-000-00001\n")
    uploaded = server.upload(analyst, small)
    small_id = uploaded["dataset"]["id"]
    assert server.wait(analyst, small_id, "AWAITING_REVIEW")["counts"]["quarantined"] == 1
    rows = server.op("DatasetRows", analyst, id=small_id, first=10, outcome="QUARANTINED")
    (bad,) = rows["dataset"]["rows"]["edges"]
    fixed = server.op(
        "EditStagedRow",
        analyst,
        dataset=small_id,
        row=bad["node"]["row"],
        values={"api": "4200312346"},
    )["editStagedRow"]
    assert fixed["__typename"] == "StagedRow" and fixed["outcome"] != "QUARANTINED"

    # the real agency file
    result = server.upload(analyst, shared_data / "real" / TX_PERMITS)
    assert result["__typename"] == "UploadDatasetPayload" and not result["alreadyImported"]
    dataset_id = result["dataset"]["id"]
    followed = server.wait(analyst, dataset_id, "AWAITING_REVIEW")
    assert followed["state"] == "AWAITING_REVIEW", followed
    assert followed["source"] == "tx-rrc-permits" and followed["counts"]["read"] == 56
    assert (followed["format"], followed["layout"]) == ("fixed-width", "rrc-daf420")
    assert {p["kind"] for p in followed["preview"]} >= {"organization", "permit"}

    seen, after = 0, None
    while True:
        page = server.op("DatasetIssues", analyst, id=dataset_id, first=20, after=after)
        issues = page["dataset"]["issues"]
        seen += len(issues["edges"])
        if not issues["pageInfo"]["hasNextPage"]:
            break
        after = issues["pageInfo"]["endCursor"]
    assert seen == sum(i["count"] for i in followed["issueSummary"])

    (candidate,) = [c for c in followed["matchCandidates"] if c["incoming"] == "APACHE CORPORATION"]
    decided = server.op(
        "DecideMatch",
        analyst,
        dataset=dataset_id,
        incoming=candidate["incoming"],
        organization=candidate["organizationId"],
        decision="DIFFERENT",
    )
    assert decided["decideMatch"]["decision"] == "DIFFERENT"

    approved = server.op("ApproveDataset", analyst, id=dataset_id)["approveDataset"]
    assert approved["__typename"] == "Dataset"
    merged = server.wait(analyst, dataset_id, "MERGED")
    assert merged["state"] == "MERGED", merged
    created = {c["kind"]: c["count"] for c in merged["mergeResult"]["created"]}
    assert created["organization"] >= 1 and created["permit"] >= 50

    # a manager pins an account the merge created: the revert must leave it alone
    manager = server.login(people["manager"])
    listed = httpx.post(
        f"{server.base}/graphql",
        json={
            "query": '{ organizations(first: 5, search: "APACHE") { edges { node { id name } } } }'
        },
        headers={"authorization": f"Bearer {manager}"},
    ).json()["data"]["organizations"]["edges"]
    apache = next(e["node"] for e in listed if e["node"]["name"] == "APACHE CORPORATION")
    pinned = server.op(
        "SetPriorityOverride",
        manager,
        organization=apache["id"],
        priority=90.0,
        reason="key account",
    )["setPriorityOverride"]
    assert pinned["priority"] == 90.0

    reverted = server.op("RevertDataset", analyst, id=dataset_id)["revertDataset"]
    assert reverted["__typename"] == "RevertDatasetPayload", reverted
    assert reverted["dataset"]["state"] == "REVERTED"
    removed = {r["kind"]: r["count"] for r in reverted["removed"]}
    assert removed["permit"] == created["permit"]
    assert removed.get("organization", 0) == created["organization"] - 1  # APACHE stays
    assert any(
        c["entityId"] == apache["id"].split(":")[-1] or c["entity"] == "organization"
        for c in reverted["conflicts"]
    )
    cleared = server.op("ClearPriorityOverride", manager, organization=apache["id"])
    assert cleared["clearPriorityOverride"]["__typename"] == "Organization"

    # the admin's rules
    admin = server.login(people["admin"])
    valid = server.op("ValidateRuleSet", admin, input=RULES)["validateRuleSet"]
    assert valid == {"valid": True, "faults": []}
    preview = server.op("PreviewRuleSet", admin, input=RULES, top=5)["previewRuleSet"]
    assert preview["__typename"] == "RuleSetPreview" and preview["organizations"] >= 1
    saved = server.op("SaveRuleSet", analyst, input=RULES)["saveRuleSet"]
    assert saved["__typename"] == "RuleSet" and saved["status"] == "DRAFT"
    active = server.op("ActivateRuleSet", admin, id=saved["id"])["activateRuleSet"]
    assert active["__typename"] == "RuleSetActivation" and active["ruleSet"]["isActive"]
    assert active["rescoreQueued"] is True

    assert server.ran >= ANALYST_OPERATIONS | {"Login"}


def test_every_operation_file_is_run_by_a_test():
    from tests.api.test_dashboard_api import FORECAST_OPERATIONS
    from tests.api.test_outreach_api import OUTREACH_OPERATIONS
    from tests.api.test_reports_api import REPORT_OPERATIONS
    from tests.api.test_sales_api import SALES_OPERATIONS
    from tests.api.test_service_api import SERVICE_OPERATIONS
    from tests.e2e.test_server import OPERATION_VARIABLES
    from tests.e2e.test_subscriptions import REP_OPERATIONS

    files = {p.stem for p in OPERATIONS.glob("*.graphql")}
    run = ANALYST_OPERATIONS | set(OPERATION_VARIABLES) | REP_OPERATIONS
    run |= SALES_OPERATIONS | SERVICE_OPERATIONS | OUTREACH_OPERATIONS | REPORT_OPERATIONS
    run |= FORECAST_OPERATIONS
    assert files == run | {"Login"}
