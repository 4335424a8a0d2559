"""Load: concurrent sales reps against a real ``ogcrm serve`` on PostgreSQL, then the
invariants the database must still hold.

20 clients (one rep each) for 60 s mix what reps do all day: the working list (40%),
an account page with its contacts' e-mails (30%), logging an interaction on one of their
accounts (20%), and claiming a random prospect (10%: many claim the same few, on
purpose). Prints requests/s, p50/p95/p99 per kind and errors (anything but the typed
answers a client expects; must be 0), then checks: every interaction a client was told
was logged is stored once and audited once, every claimed prospect has exactly the one
owner the server said, and no prospect was told to two reps.

    python bench/load.py [--pg postgresql://postgres@127.0.0.1:5432/test]
        [--clients 20] [--seconds 60] [--organizations 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import collections
import os
import random
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psycopg
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PASSWORD = "correct horse battery staple"

WORKING_LIST = """{ prioritizedOrganizations(first: 20, filter: {owner: {is: MINE}}) {
  edges { node { id name priority lastInteraction { occurredAt } nextTaskDue } } } }"""
ACCOUNT = """query($id: ID!) { organization(id: $id) { id name
  contacts { fullName emails } interactions(first: 5) { kind occurredAt } } }"""
LOG = """mutation($id: ID!) { logInteraction(input: {organizationId: $id, kind: CALL,
  subject: "load"}) { __typename ... on Interaction { id } } }"""
CLAIM = """mutation($id: ID!) { claimOrganization(id: $id) { __typename
  ... on Organization { id owner { id } } } }"""


def gid(kind: str, pk: int) -> str:
    return base64.b64encode(f"{kind}:{pk}".encode()).decode()


def _database(pg: str) -> str:
    name = "ogcrm_bench_load"
    with psycopg.connect(pg, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return make_url(pg).set(database=name).render_as_string(hide_password=False)


def _seed(
    url: str, clients: int, organizations: int
) -> tuple[list[tuple[str, list[int]]], list[int]]:
    from ogcrm.auth.users import create_user
    from ogcrm.config import Settings
    from ogcrm.db.migrate import upgrade
    from ogcrm.db.session import Database, create_db_engine

    engine = create_db_engine(url)
    upgrade(engine)
    engine.dispose()
    db = Database(Settings(database_url=url))
    reps = []
    with db.unit_of_work() as s:
        for n in range(clients):
            user = create_user(
                s, email=f"rep{n}@example.com", name=f"Rep {n}", role="sales", password=PASSWORD
            )
            reps.append(user.id)
    db.dispose()
    raw = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(raw, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO organization (name, normalized_name, aliases, status, country, "
            "created_at, updated_at, owner_id) SELECT 'Operator ' || g, 'OPERATOR ' || g, "
            "'[]', 'customer', 'US', now(), now(), CASE WHEN g %% 10 = 0 THEN NULL "
            "ELSE (%(reps)s)[1 + (g / 10) %% %(n)s] END FROM generate_series(1, %(orgs)s) g",
            {"reps": reps, "n": clients, "orgs": organizations},
        )
        conn.execute(
            "INSERT INTO contact (organization_id, full_name, consent, created_at, updated_at) "
            "SELECT id, 'Person ' || id, 'unknown', now(), now() FROM organization"
        )
        conn.execute(
            "INSERT INTO contact_email (contact_id, address, is_primary) "
            "SELECT id, 'p' || id || '@example.com', true FROM contact"
        )
        owned = collections.defaultdict(list)
        for org_id, owner in conn.execute("SELECT id, owner_id FROM organization"):
            owned[owner].append(org_id)
        conn.execute("ANALYZE")
    accounts = [(f"rep{n}@example.com", owned[rep]) for n, rep in enumerate(reps)]
    # a few prospects everyone goes for: claims collide on purpose
    return accounts, sorted(owned[None])[:50]


async def _client(
    server: str, email: str, mine: list[int], prospects: list[int], until: float, out: dict
) -> None:
    async with httpx.AsyncClient(base_url=server, timeout=30) as http:
        login = await http.post(
            "/graphql",
            json={"query": 'mutation($e: String!, $p: String!) { login(email: $e, password: $p) '
                  '{ ... on AuthPayload { accessToken } } }', "variables": {"e": email, "p": PASSWORD}},
        )  # fmt: skip
        headers = {"authorization": f"Bearer {login.json()['data']['login']['accessToken']}"}
        rng = random.Random(email)
        while time.perf_counter() < until:
            roll = rng.random()
            if roll < 0.4:
                kind, query, variables = "working list", WORKING_LIST, {}
            elif roll < 0.7:
                kind, query, variables = (
                    "account page",
                    ACCOUNT,
                    {"id": gid("Organization", rng.choice(mine))},
                )
            elif roll < 0.9:
                kind, query, variables = (
                    "log interaction",
                    LOG,
                    {"id": gid("Organization", rng.choice(mine))},
                )
            else:
                kind, query, variables = (
                    "claim",
                    CLAIM,
                    {"id": gid("Organization", rng.choice(prospects))},
                )
            started = time.perf_counter()
            try:
                response = await http.post(
                    "/graphql", json={"query": query, "variables": variables}, headers=headers
                )
                body = response.json()
            except (httpx.HTTPError, ValueError) as exc:
                out["errors"].append(f"{kind}: {type(exc).__name__}")
                continue
            out["times"][kind].append(time.perf_counter() - started)
            if response.status_code != 200 or body.get("errors"):
                out["errors"].append(f"{kind}: {response.status_code} {str(body)[:200]}")
            elif kind == "log interaction":
                result = body["data"]["logInteraction"]
                if result["__typename"] == "Interaction":
                    out["logged"].append(result["id"])
                else:
                    out["errors"].append(f"{kind}: {result}")
            elif kind == "claim":
                result = body["data"]["claimOrganization"]
                if result["__typename"] == "Organization":
                    out["claims"][variables["id"]].add(result["owner"]["id"])
                elif result["__typename"] not in ("PermissionDenied", "NotFound"):
                    # taken meanwhile (PermissionDenied), or taken before and so no longer
                    # a prospect this rep may see (NotFound): the answers a client expects
                    out["errors"].append(f"{kind}: {result}")


def _pct(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, int(q * len(values)))] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--organizations", type=int, default=10_000)
    args = parser.parse_args()
    url = _database(args.pg)
    accounts, prospects = _seed(url, args.clients, args.organizations)
    data_dir = Path("/tmp/ogcrm-bench-load")
    data_dir.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("OGCRM_")}
    env.update(OGCRM_DATABASE_URL=url, OGCRM_DATA_DIR=str(data_dir), OGCRM_LOG_LEVEL="WARNING",
               OGCRM_SECRET_KEY="bench-secret-key-bench-secret-key-0123456789")  # fmt: skip
    port = 8731
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("ogcrm")), "serve", "--port", str(port)], env=env
    )
    try:
        for _ in range(100):
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        out: dict = {"times": collections.defaultdict(list), "errors": [], "logged": [],
                     "claims": collections.defaultdict(set)}  # fmt: skip
        until = time.perf_counter() + args.seconds

        async def run() -> None:
            await asyncio.gather(*(
                _client(f"http://127.0.0.1:{port}", email, mine, prospects, until, out)
                for email, mine in accounts
            ))  # fmt: skip

        started = time.perf_counter()
        asyncio.run(run())
        elapsed = time.perf_counter() - started
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)

    total = sum(len(v) for v in out["times"].values())
    print(f"\n{args.clients} clients for {elapsed:.0f} s: {total / elapsed:.0f} requests/s, "
          f"{len(out['errors'])} errors\n")  # fmt: skip
    print("| request | count | p50 ms | p95 ms | p99 ms |")
    print("| --- | --- | --- | --- | --- |")
    for kind, times in sorted(out["times"].items()):
        print(f"| {kind} | {len(times)} | {statistics.median(times) * 1000:.1f} | "
              f"{_pct(times, 0.95):.1f} | {_pct(times, 0.99):.1f} |")  # fmt: skip
    for error in out["errors"][:10]:
        print("error:", error)

    raw = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(raw) as conn:
        logged = {int(base64.b64decode(i).decode().split(":")[1]) for i in out["logged"]}
        stored = conn.execute(
            "SELECT count(*) FROM interaction WHERE subject = 'load' AND id = ANY(%s)",
            (list(logged),),
        ).fetchone()[0]
        audited = conn.execute(
            "SELECT count(*) FROM audit_event WHERE action = 'interaction.create'"
        ).fetchone()[0]
        all_load = conn.execute(
            "SELECT count(*) FROM interaction WHERE subject = 'load'"
        ).fetchone()[0]
        two_owners = [org for org, owners in out["claims"].items() if len(owners) > 1]
        wrong_owner = 0
        for org, owners in out["claims"].items():
            (owner,) = owners if len(owners) == 1 else (None,)
            pk = int(base64.b64decode(org).decode().split(":")[1])
            actual = conn.execute(
                "SELECT owner_id FROM organization WHERE id = %s", (pk,)
            ).fetchone()[0]
            if owner is None or int(base64.b64decode(owner).decode().split(":")[1]) != actual:
                wrong_owner += 1
    checks = {
        "every logged interaction stored once": stored == len(logged) == all_load,
        "every logged interaction audited once": audited == len(logged),
        "no prospect told to two reps": not two_owners,
        "every claimed prospect has the owner the server said": wrong_owner == 0,
        "no errors": not out["errors"],
    }
    print()
    for name, ok in checks.items():
        print(f"{'ok ' if ok else 'FAIL'} {name}")
    print(f"\n{len(logged)} interactions logged, {len(out['claims'])} prospects claimed")
    if not all(checks.values()):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
