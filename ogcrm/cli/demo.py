"""``ogcrm demo``: the embedded default with generated demo data, then served."""

from __future__ import annotations

import json

import click

from ogcrm.cli._common import database, require_schema_at_head, settings_of
from ogcrm.cli.server import serve


@click.command()
@click.option(
    "--organizations", default=200, show_default=True, type=int, help="Generated accounts."
)
@click.option(
    "--serve/--no-serve", "serve_after", default=True, help="Start the server afterwards."
)
@click.option("--port", default=8000, show_default=True, type=int)
@click.pass_context
def demo(ctx: click.Context, organizations: int, serve_after: bool, port: int) -> None:
    """Set up the embedded default with generated demo data, then serve it.

    Creates ./ogcrm.db (or OGCRM_DATABASE_URL), migrates it, adds generated organizations
    once (a second run keeps what is there), prints a sample query and starts the server.
    """
    from ogcrm.accounts.demo import seed_demo

    settings = settings_of(ctx).with_secret_key()
    require_schema_at_head(settings, upgrade=True)
    with database(ctx) as db, db.unit_of_work() as session:
        summary = seed_demo(session, organizations=organizations)
    logins = summary.pop("logins", {})
    click.echo(json.dumps(summary))
    if logins:
        click.echo("Demo users (passwords shown once):")
        for email, password in logins.items():
            click.echo(f"  {email}  {password}")
    click.echo(
        f"Open http://127.0.0.1:{port}/graphql, sign in with the `login` mutation and send "
        "the accessToken as `Authorization: Bearer <token>`."
    )
    if serve_after:
        ctx.invoke(serve, host="127.0.0.1", port=port, workers=1, upgrade=False)
