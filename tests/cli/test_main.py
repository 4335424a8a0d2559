"""The `ogcrm` command line, run as a user would run it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from ogcrm.auth.passwords import verify_password
from ogcrm.cli import main
from ogcrm.db.models import User
from ogcrm.db.session import Database
from tests.conftest import TEST_SECRET_KEY
from tests.support import ogcrm_command, subprocess_env


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [prefix]
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            found += _commands(command, (*prefix, name))
        else:
            found.append((*prefix, name))
    return found


@pytest.fixture
def runner(tmp_path: Path, monkeypatch) -> CliRunner:
    monkeypatch.chdir(tmp_path)
    for var in ("OGCRM_DATABASE_URL", "OGCRM_REDIS_URL", "OGCRM_DATA_DIR"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("OGCRM_SECRET_KEY", TEST_SECRET_KEY)
    return CliRunner()


@pytest.mark.parametrize("command", _commands(main), ids=lambda c: " ".join(c) or "ogcrm")
def test_every_command_has_help(runner: CliRunner, command: tuple[str, ...]):
    result = runner.invoke(main, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage: " in result.output


class TestDb:
    def test_upgrade_status_downgrade(self, runner: CliRunner, empty_database_url: str):
        url = ["--database-url", empty_database_url]
        status = runner.invoke(main, [*url, "db", "status"])
        assert status.exit_code == 1
        assert "current: base (empty)" in status.output
        assert "run `ogcrm db upgrade`" in status.output

        upgraded = runner.invoke(main, [*url, "db", "upgrade"])
        assert upgraded.exit_code == 0, upgraded.output
        assert runner.invoke(main, [*url, "db", "status"]).exit_code == 0

        down = runner.invoke(main, [*url, "db", "downgrade", "--yes"])
        assert down.exit_code == 0, down.output
        assert "base (empty)" in down.output

    def test_downgrade_asks_before_dropping_data(self, runner: CliRunner, database_url: str):
        result = runner.invoke(
            main, ["--database-url", database_url, "db", "downgrade"], input="n\n"
        )
        assert result.exit_code == 1
        assert "Aborted" in result.output
        assert runner.invoke(main, ["--database-url", database_url, "db", "status"]).exit_code == 0

    def test_default_database_is_a_sqlite_file_in_the_working_directory(
        self, runner: CliRunner, tmp_path: Path
    ):
        result = runner.invoke(main, ["db", "upgrade"])
        assert result.exit_code == 0, result.output
        assert (tmp_path / "ogcrm.db").is_file()


class TestUserCreate:
    def test_password_read_from_stdin_is_hashed_with_argon2id(
        self, runner: CliRunner, database_url: str, db: Database
    ):
        result = runner.invoke(
            main,
            [
                "--database-url",
                database_url,
                "user",
                "create",
                "--email",
                "Ann@Example.com",
                "--name",
                "Ann",
                "--role",
                "admin",
            ],
            input="correct horse battery\n",
        )
        assert result.exit_code == 0, result.output
        with db.read() as session:
            user = session.scalars(select(User)).one()
        assert user.email == "ann@example.com"
        assert user.password_hash.startswith("$argon2id$")
        assert "correct horse battery" not in user.password_hash
        assert verify_password("correct horse battery", user.password_hash)[0]

    @pytest.mark.parametrize(
        ("args", "password", "message"),
        [
            (
                ["--email", "x@example.com", "--role", "wizard"],
                "long enough pw",
                "unknown role 'wizard'",
            ),
            (
                ["--email", "not-an-email", "--role", "sales"],
                "long enough pw",
                "is not an e-mail address",
            ),
            (["--email", "x@example.com", "--role", "sales"], "short", "at least 8 characters"),
        ],
    )
    def test_bad_input_is_refused_with_the_reason(
        self, runner: CliRunner, database_url: str, db: Database, args, password, message
    ):
        result = runner.invoke(
            main,
            ["--database-url", database_url, "user", "create", "--name", "X", *args],
            input=password + "\n",
        )
        assert result.exit_code == 1
        assert message in result.output
        with db.read() as session:
            assert session.scalars(select(User)).all() == []

    def test_duplicate_email_is_refused(self, runner: CliRunner, database_url: str):
        args = [
            "--database-url",
            database_url,
            "user",
            "create",
            "--email",
            "a@example.com",
            "--name",
            "A",
            "--role",
            "sales",
        ]
        assert runner.invoke(main, args, input="password-one\n").exit_code == 0
        again = runner.invoke(main, args, input="password-two\n")
        assert again.exit_code == 1
        assert "already exists" in again.output


class TestBootstrap:
    def test_first_admin_then_refused(self, runner: CliRunner, database_url: str, db: Database):
        args = [
            "--database-url",
            database_url,
            "user",
            "bootstrap",
            "--email",
            "root@example.com",
            "--name",
            "Root",
        ]
        first = runner.invoke(main, args, input="a long passphrase\n")
        assert first.exit_code == 0, first.output
        with db.read() as session:
            admin = session.scalars(select(User)).one()
            assert admin.email == "root@example.com"
        again = runner.invoke(
            main,
            [*args[:-4], "--email", "two@example.com", "--name", "Two"],
            input="a long passphrase\n",
        )
        assert again.exit_code == 1
        assert "already has users" in again.output


class TestExportSchema:
    def test_check_passes_on_the_committed_schema(self, runner: CliRunner):
        path = Path(__file__).resolve().parents[2] / "graphql" / "schema.graphql"
        result = runner.invoke(main, ["export-schema", "--check", str(path)])
        assert result.exit_code == 0, result.output

    def test_check_fails_on_a_stale_file(self, runner: CliRunner, tmp_path: Path):
        stale = tmp_path / "schema.graphql"
        stale.write_text("type Query { version: String! }\n")
        result = runner.invoke(main, ["export-schema", "--check", str(stale)])
        assert result.exit_code == 1
        assert "differs from the schema the code exports" in result.output


class TestWorkerCommand:
    def test_refuses_without_redis_and_says_why(self, runner: CliRunner):
        result = runner.invoke(main, ["worker"])
        assert result.exit_code == 1
        assert "needs OGCRM_REDIS_URL" in result.output


def test_console_script_is_installed(tmp_path: Path):
    result = subprocess.run(
        ogcrm_command("--version"),
        env=subprocess_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0
    assert result.stdout.startswith("ogcrm, version ")
