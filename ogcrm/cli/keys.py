"""``ogcrm keys new|status|rotate``: the encryption key of contacts' e-mails and phones."""

from __future__ import annotations

import click

from ogcrm.cli._common import database


@click.group("keys")
def keys() -> None:
    """Encryption at rest of contact e-mails and phones (OGCRM_ENCRYPTION_KEY)."""


@keys.command("new")
def keys_new() -> None:
    """Print a fresh key. To rotate, put it first: OGCRM_ENCRYPTION_KEY=NEW,OLD, then run
    `ogcrm keys rotate`, then drop OLD."""
    from ogcrm.db.crypto import new_key

    click.echo(new_key())


@keys.command("status")
@click.pass_context
def keys_status(ctx: click.Context) -> None:
    """How many values are in clear, and how many under each key."""
    from ogcrm.db import keys as protected

    with database(ctx) as db:
        for column, counts in protected.status(db).items():
            parts = ", ".join(f"{k}: {n:,}" for k, n in sorted(counts.items())) or "empty"
            click.echo(f"{column:<26} {parts}")


@keys.command("rotate")
@click.option(
    "--to-clear", is_flag=True, help="Decrypt everything instead (before removing the key)."
)
@click.option("--batch", default=1000, show_default=True, help="Rows per transaction.")
@click.pass_context
def keys_rotate(ctx: click.Context, to_clear: bool, batch: int) -> None:
    """Encrypt every value under the first key of OGCRM_ENCRYPTION_KEY (values in clear
    and values under older keys alike). Safe to stop and run again."""
    from ogcrm.db import keys as protected

    with database(ctx) as db:
        done = protected.rotate(
            db, to_clear=to_clear, batch=batch,
            progress=lambda column, n: click.echo(f"  {column}: {n:,} rewritten", err=True),
        )  # fmt: skip
    for column, n in done.items():
        click.echo(f"{column}: {n:,} {'decrypted' if to_clear else 're-encrypted'}")
