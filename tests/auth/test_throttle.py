"""Login throttling per account and per address, shared across API processes via Redis."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from ogcrm.api.app import create_app
from ogcrm.config import Settings
from ogcrm.db.models import AuditEvent
from ogcrm.db.session import Database
from tests.conftest import TEST_REDIS_URL

LOGIN = "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { __typename ... on RateLimited { retryAfter message } } }"


def _attempt(
    client: TestClient, email: str, password: str = "wrong password", **headers: str
) -> dict:
    response = client.post(
        "/graphql", json={"query": LOGIN, "variables": {"e": email, "p": password}}, headers=headers
    )
    return response.json()["data"]["login"]


class TestPerAccount:
    def test_the_sixth_attempt_in_a_minute_is_throttled_with_a_clear_error(
        self, client: TestClient, db: Database, users
    ):
        user = users.create("sales")
        results = [_attempt(client, user.email) for _ in range(5)]
        assert {r["__typename"] for r in results} == {"AuthenticationError"}
        throttled = _attempt(client, user.email, password=user.password)  # even the right password
        assert throttled["__typename"] == "RateLimited"
        assert throttled["retryAfter"] >= 1
        assert "too many login attempts" in throttled["message"]
        with db.read() as s:
            assert s.scalars(
                select(AuditEvent.action).where(AuditEvent.action == "login_throttled")
            ).all() == ["login_throttled"]

    def test_throttling_one_account_leaves_others_alone(self, client: TestClient, users):
        victim, other = users.create("sales"), users.create("sales")
        for _ in range(6):
            _attempt(client, victim.email)
        assert _attempt(client, other.email, password=other.password)["__typename"] == "AuthPayload"

    def test_failures_from_one_address_do_not_lock_the_owner_out_elsewhere(
        self, settings: Settings, db: Database, users
    ):
        """Finding 9 of the outside attack: anyone who knew a rep's e-mail could keep
        them out by failing five times a minute."""
        from ogcrm.auth import service
        from ogcrm.auth.throttle import LoginThrottle

        rep = users.create("sales")
        settings = settings.with_secret_key()
        throttle = LoginThrottle(settings)

        def login(password: str, address: str) -> str:
            with db.unit_of_work() as s:
                result = service.login(
                    s, settings, throttle, email=rep.email, password=password, client_addr=address
                )
            return type(result).__name__

        attacker, office = "203.0.113.66", "198.51.100.10"
        assert [login("wrong", attacker) for _ in range(6)][-1] == "RateLimited"
        assert login(rep.password, office) == "TokenPair"
        assert login(rep.password, attacker) == "RateLimited"  # the attacker's window holds

    def test_guesses_from_many_addresses_are_bounded_per_account(
        self, settings: Settings, db: Database, users
    ):
        from ogcrm.auth import service
        from ogcrm.auth.throttle import LoginThrottle

        rep = users.create("sales")
        tight = replace(settings, login_rate_per_account_total="8/hour").with_secret_key()
        throttle = LoginThrottle(tight)
        results = []
        for n in range(9):
            with db.unit_of_work() as s:
                result = service.login(
                    s, tight, throttle, email=rep.email, password="wrong",
                    client_addr=f"203.0.113.{n}",
                )  # fmt: skip
            results.append(type(result).__name__)
        assert results[:8] == ["AuthenticationFailed"] * 8 and results[8] == "RateLimited"


class TestPerAddress:
    def test_spraying_many_accounts_from_one_address_is_throttled(
        self, settings: Settings, db: Database
    ):
        tight = replace(settings, login_rate_per_address="10/minute")
        with TestClient(create_app(tight, db=db)) as client:
            results = [_attempt(client, f"user{i}@example.com")["__typename"] for i in range(11)]
        assert results[:10] == ["AuthenticationError"] * 10
        assert results[10] == "RateLimited"

    def test_x_forwarded_for_does_not_reset_the_window(self, settings: Settings, db: Database):
        tight = replace(settings, login_rate_per_address="3/minute")
        with TestClient(create_app(tight, db=db)) as client:
            results = [
                _attempt(client, f"user{i}@example.com", **{"x-forwarded-for": f"10.0.0.{i}"})[
                    "__typename"
                ]
                for i in range(4)
            ]
        assert results[-1] == "RateLimited"


def test_unknown_accounts_cost_a_real_password_check(client: TestClient, monkeypatch):
    import ogcrm.auth.service as service

    calls = []
    real = service.dummy_verify
    monkeypatch.setattr(
        service, "dummy_verify", lambda password: (calls.append(password), real(password))
    )
    assert (
        _attempt(client, "ghost@example.com", "some password")["__typename"]
        == "AuthenticationError"
    )
    assert calls == ["some password"]


@pytest.mark.skipif(not TEST_REDIS_URL, reason="needs Redis: set OGCRM_TEST_REDIS_URL")
def test_windows_are_shared_by_two_api_processes(settings: Settings, db: Database, users):
    """Two app instances (as two uvicorn processes would be) share one Redis window."""
    user = users.create("sales")
    assert settings.redis_url
    with (
        TestClient(create_app(settings, db=db)) as first,
        TestClient(create_app(settings, db=db)) as second,
    ):
        for i in range(5):
            assert (
                _attempt(first if i % 2 else second, user.email)["__typename"]
                == "AuthenticationError"
            )
        assert _attempt(first, user.email)["__typename"] == "RateLimited"
        assert _attempt(second, user.email)["__typename"] == "RateLimited"
