"""``ogcrm export KIND``: what ``GET /exports/KIND`` streams, written to a file, with a
progress bar on standard error."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ogcrm.auth.principal import system_principal
from ogcrm.cli._common import database


def _pairs(values: tuple[str, ...]) -> dict[str, list[str]]:
    pairs: dict[str, list[str]] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"{item!r} is not NAME=VALUE", param_hint="--filter")
        pairs.setdefault(key.strip(), []).append(value)
    return pairs


@click.command("export")
@click.argument("kind")
@click.option(
    "--filter",
    "filters",
    multiple=True,
    metavar="NAME=VALUE",
    help="Narrow the rows, as the HTTP query string does (county=REEVES, segment=3, "
    "dataset=12); repeat for several.",
)
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "xlsx", "jsonl"]), default="csv", show_default=True
)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option(
    "--as",
    "as_user",
    metavar="EMAIL",
    help="Export what this user may see (default: everything, as the system).",
)
@click.pass_context
def export(
    ctx: click.Context,
    kind: str,
    filters: tuple[str, ...],
    fmt: str,
    output: Path,
    as_user: str | None,
) -> None:
    """Export KIND (organizations, contacts, wells, permits, dataset-rows, dataset-issues)
    to a file. Spreadsheet formulas in text are neutralized in CSV and XLSX."""
    from ogcrm.auth.users import acting_as
    from ogcrm.reports import exports, streams

    pairs = _pairs(filters)
    with database(ctx) as db:
        with db.unit_of_work() as session:
            principal = acting_as(session, as_user) if as_user else system_principal("cli")
            chosen = exports.parse_kind(kind)
            form = exports.parse_format(fmt)
            planned = exports.plan(session, principal, chosen, pairs)
            exports.record(session, principal, planned, form, pairs)
        with db.read() as session:
            total = planned.count(session)
            with click.progressbar(
                length=total,
                label=f"{chosen.value} -> {output.name}",
                file=sys.stderr,
            ) as bar:
                seen = 0

                def advance(done: int) -> None:
                    nonlocal seen
                    bar.update(min(done, total) - seen)
                    seen = min(done, total)

                size = streams.to_file(session, planned, form, output, advance)
    click.echo(f"{total:,} rows, {size:,} bytes written to {output}")
