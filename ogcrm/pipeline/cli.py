"""``ogcrm sources``, ``ogcrm fields`` and ``ogcrm clean``: sources and the cleaner
chain from the command line (registered on the main group by :mod:`ogcrm.cli`)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def sources(as_json: bool) -> None:
    """List the sources (agency dataset kinds): reader, state, mapped fields, cleaners."""
    from ogcrm.plugins import default_registry

    registry = default_registry()
    rows = [
        {
            "name": spec.name,
            "title": spec.title,
            "agency": spec.agency,
            "state": spec.state,
            "reader": spec.reader,
            "fields": {f: spec.raw_column(f) for f in spec.mapping},
            "cleaners": list(spec.cleaners),
            "precedence": spec.precedence,
            "plugin": registry.provided_by[("source", spec.name)],
        }
        for spec in registry.sources.values()
    ]
    if as_json:
        click.echo(json.dumps(rows))
        return
    for row in rows:
        click.echo(
            f"{row['name']:<26} {row['title']}  [{row['reader']}, {row['state'] or '-'}, "
            f"{len(row['fields'])} fields]"
        )


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def fields(as_json: bool) -> None:
    """List the canonical fields sources map their columns to."""
    from ogcrm.pipeline.fields import FIELDS

    rows = [
        {
            "name": f.name,
            "entity": f.entity,
            "kind": f.kind,
            "unit": f.unit,
            "description": f.description,
        }
        for f in FIELDS
    ]
    if as_json:
        click.echo(json.dumps(rows))
        return
    for row in rows:
        click.echo(f"{row['name']:<22} {row['entity']:<13} {row['kind']:<20} {row['description']}")


@click.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--source", "source_name", help="Source name (default: found from the columns).")
@click.option("--state", help="USPS state the file implies, for a generic source.")
@click.option(
    "--map",
    "overrides",
    multiple=True,
    metavar="FIELD=COLUMN",
    help="Map a canonical field to a column (repeatable); edits the suggested mapping.",
)
@click.option("--examples", default=3, show_default=True, help="Corrections shown per issue kind.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def clean(
    file: Path,
    source_name: str | None,
    state: str | None,
    overrides: tuple[str, ...],
    examples: int,
    as_json: bool,
) -> None:
    """Run a source's cleaner chain over FILE without storing anything.

    Prints the outcome counts (read = clean + fixed + quarantined + duplicate) and every
    kind of correction with examples. A file of no known source gets the mapping
    suggested from its header, which is printed so it can be put in a source.
    """
    from collections import defaultdict

    from ogcrm.pipeline.cleaning import CleanRun
    from ogcrm.pipeline.detect import read_file, sniff_file
    from ogcrm.pipeline.errors import ReaderError
    from ogcrm.pipeline.mapping import MappingError, generic_source, match_source
    from ogcrm.plugins import default_registry

    registry = default_registry()
    try:
        if source_name:
            if source_name not in registry.sources:
                raise click.ClickException(
                    f"unknown source {source_name!r}; `ogcrm sources` lists them"
                )
            spec = registry.sources[source_name]
        else:
            verdict = sniff_file(file, registry)
            head = next(read_file(file, registry, sniff=verdict, chunk_rows=50))
            columns = [str(c) for c in head.frame.columns]
            spec = match_source(columns, registry.sources) or generic_source(columns, state=state)
        if overrides:
            spec = _edited_mapping(spec, overrides)
        run = CleanRun(spec, registry, file.name)
        samples: dict[tuple[str, str, str, str], list[dict[str, object]]] = defaultdict(list)
        for cleaned in run.clean_all(read_file(file, registry, options=dict(spec.reader_options))):
            for rec in cleaned.issues.itertuples(index=False):
                key = (rec.cleaner, rec.column, rec.severity, rec.message)
                if len(samples[key]) < examples:
                    samples[key].append(
                        {"row": int(rec.row), "original": rec.original, "corrected": rec.corrected}
                    )
    except (ReaderError, MappingError) as exc:
        raise click.ClickException(str(exc)) from None
    counts = {
        k: int(run.counts.get(k, 0))
        for k in ("rows_read", "clean", "fixed", "quarantined", "duplicate")
    }
    issues = [
        {
            "cleaner": c,
            "column": col,
            "severity": sev,
            "message": msg,
            "count": run.issue_counts[(c, col, sev, msg)],
            "examples": ex,
        }
        for (c, col, sev, msg), ex in samples.items()
    ]
    result = {
        "file": str(file),
        "source": spec.name,
        "mapping": {f: spec.raw_column(f) for f in spec.mapping},
        "counts": counts,
        "issues": issues,
    }
    if as_json:
        click.echo(json.dumps(result, default=str))
        return
    click.echo(f"{file}: source {spec.name} ({spec.title})")
    if spec.name == "generic":
        click.echo(
            "suggested mapping: " + ", ".join(f"{f}={c!r}" for f, c in result["mapping"].items())
        )
    click.echo(
        "rows read {rows_read:,} = clean {clean:,} + fixed {fixed:,} + quarantined "
        "{quarantined:,} + duplicate {duplicate:,}".format(**counts)
    )
    for issue in issues:
        click.echo(
            f"  {issue['severity']:<7} {issue['cleaner']}/{issue['column']}: {issue['message']}"
        )
        for ex in issue["examples"]:
            click.echo(f"      row {ex['row']}: {ex['original']!r} -> {ex['corrected']!r}")


def _edited_mapping(spec: Any, overrides: tuple[str, ...]) -> Any:
    """The source with ``FIELD=COLUMN`` pairs applied (``FIELD=`` removes a field)."""
    from dataclasses import replace

    from ogcrm.pipeline.fields import BY_NAME

    mapping = dict(spec.mapping)
    for item in overrides:
        field, sep, column = item.partition("=")
        if not sep or field not in BY_NAME:
            raise click.BadParameter(
                f"{item!r}: expected FIELD=COLUMN with a field from `ogcrm fields`",
                param_hint="--map",
            )
        if column:
            mapping[field] = column
        else:
            mapping.pop(field, None)
    return replace(spec, mapping=mapping)


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
    from ogcrm.auth.principal import system_principal
    from ogcrm.cli import _settings, open_database
    from ogcrm.services.datasets import process, receive, summary

    settings = _settings(ctx)
    db = open_database(ctx)
    try:
        with db.unit_of_work() as session:
            received = receive(
                session,
                system_principal("cli"),
                file,
                data_dir=settings.data_dir,
                source=source_name,
            )
        if not received.already_imported:
            with db.read() as session:
                from ogcrm.db.models import Dataset, DatasetState

                state = session.get(Dataset, received.dataset_id).state
            if state == DatasetState.RECEIVED:
                with click.progressbar(
                    length=0, label=f"processing {file.name}", show_pos=True, file=sys.stderr
                ) as bar:
                    process(
                        db, received.dataset_id, data_dir=settings.data_dir, progress=bar.update
                    )
            if approve:
                with db.read() as session:
                    ready = session.get(Dataset, received.dataset_id).state
                if ready == DatasetState.AWAITING_REVIEW:
                    _merge(db, received.dataset_id)
        with db.read() as session:
            out = summary(session, received.dataset_id)
    finally:
        db.dispose()
    out["already_imported"] = received.already_imported
    if as_json:
        click.echo(json.dumps(out, default=str))
    else:
        _print_dataset(out)
    if out["state"] == "failed":
        raise SystemExit(1)


def _merge(db: Any, dataset_id: int) -> dict[str, Any]:
    from ogcrm.auth.principal import system_principal
    from ogcrm.services.merge import approve_and_merge

    with db.unit_of_work() as session:
        counts = approve_and_merge(session, system_principal("cli"), dataset_id)
    _rescore_touched(db, dataset_id)
    return counts


def _rescore_touched(db: Any, dataset_id: int) -> None:
    """After a merge, rescore the organizations it touched (when a rule set is active)."""
    from ogcrm.services.merge import touched_organizations
    from ogcrm.services.rules import rescore_after

    with db.unit_of_work() as session:
        touched = touched_organizations(session, dataset_id)
        if touched:
            rescore_after(session, touched, broker=None)


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
    for issue in d.get("issues", [])[:20]:
        click.echo(
            f"  {issue['severity']:<7} {issue['cleaner']}/{issue['column']}: {issue['count']:,}"
        )


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def datasets(ctx: click.Context, as_json: bool) -> None:
    """List datasets, newest first."""
    from ogcrm.cli import open_database
    from ogcrm.services.datasets import list_datasets

    db = open_database(ctx)
    try:
        with db.read() as session:
            rows = list_datasets(session)
    finally:
        db.dispose()
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
    from ogcrm.cli import open_database
    from ogcrm.services.datasets import summary
    from ogcrm.services.errors import NotFound

    db = open_database(ctx)
    try:
        with db.read() as session:
            out = summary(session, dataset_id)
    except NotFound as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        db.dispose()
    if as_json:
        click.echo(json.dumps(out, default=str))
    else:
        _print_dataset(out)


def _dataset_action(ctx: click.Context, dataset_id: int, as_json: bool, action: Any) -> None:
    from ogcrm.auth.principal import system_principal
    from ogcrm.cli import open_database
    from ogcrm.services.datasets import summary
    from ogcrm.services.errors import DomainError

    db = open_database(ctx)
    try:
        with db.unit_of_work() as session:
            extra = action(session, system_principal("cli"), dataset_id)
        with db.read() as session:
            out = summary(session, dataset_id)
    except DomainError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        db.dispose()
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
    """Merge a dataset awaiting review into the CRM (one transaction), then rescore the
    organizations it touched."""
    from ogcrm.services.merge import approve_and_merge

    _dataset_action(ctx, dataset_id, as_json, approve_and_merge)
    from ogcrm.cli import open_database

    db = open_database(ctx)
    try:
        _rescore_touched(db, dataset_id)
    finally:
        db.dispose()


@dataset.command("reject")
@click.argument("dataset_id", type=int)
@click.option("--reason", default="", help="Why (kept with the dataset).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def dataset_reject(ctx: click.Context, dataset_id: int, reason: str, as_json: bool) -> None:
    """Reject a dataset awaiting review; its staged rows stay for the record."""
    from ogcrm.services.merge import reject

    _dataset_action(ctx, dataset_id, as_json, lambda s, p, d: reject(s, p, d, reason=reason))


@dataset.command("revert")
@click.argument("dataset_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def dataset_revert(ctx: click.Context, dataset_id: int, as_json: bool) -> None:
    """Undo a merged dataset's changes; fields changed since are reported, not touched."""
    from ogcrm.services.merge import revert

    _dataset_action(ctx, dataset_id, as_json, revert)


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

    from ogcrm.cli import open_database
    from ogcrm.services import review

    db = open_database(ctx)
    try:
        with db.read() as session:
            page = review.rows(
                session, dataset_id, outcome=outcome, after_row=after_row, limit=limit
            )
    finally:
        db.dispose()
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

    from ogcrm.cli import open_database
    from ogcrm.services import review

    db = open_database(ctx)
    try:
        with db.read() as session:
            found = review.candidates(session, dataset_id)
    finally:
        db.dispose()
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
    from ogcrm.auth.principal import system_principal
    from ogcrm.cli import open_database
    from ogcrm.db.models import MatchVerdict
    from ogcrm.services.errors import DomainError
    from ogcrm.services.matching import record_decision

    db = open_database(ctx)
    try:
        with db.unit_of_work() as session:
            record_decision(
                session, system_principal("cli"), name, other, MatchVerdict(verdict), note=note
            )
    except DomainError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        db.dispose()
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

    from ogcrm.auth.principal import system_principal
    from ogcrm.cli import open_database
    from ogcrm.services import review
    from ogcrm.services.errors import DomainError

    pairs = dict(v.partition("=")[::2] for v in values)
    db = open_database(ctx)
    try:
        with db.unit_of_work() as session:
            row = review.edit_row(session, system_principal("cli"), dataset_id, row_number, pairs)
    except DomainError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        db.dispose()
    if as_json:
        click.echo(json.dumps(asdict(row), default=str))
    else:
        click.echo(f"row {row.row_number}: {row.outcome}")
