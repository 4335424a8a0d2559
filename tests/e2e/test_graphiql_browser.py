"""GraphiQL renders and runs a query in a real headless Chromium with the internet cut
off: every script and style comes from ogcrm itself.

Chromium is driven over the DevTools protocol with the websocket client the other
end-to-end tests use; every host name but the loopback fails to resolve."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.sync.client import connect

import ogcrm
from ogcrm.api.graphiql import START_DOCUMENT
from tests.e2e.test_server import _serve, _stop
from tests.support import LOGIN, ogcrm_command, subprocess_env, wait_for_http

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="needs Debian's chromium package (apt-get install chromium)"
)


class DevTools:
    def __init__(self, ws_url: str) -> None:
        self.conn = connect(ws_url, max_size=50 * 1024 * 1024, legacy=True)
        self._id = 0

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self._id += 1
        self.conn.send(json.dumps({"id": self._id, "method": method, "params": params}))
        while True:
            message = json.loads(self.conn.recv(timeout=30))
            if message.get("id") == self._id:
                assert "error" not in message, message
                return dict(message["result"])

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 30) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(0.2)
        raise AssertionError(f"timed out waiting for {expression}")


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[DevTools]:
    profile = tmp_path / "chromium"
    proc = subprocess.Popen(
        [
            str(CHROMIUM),
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            f"--user-data-dir={profile}",
            "--remote-debugging-port=0",
            # offline: no host name resolves (unpkg.com, any CDN); the loopback is
            # reached by address
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not port_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        port = int(port_file.read_text().splitlines()[0])
        pages = httpx.get(f"http://127.0.0.1:{port}/json/list", timeout=10).json()
        page = next(p for p in pages if p["type"] == "page")
        tools = DevTools(page["webSocketDebuggerUrl"])
        tools.call("Page.enable")
        tools.call("Runtime.enable")
        yield tools
        tools.conn.close()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_graphiql_loads_offline_and_runs_a_query(database_url, tmp_path, browser, request):
    proc, port = _serve(database_url, tmp_path)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for_http(f"{base}/healthz", proc)
        page = httpx.get(f"{base}/graphql", headers={"accept": "text/html"})
        assert "unpkg.com" not in page.text and "/graphiql/static/graphiql.min.js" in page.text

        query = urllib.parse.quote("{ version }")
        browser.call("Page.navigate", url=f"{base}/graphql?q={query}")
        browser.wait_for("document.querySelector('.graphiql-execute-button') !== null")
        assert "Loading..." not in browser.evaluate("document.body.innerText")
        browser.evaluate("document.querySelector('.graphiql-execute-button').click()")
        result = browser.wait_for(
            "(document.querySelector('.result-window') || {}).innerText || ''"
        )
        deadline = time.monotonic() + 20
        while ogcrm.__version__ not in result and time.monotonic() < deadline:
            time.sleep(0.2)
            result = browser.evaluate("document.querySelector('.result-window').innerText")
        assert '"version"' in result and ogcrm.__version__ in result, result

        shot = browser.call("Page.captureScreenshot", format="png")["data"]
        png = base64.b64decode(shot)
        assert png.startswith(b"\x89PNG") and len(png) > 10_000  # a rendered page, not blank
        (tmp_path / "graphiql.png").write_bytes(png)
    finally:
        _stop(proc)


def _editor(browser: DevTools, pane: str) -> str:
    """The text of GraphiQL's query or variables editor (its first two CodeMirrors)."""
    index = {"query": 0, "variables": 1}[pane]
    return str(
        browser.evaluate(
            "(Array.from(document.querySelectorAll('.CodeMirror'))"
            f"[{index}] || {{}}).CodeMirror?.getValue() || ''"
        )
    )


def test_the_demo_opens_graphiql_on_its_start_query_and_lists_the_reps_accounts(
    database_url, tmp_path, browser
):
    """What ``ogcrm demo`` tells a new user to open: GraphiQL on the start document with
    the rep's sign-in filled in; signed in, the working list shows the demo's ranking."""
    from ogcrm.cli.demo import _start_url

    env = subprocess_env(OGCRM_DATABASE_URL=database_url, OGCRM_DATA_DIR=str(tmp_path))
    made = subprocess.run(
        ogcrm_command("demo", "--no-serve", "--json"),
        env=env, cwd=tmp_path, capture_output=True, text=True, check=False, timeout=240,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr[-2000:]
    summary = json.loads(made.stdout.strip().splitlines()[-1])
    rep, password = "rep1@demo.ogcrm.test", summary["logins"]["rep1@demo.ogcrm.test"]
    proc, port = _serve(database_url, tmp_path)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for_http(f"{base}/healthz", proc)
        browser.call("Page.navigate", url=_start_url(port, rep, password))
        browser.wait_for("document.querySelector('.graphiql-execute-button') !== null")
        deadline = time.monotonic() + 20
        while "query MyWorkingList" not in _editor(browser, "query"):
            assert time.monotonic() < deadline, _editor(browser, "query")
            time.sleep(0.2)
        assert "mutation SignIn" in _editor(browser, "query")
        assert json.loads(_editor(browser, "variables"))["email"] == rep
        shot = base64.b64decode(browser.call("Page.captureScreenshot", format="png")["data"])
        assert shot.startswith(b"\x89PNG") and len(shot) > 10_000
        (tmp_path / "demo-graphiql.png").write_bytes(shot)

        token = httpx.post(
            f"{base}/graphql",
            json={"query": LOGIN, "variables": {"email": rep, "password": password}},
        ).json()["data"]["login"]["accessToken"]
        start = START_DOCUMENT.read_text()
        working_list = start[start.index("query MyWorkingList") :]
        headers = json.dumps({"Authorization": f"Bearer {token}"})
        query = urllib.parse.urlencode(
            {"q": working_list, "headers": headers}, quote_via=urllib.parse.quote
        )
        browser.call("Page.navigate", url=f"{base}/graphql?{query}")
        browser.wait_for("document.querySelector('.graphiql-execute-button') !== null")
        browser.evaluate("document.querySelector('.graphiql-execute-button').click()")
        top = summary["top"][0]["name"]
        deadline = time.monotonic() + 20
        result = ""
        while top not in result and time.monotonic() < deadline:
            time.sleep(0.2)
            result = browser.evaluate(
                "(document.querySelector('.result-window') || {}).innerText || ''"
            )
        assert top in result and '"fresh permits"' in result, result
        (tmp_path / "demo-working-list.png").write_bytes(
            base64.b64decode(browser.call("Page.captureScreenshot", format="png")["data"])
        )
    finally:
        _stop(proc)
