"""Sessions: login, rotation, replay, logout, and revoking a user's every token."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from starlette.testclient import TestClient

from ogcrm.db.models import AuditEvent, RefreshToken
from ogcrm.db.session import Database
from tests.support import gql, login, user_gid

ME = "{ me { email } }"
REFRESH = """
mutation($t: String!) { refresh(refreshToken: $t) {
  __typename ... on AuthPayload { accessToken refreshToken } ... on UserError { message } } }
"""


def _me(client: TestClient, token: str) -> int:
    return client.post(
        "/graphql", json={"query": ME}, headers={"authorization": f"Bearer {token}"}
    ).status_code


def _actions(db: Database) -> list[str]:
    with db.read() as s:
        return list(s.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


class TestLogin:
    def test_login_returns_tokens_and_is_audited(self, client: TestClient, db: Database, users):
        user = users.create("sales")
        result = login(client, user)
        assert result["__typename"] == "AuthPayload"
        assert result["user"] == {"id": user_gid(user), "email": user.email, "role": "sales"}
        assert _me(client, result["accessToken"]) == 200
        assert "login" in _actions(db)

    @pytest.mark.parametrize("email", ["sales1@example.com", "nobody@example.com"])
    def test_wrong_password_and_unknown_account_get_the_same_answer(
        self, client: TestClient, db: Database, users, email
    ):
        users.create("sales")
        result = gql(
            client,
            'mutation($e: String!) { login(email: $e, password: "wrong password!") { __typename ... on UserError { message } } }',
            e=email,
        )
        assert result["data"]["login"] == {
            "__typename": "AuthenticationError",
            "message": "invalid e-mail or password",
        }
        assert _actions(db)[-1] == "login_failed"

    def test_a_disabled_user_cannot_sign_in(self, client: TestClient, users):
        admin, rep = users.create("admin"), users.create("sales")
        admin_token = login(client, admin)["accessToken"]
        gql(
            client,
            "mutation($id: ID!) { setUserActive(id: $id, active: false) { __typename } }",
            token=admin_token,
            id=user_gid(rep),
        )
        assert login(client, rep)["__typename"] == "AuthenticationError"

    def test_two_credential_checks_in_one_document_are_refused(self, client: TestClient, users):
        user = users.create("sales")
        query = (
            "mutation { "
            + " ".join(
                f'a{i}: login(email: "{user.email}", password: "guess-{i}-xxxx") {{ __typename }}'
                for i in range(20)
            )
            + " }"
        )
        result = gql(client, query)
        assert result["data"] is None
        assert (
            "at most one of changePassword, login, refresh per request"
            in result["errors"][0]["message"]
        )


class TestRefresh:
    def test_refresh_rotates(self, client: TestClient, users):
        first = login(client, users.create("sales"))
        second = gql(client, REFRESH, t=first["refreshToken"])["data"]["refresh"]
        assert second["__typename"] == "AuthPayload"
        assert second["refreshToken"] != first["refreshToken"]
        assert _me(client, second["accessToken"]) == 200

    def test_replaying_a_rotated_token_revokes_the_whole_session(
        self, client: TestClient, db: Database, users
    ):
        first = login(client, users.create("sales"))
        second = gql(client, REFRESH, t=first["refreshToken"])["data"]["refresh"]
        replay = gql(client, REFRESH, t=first["refreshToken"])["data"]["refresh"]
        assert replay == {
            "__typename": "AuthenticationError",
            "message": "refresh token already used; session revoked",
        }
        # the legitimate holder of the newer tokens lost them too
        assert (
            gql(client, REFRESH, t=second["refreshToken"])["data"]["refresh"]["__typename"]
            == "AuthenticationError"
        )
        assert _me(client, second["accessToken"]) == 401
        assert "refresh_reuse_detected" in _actions(db)

    def test_only_a_hash_of_refresh_tokens_is_stored(self, client: TestClient, db: Database, users):
        tokens = login(client, users.create("sales"))
        with db.read() as s:
            stored = list(s.scalars(select(RefreshToken.token_hash)))
            hits = s.execute(
                text("SELECT count(*) FROM refresh_token WHERE token_hash = :t"),
                {"t": tokens["refreshToken"]},
            ).scalar()
        assert len(stored) == 1 and len(stored[0]) == 64
        assert hits == 0

    def test_unknown_refresh_token_is_refused(self, client: TestClient):
        result = gql(client, REFRESH, t="made-up")["data"]["refresh"]
        assert result == {"__typename": "AuthenticationError", "message": "invalid refresh token"}


class TestRevocation:
    def test_logout_ends_one_session_and_leaves_the_other(self, client: TestClient, users):
        user = users.create("sales")
        laptop, phone = login(client, user), login(client, user)
        logout = gql(
            client,
            "mutation { logout { __typename ... on LogoutPayload { ok } } }",
            token=laptop["accessToken"],
        )
        assert logout["data"]["logout"] == {"__typename": "LogoutPayload", "ok": True}
        assert _me(client, laptop["accessToken"]) == 401
        assert (
            gql(client, REFRESH, t=laptop["refreshToken"])["data"]["refresh"]["__typename"]
            == "AuthenticationError"
        )
        assert _me(client, phone["accessToken"]) == 200

    @pytest.mark.parametrize("how", ["revokeUserTokens", "setUserActive", "changePassword"])
    def test_revoking_a_user_ends_all_their_sessions_only(self, client: TestClient, users, how):
        admin, rep, bystander = users.create("admin"), users.create("sales"), users.create("sales")
        admin_token = login(client, admin)["accessToken"]
        sessions = [login(client, rep), login(client, rep)]
        other = login(client, bystander)
        if how == "revokeUserTokens":
            gql(
                client,
                "mutation($id: ID!) { revokeUserTokens(id: $id) { __typename } }",
                token=admin_token,
                id=user_gid(rep),
            )
        elif how == "setUserActive":
            gql(
                client,
                "mutation($id: ID!) { setUserActive(id: $id, active: false) { __typename } }",
                token=admin_token,
                id=user_gid(rep),
            )
        else:
            changed = gql(
                client,
                'mutation { changePassword(currentPassword: "correct horse battery staple", newPassword: "a brand new passphrase") { __typename } }',
                token=sessions[0]["accessToken"],
            )
            assert changed["data"]["changePassword"]["__typename"] == "LogoutPayload"
        for session in sessions:
            assert _me(client, session["accessToken"]) == 401
            assert (
                gql(client, REFRESH, t=session["refreshToken"])["data"]["refresh"]["__typename"]
                == "AuthenticationError"
            )
        assert _me(client, other["accessToken"]) == 200

    def test_non_admins_cannot_revoke_others(self, client: TestClient, db: Database, users):
        rep, victim = users.create("sales"), users.create("sales")
        token = login(client, rep)["accessToken"]
        result = gql(
            client,
            "mutation($id: ID!) { revokeUserTokens(id: $id) { __typename } }",
            token=token,
            id=user_gid(victim),
        )
        assert result["data"]["revokeUserTokens"]["__typename"] == "NotFound"


class TestWebsocket:
    def test_connection_init_with_a_valid_token_is_acknowledged(self, client: TestClient, users):
        token = login(client, users.create("sales"))["accessToken"]
        with client.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]) as ws:
            ws.send_json(
                {"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}
            )
            assert ws.receive_json()["type"] == "connection_ack"

    @pytest.mark.parametrize("payload", [{}, {"authorization": "Bearer not-a-token"}])
    def test_connection_init_without_a_valid_token_is_closed_4403(
        self, client: TestClient, payload
    ):
        from starlette.websockets import WebSocketDisconnect

        with client.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]) as ws:
            ws.send_json({"type": "connection_init", "payload": payload})
            with pytest.raises(WebSocketDisconnect) as closed:
                ws.receive_json()
        assert closed.value.code == 4403

    def test_the_legacy_protocol_is_not_spoken(self, client: TestClient):
        from starlette.websockets import WebSocketDisconnect

        with (
            pytest.raises(WebSocketDisconnect),
            client.websocket_connect("/graphql", subprotocols=["graphql-ws"]) as ws,
        ):
            ws.send_json({"type": "connection_init"})
            ws.receive_json()


def test_change_password_is_throttled_and_audited_like_a_login(
    client: TestClient, db: Database, users
):
    """Finding 4 of the outside attack: twelve wrong current passwords were all answered,
    never RateLimited, and left no audit row: a stolen access token was a password oracle."""
    from sqlalchemy import select

    from ogcrm.db.models import AuditEvent
    from tests.support import gql, token_for

    rep = users.create("sales")
    token = token_for(client, rep)
    guess = 'mutation($p: String!) { changePassword(currentPassword: $p, newPassword: "a brand new passphrase") { __typename ... on ValidationError { field } ... on RateLimited { retryAfter } } }'
    answers = [
        gql(client, guess, token=token, p=f"guess {n}")["data"]["changePassword"] for n in range(12)
    ]
    assert answers[0] == {"__typename": "ValidationError", "field": "currentPassword"}
    assert answers[-1]["__typename"] == "RateLimited" and answers[-1]["retryAfter"] > 0
    limited = [a for a in answers if a["__typename"] == "RateLimited"]
    assert len(limited) == 12 - 5  # the per-account login rate: 5 a minute
    right = gql(client, guess, token=token, p=rep.password)["data"]["changePassword"]
    assert right["__typename"] == "RateLimited"  # the window holds even for the right one
    with db.read() as s:
        actions = s.scalars(
            select(AuditEvent.action).where(AuditEvent.action.like("password_change%"))
        ).all()
    assert actions.count("password_change_failed") == 5
    assert actions.count("password_change_throttled") == 8
