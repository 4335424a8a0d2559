"""The sales rep's working-list page over HTTP, against the obvious alternatives.

100,000 organizations with 3 contacts each (an e-mail each), some interactions and
tasks, scored by an active rule set, on PostgreSQL. A real ``ogcrm serve`` (uvicorn) is
asked for the 50-organization page sequentially, and so is a bare Strawberry +
Starlette app with one DataLoader serving the same nested shape (``bench/bare_app.py``:
no auth, scope or audit); the raw SQL the page needs is timed too. Same run, same
machine, same database.

    python bench/api_latency.py [--pg postgresql://postgres@127.0.0.1:5432/test]
        [--organizations 100000] [--requests 400]

Prints p50 / p95 / requests per second for: the page as in the bare app (contacts
and e-mails), the full working-list row (owner, explanation, last interaction, open
tasks, contacts) on ogcrm, and the raw SQL. Targets (issue: sales rep API): ogcrm's p50
within 1.5x the bare app's and under 15 ms, its p95 within 2x its own p50.
"""

from __future__ import annotations

import argparse
import os
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
ROUNDS = 4
sys.path.insert(0, str(ROOT))

SAME_SHAPE = """{ prioritizedOrganizations(first: 50) { edges { node {
  id name priority contacts { fullName emails } } } } }"""
BARE_SHAPE = "{ organizations(first: 50) { id name priority contacts { fullName emails } } }"
FULL_ROW = """{ prioritizedOrganizations(first: 50) { edges { node {
  id name priority owner { name } explanation { contributions { rule contribution } }
  contacts { fullName emails } lastInteraction { kind occurredAt }
  openTasks { title dueAt } nextTaskDue } } } }"""

RAW_SQL = [
    "SELECT o.id, o.name, s.priority, s.snapshot_id, o.owner_id FROM organization o "
    "JOIN organization_score s ON s.organization_id = o.id "
    "ORDER BY s.priority DESC, o.id LIMIT 51",
    "SELECT c.organization_id, c.id, c.full_name, e.address FROM contact c "
    "LEFT JOIN contact_email e ON e.contact_id = c.id WHERE c.organization_id = ANY(%s)",
]

SEED = [
    "INSERT INTO organization (name, normalized_name, aliases, status, country, created_at, "
    "updated_at, owner_id) SELECT 'Operator ' || g || ' LLC', 'OPERATOR ' || g, '[]', "
    "'customer', 'US', now(), now(), CASE WHEN g %% 5 = 0 THEN %(rep)s END "
    "FROM generate_series(1, %(n)s) g",
    "INSERT INTO contact (organization_id, full_name, consent, created_at, updated_at) "
    "SELECT o.id, 'Person ' || o.id || '-' || k, 'unknown', now(), now() "
    "FROM organization o CROSS JOIN generate_series(1, 3) k",
    "INSERT INTO contact_email (contact_id, address, is_primary) "
    "SELECT id, 'p' || id || '@example.com', true FROM contact",
    "INSERT INTO interaction (organization_id, user_id, kind, occurred_at, notes, created_at) "
    "SELECT id, %(rep)s, 'call', now() - (id %% 90) * interval '1 day', '', now() "
    "FROM organization WHERE id %% 2 = 0",
    "INSERT INTO task (organization_id, assignee_id, title, description, status, due_at, "
    "created_at, updated_at) SELECT id, %(rep)s, 'call back', '', 'open', "
    "now() + (id %% 10) * interval '1 day', now(), now() FROM organization WHERE id %% 3 = 0",
    "ANALYZE",
]
RULES = {
    "name": "bench",
    "rules": [
        {
            "name": "gone quiet",
            "logic": {">": [{"var": ["days_since_last_interaction", 9999]}, 30]},
            "weight": 5,
        },
        {"name": "open tasks", "logic": {"var": "overdue_tasks"}, "weight": 2},
    ],
}


