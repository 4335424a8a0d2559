"""The ``ogcrm`` command line.

Every command reads the same settings (``OGCRM_*`` variables, ``.env``); flags override
them for one run. Errors a user can fix exit with status 1 and one line saying how.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

import click

import ogcrm
from ogcrm.config import ConfigError, Settings
from ogcrm.services.errors import DomainError


class _Obj:
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


def _settings(ctx: click.Context) -> Settings:
    return ctx.ensure_object(_Obj).settings  # type: ignore[no-any-return]


def open_database(ctx: click.Context) -> Any:
    """The configured database, refusing one whose schema is behind (the caller
    disposes of it)."""
    from ogcrm.db.session import Database

    settings = _settings(ctx)
    _require_schema_at_head(settings, upgrade=False)
    return Database(settings, application_name="ogcrm-cli")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(ogcrm.__version__, prog_name="ogcrm")
@click.option(
    "--database-url",
    envvar=None,
    help="SQLAlchemy URL; overrides OGCRM_DATABASE_URL (default: sqlite file ./ogcrm.db).",
)
@click.option("--log-level", default=None, help="Logging level (default: INFO).")
@click.pass_context
def main(ctx: click.Context, database_url: str | None, log_level: str | None) -> None:
    """ogcrm: a GraphQL CRM fed by public oil and gas regulatory data."""
    ctx.obj = _Obj({"database_url": database_url, "log_level": log_level})
    logging.basicConfig(
        level=(log_level or "INFO").upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # Alembic narrates every step at INFO; the commands below report the outcome.
    logging.getLogger("alembic").setLevel(logging.WARNING)


# --------------------------------------------------------------------------- db


@main.group()
def db() -> None:
    """Create and migrate the database schema (Alembic)."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Target revision.")
@click.pass_context
def db_upgrade(ctx: click.Context, revision: str) -> None:
    """Bring the database schema up to date (creates an empty database's tables)."""
    from ogcrm.db import migrate
    from ogcrm.db.session import create_db_engine

    engine = create_db_engine(_settings(ctx).database_url, application_name="ogcrm-migrate")
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
    engine = create_db_engine(_settings(ctx).database_url, application_name="ogcrm-migrate")
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

    engine = create_db_engine(_settings(ctx).database_url, application_name="ogcrm-migrate")
    try:
        status = migrate.schema_status(engine)
    finally:
        engine.dispose()
    click.echo(f"current: {', '.join(status.current) or 'base (empty)'}")
    click.echo(f"head:    {status.head}")
    if not status.at_head:
        click.echo("run `ogcrm db upgrade` to migrate")
        sys.exit(1)


# --------------------------------------------------------------------------- serve


def _require_schema_at_head(settings: Settings, *, upgrade: bool) -> None:
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


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option("--port", default=8000, show_default=True, type=int, help="TCP port.")
@click.option("--workers", default=1, show_default=True, type=int, help="uvicorn processes.")
@click.option(
    "--upgrade/--no-upgrade",
    default=False,
    help="Apply pending migrations before starting instead of refusing to start.",
)
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, workers: int, upgrade: bool) -> None:
    """Serve GraphQL at /graphql (GraphiQL in a browser) and health at /healthz.

    Refuses to start while the database schema is behind, unless --upgrade is given:
    several API processes must not race to migrate one database.
    """
    import uvicorn

    settings = _settings(ctx).with_secret_key()
    _require_schema_at_head(settings, upgrade=upgrade)
    if workers > 1 and not settings.uses_redis:
        raise click.ClickException(
            "--workers > 1 needs OGCRM_REDIS_URL: the in-process job broker and pub/sub "
            "cannot be shared between processes"
        )
    # uvicorn's processes build the app from the environment: hand them this run's
    # overrides that way.
    os.environ["OGCRM_DATABASE_URL"] = settings.database_url
    click.echo(f"ogcrm {ogcrm.__version__} on http://{host}:{port}/graphql", err=True)
    uvicorn.run(
        "ogcrm.api.asgi:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=settings.log_level.lower(),
        # X-Forwarded-For is believed only from the proxies named in the settings.
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=settings.trusted_proxies or None,
    )


# --------------------------------------------------------------------------- worker


@main.command()
@click.option("--processes", "-p", default=2, show_default=True, type=int, help="Worker processes.")
@click.option(
    "--threads", "-t", default=4, show_default=True, type=int, help="Threads per process."
)
@click.pass_context
def worker(ctx: click.Context, processes: int, threads: int) -> None:
    """Run Dramatiq worker processes on Redis (OGCRM_REDIS_URL).

    Without Redis there is nothing to run here: `ogcrm serve` works jobs in-process.
    """
    from dramatiq.cli import main as dramatiq_main
    from dramatiq.cli import make_argument_parser

    settings = _settings(ctx)
    if not settings.uses_redis:
        raise click.ClickException(
            "ogcrm worker needs OGCRM_REDIS_URL; without Redis, `ogcrm serve` runs jobs in-process"
        )
    args = make_argument_parser().parse_args(
        [
            "ogcrm.jobs.worker_entry:setup",
            "ogcrm.jobs.actors",
            "--processes",
            str(processes),
            "--threads",
            str(threads),
        ]
    )
    sys.exit(dramatiq_main(args))


