"""The admin's rules workflow through GraphQL: features, validate, preview, save,
activate (everyone rescored by a job), and manual priority overrides by role."""

from __future__ import annotations

import base64
import time
from dataclasses import replace

import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient

from ogcrm.accounts.organizations import create_organization
from ogcrm.api.app import create_app
from ogcrm.auth.principal import system_principal
from ogcrm.db.models import AuditEvent, ChangeRecord, RuleSet, RuleSetStatus
from tests.support import gql, token_for

SYSTEM = system_principal("test")

GONE_QUIET = {
    "name": "gone quiet",
    "logic": {">": [{"var": ["days_since_last_interaction", 9999]}, 30]},
    "weight": 5,
}
RULES = {"name": "Permian priorities", "rules": [GONE_QUIET]}

VALIDATE = """query($input: RuleSetInput!) { validateRuleSet(input: $input) {
  valid faults { rule path message } } }"""
PREVIEW = """query($input: RuleSetInput!) { previewRuleSet(input: $input, top: 5) {
  __typename
  ... on RuleSetPreview { organizations top { name score change explanation { rule contribution } } }
  ... on InvalidRuleSet { message faults { rule path message } }
  ... on PermissionDenied { message } } }"""
SAVE = """mutation($input: RuleSetInput!) { saveRuleSet(input: $input) {
  __typename ... on RuleSet { id name version status isActive rules { name weight } createdBy { name } }
  ... on InvalidRuleSet { faults { path message } } ... on PermissionDenied { message } } }"""
ACTIVATE = """mutation($id: ID!) { activateRuleSet(id: $id) {
  __typename ... on RuleSetActivation { rescoreQueued ruleSet { status isActive } }
  ... on PermissionDenied { message } ... on Conflict { currentState } } }"""
OVERRIDE = """mutation($id: ID!, $p: Float!, $r: String!, $until: DateTime) {
  setPriorityOverride(organizationId: $id, priority: $p, reason: $r, expiresAt: $until) {
  __typename ... on Organization { priority }
  ... on PermissionDenied { message } ... on NotFound { message }
  ... on ValidationError { field message } } }"""
CLEAR = """mutation($id: ID!) { clearPriorityOverride(organizationId: $id) {
  __typename ... on Organization { priority } ... on PermissionDenied { message } } }"""
PRIORITY = "query($id: ID!) { organization(id: $id) { priority } }"


@pytest.fixture
def app_client(settings, db):
    with TestClient(create_app(replace(settings, redis_url=""), db=db)) as client:
        yield client


@pytest.fixture
def accounts(db, users):
    rep = users.create("sales")
    with db.unit_of_work() as s:
        mine = create_organization(s, SYSTEM, name="Caprock Operating LLC", owner_id=rep.id)
        other = create_organization(s, SYSTEM, name="Diamondback Energy Inc")

    def gid(i: int) -> str:
        return base64.b64encode(f"Organization:{i}".encode()).decode()

    return {"rep": rep, "mine": gid(mine.id), "other": gid(other.id), "mine_id": mine.id}


def test_features_are_listed_with_their_scorer(app_client, users):
    token = token_for(app_client, users.create("admin"))
    found = gql(app_client, "{ features { name type scorer } }", token=token)["data"]["features"]
    by_name = {f["name"]: f for f in found}
    assert by_name["permits_90d"]["type"] == "number" and by_name["permits_90d"]["scorer"]


@pytest.mark.parametrize(
    ("rule", "path", "message"),
    [
        (
            {"name": "x", "logic": {">": [{"var": "no_such_feature"}, 1]}, "weight": 1},
            "/rules/0/logic",
            "no_such_feature",
        ),
        ({"name": "x", "logic": {"==": [1, 1]}}, "/rules/0/weight", "weight"),
    ],
)
def test_validation_names_every_fault_by_json_pointer(app_client, users, rule, path, message):
    token = token_for(app_client, users.create("analyst"))
    if "weight" not in rule:  # GraphQL itself refuses a rule without its weight
        response = gql(app_client, VALIDATE, token=token, input={"name": "r", "rules": [rule]})
        assert response["errors"] and "weight" in response["errors"][0]["message"]
        return
    found = gql(app_client, VALIDATE, token=token, input={"name": "r", "rules": [rule]})
    result = found["data"]["validateRuleSet"]
    assert result["valid"] is False
    (fault,) = result["faults"]
    assert fault["path"].startswith(path) and message in fault["message"]


def test_preview_ranks_without_saving_and_refuses_an_unknown_feature(
    app_client, db, users, accounts
):
    token = token_for(app_client, users.create("admin"))
    preview = gql(app_client, PREVIEW, token=token, input=RULES)["data"]["previewRuleSet"]
    assert preview["__typename"] == "RuleSetPreview" and preview["organizations"] == 2
    assert {t["name"] for t in preview["top"]} == {
        "Caprock Operating LLC",
        "Diamondback Energy Inc",
    }
    assert preview["top"][0]["explanation"] == [{"rule": "gone quiet", "contribution": 5.0}]
    bad = {"name": "r", "rules": [{**GONE_QUIET, "logic": {"var": "nope"}}]}
    refused = gql(app_client, PREVIEW, token=token, input=bad)["data"]["previewRuleSet"]
    assert refused["__typename"] == "InvalidRuleSet"
    assert refused["faults"][0]["path"] == "/rules/0/logic/var" or refused["faults"][0]["rule"]
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(RuleSet)) == 0


