"""The helper every command opens the database through: a schema behind is refused with
what to run, a domain error is one line and exit status 1, and the engine is disposed of
either way."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from ogcrm.cli._common import CliState, database
from ogcrm.errors import NotFound


def _command(body):
    @click.command()
    @click.pass_context
    def command(ctx: click.Context) -> None:
        with database(ctx) as db:
            body(db)

    return command


def _run(command, url: str):
    return CliRunner().invoke(command, [], obj=CliState({"database_url": url}))


def test_a_domain_error_is_one_line_and_exit_1(settings):
    def body(db):
        raise NotFound("dataset 42 not found")

    result = _run(_command(body), settings.database_url)
    assert result.exit_code == 1
    assert result.output.strip() == "Error: dataset 42 not found"


def test_a_database_behind_the_code_is_refused_with_the_remedy(tmp_path):
    result = _run(_command(lambda db: None), f"sqlite:///{tmp_path}/empty.db")
    assert result.exit_code == 1
    assert "the database is empty" in result.output and "ogcrm db upgrade" in result.output


def test_the_engine_is_disposed_of_after_the_command(settings, monkeypatch):
    seen = []

    def body(db):
        seen.append(db)
        monkeypatch.setattr(db, "dispose", lambda: seen.append("disposed"))
        raise NotFound("gone")

    _run(_command(body), settings.database_url)
    assert seen[-1] == "disposed"


def test_an_unexpected_error_is_not_swallowed(settings):
    def body(db):
        raise RuntimeError("a bug")

    result = _run(_command(body), settings.database_url)
    assert result.exit_code == 1 and isinstance(result.exception, RuntimeError)


@pytest.mark.parametrize("args", [["db", "--help"], ["dataset", "--help"], ["rules", "--help"]])
def test_help_touches_no_database(args, tmp_path, monkeypatch):
    from ogcrm.cli import main

    monkeypatch.setenv("OGCRM_DATABASE_URL", f"sqlite:///{tmp_path}/never.db")
    assert CliRunner().invoke(main, args).exit_code == 0
    assert not (tmp_path / "never.db").exists()
