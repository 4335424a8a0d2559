"""``ogcrm demo``: the embedded default set up through the product's own flows, then served."""

from __future__ import annotations

import json
import sys
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ogcrm.cli._common import database, require_schema_at_head, settings_of
from ogcrm.cli.server import serve

if TYPE_CHECKING:  # the demo package is imported when the command runs
    from ogcrm.demo.seed import Summary


class _Terminal:
    """Progress bars on stderr (plain lines when it is not a terminal)."""

    def step(self, text: str) -> None:
        click.echo(f"- {text}", err=True)

    def bar(self, label: str, total: int) -> AbstractContextManager[Callable[[int], None]]:
        @contextmanager
        def drawn() -> Iterator[Callable[[int], None]]:
            with click.progressbar(
                length=max(total, 1), label=label, file=sys.stderr, show_eta=True
            ) as bar:
                yield bar.update

        return drawn()


def _start_url(port: int, email: str | None, password: str | None) -> str:
    url = f"http://127.0.0.1:{port}/graphql"
    if email and password:
        variables = json.dumps({"email": email, "password": password, "first": 10})
        # %20, not +: the page decodes its address with decodeURIComponent
        url += "?" + urllib.parse.urlencode({"variables": variables}, quote_via=urllib.parse.quote)
    return url


def _print(summary: Summary, port: int) -> None:
    echo = click.echo
    if summary.imports:
        echo("\nImported through the pipeline (upload, job, review, approval, merge):")
        echo(f"  {'file':<20} {'source':<18} {'rows':>5} {'fixed':>6} {'quarantined':>11} "
             f"{'duplicates':>10}  state")  # fmt: skip
        for i in summary.imports:
            echo(f"  {i.filename:<20} {i.source or '-':<18} {i.rows:>5} {i.corrections:>6} "
                 f"{i.quarantined:>11} {i.duplicates:>10}  {i.state}")  # fmt: skip
            echo(f"  {'':<20} planted: {'; '.join(i.dirt)}")
        if summary.decision:
            echo(f"  match decision by the analyst: {summary.decision}")
        echo(f"  the files (and the rule set, rules.json) are in {summary.samples}")
    echo("\nTop five accounts under the rule set 'Demo priorities', and why:")
    for n, top in enumerate(summary.top, 1):
        why = ", ".join(f"{rule} +{value:g}" for rule, value in top["why"]) or "no rule holds"
        owner = top["owner"] or "unowned"
        echo(f"  {n}. {top['name']} ({top['priority']:g}, {owner}): {why}")
    echo("\nDemo users:")
    for user in summary.users:
        password = summary.logins.get(user["email"])
        shown = password if password else "(set before; ogcrm demo --reset-passwords)"
        echo(f"  {user['role']:<8} {user['email']:<26} {shown}")
    rep = next((u["email"] for u in summary.users if u["email"].startswith("rep1")), None)
    echo("\nOpen GraphiQL on the rep's start query (sign in first, then the working list):")
    echo(f"  {_start_url(port, rep, summary.logins.get(rep or ''))}")
    echo("Every flow's operation is in graphql/operations/; the README has a five-minute tour.")


@click.command()
@click.option(
    "--serve/--no-serve", "serve_after", default=True, help="Start the server afterwards."
)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option(
    "--samples",
    "samples_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the generated sample files go (default: demo-files in the data directory).",
)
@click.option(
    "--reset-passwords", is_flag=True, help="Give the demo users new passwords and print them."
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.pass_context
def demo(
    ctx: click.Context,
    serve_after: bool,
    port: int,
    samples_dir: Path | None,
    reset_passwords: bool,
    as_json: bool,
) -> None:
    """Set up the embedded default with a demo, then serve it.

    Creates ./ogcrm.db (or OGCRM_DATABASE_URL) and migrates it; writes four sample agency
    files (fixed-width permits, a CSV well list, XLSX production, an XML operator
    directory, each with dirt) and imports them through the real pipeline; activates a
    rule set; adds a user per role with their week's sales work; prints what was
    imported, the top five accounts and why, the users and where to start. A second run
    keeps what is there. Then serves http://127.0.0.1:PORT/graphql.
    """
    from ogcrm.demo import seed

    settings = settings_of(ctx).with_secret_key()
    require_schema_at_head(settings, upgrade=True)
    with database(ctx) as db:
        summary = seed.run(
            db,
            settings,
            samples_dir=samples_dir or settings.data_dir / "demo-files",
            reporter=None if as_json else _Terminal(),
        )
        if reset_passwords:
            summary.logins = seed.reset_passwords(db)
    if as_json:
        click.echo(json.dumps(asdict(summary), default=str))
    else:
        _print(summary, port)
    if serve_after:
        ctx.invoke(serve, host="127.0.0.1", port=port, workers=1, upgrade=False)
