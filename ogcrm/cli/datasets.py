"""``ogcrm import``, ``ogcrm datasets`` and ``ogcrm dataset show|approve|reject|revert|rows|
candidates|decide|edit``: the dataset lifecycle from the command line."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from ogcrm.auth.principal import system_principal
from ogcrm.cli._common import database, settings_of
from ogcrm.cli._progress import meter
from ogcrm.db.session import Database

#: who the command line acts as in the audit log
CLI = system_principal("cli")


@click.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--source", "source_name", help="Source name (default: found from the columns).")
@click.option("--approve", is_flag=True, help="Merge into the CRM right away (skip review).")
@click.option("--json", "as_json", is_flag=True, help="Print the dataset as JSON.")
@click.pass_context
def import_file(
    ctx: click.Context, file: Path, source_name: str | None, approve: bool, as_json: bool
) -> None:
    """Import FILE: store it, read, clean and stage its rows for review.

    The same bytes for the same source are the same dataset: a second import says so
    and changes nothing. A file that cannot be read becomes a failed dataset with the
    file, row, column and reason, and the command exits 1.
    """
    from ogcrm.datasets.service import import_now
    from ogcrm.datasets.summary import summary

    settings = settings_of(ctx)
    with database(ctx) as db, meter(file.name) as progress:
        received = import_now(
            db,
            CLI,
            file,
            data_dir=settings.data_dir,
            source=source_name,
            approve=approve,
            progress=progress,
        )
        with db.read() as session:
            out = summary(session, received.dataset_id)
    out["already_imported"] = received.already_imported
    if as_json:
        click.echo(json.dumps(out, default=str))
    else:
        _print_dataset(out)
    if out["state"] == "failed":
        raise SystemExit(1)


def _print_dataset(d: dict[str, Any]) -> None:
    if d.get("already_imported"):
        click.echo(f"{d['filename']}: already imported as dataset #{d['id']}; nothing changed")
    click.echo(f"dataset #{d['id']} {d['filename']} [{d['source']}]: {d['state']}")
    if d["error"]:
        click.echo(f"  error: {d['error']}")
        return
    click.echo(
        f"  rows read {d['rows_read']:,} = clean {d['clean']:,} + fixed {d['fixed']:,} + "
        f"quarantined {d['quarantined']:,} + duplicates {d['duplicates']:,}"
    )
    preview = d.get("preview") or {}
    if preview:
        click.echo(
            "  approving would add "
            + ", ".join(f"{k}s {v['new']:,}" for k, v in preview.items())
            + "; and update where changed "
            + ", ".join(f"{k}s {v['existing']:,}" for k, v in preview.items())
        )
    counts = d.get("counts") or {}
    for kind in ("created", "updated", "not_applied"):
        if counts.get(kind):
            click.echo(
                f"  {kind.replace('_', ' ')}: "
                + ", ".join(f"{k} {v:,}" for k, v in counts[kind].items())
            )
    reverted = counts.get("revert")
    if reverted:
        removed = ", ".join(f"{k} {v:,}" for k, v in reverted["entities_removed"].items())
        click.echo(
            f"  reverted: {reverted['fields_reverted']:,} fields; removed {removed or 'nothing'}; "
            f"{reverted['conflicts']:,} conflicts left alone"
        )
    for issue in d.get("issues", [])[:20]:
        click.echo(
            f"  {issue['severity']:<7} {issue['cleaner']}/{issue['column']}: {issue['count']:,}"
        )


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def datasets(ctx: click.Context, as_json: bool) -> None:
    """List datasets, newest first."""
    from ogcrm.datasets.summary import list_datasets

    with database(ctx) as db, db.read() as session:
        rows = list_datasets(session)
    if as_json:
        click.echo(json.dumps(rows, default=str))
        return
    for d in rows:
        click.echo(
            f"#{d['id']:<5} {d['state']:<16} {d['rows_read']:>9,} rows  {d['source'] or '-':<24} {d['filename']}"
        )


@click.group()
def dataset() -> None:
    """Look at one dataset."""


@dataset.command("show")
@click.argument("dataset_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def dataset_show(ctx: click.Context, dataset_id: int, as_json: bool) -> None:
    """A dataset's state, counts and issues by cleaner and column."""
    from ogcrm.datasets.summary import summary

    with database(ctx) as db, db.read() as session:
        out = summary(session, dataset_id)
    if as_json:
        click.echo(json.dumps(out, default=str))
    else:
        _print_dataset(out)


def _dataset_action(
    ctx: click.Context, dataset_id: int, as_json: bool, action: Callable[[Database], Any]
) -> None:
    """Run ``action(db)`` on one dataset and print the dataset as it then is."""
    from ogcrm.datasets.summary import summary

    with database(ctx) as db:
        extra = action(db)
        with db.read() as session:
            out = summary(session, dataset_id)
    if isinstance(extra, dict) and "conflicts" in extra:
        out["revert"] = extra
    if as_json:
        click.echo(json.dumps(out, default=str))
        return
    _print_dataset(out)
    for conflict in out.get("revert", {}).get("conflicts", []):
        click.echo(
            f"  conflict: {conflict['entity']} {conflict['id']} {conflict['field']}: {conflict['reason']}"
        )


