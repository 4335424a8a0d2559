"""Two refreshes of one refresh token at the same moment, on PostgreSQL (finding 3 of the
outside attack: both succeeded and both new tokens kept working, so the token family
forked and reuse detection never fired): one rotates, the other is a replay, and the
session is revoked, so neither new token works."""

from __future__ import annotations

import threading

import pytest

from ogcrm.auth import service
from ogcrm.auth.throttle import LoginThrottle
from ogcrm.db.session import Database


def test_one_refresh_token_used_twice_at_once_revokes_the_session(
    db: Database, users, settings, monkeypatch: pytest.MonkeyPatch
):
    if not settings.database_url.startswith("postgresql"):
        pytest.skip("needs PostgreSQL: SQLite serializes writers before they overlap")
    settings = settings.with_secret_key()
    rep = users.create("sales")
    with db.unit_of_work() as s:
        pair = service.login(
            s, settings, LoginThrottle(settings), email=rep.email, password=rep.password,
            client_addr="198.51.100.7",
        )  # fmt: skip
    assert isinstance(pair, service.TokenPair)
    monkeypatch.setenv("OGCRM_FAILPOINT", "auth.refresh:sleep=1")
    barrier, results = threading.Barrier(2), []

    def refresh() -> None:
        barrier.wait()
        with db.unit_of_work() as s:
            results.append(
                service.refresh(s, settings, token=pair.refresh_token, client_addr="198.51.100.7")
            )

    threads = [threading.Thread(target=refresh) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    rotated = [r for r in results if isinstance(r, service.TokenPair)]
    replayed = [r for r in results if not isinstance(r, service.TokenPair)]
    assert len(rotated) == 1 and [r.reason for r in replayed] == ["reuse"]
    monkeypatch.delenv("OGCRM_FAILPOINT")
    with db.unit_of_work() as s:  # the winner's new token belongs to a revoked session
        again = service.refresh(s, settings, token=rotated[0].refresh_token, client_addr=None)
    assert not isinstance(again, service.TokenPair) and again.reason == "revoked"
