"""Rescoring 1,000,000 organizations with a 20-rule set, on PostgreSQL and SQLite.

For each database, on the same generated features (one row per organization):

- full rescoring through ``ogcrm.scoring.rescore.rescore``: the compiled scoring statement,
  a ScoreSnapshot (score, priority, explanation) per changed organization, the current
  scores stored (all persisted; first run: every organization changes), then a second
  rescore where nothing changed;
- the compiled rules alone (``SELECT sum(total)`` over the features) next to the same
  20 rules written by hand as one SQL ``CASE`` sum;
- the per-record interpreter (``ogcrm.rules.jsonlogic.apply``) on a sample, in records/s.

    python bench/rescore.py [--organizations 1000000] [--pg postgresql://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
from sqlalchemy import Column, Float, MetaData, Table, Text, create_engine, func, select, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ogcrm.db.migrate import upgrade  # noqa: E402
from ogcrm.db.session import create_db_engine  # noqa: E402
from ogcrm.rules.jsonlogic import apply, contribution  # noqa: E402
from ogcrm.rules.ruleset import RuleSpec  # noqa: E402
from ogcrm.scoring.rescore import rescore, score_select  # noqa: E402

TYPES = {
    "permits_30d": "number",
    "permits_90d": "number",
    "permits_365d": "number",
    "active_wells": "number",
    "new_wells_12m": "number",
    "oil_bbl_12m": "number",
    "gas_mcf_12m": "number",
    "production_trend": "number",
    "counties": "number",
    "days_since_last_interaction": "number",
    "open_opportunities": "number",
    "overdue_tasks": "number",
    "owner_id": "number",
    "tags": "list",
}
V = lambda name, default=None: {"var": name if default is None else [name, default]}  # noqa: E731
RULES = [
    RuleSpec("busy permitting", {">=": [V("permits_90d"), 3]}, 10),
    RuleSpec("permit this month", {">": [V("permits_30d"), 0]}, 5),
    RuleSpec("permits this year", V("permits_365d"), 0.5),
    RuleSpec("big well count", {">=": [V("active_wells"), 10]}, 8),
    RuleSpec("drilling new wells", {">": [V("new_wells_12m"), 2]}, 6),
    RuleSpec("oil volume", {"/": [V("oil_bbl_12m"), 10000]}, 1),
    RuleSpec("gas volume", {"/": [V("gas_mcf_12m"), 100000]}, 1),
    RuleSpec("growing", {">": [V("production_trend"), 0.1]}, 4),
    RuleSpec("declining", {"<": [V("production_trend"), -0.25]}, -3),
    RuleSpec("spread out", {">=": [V("counties"), 3]}, 2),
    RuleSpec("gone quiet", {">": [V("days_since_last_interaction", 9999), 90]}, 7),
    RuleSpec("just talked", {"<=": [V("days_since_last_interaction", 9999), 7]}, -5),
    RuleSpec("open deals", {">": [V("open_opportunities"), 0]}, 6),
    RuleSpec("overdue follow-up", {">": [V("overdue_tasks"), 0]}, 9),
    RuleSpec("unowned", {"==": [V("owner_id"), None]}, 3),
    RuleSpec("vip", {"in": ["vip", V("tags")]}, 15),
    RuleSpec("offshore", {"in": ["gom", V("tags")]}, -2),
    RuleSpec(
        "permits but no call",
        {
            "and": [
                {">=": [V("permits_90d"), 1]},
                {">": [V("days_since_last_interaction", 9999), 30]},
            ]
        },
        12,
    ),
    RuleSpec(
        "well tiers",
        {"if": [{">": [V("active_wells"), 50]}, 5, {">": [V("active_wells"), 20]}, 3, 0]},
        1,
    ),
    RuleSpec("capped permits", {"min": [V("permits_365d"), 20]}, 0.25),
]


def hand_written(dialect: str) -> str:
    least = "min" if dialect == "sqlite" else "least"
    has = (
        (lambda t: f"instr(tags, ',{t},') > 0")
        if dialect == "sqlite"
        else (lambda t: f"strpos(tags, ',{t},') > 0")
    )
    days = "coalesce(days_since_last_interaction, 9999)"
    return f"""