@dataset.command("approve")
@click.argument("dataset_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def dataset_approve(ctx: click.Context, dataset_id: int, as_json: bool) -> None:
    """Approve a dataset awaiting review and merge it into the CRM (one transaction),
    then rescore the organizations it touched."""
    from ogcrm.datasets.service import merge_now

    with meter(f"dataset #{dataset_id}") as progress:
        _dataset_action(
            ctx, dataset_id, as_json, lambda db: merge_now(db, CLI, dataset_id, progress=progress)
        )


@dataset.command("reject")
@click.argument("dataset_id", type=int)
@click.option("--reason", default="", help="Why (kept with the dataset).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def dataset_reject(ctx: click.Context, dataset_id: int, reason: str, as_json: bool) -> None:
    """Reject a dataset awaiting review; its staged rows stay for the record."""
    from ogcrm.datasets import lifecycle

    def reject(db: Database) -> None:
        with db.unit_of_work() as session:
            lifecycle.reject(session, CLI, dataset_id, reason=reason)

    _dataset_action(ctx, dataset_id, as_json, reject)


@dataset.command("retry")
@click.argument("dataset_id", type=int)
@click.option(
    "--lease",
    type=float,
    default=None,
    help="Take over a dataset processing since longer than this many seconds "
    "(default OGCRM_JOB_LEASE; 0: now, when you know nothing is working it).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def dataset_retry(ctx: click.Context, dataset_id: int, lease: float | None, as_json: bool) -> None:
    """Process a dataset again here: one whose job never ran, or one left processing by a
    killed process (``ogcrm import`` after kill -9), on any set-up."""
    from ogcrm.datasets.service import retry_now

    def retry(db: Database) -> None:
        config = db.settings
        retry_now(
            db,
            dataset_id,
            data_dir=config.data_dir,
            lease=config.job_lease if lease is None else lease,
        )

    _dataset_action(ctx, dataset_id, as_json, retry)


@dataset.command("revert")
@click.argument("dataset_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def dataset_revert(ctx: click.Context, dataset_id: int, as_json: bool) -> None:
    """Undo a merged dataset's changes; fields changed since are reported, not touched."""
    from ogcrm.datasets.service import revert_now

    _dataset_action(ctx, dataset_id, as_json, lambda db: revert_now(db, CLI, dataset_id))


@dataset.command("rows")
@click.argument("dataset_id", type=int)
@click.option(
    "--outcome", type=click.Choice(["clean", "fixed", "quarantined", "duplicate"]), default=None
)
@click.option(
    "--after", "after_row", default=0, show_default=True, help="Last row of the previous page."
)
@click.option("--limit", default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def dataset_rows(
    ctx: click.Context,
    dataset_id: int,
    outcome: str | None,
    after_row: int,
    limit: int,
    as_json: bool,
) -> None:
    """Page through a dataset's staged rows with each row's corrections."""
    from dataclasses import asdict

    from ogcrm.datasets import review

    with database(ctx) as db, db.read() as session:
        page = review.rows(session, dataset_id, outcome=outcome, after_row=after_row, limit=limit)
    if as_json:
        click.echo(json.dumps([asdict(r) for r in page], default=str))
        return
    for r in page:
        click.echo(f"row {r.row_number} [{r.outcome}]")
        for column, issues in r.issues.items():
            for i in issues:
                click.echo(
                    f"    {column}: {i['original']!r} -> {i['corrected']!r}  ({i['severity']}: {i['message']})"
                )


@dataset.command("candidates")
@click.argument("dataset_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def dataset_candidates(ctx: click.Context, dataset_id: int, as_json: bool) -> None:
    """Operator names that resemble a known organization: confirm or deny each with
    `ogcrm dataset decide`."""
    from dataclasses import asdict

    from ogcrm.datasets import review

    with database(ctx) as db, db.read() as session:
        found = review.candidates(session, dataset_id)
    if as_json:
        click.echo(json.dumps([asdict(c) for c in found]))
        return
    for c in found:
        click.echo(
            f"{c.name!r} ({c.rows} rows) ~ {c.organization_name!r} #{c.organization_id}: {c.reason}"
        )


@dataset.command("decide")
@click.argument("name")
@click.argument("other")
@click.argument("verdict", type=click.Choice(["same", "different"]))
@click.option("--note", default="")
@click.pass_context
def dataset_decide(ctx: click.Context, name: str, other: str, verdict: str, note: str) -> None:
    """Say whether two organization names are one company; every later import reuses it."""
    from ogcrm.datasets.matching import record_decision
    from ogcrm.db.models import MatchVerdict

    with database(ctx) as db, db.unit_of_work() as session:
        record_decision(session, CLI, name, other, MatchVerdict(verdict), note=note)
    click.echo(
        f"recorded: {name!r} and {other!r} are {'the same company' if verdict == 'same' else 'different companies'}"
    )


@dataset.command("edit")
@click.argument("dataset_id", type=int)
@click.argument("row_number", type=int)
@click.argument("values", nargs=-1, required=True, metavar="FIELD=VALUE...")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def dataset_edit(
    ctx: click.Context, dataset_id: int, row_number: int, values: tuple[str, ...], as_json: bool
) -> None:
    """Fix a quarantined row by hand; the values are cleaned again on save."""
    from dataclasses import asdict

    from ogcrm.datasets import review

    pairs = dict(v.partition("=")[::2] for v in values)
    with database(ctx) as db, db.unit_of_work() as session:
        row = review.edit_row(session, CLI, dataset_id, row_number, pairs)
    if as_json:
        click.echo(json.dumps(asdict(row), default=str))
    else:
        click.echo(f"row {row.row_number}: {row.outcome}")
