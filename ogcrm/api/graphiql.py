"""GraphiQL served by ogcrm itself, so it works on a machine without internet.

Strawberry's GraphiQL page loads React and GraphiQL from unpkg.com; offline it stays a
blank "Loading...". The same files, taken from npm (``scripts/vendor-graphiql``), ship in
the package under ``static/graphiql``; the page is Strawberry's own with each CDN address
pointed at them. The subresource-integrity hashes of the page still hold: the files are
byte for byte the ones unpkg serves.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

from starlette.middleware.gzip import GZipMiddleware
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp
from strawberry.http.ides import get_graphql_ide_html

#: Where the page finds its scripts and styles.
STATIC_PATH = "/graphiql/static"
_ASSETS = Path(__file__).parent / "static" / "graphiql"

#: unpkg address (package@version/path) -> the vendored file.
_FILES = {
    "react@18.2.0/umd/react.production.min.js": "react.production.min.js",
    "react-dom@18.2.0/umd/react-dom.production.min.js": "react-dom.production.min.js",
    "js-cookie@3.0.5/dist/js.cookie.min.js": "js.cookie.min.js",
    "graphiql@3.8.3/graphiql.min.css": "graphiql.min.css",
    "graphiql@3.8.3/graphiql.min.js": "graphiql.min.js",
    "@graphiql/plugin-explorer@1.0.2/dist/style.css": "plugin-explorer.css",
    "@graphiql/plugin-explorer@1.0.2/dist/index.umd.js": "plugin-explorer.umd.js",
}
_CDN = re.compile(r"https://unpkg\.com/([^\"'\s]+)")
#: Strawberry's welcome text, which the page opens on when no query is in its address.
_EXAMPLE = re.compile(r"const EXAMPLE_QUERY = `.*?`;", re.DOTALL)
#: What the page opens on instead: sign in, then the rep's working list.
START_DOCUMENT = Path(__file__).with_name("start.graphql")


class UnknownAsset(RuntimeError):
    """Strawberry's page names a file that is not vendored (it moved to a new GraphiQL):
    run ``scripts/vendor-graphiql`` with the new versions."""


@functools.cache
def graphiql_html() -> str:
    """Strawberry's GraphiQL page with every CDN address served from ``STATIC_PATH``,
    opening on ogcrm's start document (a ``?q=`` in the address still wins)."""

    def local(match: re.Match[str]) -> str:
        name = _FILES.get(match.group(1))
        if name is None or not (_ASSETS / name).is_file():
            raise UnknownAsset(f"GraphiQL asset {match.group(1)!r} is not vendored")
        return f"{STATIC_PATH}/{name}"

    page = _CDN.sub(local, get_graphql_ide_html(graphql_ide="graphiql"))
    start = START_DOCUMENT.read_text(encoding="utf-8")
    literal = start.replace("\\", "\\\\").replace("`", "\\`").replace("${", "\\${")
    page, found = _EXAMPLE.subn(lambda _: f"const EXAMPLE_QUERY = `{literal}`;", page, count=1)
    if not found:
        raise UnknownAsset("Strawberry's GraphiQL page no longer has EXAMPLE_QUERY")
    return page


def static_assets() -> ASGIApp:
    """The vendored files, compressed for browsers that accept it (3.5 MB of script
    becomes about 1 MB on the wire)."""
    return GZipMiddleware(StaticFiles(directory=_ASSETS), minimum_size=1024)