SELECT sum(
  CASE WHEN permits_90d >= 3 THEN 10 ELSE 0 END
+ CASE WHEN permits_30d > 0 THEN 5 ELSE 0 END
+ 0.5 * permits_365d
+ CASE WHEN active_wells >= 10 THEN 8 ELSE 0 END
+ CASE WHEN new_wells_12m > 2 THEN 6 ELSE 0 END
+ oil_bbl_12m / 10000.0
+ gas_mcf_12m / 100000.0
+ CASE WHEN coalesce(production_trend, 0) > 0.1 THEN 4 ELSE 0 END
+ CASE WHEN coalesce(production_trend, 0) < -0.25 THEN -3 ELSE 0 END
+ CASE WHEN counties >= 3 THEN 2 ELSE 0 END
+ CASE WHEN {days} > 90 THEN 7 ELSE 0 END
+ CASE WHEN {days} <= 7 THEN -5 ELSE 0 END
+ CASE WHEN open_opportunities > 0 THEN 6 ELSE 0 END
+ CASE WHEN overdue_tasks > 0 THEN 9 ELSE 0 END
+ CASE WHEN owner_id IS NULL THEN 3 ELSE 0 END
+ CASE WHEN {has("vip")} THEN 15 ELSE 0 END
+ CASE WHEN {has("gom")} THEN -2 ELSE 0 END
+ CASE WHEN permits_90d >= 1 AND {days} > 30 THEN 12 ELSE 0 END
+ CASE WHEN active_wells > 50 THEN 5 WHEN active_wells > 20 THEN 3 ELSE 0 END
+ 0.25 * {least}(permits_365d, 20)
) FROM bench_features"""


def generate(n: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(7)
    permits_365 = rng.poisson(2, n).astype(float)
    permits_90 = np.minimum(permits_365, rng.poisson(1, n))
    days = rng.integers(0, 400, n).astype(float)
    days[rng.random(n) < 0.3] = np.nan  # never contacted
    trend = rng.normal(0, 0.4, n)
    trend[rng.random(n) < 0.4] = np.nan
    owner = rng.integers(1, 50, n).astype(float)
    owner[rng.random(n) < 0.5] = np.nan
    tag_pool = np.array([",", ",vip,", ",gom,", ",vip,gom,", ",key,"])
    return {
        "organization_id": np.arange(1, n + 1),
        "permits_30d": np.minimum(permits_90, rng.poisson(0.3, n)).astype(float),
        "permits_90d": permits_90.astype(float),
        "permits_365d": permits_365,
        "active_wells": rng.poisson(8, n).astype(float),
        "new_wells_12m": rng.poisson(1, n).astype(float),
        "oil_bbl_12m": rng.gamma(1.0, 20000, n).round(1),
        "gas_mcf_12m": rng.gamma(1.0, 150000, n).round(1),
        "production_trend": trend,
        "counties": rng.integers(1, 6, n).astype(float),
        "days_since_last_interaction": days,
        "open_opportunities": rng.poisson(0.2, n).astype(float),
        "overdue_tasks": rng.poisson(0.1, n).astype(float),
        "owner_id": owner,
        "tags": tag_pool[rng.choice(len(tag_pool), n, p=[0.7, 0.1, 0.1, 0.05, 0.05])],
    }


def features_table() -> Table:
    from sqlalchemy import BigInteger

    cols = [Column("organization_id", BigInteger, primary_key=True)]
    cols += [Column(name, Text if kind == "list" else Float) for name, kind in TYPES.items()]
    return Table("bench_features", MetaData(), *cols)


def load(engine, data: dict[str, np.ndarray]) -> None:
    n = len(data["organization_id"])
    table = features_table()
    table.drop(engine, checkfirst=True)
    table.create(engine)
    names = list(data)
    if engine.dialect.name == "postgresql":
        raw = engine.raw_connection()
        try:
            with raw.cursor() as cur:
                with cur.copy(
                    "COPY organization (id, name, normalized_name, aliases, status, country, created_at, updated_at) FROM STDIN"
                ) as copy:
                    for i in range(1, n + 1):
                        copy.write_row(
                            (
                                i,
                                f"Org {i}",
                                f"ORG {i}",
                                "[]",
                                "prospect",
                                "US",
                                "2026-01-01",
                                "2026-01-01",
                            )
                        )
                with cur.copy(f"COPY bench_features ({', '.join(names)}) FROM STDIN") as copy:
                    cols = [data[k] for k in names]
                    for i in range(n):
                        copy.write_row(
                            tuple(
                                None
                                if isinstance(c[i], float) and np.isnan(c[i])
                                else c[i].item()
                                if hasattr(c[i], "item")
                                else c[i]
                                for c in cols
                            )
                        )
                cur.execute("SELECT setval(pg_get_serial_sequence('organization', 'id'), %s)", (n,))
            raw.commit()
        finally:
            raw.close()
    else:
        with engine.begin() as conn:
            dbapi = conn.connection.driver_connection
            dbapi.executemany(
                "INSERT INTO organization (id, name, normalized_name, aliases, status, country, created_at, updated_at) VALUES (?, ?, ?, '[]', 'prospect', 'US', '2026-01-01', '2026-01-01')",
                ((i, f"Org {i}", f"ORG {i}") for i in range(1, n + 1)),
            )
            cols = [data[k] for k in names]
            dbapi.executemany(
                f"INSERT INTO bench_features ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
                (
                    tuple(
                        None
                        if isinstance(c[i], float) and np.isnan(c[i])
                        else c[i].item()
                        if hasattr(c[i], "item")
                        else c[i]
                        for c in cols
                    )
                    for i in range(n)
                ),
            )
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))


def run_backend(label: str, url: str, data: dict[str, np.ndarray], sample: int) -> list[tuple]:
    engine = create_db_engine(url)
    upgrade(engine)
    t = time.perf_counter()
    load(engine, data)
    n = len(data["organization_id"])
    print(
        f"  {label}: loaded {n:,} organizations and their features in {time.perf_counter() - t:.1f} s"
    )
    table = features_table()
    dialect = engine.dialect.name
    rows = []
    # 1. full rescoring, persisted
    from sqlalchemy.orm import Session

    from ogcrm.db.models import Rule, RuleSet, RuleSetStatus

    with Session(engine) as session, session.begin():
        rs = RuleSet(name=f"bench {uuid.uuid4().hex[:6]}", status=RuleSetStatus.ACTIVE)
        rs.rules = [
            Rule(position=i, name=r.name, logic=r.logic, weight=r.weight)
            for i, r in enumerate(RULES)
        ]
        session.add(rs)
        session.flush()
        rule_set_id = rs.id
    for what, stored in (
        ("full rescore, persisted (compiled)", "updated"),
        ("rescore again, nothing changed", "stored"),
    ):
        t = time.perf_counter()
        with Session(engine) as session, session.begin():
            result = rescore(session, rule_set_id=rule_set_id, features=table, types=TYPES)
        seconds = time.perf_counter() - t
        parts = ", ".join(f"{k} {v:.1f}" for k, v in result.seconds.items())
        rows.append(
            (
                label,
                what,
                seconds,
                n / seconds,
                f"{result.organizations:,} {stored}, {result.snapshots:,} snapshots; {parts}",
            )
        )
    # 2. scoring statement alone vs hand-written CASE sum
    compiled = score_select(RULES, table, dialect, TYPES).subquery()
    with engine.connect() as conn:
        t = time.perf_counter()
        got = conn.execute(select(func.sum(compiled.c.total))).scalar()
        stmt = time.perf_counter() - t
        t = time.perf_counter()
        expected = conn.execute(text(hand_written(dialect))).scalar()
        hand = time.perf_counter() - t
    assert abs(got - expected) < 1e-6 * abs(expected), (got, expected)
    rows.append(
        (
            label,
            "scoring statement (compiled)",
            stmt,
            n / stmt,
            f"{stmt / hand:.2f}x the hand-written CASE sum",
        )
    )
    rows.append((label, "hand-written SQL CASE sum", hand, n / hand, f"same total {expected:,.1f}"))
    # 3. per-record interpreter on a sample
    records = []
    for i in range(sample):
        rec = {}
        for name, kind in TYPES.items():
            v = data[name][i]
            if kind == "list":
                rec[name] = [x for x in str(v).split(",") if x]
            elif not np.isnan(v):
                rec[name] = float(v)
        records.append(rec)
    t = time.perf_counter()
    for rec in records:
        sum(contribution(apply(r.logic, rec), r.weight) for r in RULES)
    interp = time.perf_counter() - t
    rate = sample / interp
    rows.append(
        (
            label,
            f"per-record interpreter ({sample:,} sample)",
            n / rate,
            rate,
            f"compiled statement is {rate and (n / stmt) / rate:,.0f}x faster",
        )
    )
    engine.dispose()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--organizations", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=20_000)
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--skip-sqlite", action="store_true")
    args = parser.parse_args()
    data = generate(args.organizations)
    rows = []
    admin = create_engine(
        make_url(args.pg).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT"
    )
    name = f"ogcrm_bench_{uuid.uuid4().hex[:8]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        rows += run_backend(
            "PostgreSQL",
            make_url(args.pg).set(database=name).render_as_string(hide_password=False),
            data,
            args.sample,
        )
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    if not args.skip_sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            rows += run_backend("SQLite", f"sqlite:///{tmp}/bench.db", data, args.sample)
    print(f"\n{'database':<11}{'what':<38}{'seconds':>9}{'orgs/s':>13}  notes")
    for label, what, seconds, rate, note in rows:
        print(f"{label:<11}{what:<38}{seconds:>9.2f}{rate:>13,.0f}  {note}")


if __name__ == "__main__":
    main()