def test_an_analyst_saves_only_an_admin_activates_and_everyone_is_rescored(
    app_client, db, users, accounts
):
    analyst, admin = users.create("analyst"), users.create("admin")
    saved = gql(app_client, SAVE, token=token_for(app_client, analyst), input=RULES)
    saved = saved["data"]["saveRuleSet"]
    assert saved["__typename"] == "RuleSet" and saved["version"] == 1
    assert saved["status"] == "DRAFT" and saved["rules"] == [{"name": "gone quiet", "weight": 5.0}]
    refused = gql(app_client, ACTIVATE, token=token_for(app_client, analyst), id=saved["id"])
    assert refused["data"]["activateRuleSet"]["__typename"] == "PermissionDenied"

    admin_token = token_for(app_client, admin)
    done = gql(app_client, ACTIVATE, token=admin_token, id=saved["id"])["data"]["activateRuleSet"]
    assert done == {
        "__typename": "RuleSetActivation",
        "rescoreQueued": True,
        "ruleSet": {"status": "ACTIVE", "isActive": True},
    }
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        priority = gql(app_client, PRIORITY, token=admin_token, id=accounts["other"])
        if priority["data"]["organization"]["priority"] == 5.0:
            break
        time.sleep(0.1)
    assert priority["data"]["organization"]["priority"] == 5.0  # rescored by the job
    again = gql(app_client, ACTIVATE, token=admin_token, id=saved["id"])["data"]["activateRuleSet"]
    assert again == {"__typename": "Conflict", "currentState": "active"}
    listed = gql(app_client, "{ ruleSets { name version isActive } }", token=admin_token)
    assert listed["data"]["ruleSets"] == [
        {"name": "Permian priorities", "version": 1, "isActive": True}
    ]
    with db.read() as s:
        assert s.scalar(select(RuleSet.status)) == RuleSetStatus.ACTIVE


def test_a_manager_pins_any_account_a_rep_none_unless_granted(app_client, db, users, accounts):
    manager = token_for(app_client, users.create("manager"))
    rep = token_for(app_client, accounts["rep"])
    pinned = gql(app_client, OVERRIDE, token=manager, id=accounts["mine"], p=77.0, r="board ask")
    assert pinned["data"]["setPriorityOverride"] == {"__typename": "Organization", "priority": 77.0}
    assert gql(app_client, PRIORITY, token=rep, id=accounts["mine"])["data"]["organization"] == {
        "priority": 77.0
    }
    refused = gql(app_client, OVERRIDE, token=rep, id=accounts["mine"], p=99.0, r="mine")
    assert refused["data"]["setPriorityOverride"]["__typename"] == "PermissionDenied"
    hidden = gql(app_client, OVERRIDE, token=rep, id=accounts["other"], p=99.0, r="not mine")
    assert hidden["data"]["setPriorityOverride"]["__typename"] in ("NotFound", "PermissionDenied")
    no_reason = gql(app_client, OVERRIDE, token=manager, id=accounts["mine"], p=1.0, r=" ")
    assert no_reason["data"]["setPriorityOverride"]["field"] == "reason"
    past = gql(
        app_client,
        OVERRIDE,
        token=manager,
        id=accounts["mine"],
        p=1.0,
        r="x",
        until="2020-01-01T00:00:00+00:00",
    )
    assert past["data"]["setPriorityOverride"]["field"] == "expiresAt"
    cleared = gql(app_client, CLEAR, token=manager, id=accounts["mine"])["data"]
    assert cleared["clearPriorityOverride"] == {"__typename": "Organization", "priority": 0.0}
    with db.read() as s:
        history = s.scalars(
            select(ChangeRecord.field).where(
                ChangeRecord.entity == "organization",
                ChangeRecord.entity_id == accounts["mine_id"],
                ChangeRecord.field == "override_priority",
            )
        ).all()
        audited = s.scalars(
            select(AuditEvent.action).where(AuditEvent.action.like("organization.override%"))
        ).all()
    assert len(history) == 2  # pinned, then cleared
    assert sorted(audited) == ["organization.override", "organization.override_clear"]


def test_a_granted_rep_pins_only_their_own_accounts(app_client, db, users, accounts):
    from ogcrm.auth import users as user_service
    from ogcrm.db.models import Action, Scope

    with db.unit_of_work() as s:
        user_service.set_grant(
            s,
            SYSTEM,
            role="sales",
            entity="priority_override",
            action=Action.WRITE,
            scope=Scope.OWN,
        )
    rep = token_for(app_client, accounts["rep"])
    mine = gql(app_client, OVERRIDE, token=rep, id=accounts["mine"], p=50.0, r="hot lead")
    assert mine["data"]["setPriorityOverride"] == {"__typename": "Organization", "priority": 50.0}


@pytest.mark.parametrize("role", ["sales", "viewer"])
def test_reps_and_viewers_neither_save_nor_activate_nor_pin(app_client, db, users, accounts, role):
    from ogcrm.auth.principal import system_principal as system
    from ogcrm.rules.ruleset import parse
    from ogcrm.scoring.rule_sets import save_rule_set

    with db.unit_of_work() as s:
        draft = save_rule_set(s, system("test"), parse(RULES))
        draft_gid = base64.b64encode(f"RuleSet:{draft.id}".encode()).decode()
    token = token_for(app_client, users.create(role))
    saved = gql(app_client, SAVE, token=token, input=RULES)["data"]["saveRuleSet"]
    assert saved["__typename"] == "PermissionDenied"
    activated = gql(app_client, ACTIVATE, token=token, id=draft_gid)["data"]["activateRuleSet"]
    assert activated["__typename"] == "PermissionDenied"
    pinned = gql(app_client, OVERRIDE, token=token, id=accounts["mine"], p=1.0, r="x")
    assert pinned["data"]["setPriorityOverride"]["__typename"] in ("PermissionDenied", "NotFound")
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(RuleSet)) == 1
        assert s.scalar(select(RuleSet.status)) == RuleSetStatus.DRAFT
