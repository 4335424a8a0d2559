"""Forged, tampered, expired, revoked tokens: each refused with a clear error, and audited."""

from __future__ import annotations

import base64
import datetime as dt
import json

import jwt
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from sqlalchemy import select
from starlette.testclient import TestClient

from ogcrm.auth.tokens import AUDIENCE, ISSUER, decode_access_token, issue_access_token
from ogcrm.db.models import AuditEvent
from ogcrm.db.session import Database
from ogcrm.errors import AuthenticationFailed
from tests.conftest import TEST_SECRET_KEY
from tests.support import login

ME = "{ me { email } }"


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


@pytest.fixture
def session_tokens(client: TestClient, users) -> dict:
    result = login(client, users.create("sales"))
    assert result["__typename"] == "AuthPayload"
    return result


def _claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def _forge(valid: str, kind: str) -> str:
    claims = _claims(valid)
    now = dt.datetime.now(dt.UTC)
    if kind == "alg_none":
        return f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."
    if kind == "alg_hs512":
        return jwt.encode(claims, TEST_SECRET_KEY, algorithm="HS512")
    if kind == "alg_rs256_header":
        header, payload, signature = valid.split(".")
        return f"{_b64({'alg': 'RS256', 'typ': 'JWT'})}.{payload}.{signature}"
    if kind == "tampered_payload":
        header, _, signature = valid.split(".")
        return f"{header}.{_b64({**claims, 'sub': '1'})}.{signature}"
    if kind == "wrong_key":
        return jwt.encode(claims, "another-secret-key-" + "y" * 32, algorithm="HS256")
    if kind == "expired":
        return jwt.encode(
            {**claims, "exp": now - dt.timedelta(seconds=5)}, TEST_SECRET_KEY, algorithm="HS256"
        )
    if kind == "not_yet_valid":
        return jwt.encode(
            {**claims, "nbf": now + dt.timedelta(hours=1)}, TEST_SECRET_KEY, algorithm="HS256"
        )
    if kind in ("missing_exp", "missing_jti"):
        trimmed = {k: v for k, v in claims.items() if k != kind.removeprefix("missing_")}
        return jwt.encode(trimmed, TEST_SECRET_KEY, algorithm="HS256")
    if kind == "wrong_audience":
        return jwt.encode({**claims, "aud": "someone-else"}, TEST_SECRET_KEY, algorithm="HS256")
    if kind == "wrong_issuer":
        return jwt.encode({**claims, "iss": "evil"}, TEST_SECRET_KEY, algorithm="HS256")
    if kind == "refresh_as_access":
        return jwt.encode({**claims, "typ": "refresh"}, TEST_SECRET_KEY, algorithm="HS256")
    if kind == "garbage":
        return "not.a.jwt"
    raise AssertionError(kind)


FORGERIES = {
    "alg_none": ("alg_none", "unsigned tokens are not accepted"),
    "alg_hs512": ("bad_algorithm", "algorithm 'HS512' is not accepted"),
    "alg_rs256_header": ("bad_algorithm", "algorithm 'RS256' is not accepted"),
    "tampered_payload": ("bad_signature", "signature does not verify"),
    "wrong_key": ("bad_signature", "signature does not verify"),
    "expired": ("expired", "expired"),
    "not_yet_valid": ("not_yet_valid", "not valid yet"),
    "missing_exp": ("missing_claim", "claim 'exp' is missing"),
    "missing_jti": ("missing_claim", "claim 'jti' is missing"),
    "wrong_audience": ("wrong_audience", "wrong audience"),
    "wrong_issuer": ("wrong_issuer", "wrong issuer"),
    "refresh_as_access": ("wrong_type", "not an access token"),
    "garbage": ("malformed", "not a JWT"),
}


