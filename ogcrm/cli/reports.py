"""``ogcrm report list|save|run|delete`` and ``ogcrm kpi``: the API's reports and KPIs
from the command line, charts rendered offline."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

import click

from ogcrm.auth.principal import Principal, system_principal
from ogcrm.cli._common import database

FORMATS = ["csv", "xlsx", "json", "png", "svg"]


def _principal(session: Any, as_user: str | None) -> Principal:
    from ogcrm.auth.users import acting_as

    return acting_as(session, as_user) if as_user else system_principal("cli")


def _period(start: dt.datetime | None, end: dt.datetime | None) -> Any:
    from ogcrm.reports.definitions import Period

    return Period(start.date() if start else None, end.date() if end else None)


def _write(data: bytes, output: Path | None) -> None:
    if output is None:
        sys.stdout.buffer.write(data)
        return
    output.write_bytes(data)
    click.echo(f"{len(data):,} bytes written to {output}", err=True)


def _emit(result: Any, fmt: str, output: Path | None) -> None:
    from ogcrm.reports import charts

    if fmt in ("png", "svg"):
        _write(charts.render(result.chart, fmt), output)
        return
    document = {
        "title": result.title,
        "columns": [{"name": c.name, "label": c.label, "role": c.role} for c in result.columns],
        "rows": result.rows,
        "truncated": result.truncated,
        "chart": result.chart,
    }
    _write((json.dumps(document, indent=2) + "\n").encode("utf-8"), output)


_AS = click.option("--as", "as_user", metavar="EMAIL", help="Run as this user, in their scope.")
_START = click.option("--from", "start", type=click.DateTime(["%Y-%m-%d"]), help="Period start.")
_END = click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), help="Period end (included).")
_OUT = click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path))


@click.group("report")
def report() -> None:
    """Saved reports: definitions over the report catalog."""


@report.command("list")
@_AS
@click.pass_context
def report_list(ctx: click.Context, as_user: str | None) -> None:
    """The reports you may read."""
    from ogcrm.reports.definitions import list_reports

    with database(ctx) as db, db.read() as session:
        for r in list_reports(session, _principal(session, as_user)):
            click.echo(
                f"#{r.id:<5} {r.name}{'  (shared)' if r.shared else ''}  [{r.definition['subject']}]"
            )


@report.command("save")
@click.argument("name")
@click.argument("definition", type=click.File("r"))
@click.option("--description", default="")
@click.option("--shared", is_flag=True, help="Let every user read it.")
@_AS
@click.pass_context
def report_save(
    ctx: click.Context,
    name: str,
    definition: Any,
    description: str,
    shared: bool,
    as_user: str | None,
) -> None:
    """Save DEFINITION (a JSON file, or - for standard input) as report NAME."""
    from ogcrm.errors import NotFound
    from ogcrm.reports.definitions import find_report, save_report

    try:
        data = json.load(definition)
    except json.JSONDecodeError as exc:
        raise click.ClickException(f"the definition is not JSON: {exc}") from None
    with database(ctx) as db, db.unit_of_work() as session:
        principal = _principal(session, as_user)
        try:
            existing: int | None = find_report(session, principal, name).id
        except NotFound:
            existing = None  # a new report
        row = save_report(session, principal, name=name, definition=data, description=description,
                          shared=shared, report_id=existing)  # fmt: skip
        click.echo(f"report #{row.id} {row.name!r} saved")


@report.command("run")
@click.argument("name")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="json", show_default=True)
@_OUT
@_START
@_END
@_AS
@click.pass_context
def report_run(
    ctx: click.Context,
    name: str,
    fmt: str,
    output: Path | None,
    start: dt.datetime | None,
    end: dt.datetime | None,
    as_user: str | None,
) -> None:
    """Run report NAME (or its id): rows as CSV, XLSX or JSON, or its chart as PNG or SVG."""
    from ogcrm.reports import exports, streams
    from ogcrm.reports.definitions import find_report, get_report, parse
    from ogcrm.reports.run import run

    with database(ctx) as db, db.read() as session:
        principal = _principal(session, as_user)
        row = (
            get_report(session, principal, int(name))
            if name.isdigit()
            else find_report(session, principal, name)
        )
        if fmt in ("csv", "xlsx"):
            pairs = {"report": [str(row.id)]}
            if start:
                pairs["start"] = [start.date().isoformat()]
            if end:
                pairs["end"] = [end.date().isoformat()]
            planned = exports.plan(session, principal, exports.ExportKind.REPORT, pairs)
            data = b"".join(streams.write(session, planned, exports.Format(fmt)))
            _write(data, output)
            return
        result = run(
            session, principal, parse(row.definition), period=_period(start, end), title=row.name
        )
    _emit(result, fmt, output)


@report.command("delete")
@click.argument("name")
@_AS
@click.pass_context
def report_delete(ctx: click.Context, name: str, as_user: str | None) -> None:
    """Delete report NAME (or its id)."""
    from ogcrm.reports.definitions import delete_report, find_report

    with database(ctx) as db, db.unit_of_work() as session:
        principal = _principal(session, as_user)
        report_id = int(name) if name.isdigit() else find_report(session, principal, name).id
        delete_report(session, principal, report_id)
    click.echo(f"report #{report_id} deleted")


@click.command("kpi")
@click.argument("name", required=False)
@click.option(
    "--format", "fmt", type=click.Choice(["json", "png", "svg"]), default="json", show_default=True
)
@_OUT
@_START
@_END
@_AS
@click.pass_context
def kpi(
    ctx: click.Context,
    name: str | None,
    fmt: str,
    output: Path | None,
    start: dt.datetime | None,
    end: dt.datetime | None,
    as_user: str | None,
) -> None:
    """Show KPI NAME (without NAME: list them)."""
    from ogcrm.reports import kpis

    if name is None:
        for k in kpis.KPIS.values():
            click.echo(f"{k.name:<30} {k.description}")
        click.echo(f"{kpis.MOVERS:<30} Accounts whose priority moved most in the last 30 days.")
        return
    with database(ctx) as db, db.read() as session:
        result = kpis.kpi(session, _principal(session, as_user), name, period=_period(start, end))
    _emit(result, fmt, output)
