"""``ogcrm features``, ``ogcrm rules validate|preview|activate`` and ``ogcrm rescore``.

Rule sets are files (JSON or YAML) an admin keeps in version control; every command
takes ``--json`` for machine-readable output. ``validate`` exits 1 with each fault's rule
name and JSON Pointer; ``activate`` saves the file as the next version of its name,
activates it and rescores every organization.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from ogcrm.cli._common import database
from ogcrm.cli._progress import meter

_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


def _load(file: Path) -> Any:
    from ogcrm.rules.ruleset import RuleSetInvalid, parse, read_document
    from ogcrm.scoring.rule_sets import check

    try:
        spec = parse(read_document(file))
        check(spec)
    except RuleSetInvalid as exc:
        return None, exc.faults
    return spec, []


def _fail_with_faults(file: Path, faults: list[Any], as_json: bool) -> None:
    if as_json:
        click.echo(
            json.dumps(
                {
                    "file": str(file),
                    "valid": False,
                    "faults": [
                        {"rule": f.rule, "path": f.path, "message": f.message} for f in faults
                    ],
                }
            )
        )
    else:
        for fault in faults:
            click.echo(f"{file}: {fault}", err=True)
    raise SystemExit(1)


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def features(as_json: bool) -> None:
    """List the features rules can use, with their type and the scorer providing them."""
    from ogcrm.scoring.features import catalog

    rows = [
        {"name": n, "type": f.type, "description": f.description, "scorer": scorer}
        for n, (f, scorer) in catalog().items()
    ]
    if as_json:
        click.echo(json.dumps(rows))
        return
    for row in rows:
        click.echo(f"{row['name']:<30} {row['type']:<7} {row['description']}  [{row['scorer']}]")


@click.group()
def rules() -> None:
    """Validate, preview and activate rule-set files."""


@rules.command("validate")
@click.argument("file", type=_FILE)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def rules_validate(file: Path, as_json: bool) -> None:
    """Check FILE; exit 0 when valid, 1 with every fault otherwise."""
    spec, faults = _load(file)
    if faults:
        _fail_with_faults(file, faults, as_json)
    if as_json:
        click.echo(json.dumps({"file": str(file), "valid": True, "rules": len(spec.rules)}))
    else:
        click.echo(f"{file}: valid ({len(spec.rules)} rules)")


@rules.command("preview")
@click.argument("file", type=_FILE)
@click.option("--top", default=20, show_default=True, help="How many organizations to show.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def rules_preview(ctx: click.Context, file: Path, top: int, as_json: bool) -> None:
    """Show what FILE's rules would rank first, and who would move most, writing nothing."""
    from ogcrm.scoring.rescore import preview

    spec, faults = _load(file)
    if faults:
        _fail_with_faults(file, faults, as_json)
    with database(ctx) as db, db.read() as session:
        result = preview(session, spec, top=top)
        session.rollback()

    def rows(items: list[Any]) -> list[dict[str, Any]]:
        return [
            {
                "organization_id": r.organization_id,
                "name": r.name,
                "score": r.score,
                "current": r.current,
                "change": r.change,
                "explanation": r.explanation,
            }
            for r in items
        ]

    out = {
        "file": str(file),
        "organizations": result.organizations,
        "top": rows(result.top),
        "up": rows(result.up),
        "down": rows(result.down),
    }
    if as_json:
        click.echo(json.dumps(out))
        return
    click.echo(f"{spec.name}: {result.organizations:,} organizations scored")
    for title, items in (
        ("top", out["top"]),
        ("moving up", out["up"]),
        ("moving down", out["down"]),
    ):
        click.echo(f"{title}:")
        for r in items:
            why = ", ".join(f"{e['rule']} {e['contribution']:+g}" for e in r["explanation"])
            click.echo(f"  {r['score']:>10.2f} ({r['change']:+.2f})  {r['name']}  [{why}]")


@rules.command("activate")
@click.argument("file", type=_FILE)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def rules_activate(ctx: click.Context, file: Path, as_json: bool) -> None:
    """Save FILE as the next version of its rule set, activate it and rescore everyone."""
    from ogcrm.auth.principal import system_principal
    from ogcrm.scoring.rule_sets import activate, save_rule_set

    spec, faults = _load(file)
    if faults:
        _fail_with_faults(file, faults, as_json)
    with database(ctx) as db, db.unit_of_work() as session, meter("rescoring") as progress:
        principal = system_principal("cli")
        row = save_rule_set(session, principal, spec)
        result = activate(session, principal, row.id, progress=progress)
        out = {
            "rule_set_id": row.id,
            "name": row.name,
            "version": row.version,
            "organizations": result.organizations,
            "snapshots": result.snapshots,
            "seconds": result.seconds,
        }
    if as_json:
        click.echo(json.dumps(out))
    else:
        click.echo(
            f"activated {out['name']} v{out['version']} (rule set {out['rule_set_id']}); "
            f"rescored {out['organizations']:,} organizations, {out['snapshots']:,} changed"
        )


@click.command()
@click.option(
    "--organization", "organization_ids", multiple=True, type=int, help="Only these (repeatable)."
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def rescore(ctx: click.Context, organization_ids: tuple[int, ...], as_json: bool) -> None:
    """Rescore organizations (all by default) with the active rule set."""
    from ogcrm.scoring.rescore import NoActiveRuleSet
    from ogcrm.scoring.rescore import rescore as run

    with database(ctx) as db, db.unit_of_work() as session, meter("rescoring") as progress:
        try:
            result = run(
                session, organization_ids=list(organization_ids) or None, progress=progress
            )
        except NoActiveRuleSet as exc:
            raise click.ClickException(str(exc)) from None
    out = {
        "rule_set_id": result.rule_set_id,
        "organizations": result.organizations,
        "snapshots": result.snapshots,
        "seconds": result.seconds,
    }
    if as_json:
        click.echo(json.dumps(out))
    else:
        click.echo(
            f"rescored {out['organizations']:,} organizations with rule set "
            f"{out['rule_set_id']}; {out['snapshots']:,} scores changed"
        )
