"""``ogcrm db upgrade|downgrade|status``: the schema, migrated by Alembic only."""

from __future__ import annotations

import sys

import click

from ogcrm.cli._common import settings_of


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
