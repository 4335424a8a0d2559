"""``ogcrm export-schema``: the GraphQL SDL the code exports, or a check of a file against it."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("export-schema")
@click.option(
    "--check",
    "check_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Compare with this file instead of printing; exit 1 when they differ.",
)
def export_schema(check_path: Path | None) -> None:
    """Print the GraphQL schema (SDL), or check a file against it."""
    from ogcrm.api.schema import export_sdl

    sdl = export_sdl()
    if check_path is None:
        click.echo(sdl, nl=False)
        return
    current = check_path.read_text(encoding="utf-8") if check_path.exists() else ""
    if current != sdl:
        raise click.ClickException(
            f"{check_path} differs from the schema the code exports; "
            f"run `ogcrm export-schema > {check_path}`"
        )
    click.echo(f"{check_path} matches the code")
