"""The ``ogcrm`` command line: one module per command group, over :mod:`ogcrm.cli._common`.

Every command reads the same settings (``OGCRM_*`` variables, ``.env``); flags override
them for one run. Errors a user can fix exit with status 1 and one line saying how.
"""

from __future__ import annotations

import logging

import click

import ogcrm
from ogcrm.cli import (
    datasets,
    db,
    demo,
    exports,
    files,
    keys,
    priority,
    reports,
    rules,
    schema,
    server,
    users,
)
from ogcrm.cli._common import CliState


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
    ctx.obj = CliState({"database_url": database_url, "log_level": log_level})
    logging.basicConfig(
        level=(log_level or "INFO").upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # Alembic narrates every step at INFO; the commands below report the outcome.
    logging.getLogger("alembic").setLevel(logging.WARNING)


for _command in (
    db.db,
    db.backup_command,
    db.restore_command,
    server.serve,
    server.worker,
    server.reconcile,
    users.user,
    schema.export_schema,
    files.sniff,
    files.plugins,
    files.sources,
    files.fields,
    files.clean,
    datasets.import_file,
    datasets.datasets,
    datasets.dataset,
    exports.export,
    reports.report,
    reports.kpi,
    keys.keys,
    rules.features,
    rules.rules,
    rules.rescore,
    priority.priority,
    demo.demo,
):
    main.add_command(_command)

__all__ = ["main"]