@main.command()
@click.option(
    "--lease",
    type=click.IntRange(min=0),
    default=None,
    help="Seconds a dataset may wait for its job before it is re-sent [OGCRM_JOB_LEASE].",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def reconcile(ctx: click.Context, lease: int | None, as_json: bool) -> None:
    """Send again the jobs of datasets that have waited too long (a lost message).

    Workers and `ogcrm serve` do this every OGCRM_RECONCILE_EVERY seconds on their own;
    this runs one pass now.
    """
    import datetime as dt

    from ogcrm.jobs.broker import build_broker
    from ogcrm.jobs.outbox import reconcile as reconcile_jobs

    settings = _settings(ctx)
    if not settings.uses_redis:
        raise click.ClickException(
            "without OGCRM_REDIS_URL jobs live inside `ogcrm serve`, which re-sends them itself"
        )
    db = open_database(ctx)
    try:
        seconds = settings.job_lease if lease is None else lease
        resent = reconcile_jobs(db, build_broker(settings), lease=dt.timedelta(seconds=seconds))
    finally:
        db.dispose()
    if as_json:
        click.echo(json.dumps(resent))
    else:
        click.echo(
            f"re-sent: process {resent['process'] or 'none'}, merge {resent['merge'] or 'none'}"
        )


# --------------------------------------------------------------------------- user


@main.group()
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
    from ogcrm.db.session import Database
    from ogcrm.services.users import create_user

    password = _read_password(sys.stdin.isatty())
    db = Database(_settings(ctx), application_name="ogcrm-cli")
    try:
        with db.unit_of_work() as session:
            created = create_user(session, email=email, name=name, role=role, password=password)
            click.echo(f"created user {created.id} <{created.email}> with role {role}")
    except DomainError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        db.dispose()


@user.command("bootstrap")
@click.option("--email", required=True, help="The first admin's login e-mail address.")
@click.option("--name", required=True, help="Display name.")
@click.pass_context
def user_bootstrap(ctx: click.Context, email: str, name: str) -> None:
    """Create the first admin of a new installation (refused once any user exists).

    The password is prompted for on a terminal, read from stdin otherwise. A new
    installation has no users and no default password.
    """
    from ogcrm.db.session import Database
    from ogcrm.services.users import bootstrap_admin

    password = _read_password(sys.stdin.isatty())
    db = Database(_settings(ctx), application_name="ogcrm-cli")
    try:
        with db.unit_of_work() as session:
            created = bootstrap_admin(session, email=email, name=name, password=password)
            click.echo(f"created admin {created.id} <{created.email}>")
    except DomainError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        db.dispose()


# --------------------------------------------------------------------------- schema


@main.command("export-schema")
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


# --------------------------------------------------------------------------- files


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--rows", default=5, show_default=True, type=int, help="Rows to preview.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def sniff(file: Path, rows: int, as_json: bool) -> None:
    """Detect a file's format from its content and preview its first rows.

    Exits non-zero with the reason when the file cannot be read.
    """
    from ogcrm.pipeline.detect import read_file, sniff_file
    from ogcrm.pipeline.errors import ReaderError
    from ogcrm.plugins import default_registry

    registry = default_registry()
    try:
        verdict = sniff_file(file, registry)
        preview: list[dict[str, object]] = []
        columns: list[str] = []
        sheet = None
        for chunk in read_file(file, registry, sniff=verdict, chunk_rows=max(rows, 1)):
            columns = [str(c) for c in chunk.frame.columns]
            sheet = chunk.sheet
            frame = chunk.frame.head(rows - len(preview))
            preview += [
                {k: (None if v is None or v != v else v) for k, v in rec.items()}
                for rec in frame.to_dict(orient="records")
            ]
            if len(preview) >= rows:
                break
    except ReaderError as exc:
        raise click.ClickException(str(exc)) from None
    details = dict(verdict.details)
    result = {
        "file": str(file),
        "format": verdict.format,
        "reader": verdict.reader,
        "confidence": verdict.confidence,
        "encoding": details.pop("encoding", None),
        **({"sheet": sheet} if sheet else {}),
        "details": {k: v for k, v in details.items() if k != "columns"},
        "columns": columns,
        "preview": preview,
    }
    if as_json:
        click.echo(json.dumps(result, default=str))
        return
    click.echo(
        f"{file}: {verdict.format} (reader {verdict.reader}, confidence {verdict.confidence:.2f})"
    )
    if result["encoding"]:
        click.echo(f"encoding:  {result['encoding']}")
    for key, value in result["details"].items():
        click.echo(f"{key + ':':<10} {value!r}")
    click.echo(f"columns:   {', '.join(columns)}")
    for i, row in enumerate(preview, 1):
        click.echo(f"  {i}: " + " | ".join("" if v is None else str(v) for v in row.values()))


@main.command()
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


# --------------------------------------------------------------------------- demo


@main.command()
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
    from ogcrm.db.session import Database
    from ogcrm.services.demo import seed_demo

    settings = _settings(ctx).with_secret_key()
    _require_schema_at_head(settings, upgrade=True)
    db = Database(settings, application_name="ogcrm-cli")
    try:
        with db.unit_of_work() as session:
            summary = seed_demo(session, organizations=organizations)
    finally:
        db.dispose()
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


def _register_subcommands() -> None:
    """Commands that live beside the code they drive, to keep this module small."""
    from ogcrm.pipeline.cli import clean, dataset, datasets, fields, import_file, sources
    from ogcrm.rules.cli import features, rescore, rules

    for command in (
        sources,
        fields,
        clean,
        import_file,
        datasets,
        dataset,
        features,
        rules,
        rescore,
    ):
        main.add_command(command)


_register_subcommands()


if __name__ == "__main__":  # pragma: no cover
    main()
