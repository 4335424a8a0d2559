"""Helpers for tests that start ogcrm processes."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
from starlette.testclient import TestClient


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def subprocess_env(**extra: str) -> dict[str, str]:
    """Environment for an ``ogcrm`` child process: this one minus OGCRM_* plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OGCRM_")}
    env.update(extra)
    return env


def worker_env(settings: Any, data_dir: Path, *, heartbeat_ms: int, **extra: str) -> dict[str, str]:
    """What a test's `ogcrm worker` needs: the test's database, Redis, keys, and a broker
    that notices a dead worker quickly."""
    from tests.conftest import TEST_REDIS_URL, TEST_SECRET_KEY

    return subprocess_env(
        OGCRM_REDIS_URL=TEST_REDIS_URL,
        OGCRM_DATABASE_URL=settings.database_url,
        OGCRM_DATA_DIR=str(data_dir),
        OGCRM_SECRET_KEY=TEST_SECRET_KEY,
        OGCRM_INSTANCE_NAME=settings.instance_name,
        OGCRM_JOB_HEARTBEAT_TIMEOUT_MS=str(heartbeat_ms),
        OGCRM_JOB_MAINTENANCE_CHANCE="1000000",
        **extra,
    )


def spawn_worker(env: dict[str, str]) -> subprocess.Popen:
    """A real `ogcrm worker` (one process, one thread) in its own process group, so a
    test can kill it and its children with ``os.killpg``."""
    return subprocess.Popen(
        ogcrm_command("worker", "--processes", "1", "--threads", "1"),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def ogcrm_command(*args: str) -> list[str]:
    """The installed ``ogcrm`` console script of this interpreter's environment."""
    script = Path(sys.executable).with_name("ogcrm")
    return [str(script), *args]


def wait_for_http(
    url: str, proc: subprocess.Popen[bytes], *, timeout: float = 30.0
) -> httpx.Response:
    """Poll ``url`` until the server answers; fail with the server's output if it died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            out = proc.stdout.read().decode() if proc.stdout else ""
            raise AssertionError(f"server exited with {proc.returncode}:\n{out}")
        try:
            return httpx.get(url, timeout=2)
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError(f"{url} did not answer within {timeout}s")


LOGIN = """
mutation Login($email: String!, $password: String!) {
  login(email: $email, password: $password) {
    __typename
    ... on AuthPayload { accessToken refreshToken expiresAt user { id email role } }
    ... on UserError { message }
    ... on RateLimited { retryAfter }
  }
}
"""


def gql(client: TestClient, query: str, *, token: str | None = None, **variables) -> dict:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    response = client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    assert response.status_code == 200, response.text
    return response.json()


def login(client: TestClient, user: Any, password: str | None = None) -> dict:
    """The login mutation's result for ``user``."""
    return gql(client, LOGIN, email=user.email, password=password or user.password)["data"]["login"]


def token_for(client: TestClient, user: Any) -> str:
    result = login(client, user)
    assert result["__typename"] == "AuthPayload", result
    return result["accessToken"]


def global_id(type_name: str, row_id: int) -> str:
    """The Relay global id the API gives a row (what every id argument takes)."""
    import base64

    return base64.b64encode(f"{type_name}:{row_id}".encode()).decode()


def user_gid(user: Any) -> str:
    return global_id("User", user.id)


class PostgresWireCounter:
    """A TCP proxy in front of PostgreSQL that counts the statements the server
    receives, read off the wire protocol: each simple ``Query`` ('Q') and each extended
    ``Execute`` ('E') is one statement, whatever the driver or ORM above thought it
    sent (pings, BEGIN and COMMIT included). Point a database URL at :attr:`url`
    (SSL and GSS encryption off, so the messages can be read).
    """

    def __init__(self, upstream_url: str) -> None:
        import threading

        from sqlalchemy.engine import make_url

        upstream = make_url(upstream_url)
        self._upstream = (upstream.host or "127.0.0.1", upstream.port or 5432)
        self._server = socket.socket()
        self._server.bind(("127.0.0.1", 0))
        self._server.listen()
        port = self._server.getsockname()[1]
        self.url = upstream.set(
            host="127.0.0.1",
            port=port,
            query={**upstream.query, "sslmode": "disable", "gssencmode": "disable"},
        ).render_as_string(hide_password=False)
        self.statements: list[str] = []
        self._lock = threading.Lock()
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def reset(self) -> None:
        with self._lock:
            self.statements.clear()

    def snapshot(self) -> list[str]:
        with self._lock:
            return list(self.statements)

    def close(self) -> None:
        self._closed = True
        self._server.close()

    def _accept(self) -> None:
        import threading

        while not self._closed:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            server = socket.create_connection(self._upstream)
            threading.Thread(target=self._pump_up, args=(client, server), daemon=True).start()
            threading.Thread(target=self._pump_down, args=(server, client), daemon=True).start()

    @staticmethod
    def _read(sock: socket.socket, n: int) -> bytes:
        out = b""
        while len(out) < n:
            chunk = sock.recv(n - len(out))
            if not chunk:
                raise ConnectionError
            out += chunk
        return out

    def _pump_up(self, client: socket.socket, server: socket.socket) -> None:
        import struct

        try:
            head = self._read(client, 4)  # the startup message has no type byte
            (length,) = struct.unpack("!i", head)
            server.sendall(head + self._read(client, length - 4))
            pending_sql = ""
            while True:
                kind = self._read(client, 1)
                head = self._read(client, 4)
                (length,) = struct.unpack("!i", head)
                body = self._read(client, length - 4)
                if kind == b"Q":
                    self._note(body.rstrip(b"\0").decode(errors="replace"))
                elif kind == b"P":  # Parse: statement name, then its text
                    name_end = body.index(b"\0")
                    pending_sql = body[name_end + 1 : body.index(b"\0", name_end + 1)].decode(
                        errors="replace"
                    )
                elif kind == b"E":
                    self._note(pending_sql or "<a statement prepared earlier>")
                    pending_sql = ""
                server.sendall(kind + head + body)
        except (ConnectionError, OSError, ValueError):
            pass
        finally:
            for sock in (client, server):
                with contextlib.suppress(OSError):
                    sock.close()

    def _note(self, sql: str) -> None:
        with self._lock:
            self.statements.append(" ".join(sql.split())[:200])

    @staticmethod
    def _pump_down(server: socket.socket, client: socket.socket) -> None:
        try:
            while chunk := server.recv(65536):
                client.sendall(chunk)
        except OSError:
            pass
        finally:
            for sock in (client, server):
                with contextlib.suppress(OSError):
                    sock.close()


@contextlib.contextmanager
def serving(database_url: str, data_dir: Path, instance_name: str, **extra: str) -> Iterator[str]:
    """A real `ogcrm serve` on a free port (and, with Redis, a real `ogcrm worker`
    beside it, as in production); yields its base URL and stops both after."""
    import os
    import signal

    from tests.conftest import TEST_REDIS_URL, TEST_SECRET_KEY

    port = free_port()
    env = subprocess_env(
        OGCRM_DATABASE_URL=database_url,
        OGCRM_DATA_DIR=str(data_dir),
        OGCRM_REDIS_URL=TEST_REDIS_URL,
        OGCRM_SECRET_KEY=TEST_SECRET_KEY,
        OGCRM_INSTANCE_NAME=instance_name,
        **extra,
    )
    proc = subprocess.Popen(
        ogcrm_command("serve", "--port", str(port)),
        env=env,
        cwd=data_dir,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    worker = spawn_worker(env) if TEST_REDIS_URL else None  # PostgreSQL + Redis: a real one
    try:
        wait_for_http(f"http://127.0.0.1:{port}/healthz", proc)
        yield f"http://127.0.0.1:{port}"
    finally:
        if worker is not None:
            os.killpg(worker.pid, signal.SIGTERM)
            worker.wait(timeout=30)
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


@contextlib.contextmanager
def request_statements(engine: Any) -> Iterator[list[str]]:
    """The statements the driver runs for in-process requests while the block runs
    (threads named "AnyIO worker thread": the embedded app's reconciler and job threads
    may query meanwhile)."""
    import threading

    from sqlalchemy import event

    seen: list[str] = []

    def capture(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if threading.current_thread().name.startswith("AnyIO worker thread"):
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", capture)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", capture)


def at_once(
    db: Any, calls: Sequence[Callable[[Any], Any]], refusal: type[Exception]
) -> tuple[list[Any], list[Exception]]:
    """Run each ``call(session)`` in its own thread and unit of work, all released at
    once by a barrier (race tests; a failpoint holds each between its read and its
    write). What the calls returned, and the ``refusal`` errors they raised; any other
    error fails the thread, so the test sees it was not refused."""
    barrier, done, refused = threading.Barrier(len(calls)), [], []

    def one(call: Callable[[Any], Any]) -> None:
        barrier.wait()
        try:
            with db.unit_of_work() as s:
                done.append(call(s))
        except refusal as exc:  # the refusal the test is about
            refused.append(exc)

    threads = [threading.Thread(target=one, args=(c,)) for c in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return done, refused
