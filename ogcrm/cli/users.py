"""``ogcrm user create|bootstrap|set-password``."""

from __future__ import annotations

import sys

import click

from ogcrm.cli._common import database


@click.group()
def user() -> None:
    """Manage users."""


def _read_password(prompt: bool) -> str:
    if prompt:
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)  # type: ignore[no-any-return]
    return sys.stdin.readline().rstrip("\r\n")


@user.command("create")
@click.option("--email", required=True, help="Login e-mail address.")
@click.option("--name", required=True, help="Display name.")
@click.option(
    "--role", required=True, help="admin, manager, analyst, sales, viewer, or a custom role."
)
@click.pass_context
def user_create(ctx: click.Context, email: str, name: str, role: str) -> None:
    """Create a user. The password is prompted for on a terminal, read from stdin otherwise."""
    from ogcrm.auth.users import create_user

    password = _read_password(sys.stdin.isatty())
    with database(ctx, check_schema=False) as db, db.unit_of_work() as session:
        created = create_user(session, email=email, name=name, role=role, password=password)
        click.echo(f"created user {created.id} <{created.email}> with role {role}")


@user.command("bootstrap")
@click.option("--email", required=True, help="The first admin's login e-mail address.")
@click.option("--name", required=True, help="Display name.")
@click.pass_context
def user_bootstrap(ctx: click.Context, email: str, name: str) -> None:
    """Create the first admin of a new installation (refused once any user exists).

    The password is prompted for on a terminal, read from stdin otherwise. A new
    installation has no users and no default password.
    """
    from ogcrm.auth.users import bootstrap_admin

    password = _read_password(sys.stdin.isatty())
    with database(ctx, check_schema=False) as db, db.unit_of_work() as session:
        created = bootstrap_admin(session, email=email, name=name, password=password)
        click.echo(f"created admin {created.id} <{created.email}>")


@user.command("set-password")
@click.argument("email")
@click.pass_context
def user_set_password(ctx: click.Context, email: str) -> None:
    """Set EMAIL's password (a forgotten one: the current one is not asked); every
    session of theirs ends. Prompted for on a terminal, read from stdin otherwise."""
    from ogcrm.auth.principal import system_principal
    from ogcrm.auth.users import set_password

    password = _read_password(sys.stdin.isatty())
    with database(ctx) as db, db.unit_of_work() as session:
        changed = set_password(session, system_principal("cli"), email=email, password=password)
        click.echo(f"password set for <{changed.email}>; their sessions have ended")
