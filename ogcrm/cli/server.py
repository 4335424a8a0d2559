"""``ogcrm serve``, ``ogcrm worker`` and ``ogcrm reconcile``: the processes that serve the
API and work the jobs."""

from __future__ import annotations

import json
import os
import sys

import click

import ogcrm
from ogcrm.cli._common import (
    database,
    require_readable_data,
    require_schema_at_head,
    settings_of,
)


@click.command()
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

    settings = settings_of(ctx).with_secret_key()
    require_schema_at_head(settings, upgrade=upgrade)
    require_readable_data(settings)
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


@click.command()
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

    settings = settings_of(ctx)
    if not settings.uses_redis:
        raise click.ClickException(
            "ogcrm worker needs OGCRM_REDIS_URL; without Redis, `ogcrm serve` runs jobs in-process"
        )
    require_readable_data(settings)
    args = make_argument_parser().parse_args(
        [
            "ogcrm.worker:setup",
            "ogcrm.worker",
            "--processes",
            str(processes),
            "--threads",
            str(threads),
        ]
    )
    sys.exit(dramatiq_main(args))


@click.command()
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

    from ogcrm.jobs.reconciler import reconcile as reconcile_jobs
    from ogcrm.worker import build_broker

    settings = settings_of(ctx)
    if not settings.uses_redis:
        raise click.ClickException(
            "without OGCRM_REDIS_URL jobs live inside `ogcrm serve`, which re-sends them itself"
        )
    with database(ctx) as db:
        seconds = settings.job_lease if lease is None else lease
        resent = reconcile_jobs(db, build_broker(settings), lease=dt.timedelta(seconds=seconds))
    if as_json:
        click.echo(json.dumps(resent))
    else:
        click.echo(
            f"re-sent: process {resent['process'] or 'none'}, merge {resent['merge'] or 'none'}"
        )
