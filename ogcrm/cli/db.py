"""``ogcrm db upgrade|downgrade|status``: the schema, migrated by Alembic only; and
``ogcrm backup`` / ``ogcrm restore``."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ogcrm.cli._common import settings_of
from ogcrm.errors import DomainError


@click.group()
def db() -> None:
    """Create and migrate the database schema (Alembic)."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Target revision.")
@click.pass_context
def db_upgrade(ctx: click.Context, revision: str) -> None:
    """Bring the database schema up to date (creates an empty database's tables)."""
    from ogcrm.db import migrate
    from ogcrm.db.session import create_db_engine

    engine = create_db_engine(settings_of(ctx).database_url, application_name="ogcrm-migrate")
    try:
        migrate.upgrade(engine, revision)
        click.echo(f"database at {', '.join(migrate.schema_status(engine).current)}")
    finally:
        engine.dispose()


@db.command("downgrade")
@click.option(
    "--revision", default="base", show_default=True, help="Target revision; base = empty."
)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
def db_downgrade(ctx: click.Context, revision: str, yes: bool) -> None:
    """Step the schema back down. Downgrading to base drops every table and its data."""
    from ogcrm.db import migrate
    from ogcrm.db.session import create_db_engine

    if not yes:
        click.confirm(
            f"Downgrade the database to {revision}? Data in dropped tables is lost", abort=True
        )
    engine = create_db_engine(settings_of(ctx).database_url, application_name="ogcrm-migrate")
    try:
        migrate.downgrade(engine, revision)
        current = migrate.schema_status(engine).current
        click.echo(f"database at {', '.join(current) or 'base (empty)'}")
    finally:
        engine.dispose()


@db.command("status")
@click.pass_context
def db_status(ctx: click.Context) -> None:
    """Show the schema revision of the database and the one this ogcrm expects."""
    from ogcrm.db import migrate
    from ogcrm.db.session import create_db_engine

    engine = create_db_engine(settings_of(ctx).database_url, application_name="ogcrm-migrate")
    try:
        status = migrate.schema_status(engine)
    finally:
        engine.dispose()
    click.echo(f"current: {', '.join(status.current) or 'base (empty)'}")
    click.echo(f"head:    {status.head}")
    if not status.at_head:
        click.echo("run `ogcrm db upgrade` to migrate")
        sys.exit(1)


@db.command("grant-app-role")
@click.argument("role")
@click.pass_context
def db_grant_app_role(ctx: click.Context, role: str) -> None:
    """Grant an existing PostgreSQL login ROLE what the application needs and no more
    (run as the tables' owner, after each upgrade). Connect ``serve`` and ``worker`` as
    that role: it cannot alter tables or disable the append-only triggers."""
    from ogcrm.db import migrate
    from ogcrm.db.session import create_db_engine

    engine = create_db_engine(settings_of(ctx).database_url, application_name="ogcrm-migrate")
    try:
        statements = migrate.grant_app_role(engine, role)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        engine.dispose()
    click.echo(f"granted {role}: {len(statements)} statements")


@click.command("backup")
@click.option(
    "--to",
    "to",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Directory for the backup (default: <data dir>/backups).",
)
@click.option("--keep", type=int, default=None, help="Keep only this many newest backups there.")
@click.pass_context
def backup_command(ctx: click.Context, to: Path | None, keep: int | None) -> None:
    """Back the database up into one verified, timestamped file with a manifest (schema
    revision, row counts, checksum): SQLite's online backup, or pg_dump -Fc."""
    from ogcrm.db.backup import backup
    from ogcrm.db.session import create_db_engine

    settings = settings_of(ctx)
    engine = create_db_engine(settings.database_url, application_name="ogcrm-backup")
    try:
        info = backup(engine, to or settings.data_dir / "backups", keep=keep)
    except DomainError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        engine.dispose()
    rows = sum(info.manifest["counts"].values())
    click.echo(f"backed up {rows:,} rows at {', '.join(info.manifest['revision'])} to {info.path}")


@click.command("restore")
@click.argument("file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.pass_context
def restore_command(ctx: click.Context, file: Path) -> None:
    """Restore a backup into the configured database, which must be empty; then check
    its row counts against the backup and that history is still append-only. A backup
    made by a newer ogcrm is refused."""
    from ogcrm.db.backup import restore
    from ogcrm.db.session import create_db_engine

    settings = settings_of(ctx)
    engine = create_db_engine(settings.database_url, application_name="ogcrm-restore")
    try:
        manifest = restore(engine, file)
    except DomainError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        engine.dispose()
    rows = sum(manifest["counts"].values())
    click.echo(
        f"restored {rows:,} rows at {', '.join(manifest['revision'])}; counts match, "
        "history is append-only (run `ogcrm db upgrade` if this ogcrm is newer)"
    )
