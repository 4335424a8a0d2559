"""A segment's member count and first page, against the same filter written by hand.

1,000,000 organizations on PostgreSQL (a third in Texas), 300,000 permits issued over
the last year; the segment "Texas operators with a permit in the last 90 days"
(``{"and": [{"==": [{"var": "state"}, "TX"]}, {">=": [{"var": "permits_90d"}, 1]}]}``)
compiled by the rules compiler, next to the SQL a person would write for it, in the same
run, each timed as the median of several runs after a warm-up.

    python bench/segment_members.py [--pg postgresql://postgres@127.0.0.1:5432/test]
        [--organizations 1000000] [--runs 5]

Target (issue: sales modules): within 1.5x of the hand-written SQL.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

FILTER = {"and": [{"==": [{"var": "state"}, "TX"]}, {">=": [{"var": "permits_90d"}, 1]}]}
SEED = [
    "INSERT INTO organization (name, normalized_name, aliases, status, country, state, "
    "created_at, updated_at) SELECT 'Operator ' || g, 'OPERATOR ' || g, '[]', 'prospect', "
    "'US', CASE WHEN g %% 3 = 0 THEN 'TX' WHEN g %% 3 = 1 THEN 'OK' ELSE 'NM' END, now(), "
    "now() FROM generate_series(1, %(n)s) g",
    "INSERT INTO permit (agency, permit_number, operator_id, issued_on, created_at, "
    "updated_at) SELECT 'rrc', 'P' || g, 1 + (g::bigint * 7919) %% %(n)s, "
    "current_date - (g %% 365), now(), now() FROM generate_series(1, %(permits)s) g",
    "ANALYZE",
]
BY_HAND_COUNT = (
    "SELECT count(*) FROM organization o WHERE o.state = 'TX' AND o.id IN "
    "(SELECT operator_id FROM permit WHERE issued_on >= current_date - 90)"
)
BY_HAND_PAGE = (
    "SELECT o.id, o.name FROM organization o WHERE o.state = 'TX' AND o.id IN "
    "(SELECT operator_id FROM permit WHERE issued_on >= current_date - 90) "
    "ORDER BY o.id LIMIT 51"
)


def _database(pg: str) -> str:
    name = "ogcrm_bench_segment"
    with psycopg.connect(pg, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return make_url(pg).set(database=name).render_as_string(hide_password=False)


def _median(fn, runs: int) -> float:
    fn()  # warm-up: plans cached, pages in memory
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def main() -> None:
    from ogcrm.accounts import segments
    from ogcrm.auth.principal import system_principal
    from ogcrm.config import Settings
    from ogcrm.db.migrate import upgrade
    from ogcrm.db.models import Segment
    from ogcrm.db.session import Database, create_db_engine

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--organizations", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    url = _database(args.pg)
    engine = create_db_engine(url)
    upgrade(engine)
    engine.dispose()
    raw = url.replace("postgresql+psycopg://", "postgresql://")
    t = time.perf_counter()
    with psycopg.connect(raw, autocommit=True) as conn:
        for statement in SEED:
            conn.execute(
                statement, {"n": args.organizations, "permits": args.organizations * 3 // 10}
            )
    print(f"seeded {args.organizations:,} organizations in {time.perf_counter() - t:.1f} s")

    db = Database(Settings(database_url=url))
    system = system_principal("bench")
    segment = Segment(name="bench", filter=FILTER)
    with db.read() as s:
        count = segments.count_members(s, system, segment)
        page, _ = segments.members(s, system, segment, first=50)
    with psycopg.connect(raw) as conn:
        by_hand = conn.execute(BY_HAND_COUNT).fetchone()[0]
        first_ids = [r[0] for r in conn.execute(BY_HAND_PAGE).fetchall()][:50]
    assert count == by_hand and [o.id for o in page] == first_ids, (count, by_hand)

    def ours_count() -> None:
        with db.read() as s:
            segments.count_members(s, system, segment)

    def ours_page() -> None:
        with db.read() as s:
            segments.members(s, system, segment, first=50)

    with psycopg.connect(raw) as conn:
        figures = [
            ("count", _median(ours_count, args.runs),
             _median(lambda: conn.execute(BY_HAND_COUNT).fetchone(), args.runs)),
            ("first page of 50", _median(ours_page, args.runs),
             _median(lambda: conn.execute(BY_HAND_PAGE).fetchall(), args.runs)),
        ]  # fmt: skip
    print(f"\n{args.organizations:,} organizations, {count:,} in the segment\n")
    print("| | segment (compiled) ms | by hand ms | ratio |")
    print("| --- | --- | --- | --- |")
    for label, ours, hand in figures:
        print(f"| {label} | {ours:.1f} | {hand:.1f} | {ours / hand:.2f}x |")
    db.dispose()


if __name__ == "__main__":
    main()
