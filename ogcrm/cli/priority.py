"""``ogcrm priority set|clear``: pin an account's priority by hand, or remove the pin."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import click

from ogcrm.auth.principal import system_principal
from ogcrm.cli._common import database
from ogcrm.db.models import Organization

CLI = system_principal("cli")


@click.group()
def priority() -> None:
    """Pin an organization's priority by hand (with a reason), or clear the pin."""


def _describe(org: Organization) -> dict[str, Any]:
    return {
        "organization_id": org.id,
        "name": org.name,
        "priority": org.priority,
        "override": org.override_priority,
        "reason": org.override_reason,
        "expires_at": org.override_expires_at.isoformat() if org.override_expires_at else None,
    }


def _echo(out: dict[str, Any], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(out))
    elif out["override"] is None:
        click.echo(
            f"#{out['organization_id']} {out['name']}: no override; priority {out['priority']:g}"
        )
    else:
        until = f" until {out['expires_at']}" if out["expires_at"] else ""
        click.echo(
            f"#{out['organization_id']} {out['name']}: priority pinned at {out['override']:g}"
            f"{until} ({out['reason']})"
        )


@priority.command("set")
@click.argument("organization_id", type=int)
@click.argument("value", type=float)
@click.option("--reason", required=True, help="Why (kept with the pin and in the audit log).")
@click.option(
    "--until",
    "expires_at",
    type=click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]),
    default=None,
    help="When the pin lapses (UTC); it stays until cleared otherwise.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def priority_set(
    ctx: click.Context,
    organization_id: int,
    value: float,
    reason: str,
    expires_at: dt.datetime | None,
    as_json: bool,
) -> None:
    """Pin ORGANIZATION_ID's priority at VALUE."""
    from ogcrm.scoring.overrides import set_override

    until = expires_at.replace(tzinfo=dt.UTC) if expires_at else None
    with database(ctx) as db, db.unit_of_work() as session:
        org = set_override(
            session, CLI, organization_id, priority=value, reason=reason, expires_at=until
        )
        out = _describe(org)
    _echo(out, as_json)


@priority.command("clear")
@click.argument("organization_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def priority_clear(ctx: click.Context, organization_id: int, as_json: bool) -> None:
    """Remove ORGANIZATION_ID's pin: its rule score applies again."""
    from ogcrm.scoring.overrides import clear_override

    with database(ctx) as db, db.unit_of_work() as session:
        out = _describe(clear_override(session, CLI, organization_id))
    _echo(out, as_json)
