"""Subscription limits, in-process: a user's open subscriptions are capped per API
process, and a connection's by Strawberry; both say so instead of piling up."""

from __future__ import annotations

from dataclasses import replace

from starlette.testclient import TestClient

from ogcrm.api.app import create_app
from tests.support import token_for

MINE = "subscription { myAccountsChanged { kind } }"


def _init(ws, token: str) -> None:
    ws.send_json({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}})
    assert ws.receive_json()["type"] == "connection_ack"


def test_a_users_subscriptions_are_capped(settings, db, users):
    capped = replace(settings, redis_url="", max_subscriptions_per_user=1)
    with TestClient(create_app(capped, db=db)) as client:
        token = token_for(client, users.create("sales"))
        with client.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]) as ws:
            _init(ws, token)
            ws.send_json({"id": "1", "type": "subscribe", "payload": {"query": MINE}})
            ws.send_json({"id": "2", "type": "subscribe", "payload": {"query": MINE}})
            refused = ws.receive_json()
            assert refused["id"] == "2", refused
            (error,) = refused["payload"]["errors"]
            assert "1 subscriptions are open for you" in error["message"]
            assert error["extensions"]["code"] == "RateLimited"
            assert ws.receive_json() == {"id": "2", "type": "complete"}


def test_a_connections_subscriptions_are_capped(settings, db, users):
    capped = replace(settings, redis_url="", max_subscriptions_per_connection=1)
    with TestClient(create_app(capped, db=db)) as client:
        token = token_for(client, users.create("sales"))
        with client.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]) as ws:
            _init(ws, token)
            ws.send_json({"id": "1", "type": "subscribe", "payload": {"query": MINE}})
            ws.send_json({"id": "2", "type": "subscribe", "payload": {"query": MINE}})
            assert ws.receive_json() == {
                "id": "2",
                "type": "error",
                "payload": [{"message": "Subscription limit reached"}],
            }
