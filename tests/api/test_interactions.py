"""Logging an interaction: scoped like every write, checked, and the account rescored
(in the same transaction from a service call, as a job after commit from the API)."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import replace

import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient

from ogcrm.accounts.interactions import log_interaction
from ogcrm.accounts.organizations import create_organization
from ogcrm.api.app import create_app
from ogcrm.auth.principal import system_principal
from ogcrm.db.models import Interaction, ScoreSnapshot
from ogcrm.errors import InvalidInput, NotFound
from ogcrm.rules.ruleset import parse
from ogcrm.scoring.rule_sets import activate, save_rule_set, stored_score
from tests.api.conftest import gql, token_for

SYSTEM = system_principal("test")
RULES = {
    "name": "Activity",
    "rules": [
        {
            "name": "gone quiet",
            "logic": {">": [{"var": ["days_since_last_interaction", 9999]}, 30]},
            "weight": 5,
        },
        {
            "name": "just talked",
            "logic": {"<=": [{"var": ["days_since_last_interaction", 9999]}, 7]},
            "weight": 20,
        },
    ],
}
LOG = """
mutation Log($input: LogInteractionInput!) {
  logInteraction(input: $input) {
    __typename
    ... on Interaction { id kind subject organizationId }
    ... on ValidationError { message field }
    ... on NotFound { message }
  }
}
"""
PRIORITY = "query { organizations(first: 10) { edges { node { name priority } } } }"


@pytest.fixture
def scored(db, users):
    """A rep's account and someone else's, never contacted, scored by an active set."""
    rep, other = users.create("sales"), users.create("sales")
    with db.unit_of_work() as s:
        mine = create_organization(s, SYSTEM, name="Mine Oil LLC", owner_id=rep.id)
        theirs = create_organization(s, SYSTEM, name="Theirs Gas LLC", owner_id=other.id)
        activate(s, SYSTEM, save_rule_set(s, SYSTEM, parse(RULES)).id)
        return {"rep": rep, "mine": mine.id, "theirs": theirs.id}


def test_a_logged_call_rescores_the_account_in_the_same_transaction(db, scored):
    with db.read() as s:
        assert stored_score(s, scored["mine"]).score == 5.0  # never called: gone quiet
    with db.unit_of_work() as s:
        log_interaction(
            s,
            scored["rep"].principal(db),
            organization_id=scored["mine"],
            kind="call",
            subject="  intro   call ",
        )
    with db.read() as s:
        after = stored_score(s, scored["mine"])
        subject = s.scalar(select(Interaction.subject))
        history = s.scalar(
            select(func.count()).where(ScoreSnapshot.organization_id == scored["mine"])
        )
    assert (after.score, after.priority) == (20.0, 20.0)
    assert [e["rule"] for e in after.explanation] == ["just talked"]
    assert subject == "intro call" and history == 2


def test_another_reps_account_is_not_found_and_nothing_is_logged(db, scored):
    with pytest.raises(NotFound), db.unit_of_work() as s:
        log_interaction(
            s, scored["rep"].principal(db), organization_id=scored["theirs"], kind="call"
        )
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(Interaction)) == 0
        assert stored_score(s, scored["theirs"]).score == 5.0


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"kind": "fax"}, "kind", "unknown kind 'fax'"),
        (
            {"occurred_at": dt.datetime.now(dt.UTC) + dt.timedelta(days=30)},
            "occurredAt",
            "in the future",
        ),
        ({"occurred_at": dt.datetime(2026, 1, 5, 9, 30)}, "occurredAt", "time zone"),
        ({"subject": "x" * 301}, "subject", "longer than 300"),
        ({"contact_id": 999_999}, "contactId", "not one of this organization's"),
    ],
)
def test_bad_interactions_are_refused_with_the_field(db, scored, changes, field, message):
    arguments = {"organization_id": scored["mine"], "kind": "call", **changes}
    with pytest.raises(InvalidInput) as info, db.unit_of_work() as s:
        log_interaction(s, scored["rep"].principal(db), **arguments)
    assert info.value.field == field and message in str(info.value)


def test_logging_through_the_api_rescores_in_a_job(settings, db, scored):
    """The embedded set-up: the in-process worker picks up the rescore sent after
    commit; the rep sees the account move up."""
    app = create_app(replace(settings, redis_url=""), db=db)
    with TestClient(app) as client:
        token = token_for(client, scored["rep"])
        before = gql(client, PRIORITY, token=token)["data"]["organizations"]["edges"]
        assert [e["node"] for e in before] == [{"name": "Mine Oil LLC", "priority": 5.0}]
        org_gid = gql(client, "{ organizations(first: 1) { edges { node { id } } } }", token=token)
        org_id = org_gid["data"]["organizations"]["edges"][0]["node"]["id"]
        result = gql(
            client,
            LOG,
            token=token,
            input={"organizationId": org_id, "kind": "MEETING", "subject": "site visit"},
        )["data"]["logInteraction"]
        assert result["__typename"] == "Interaction" and result["kind"] == "MEETING"
        assert result["organizationId"] == org_id
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            edges = gql(client, PRIORITY, token=token)["data"]["organizations"]["edges"]
            if edges[0]["node"]["priority"] == 20.0:
                break
            time.sleep(0.05)
        assert edges[0]["node"] == {"name": "Mine Oil LLC", "priority": 20.0}
        refused = gql(
            client,
            LOG,
            token=token,
            input={"organizationId": org_id, "kind": "CALL", "subject": "y" * 400},
        )["data"]["logInteraction"]
        assert refused == {
            "__typename": "ValidationError",
            "message": "subject is longer than 300 characters",
            "field": "subject",
        }
