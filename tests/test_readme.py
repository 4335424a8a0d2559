"""Every GraphQL example in the README runs as written (ids included) and succeeds."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

from starlette.testclient import TestClient

from ogcrm.accounts.contacts import create_contact
from ogcrm.accounts.organizations import create_organization
from ogcrm.api.app import create_app
from ogcrm.auth.principal import system_principal
from ogcrm.auth.users import create_user
from ogcrm.datasets.intake import receive
from ogcrm.datasets.staging import process
from tests.support import gql

README = Path(__file__).resolve().parents[1] / "README.md"
PASSWORD = "correct horse battery staple"
BLOCKS = re.findall(r"```graphql\n(.*?)```", README.read_text(encoding="utf-8"), re.DOTALL)


def _token(client: TestClient, email: str) -> str:
    query = "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { ... on AuthPayload { accessToken } } }"
    return str(gql(client, query, e=email, p=PASSWORD)["data"]["login"]["accessToken"])


def test_the_readme_has_examples():
    assert len(BLOCKS) >= 5


def test_every_readme_example_runs(settings, db, tmp_path):
    system = system_principal("test")
    with db.unit_of_work() as s:
        rep = create_user(s, email="rep@example.com", name="Rep", role="sales", password=PASSWORD)
        create_user(s, email="analyst@example.com", name="Ann", role="analyst", password=PASSWORD)
        org = create_organization(s, system, name="Pioneer Natural Resources", owner_id=rep.id)
        contact = create_contact(s, system, organization_id=org.id, full_name="Dana Ruiz")
        assert (org.id, contact.id) == (1, 1)  # the ids the README's examples name
    path = tmp_path / "permits.csv"
    path.write_text("Operator Name,API #\nAcme Oil Co.,42-003-12345\n")
    with db.unit_of_work() as s:
        dataset_id = receive(s, system, path, data_dir=tmp_path).dataset_id
    process(db, dataset_id, data_dir=tmp_path)
    assert dataset_id == 1
    with TestClient(create_app(replace(settings, redis_url=""), db=db)) as client:
        tokens = {
            "rep": _token(client, "rep@example.com"),
            "analyst": _token(client, "analyst@example.com"),
        }
        for block in BLOCKS:
            query = block.replace('password: "..."', f'password: "{PASSWORD}"')
            who = "analyst" if "dataset" in query.lower() else "rep"
            token = None if "login(" in query else tokens[who]
            result = gql(client, query, token=token)
            assert "errors" not in result, (block, result)
            shown = json.dumps(result["data"])
            assert '"message"' not in shown, (block, result)  # no UserError came back
