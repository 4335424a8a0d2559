"""Live events against a real `ogcrm serve` with a real websocket client: dataset
progress and account news while a real agency file is uploaded, approved and merged
(in-process on SQLite; on PostgreSQL + Redis the merge runs in a separate `ogcrm worker`
and its events cross Redis pub/sub). A rep never hears of another rep's account; a
revoked token's stream ends; a socket without connection_init is closed."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from ogcrm.accounts.organizations import create_organization
from ogcrm.auth.principal import system_principal
from ogcrm.db.session import Database
from ogcrm.rules.ruleset import parse
from ogcrm.scoring.rule_sets import activate, save_rule_set
from tests.conftest import AppUser
from tests.e2e.test_analyst_flow import OPERATIONS, TX_PERMITS, Client
from tests.support import serving

PROTOCOL = "graphql-transport-ws"
#: the rep's and manager's operations this module runs
REP_OPERATIONS = {
    "MyWorkingList",
    "AccountPage",
    "LogInteraction",
    "ReassignOrganization",
    "MyAccountsChanged",
    "DatasetProgress",
    "PriorityChanged",
}
RULES = {
    "name": "call the quiet ones",
    "rules": [
        {
            "name": "gone quiet",
            "logic": {">": [{"var": ["days_since_last_interaction", 9999]}, 30]},
            "weight": 5,
        }
    ],
}


class Socket:
    """A graphql-transport-ws client over a real websocket."""

    def __init__(self, base: str, token: str | None, *, init: bool = True) -> None:
        self.conn: ClientConnection = connect(
            base.replace("http://", "ws://") + "/graphql", subprotocols=[PROTOCOL], legacy=True
        )
        self.held: dict[str, list[dict[str, Any]]] = {}
        if init:
            payload = {"authorization": f"Bearer {token}"} if token else {}
            self.send({"type": "connection_init", "payload": payload})
            assert self.recv(10)["type"] == "connection_ack"

    def send(self, message: dict[str, Any]) -> None:
        self.conn.send(json.dumps(message))

    def recv(self, timeout: float) -> dict[str, Any]:
        while True:
            message = json.loads(self.conn.recv(timeout=timeout))
            if message["type"] == "ping":
                self.send({"type": "pong"})
                continue
            return dict(message)

    def subscribe(self, sub_id: str, operation: str, **variables: Any) -> None:
        query = (OPERATIONS / f"{operation}.graphql").read_text()
        self.send(
            {"id": sub_id, "type": "subscribe", "payload": {"query": query, "variables": variables}}
        )

    def until(self, sub_id: str, done: Any, timeout: float = 90) -> list[dict[str, Any]]:
        """Messages for ``sub_id`` (their data) until ``done(data)`` or completion."""
        deadline = time.monotonic() + timeout
        seen: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            held = self.held.get(sub_id)
            if held:
                message = held.pop(0)
            else:
                try:
                    message = self.recv(max(0.1, deadline - time.monotonic()))
                except TimeoutError:
                    break
            if message.get("id") != sub_id:  # another subscription's: kept for later
                self.held.setdefault(str(message.get("id")), []).append(message)
                continue
            if message["type"] == "complete":
                break
            assert message["type"] == "next", message
            assert "errors" not in message["payload"], message
            seen.append(message["payload"]["data"])
            if done(message["payload"]["data"]):
                break
        return seen

    def close(self) -> None:
        self.conn.close()


@pytest.fixture
def people(users) -> dict[str, AppUser]:
    return {
        "analyst": users.create("analyst"),
        "rep": users.create("sales"),
        "other": users.create("sales"),
        "manager": users.create("manager"),
    }


@pytest.fixture
def server(database_url: str, db: Database, settings, tmp_path: Path, people) -> Iterator[Client]:
    system = system_principal("test")
    with db.unit_of_work() as session:
        # the operator of the file's first permits, owned by the rep (matched by its
        # RRC operator number); the other rep owns an account the file never touches
        create_organization(
            session,
            system,
            name="WaterBridge Stateline LLC",
            identifiers={"rrc": "900327"},
            owner_id=people["rep"].id,
        )
        create_organization(session, system, name="Quiet Other LLC", owner_id=people["other"].id)
        rule_set = save_rule_set(session, system, parse(RULES))
        activate(session, system, rule_set.id)
    with serving(
        database_url,
        tmp_path,
        settings.instance_name,
        OGCRM_SUBSCRIPTION_RECHECK="1",
        # reminders are owed work the reconciler sends: every second, for the reminder test
        OGCRM_RECONCILE_EVERY="1",
    ) as base:
        yield Client(base)


def _resting(data: dict) -> bool:
    return bool(data["datasetProgress"]["final"])


def test_progress_and_account_news_of_a_real_file(server: Client, people, shared_data):
    analyst = server.login(people["analyst"])
    rep, other = server.login(people["rep"]), server.login(people["other"])
    rep_socket, other_socket = Socket(server.base, rep), Socket(server.base, other)
    analyst_socket = Socket(server.base, analyst)
    try:
        rep_socket.subscribe("mine", "MyAccountsChanged")
        other_socket.subscribe("mine", "MyAccountsChanged")
        time.sleep(0.5)  # both listening before anything happens

        uploaded = server.upload(analyst, shared_data / "real" / TX_PERMITS)
        dataset_id = uploaded["dataset"]["id"]
        analyst_socket.subscribe("progress", "DatasetProgress", id=dataset_id)
        processing = analyst_socket.until("progress", _resting)
        states = [d["datasetProgress"]["state"] for d in processing]
        assert states[-1] == "awaiting_review", states
        assert processing[-1]["datasetProgress"]["final"] is True

        server.op("ApproveDataset", analyst, id=dataset_id)
        analyst_socket.subscribe("merge", "DatasetProgress", id=dataset_id)
        merging = analyst_socket.until("merge", _resting)
        last = merging[-1]["datasetProgress"]
        assert last["state"] == "merged", merging
        assert last["counts"]["created"]["permit"] >= 1

        news = rep_socket.until(
            "mine", lambda d: d["myAccountsChanged"]["kind"] == "new_permit", timeout=60
        )
        event = news[-1]["myAccountsChanged"]
        assert event["kind"] == "new_permit"
        assert event["organization"]["name"] == "WaterBridge Stateline LLC"
        assert event["datasetId"] == dataset_id
        assert "permit" in event["summary"]

        # the other rep's socket got nothing about the rep's account
        assert other_socket.until("mine", lambda d: True, timeout=3) == []
    finally:
        for sock in (rep_socket, other_socket, analyst_socket):
            sock.close()


def test_a_revoked_tokens_stream_ends(server: Client, people):
    rep = server.login(people["rep"])
    sock = Socket(server.base, rep)
    try:
        sock.subscribe("mine", "MyAccountsChanged")
        time.sleep(0.3)
        response = httpx.post(
            f"{server.base}/graphql",
            json={"query": "mutation { logout { __typename } }"},
            headers={"authorization": f"Bearer {rep}"},
        )
        assert response.status_code == 200
        message = sock.recv(10)  # re-checked every second (OGCRM_SUBSCRIPTION_RECHECK=1)
        assert message["id"] == "mine", message
        (error,) = message["payload"]["errors"]
        assert "revoked" in error["message"]
        assert error["extensions"]["token"] == "SESSION_ENDED"  # sign in again
        assert sock.recv(10) == {"id": "mine", "type": "complete"}
    finally:
        sock.close()


def test_a_socket_without_connection_init_is_closed(server: Client):
    sock = Socket(server.base, None, init=False)
    try:
        sock.subscribe("mine", "MyAccountsChanged")
        with pytest.raises(ConnectionClosed) as closed:
            sock.recv(15)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
    finally:
        sock.close()


def test_connection_init_without_a_token_is_refused(server: Client):
    sock = Socket(server.base, None, init=False)
    try:
        sock.send({"type": "connection_init", "payload": {}})
        with pytest.raises(ConnectionClosed) as closed:
            sock.recv(10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403
    finally:
        sock.close()


def test_the_reps_day_list_call_priority_event_and_reassignment(server: Client, people):
    rep, other = server.login(people["rep"]), server.login(people["other"])
    manager = server.login(people["manager"])
    listed = server.op(
        "MyWorkingList", rep, filter={"owner": {"is": "MINE"}, "noInteractionForDays": 30}
    )["prioritizedOrganizations"]
    assert listed["totalCount"] == 1
    (account,) = [e["node"] for e in listed["edges"]]
    assert account["name"] == "WaterBridge Stateline LLC" and account["priority"] == 5.0
    assert account["explanation"]["contributions"] == [
        {"rule": "gone quiet", "value": 1.0, "weight": 5.0, "contribution": 5.0}
    ]

    page = server.op("AccountPage", rep, id=account["id"])["organization"]
    assert page["identifiers"] == [{"agency": "rrc", "identifier": "900327"}]
    assert page["scoreHistory"][0]["score"] == 5.0 and page["interactions"] == []

    rep_socket, other_socket = Socket(server.base, rep), Socket(server.base, other)
    try:
        rep_socket.subscribe("prio", "PriorityChanged", filter={"owner": {"is": "MINE"}})
        other_socket.subscribe("prio", "PriorityChanged")
        rep_socket.subscribe("mine", "MyAccountsChanged")
        other_socket.subscribe("mine", "MyAccountsChanged")
        time.sleep(0.5)

        logged = server.op(
            "LogInteraction",
            rep,
            input={"organizationId": account["id"], "kind": "CALL", "subject": "intro"},
        )["logInteraction"]
        assert logged["__typename"] == "Interaction"
        (change,) = [d["priorityChanged"] for d in rep_socket.until("prio", lambda d: True)]
        assert (change["oldPriority"], change["newPriority"]) == (5.0, 0.0)
        assert change["organization"]["id"] == account["id"]
        assert change["cause"]["kind"] == "interaction_logged"
        assert change["cause"]["interactionId"] == logged["id"]
        assert change["cause"]["by"]["name"] == "Sales 2"
        logged_news = rep_socket.until("mine", lambda d: True)
        assert logged_news[0]["myAccountsChanged"]["kind"] == "interaction_logged"

        # the manager gives the account to the other rep, who hears of it
        other_gid = server.op("MyWorkingList", other, first=1)["prioritizedOrganizations"]
        assert other_gid["totalCount"] == 1
        moved = server.op(
            "ReassignOrganization",
            manager,
            id=account["id"],
            ownerId=_user_gid(server, other),
        )["assignOrganization"]
        assert moved["__typename"] == "Organization" and moved["owner"]["name"] == "Sales 3"
        gained = other_socket.until("mine", lambda d: True)[0]["myAccountsChanged"]
        assert gained["kind"] == "reassigned" and gained["by"]["name"] == "Manager 4"
        assert gained["organization"]["name"] == "WaterBridge Stateline LLC"
        # no longer the rep's: not even its reassignment reaches them
        assert rep_socket.until("mine", lambda d: True, timeout=2) == []
        # the other rep never heard of the rep's priority change
        assert other_socket.until("prio", lambda d: True, timeout=2) == []
    finally:
        rep_socket.close()
        other_socket.close()
    assert {"MyWorkingList", "AccountPage", "LogInteraction", "ReassignOrganization"} <= server.ran


def _user_gid(server: Client, token: str) -> str:
    me = httpx.post(
        f"{server.base}/graphql",
        json={"query": "{ me { id } }"},
        headers={"authorization": f"Bearer {token}"},
    ).json()
    return str(me["data"]["me"]["id"])


def test_a_task_falling_due_reminds_its_assignee_live(server: Client, people):
    """The reminder job, run by the server's own reconciler, reaches the assignee's
    socket as a ``task_due`` event, also when the assignee does not own the account (a
    manager's own task on a rep's account); the other rep hears nothing, and the
    account's owner does not hear of the manager's task."""
    rep, other = server.login(people["rep"]), server.login(people["other"])
    manager = server.login(people["manager"])
    mine = server.op("MyWorkingList", rep, filter={"owner": {"is": "MINE"}})[
        "prioritizedOrganizations"
    ]
    account = mine["edges"][0]["node"]["id"]
    sockets = {who: Socket(server.base, token)
               for who, token in (("rep", rep), ("other", other), ("manager", manager))}  # fmt: skip
    try:
        for socket in sockets.values():
            socket.subscribe("mine", "MyAccountsChanged")
        time.sleep(0.5)
        due = (dt.datetime.now(dt.UTC) + dt.timedelta(minutes=20)).isoformat()
        for token, title in ((rep, "Call about the frac sand quote"), (manager, "Review pricing")):
            made = server.op("CreateTask", token, input={
                "organizationId": account, "title": title, "dueAt": due,
            })["createTask"]  # fmt: skip
            assert made["__typename"] == "Task", made

        def due_event(title: str):
            return lambda d: (
                d["myAccountsChanged"]["kind"] == "task_due"
                and title in (d["myAccountsChanged"]["summary"])
            )

        news = sockets["rep"].until("mine", due_event("frac sand"), timeout=30)
        assert news[-1]["myAccountsChanged"]["data"]["task_id"] is not None
        heard = sockets["manager"].until("mine", due_event("Review pricing"), timeout=30)
        assert "Review pricing" in heard[-1]["myAccountsChanged"]["summary"]
        assert not any(
            "Review pricing" in d["myAccountsChanged"]["summary"]
            for d in sockets["rep"].until("mine", lambda d: False, timeout=3) + news
        )
        assert sockets["other"].until("mine", lambda d: True, timeout=1) == []
    finally:
        for socket in sockets.values():
            socket.close()
