"""``ogcrm sniff``, ``plugins``, ``sources``, ``fields`` and ``clean``: files, plugins and the
cleaner chain, with nothing stored."""

from __future__ import annotations

import json
from pathlib import Path

import click


@click.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--rows", default=5, show_default=True, type=int, help="Rows to preview.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def sniff(file: Path, rows: int, as_json: bool) -> None:
    """Detect a file's format from its content and preview its first rows.

    Exits non-zero with the reason when the file cannot be read.
    """
    from ogcrm.pipeline.detect import describe_file
    from ogcrm.pipeline.errors import ReaderError
    from ogcrm.plugins import default_registry

    try:
        result = describe_file(file, default_registry(), rows=rows)
    except ReaderError as exc:
        raise click.ClickException(str(exc)) from None
    result = {"file": str(file), **result}
    if as_json:
        click.echo(json.dumps(result, default=str))
        return
    click.echo(
        f"{file}: {result['format']} (reader {result['reader']}, "
        f"confidence {result['confidence']:.2f})"
    )
    if result["encoding"]:
        click.echo(f"encoding:  {result['encoding']}")
    for key, value in result["details"].items():
        click.echo(f"{key + ':':<10} {value!r}")
    click.echo(f"columns:   {', '.join(result['columns'])}")
    for i, row in enumerate(result["preview"], 1):
        click.echo(f"  {i}: " + " | ".join("" if v is None else str(v) for v in row.values()))


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def plugins(as_json: bool) -> None:
    """List loaded plugins and the readers, cleaners and scorers each provides."""
    from ogcrm.plugins import default_registry

    registry = default_registry()
    rows = []
    for info in registry.plugins:
        provides = sorted(
            f"{kind}:{name}" for (kind, name), by in registry.provided_by.items() if by == info.name
        )
        rows.append(
            {
                "plugin": info.name,
                "from": info.origin,
                "module": info.module,
                "provides": provides,
                "error": info.error,
            }
        )
    if as_json:
        click.echo(json.dumps(rows))
        return
    for row in rows:
        status = (
            f"FAILED: {row['error']}" if row["error"] else ", ".join(row["provides"]) or "(nothing)"
        )
        click.echo(f"{row['plugin']}  [{row['from']}]  {status}")


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def sources(as_json: bool) -> None:
    """List the sources (agency dataset kinds): reader, state, mapped fields, cleaners."""
    from ogcrm.auth.principal import system_principal
    from ogcrm.datasets.catalog import sources as all_sources

    rows = all_sources(system_principal("cli"))
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
    from ogcrm.datasets.catalog import fields as all_fields

    rows = all_fields()
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
    from ogcrm.datasets.dry_run import dry_run
    from ogcrm.errors import DomainError
    from ogcrm.pipeline.errors import ReaderError
    from ogcrm.pipeline.mapping import MappingError

    try:
        result = dry_run(
            file,
            source=source_name,
            state=state,
            mapping=_mapping_overrides(overrides),
            examples=examples,
        )
    except (ReaderError, MappingError, DomainError) as exc:
        raise click.ClickException(str(exc)) from None
    counts, issues = result["counts"], result["issues"]
    if as_json:
        click.echo(json.dumps(result, default=str))
        return
    click.echo(f"{file}: source {result['source']} ({result['title']})")
    if result["source"] == "generic":
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


def _mapping_overrides(overrides: tuple[str, ...]) -> dict[str, str | None]:
    """``FIELD=COLUMN`` pairs (``FIELD=`` removes a field), each field a canonical one."""
    from ogcrm.pipeline.fields import BY_NAME

    mapping: dict[str, str | None] = {}
    for item in overrides:
        field, sep, column = item.partition("=")
        if not sep or field not in BY_NAME:
            raise click.BadParameter(
                f"{item!r}: expected FIELD=COLUMN with a field from `ogcrm fields`",
                param_hint="--map",
            )
        mapping[field] = column or None
    return mapping