def _database(pg: str) -> str:
    name = "ogcrm_bench_api"
    with psycopg.connect(pg, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return make_url(pg).set(database=name).render_as_string(hide_password=False)


def _seed(url: str, organizations: int) -> tuple[str, str]:
    from ogcrm.auth.principal import system_principal
    from ogcrm.auth.users import create_user
    from ogcrm.config import Settings
    from ogcrm.db.migrate import upgrade
    from ogcrm.db.session import Database, create_db_engine
    from ogcrm.rules.ruleset import parse
    from ogcrm.scoring.rule_sets import activate, save_rule_set

    engine = create_db_engine(url)
    upgrade(engine)
    engine.dispose()
    db = Database(Settings(database_url=url))
    system = system_principal("bench")
    password = "correct horse battery staple"
    with db.unit_of_work() as s:
        manager = create_user(
            s, email="manager@example.com", name="M", role="manager", password=password
        )
        rep = create_user(s, email="rep@example.com", name="R", role="sales", password=password)
        rep_id = rep.id
        del manager
    raw = url.replace("postgresql+psycopg://", "postgresql://")
    t = time.perf_counter()
    with psycopg.connect(raw, autocommit=True) as conn:
        for statement in SEED:
            conn.execute(statement, {"rep": rep_id, "n": organizations})
    with db.unit_of_work() as s:
        activate(s, system, save_rule_set(s, system, parse(RULES)).id)
    print(f"seeded {organizations:,} organizations in {time.perf_counter() - t:.1f} s")
    db.dispose()
    return "manager@example.com", password


def _spawn(args: list[str], env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        args, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/graphql", timeout=1)
            return proc
        except httpx.TransportError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit(proc.stderr.read().decode() if proc.stderr else "server did not start")


def _measure(client: httpx.Client, url: str, query: str, n: int, token: str | None) -> list[float]:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    body = {"query": query}
    for _ in range(10):  # warm: pools, prepared statements, caches
        assert "errors" not in client.post(url, json=body, headers=headers).json()
    times = []
    for _ in range(n):
        t = time.perf_counter()
        response = client.post(url, json=body, headers=headers)
        times.append((time.perf_counter() - t) * 1000)
        assert response.status_code == 200
    return times


def _raw(url: str, n: int) -> list[float]:
    times = []
    with psycopg.connect(
        url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True
    ) as conn:
        for i in range(n + 30):
            t = time.perf_counter()
            ids = [r[0] for r in conn.execute(RAW_SQL[0]).fetchall()]
            conn.execute(RAW_SQL[1], (ids[:50],)).fetchall()
            if i >= 30:
                times.append((time.perf_counter() - t) * 1000)
    return times


def _row(label: str, times: list[float]) -> str:
    q = statistics.quantiles(times, n=100)
    p50, p95 = statistics.median(times), q[94]
    rps = 1000 / statistics.mean(times)
    return f"| {label} | {p50:.1f} | {p95:.1f} | {p95 / p50:.2f} | {rps:.0f} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--organizations", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=400)
    args = parser.parse_args()
    url = _database(args.pg)
    email, password = _seed(url, args.organizations)
    env = {k: v for k, v in os.environ.items() if not k.startswith("OGCRM_")}
    ogcrm_env = {
        **env,
        "OGCRM_DATABASE_URL": url,
        "OGCRM_REDIS_URL": os.environ.get("OGCRM_BENCH_REDIS", "redis://127.0.0.1:6379/14"),
        "OGCRM_DATA_DIR": str(Path("/tmp/ogcrm-bench-api")),
        "OGCRM_SECRET_KEY": "bench-secret-key-bench-secret-key-0123456789",
        "OGCRM_LOG_LEVEL": "WARNING",
    }
    Path("/tmp/ogcrm-bench-api").mkdir(exist_ok=True)
    ogcrm = _spawn(
        [str(Path(sys.executable).with_name("ogcrm")), "serve", "--port", "8711"], ogcrm_env, 8711
    )
    bare = _spawn(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bench.bare_app:app",
            "--port",
            "8712",
            "--log-level",
            "warning",
        ],
        {**env, "OGCRM_BENCH_PG": url.replace("postgresql+psycopg://", "postgresql://")},
        8712,
    )
    try:
        with httpx.Client(timeout=30) as client:
            login = client.post(
                "http://127.0.0.1:8711/graphql",
                json={
                    "query": "mutation($e: String!, $p: String!) { login(email: $e, password: $p)"
                    " { ... on AuthPayload { accessToken } } }",
                    "variables": {"e": email, "p": password},
                },
            ).json()
            token = login["data"]["login"]["accessToken"]
            n = args.requests
            targets = [
                ("bare Strawberry + Starlette, one DataLoader", "8712", BARE_SHAPE, None),
                ("ogcrm, same shape (contacts + e-mails)", "8711", SAME_SHAPE, token),
                ("ogcrm, full working-list row", "8711", FULL_ROW, token),
            ]
            # interleaved rounds: a slow minute of this shared machine hits all alike
            timings: dict[str, list[float]] = {label: [] for label, *_ in targets}
            for _ in range(ROUNDS):
                for label, port, query, auth in targets:
                    timings[label] += _measure(
                        client, f"http://127.0.0.1:{port}/graphql", query, n // ROUNDS, auth
                    )
            results = [(label, timings[label]) for label, *_ in targets]
        results.append(("raw SQL the page needs (2 statements)", _raw(url, n)))
    finally:
        for proc in (ogcrm, bare):
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=20)
    print(
        f"\n{args.organizations:,} organizations x 3 contacts; {args.requests} sequential requests each\n"
    )
    print("| page of 50 | p50 ms | p95 ms | p95/p50 | req/s |")
    print("| --- | --- | --- | --- | --- |")
    for label, times in results:
        print(_row(label, times))
    bare_p50 = statistics.median(results[0][1])
    ours = statistics.median(results[1][1])
    print(f"\nogcrm / bare p50: {ours / bare_p50:.2f}x (target <= 1.5x, and under 15 ms)")


if __name__ == "__main__":
    main()
