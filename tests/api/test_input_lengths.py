"""Names longer than their columns are ValidationErrors (or rule-set faults) naming the
field, the same on both databases: PostgreSQL refused them with an unexpected error
while SQLite stored them (the rest of finding 8 of the outside attack)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from starlette.testclient import TestClient

from ogcrm.api.app import create_app
from tests.support import gql, token_for

SAVE = """mutation($input: RuleSetInput!) { saveRuleSet(input: $input) {
  __typename ... on RuleSet { name } ... on InvalidRuleSet { faults { path message } } } }"""
CREATE_USER = """mutation($input: CreateUserInput!) { createUser(input: $input) {
  __typename ... on User { email } ... on ValidationError { field message } } }"""
RULE = {"name": "fresh permits", "logic": {">": [{"var": "permits_90d"}, 0]}, "weight": 5}


@pytest.fixture
def admin_client(settings, db, users):
    admin = users.create("admin")
    with TestClient(create_app(replace(settings, redis_url=""), db=db)) as client:
        yield client, token_for(client, admin)


@pytest.mark.parametrize(
    ("document", "path"),
    [
        ({"name": "N" * 201, "rules": [RULE]}, "/name"),
        ({"name": "ok", "rules": [{**RULE, "name": "R" * 201}]}, "/rules/0/name"),
    ],
)
def test_a_rule_set_name_too_long_is_a_fault(admin_client, document, path):
    client, token = admin_client
    saved = gql(client, SAVE, token=token, input=document)["data"]["saveRuleSet"]
    assert saved["__typename"] == "InvalidRuleSet"
    assert saved["faults"] == [{"path": path, "message": "a name is at most 200 characters"}]


@pytest.mark.parametrize(
    ("user", "field"),
    [
        ({"email": "ann@example.com", "name": "A" * 201}, "name"),
        ({"email": "a" * 320 + "@example.com", "name": "Ann"}, "email"),
    ],
)
def test_a_user_field_too_long_names_the_field(admin_client, user, field):
    client, token = admin_client
    made = gql(client, CREATE_USER, token=token, input={
        **user, "role": "sales", "password": "correct horse battery staple"})["data"]["createUser"]  # fmt: skip
    assert made["__typename"] == "ValidationError" and made["field"] == field


def test_a_team_name_too_long_names_the_field(admin_client):
    client, token = admin_client
    made = gql(
        client,
        """mutation($n: String!) { createTeam(name: $n) {
        __typename ... on ValidationError { field message } } }""",
        token=token,
        n="T" * 129,
    )
    assert made["data"]["createTeam"] == {
        "__typename": "ValidationError", "field": "name",
        "message": "team name is longer than 128 characters"}  # fmt: skip