def _segments(token: str) -> list[bytes] | None:
    try:
        return [
            base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)) for part in token.split(".")
        ]
    except ValueError:
        return None


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
@pytest.mark.parametrize("kind", FORGERIES)
def test_forged_tokens_are_refused_clearly_and_audited(
    client: TestClient, db: Database, session_tokens: dict, kind: str
):
    reason, message = FORGERIES[kind]
    forged = _forge(session_tokens["accessToken"], kind)
    response = client.post(
        "/graphql", json={"query": ME}, headers={"authorization": f"Bearer {forged}"}
    )
    assert response.status_code == 401
    assert message in response.text
    with db.read() as s:
        refused = s.scalars(select(AuditEvent).where(AuditEvent.action == "token_refused")).all()
    assert [e.details["reason"] for e in refused] == [reason]
    assert refused[0].client_addr == "testclient"


def test_the_genuine_token_works(client: TestClient, session_tokens: dict):
    response = client.post(
        "/graphql",
        json={"query": ME},
        headers={"authorization": f"Bearer {session_tokens['accessToken']}"},
    )
    assert response.json()["data"]["me"]["email"] == session_tokens["user"]["email"]


def test_a_revoked_token_is_refused_on_the_next_request(
    client: TestClient, db: Database, session_tokens: dict
):
    headers = {"authorization": f"Bearer {session_tokens['accessToken']}"}
    assert (
        client.post(
            "/graphql", json={"query": "mutation { logout { __typename } }"}, headers=headers
        ).status_code
        == 200
    )
    response = client.post("/graphql", json={"query": ME}, headers=headers)
    assert response.status_code == 401
    assert "revoked" in response.text
    with db.read() as s:
        reasons = [
            e.details["reason"]
            for e in s.scalars(select(AuditEvent).where(AuditEvent.action == "token_refused"))
        ]
    assert reasons == ["revoked"]


def test_authorization_header_must_be_bearer(client: TestClient, session_tokens: dict):
    response = client.post(
        "/graphql",
        json={"query": ME},
        headers={"authorization": f"Basic {session_tokens['accessToken']}"},
    )
    assert response.status_code == 401
    assert "Bearer" in response.text


VALID, _ = issue_access_token(
    TEST_SECRET_KEY, user_id=7, session_id=3, token_version=0, ttl=dt.timedelta(days=1)
)


class TestDecoding:
    def _valid(self) -> str:
        return VALID

    def test_claims_round_trip(self):
        claims = decode_access_token(TEST_SECRET_KEY, self._valid())
        assert (claims.user_id, claims.session_id, claims.token_version) == (7, 3, 0)
        raw = _claims(self._valid())
        assert raw["aud"] == AUDIENCE and raw["iss"] == ISSUER and raw["sub"] == "7"

    @hsettings(
        max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
    )
    @given(data=st.data())
    def test_any_byte_flip_is_refused(self, data):
        token = bytearray(self._valid().encode())
        index = data.draw(st.integers(0, len(token) - 1))
        replacement = data.draw(st.integers(0, 255).filter(lambda b: b != token[index]))
        token[index] = replacement
        mutated = token.decode("latin-1")
        if _segments(mutated) == _segments(VALID):
            return  # the flip hit base64 padding bits: the same token, not a tampered one
        with pytest.raises(AuthenticationFailed):
            decode_access_token(TEST_SECRET_KEY, mutated)


def test_refused_tokens_cannot_grow_the_audit_log_without_bound(
    client: TestClient, db: Database, settings
):
    """Finding 2 of the outside attack: every request with a bad token wrote a permanent
    row (1,000 requests, 1,000 rows), which the append-only triggers then kept forever."""
    from ogcrm.auth.throttle import UNAUTHENTICATED_PER_MINUTE, LoginThrottle

    for _ in range(50):
        response = client.post(
            "/graphql", json={"query": ME}, headers={"authorization": "Bearer not-a-token"}
        )
        assert response.status_code == 401  # every one is still refused, and says why
    with db.read() as s:
        refused = s.scalars(select(AuditEvent).where(AuditEvent.action == "token_refused")).all()
    assert len(refused) == 1  # the first from this address this minute
    throttle = LoginThrottle(settings)
    recorded = [throttle.worth_recording("probe", f"203.0.113.{n}") for n in range(100)]
    assert sum(recorded) == UNAUTHENTICATED_PER_MINUTE  # and a cap over all addresses
