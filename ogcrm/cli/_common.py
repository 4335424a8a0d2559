"""What every command shares: the settings of this invocation, opening the database (and
refusing one whose schema is behind), and turning a domain error into the one line a
user can act on (exit status 1).

Commands hold no logic: they parse options, call the same services as the API, and
print. Every command that touches the database goes through :func:`database`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

from ogcrm.config import ConfigError, Settings
from ogcrm.db.session import Database
from ogcrm.errors import DomainError


class CliState:
    """Lazily built per-invocation state, so ``--help`` never touches a database."""

    def __init__(self, overrides: dict[str, Any]) -> None:
        self.overrides = overrides
        self._settings: Settings | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            try:
                self._settings = Settings.from_env(**self.overrides)
            except ConfigError as exc:
                raise click.ClickException(str(exc)) from None
        return self._settings


def settings_of(ctx: click.Context) -> Settings:
    """This invocation's settings (environment, ``.env``, then the global flags)."""
    state: CliState = ctx.ensure_object(CliState)
    return state.settings


def require_schema_at_head(settings: Settings, *, upgrade: bool) -> None:
    """Refuse a database whose schema is behind, or bring it up to date (``upgrade``)."""
    from ogcrm.db import migrate
    from ogcrm.db.session import create_db_engine

    engine = create_db_engine(settings.database_url, application_name="ogcrm-migrate")
    try:
        status = migrate.schema_status(engine)
        if status.at_head:
            return
        if upgrade:
            migrate.upgrade(engine)
            click.echo(f"database upgraded to {migrate.schema_status(engine).head}", err=True)
            return
    finally:
        engine.dispose()
    where = "is empty" if status.empty else f"is at {', '.join(status.current)}"
    raise click.ClickException(
        f"the database {where}, this ogcrm needs {status.head}. "
        "Run `ogcrm db upgrade` first (or start with `ogcrm serve --upgrade`)."
    )


@contextmanager
def database(ctx: click.Context, *, check_schema: bool = True) -> Iterator[Database]:
    """The configured database for one command, disposed of afterwards; a domain error
    raised inside becomes a one-line error (exit 1)."""
    settings = settings_of(ctx)
    if check_schema:
        require_schema_at_head(settings, upgrade=False)
    db = Database(settings, application_name="ogcrm-cli")
    try:
        yield db
    except DomainError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        db.dispose()


def require_readable_data(settings: Settings) -> None:
    """Refuse to start over encrypted contact details without the key to read them."""
    from ogcrm.db.keys import refuse_without_key

    db = Database(settings, application_name="ogcrm-cli")
    try:
        refuse_without_key(db)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        db.dispose()
