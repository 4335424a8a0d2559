"""Helpers for tests that start ogcrm processes."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
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
