"""`ogcrm priority set|clear`: the CLI's manual override, with its reason and expiry."""

from __future__ import annotations

import json

from click.testing import CliRunner
from sqlalchemy import select

from ogcrm.accounts.organizations import create_organization
from ogcrm.auth.principal import system_principal
from ogcrm.cli import main
from ogcrm.db.models import AuditEvent


def _org(db) -> int:
    with db.unit_of_work() as s:
        return create_organization(s, system_principal("test"), name="Caprock Operating LLC").id


def test_set_then_clear(db, settings, monkeypatch):
    monkeypatch.setenv("OGCRM_DATABASE_URL", settings.database_url)
    org_id = _org(db)
    runner = CliRunner()
    pinned = runner.invoke(
        main,
        [
            "priority",
            "set",
            str(org_id),
            "88",
            "--reason",
            "board ask",
            "--until",
            "2099-01-01",
            "--json",
        ],
    )
    assert pinned.exit_code == 0, pinned.output
    out = json.loads(pinned.output)
    assert out["priority"] == 88.0 and out["reason"] == "board ask"
    assert out["expires_at"].startswith("2099-01-01")
    cleared = runner.invoke(main, ["priority", "clear", str(org_id), "--json"])
    assert json.loads(cleared.output)["override"] is None
    with db.read() as s:
        actions = s.scalars(
            select(AuditEvent.action).where(AuditEvent.entity == "organization")
        ).all()
    assert "organization.override" in actions and "organization.override_clear" in actions


def test_a_missing_reason_or_account_is_one_line(db, settings, monkeypatch):
    monkeypatch.setenv("OGCRM_DATABASE_URL", settings.database_url)
    org_id = _org(db)
    runner = CliRunner()
    blank = runner.invoke(main, ["priority", "set", str(org_id), "5", "--reason", " "])
    assert blank.exit_code == 1 and "an override needs a reason" in blank.output
    missing = runner.invoke(main, ["priority", "clear", "999999"])
    assert missing.exit_code == 1 and "organization 999999 not found" in missing.output
