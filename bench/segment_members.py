"""A segment's member count and first page, against the same filter written by hand.

1,000,000 organizations on PostgreSQL (a third in Texas), 300,000 permits issued over
the last year; the segment "Texas operators with a permit in the last 90 days"
(``{"and": [{"==": [{"var": "state"}, "TX"]}, {">=": [{"var": "permits_90d"}, 1]}]}``)
compiled by the rules compiler, next to the SQL a person would write for it, in the same
run, each timed as the median of several runs after a warm-up.

``permits_90d >= 1`` asks only whether the count is zero, so it is compiled to EXISTS over
the rows the permit scorer counts, as a person would write it. A threshold above 1 must
count (an outer join of the grouped permits, about twice the semi-join); this seed gives
no operator two permits, so it is not timed here.

    python bench/segment_members.py [--pg postgresql://postgres@127.0.0.1:5432/test]
        [--organizations 1000000] [--runs 9] [--reuse]

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
    "VACUUM ANALYZE",  # as autovacuum leaves a loaded table: index-only scans need it
]
BY_HAND_COUNT = (
    "SELECT count(*) FROM organization o WHERE o.state = 'TX' AND o.id IN "
    "(SELECT operator_id FROM permit WHERE issued_on >= current_date - 90)"
)
BY_HAND_PAGE = (  # the columns of the organizations a page shows, as the service loads
    "SELECT o.*, s.* FROM organization o JOIN organization_score s ON s.organization_id = o.id"
    " WHERE o.state = 'TX' AND o.id IN "
    "(SELECT operator_id FROM permit WHERE issued_on >= current_date - 90) "
    "ORDER BY o.id LIMIT 51"
)


def _database(pg: str, reuse: bool) -> tuple[str, bool]:
    """The bench database's URL, and whether it has to be made and seeded."""
    name = "ogcrm_bench_segment"
    url = make_url(pg).set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(pg, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if reuse and exists:
            return url, False
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return url, True


def _medians(fns: list, runs: int) -> list[float]:
    """Median milliseconds of each function, the runs interleaved (a, b, c, a, b, c...)
    so that a slow spell of a shared machine falls on all of them alike."""
    for fn in fns:
        fn()  # warm-up: plans cached, pages in memory
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(runs):
        for i, fn in enumerate(fns):
            t = time.perf_counter()
            fn()
            times[i].append(time.perf_counter() - t)
    return [statistics.median(ts) * 1000 for ts in times]


def _statements(session, principal, segment) -> tuple:
    """The count and first-page statements ``count_members`` and ``members`` execute."""
    from sqlalchemy import func, select

    from ogcrm.accounts import segments
    from ogcrm.auth import policy
    from ogcrm.db.models import Organization

    ids = policy.readable(segments.member_ids(session, segment.filter), "organization", principal)
    page = policy.readable(
        segments.restrict(select(Organization), session, segment.filter), "organization", principal
    )
    return (
        select(func.count()).select_from(ids.subquery()),
        page.order_by(Organization.id).limit(51),
    )


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
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument(
        "--reuse", action="store_true", help="keep the database a previous run seeded"
    )
    args = parser.parse_args()
    url, fresh = _database(args.pg, args.reuse)
    raw = url.replace("postgresql+psycopg://", "postgresql://")
    if fresh:
        engine = create_db_engine(url)
        upgrade(engine)
        engine.dispose()
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

    with db.read() as s:  # the statements the service runs, as PostgreSQL receives them
        compiled_count, compiled_page = (
            str(stmt.compile(s.get_bind(), compile_kwargs={"literal_binds": True}))
            for stmt in _statements(s, system, segment)
        )
    with psycopg.connect(raw) as conn:
        rows = []
        for label, service, sql, by_hand in (
            ("count", ours_count, compiled_count, BY_HAND_COUNT),
            ("first page of 50", ours_page, compiled_page, BY_HAND_PAGE),
        ):
            times = _medians(
                [
                    service,
                    lambda sql=sql: conn.execute(sql).fetchall(),
                    lambda sql=by_hand: conn.execute(sql).fetchall(),
                ],
                args.runs,
            )
            rows.append((label, *times))
    print(f"\n{args.organizations:,} organizations, {count:,} in the segment\n")
    print(
        "| | service call ms | its SQL alone ms | by hand ms "
        "| SQL vs by hand | service vs by hand |"
    )
    print("| --- | --- | --- | --- | --- | --- |")
    for label, service_ms, sql_ms, hand_ms in rows:
        print(
            f"| {label} | {service_ms:.1f} | {sql_ms:.1f} | {hand_ms:.1f} "
            f"| {sql_ms / hand_ms:.2f}x | {service_ms / hand_ms:.2f}x |"
        )
    db.dispose()


if __name__ == "__main__":
    main()
