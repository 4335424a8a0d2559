"""The real server: `ogcrm serve` as a process on a free port, spoken to over HTTP."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ogcrm.accounts.organizations import create_organization
from ogcrm.auth.principal import system_principal
from ogcrm.db.session import Database
from tests.api.conftest import LOGIN
from tests.conftest import TEST_REDIS_URL, AppUser
from tests.support import free_port, ogcrm_command, subprocess_env, wait_for_http


def _serve(database_url: str, data_dir: Path, *args: str) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    env = subprocess_env(
        OGCRM_DATABASE_URL=database_url,
        OGCRM_DATA_DIR=str(data_dir),
        OGCRM_REDIS_URL=TEST_REDIS_URL,
    )
    proc = subprocess.Popen(
        ogcrm_command("serve", "--port", str(port), *args),
        env=env,
        cwd=data_dir,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    return proc, port


def _login(server: str, user: AppUser) -> str:
    response = httpx.post(
        f"{server}/graphql",
        json={"query": LOGIN, "variables": {"email": user.email, "password": user.password}},
    )
    return str(response.json()["data"]["login"]["accessToken"])


def _stop(proc: subprocess.Popen[bytes]) -> str:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.stdout.read().decode() if proc.stdout else ""


@pytest.fixture
def rep(users) -> AppUser:
    return users.create("sales")


@pytest.fixture
def server(database_url: str, db: Database, tmp_path: Path, rep: AppUser) -> Iterator[str]:
    with db.unit_of_work() as session:
        create_organization(
            session,
            system_principal("test"),
            name="Caprock Operating LLC",
            priority=42.0,
            identifiers={"rrc": "020528"},
            owner_id=rep.id,
        )
    proc, port = _serve(database_url, tmp_path)
    try:
        wait_for_http(f"http://127.0.0.1:{port}/healthz", proc)
        yield f"http://127.0.0.1:{port}"
    finally:
        _stop(proc)


class TestServe:
    def test_healthz_over_http(self, server: str):
        response = httpx.get(f"{server}/healthz")
        assert response.status_code == 200
        body = response.json()
        assert body["status"] == "ok"
        assert body["schema"]["current"] == [body["schema"]["head"]]

    def test_graphql_over_http(self, server: str, rep: AppUser):
        response = httpx.post(
            f"{server}/graphql",
            json={
                "query": "{ version organizations(first: 5) { edges { node { name priority } } } }"
            },
            headers={"authorization": f"Bearer {_login(server, rep)}"},
        )
        assert response.status_code == 200
        data = response.json()["data"]
        assert data["organizations"]["edges"] == [
            {"node": {"name": "Caprock Operating LLC", "priority": 42.0}}
        ]

    def test_refuses_to_start_on_an_unmigrated_database_and_says_how(
        self, empty_database_url: str, tmp_path: Path
    ):
        proc, _ = _serve(empty_database_url, tmp_path)
        output = _stop(proc) if proc.wait(timeout=30) is not None else ""
        assert proc.returncode == 1
        assert "Run `ogcrm db upgrade` first" in output

    def test_upgrade_flag_migrates_then_serves(self, empty_database_url: str, tmp_path: Path):
        proc, port = _serve(empty_database_url, tmp_path, "--upgrade")
        try:
            response = wait_for_http(f"http://127.0.0.1:{port}/healthz", proc)
            assert response.status_code == 200
        finally:
            output = _stop(proc)
        assert "database upgraded to" in output


OPERATIONS = sorted(
    p
    for p in (Path(__file__).resolve().parents[2] / "graphql" / "operations").glob("*.graphql")
    if p.stem in {"Login", "PrioritizedOrganizations", "ServerVersion"}
)  # the analyst's and admin's run in test_analyst_flow.py
# Variables each example operation needs; a new operation without an entry fails loudly.
OPERATION_VARIABLES: dict[str, dict] = {
    "PrioritizedOrganizations": {"first": 10},
    "ServerVersion": {},
}


@pytest.mark.parametrize("path", OPERATIONS, ids=lambda p: p.stem)
def test_example_operations_run_against_the_real_server(server: str, rep: AppUser, path: Path):
    if path.stem == "Login":
        variables = {"email": rep.email, "password": rep.password}
        headers = {}
    else:
        variables = OPERATION_VARIABLES[path.stem]
        headers = {"authorization": f"Bearer {_login(server, rep)}"}
    response = httpx.post(
        f"{server}/graphql",
        json={"query": path.read_text(), "variables": variables},
        headers=headers,
    )
    assert response.status_code == 200
    body = response.json()
    assert "errors" not in body, body
    assert body["data"]
