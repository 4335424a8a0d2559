"""What PostgreSQL alone needs to take in what a 1,000,000-row permits merge writes.

The same rows the merge writes (a million wells, a million permits, two million creation
records) inserted set-based, ``INSERT ... SELECT generate_series``: no Python, no
network, no parsing. That is the floor under ``bench/import_permits.py``'s merge figure
for the current schema, and what it costs is split out by running it again with the
foreign-key checks dropped (inside the transaction, rolled back), then with only the
primary and unique keys left.

    python bench/merge_floor.py [--rows 1000000] [--pg postgresql://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import time
import uuid

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from ogcrm.db.migrate import upgrade
from ogcrm.db.session import create_db_engine

SETUP = [
    "INSERT INTO dataset (id, filename, content_hash, size_bytes, state, created_at, attempts, "
    "rows_read, rows_clean, rows_fixed, rows_quarantined, rows_duplicate, counts, timings) "
    "VALUES (1, 'bench', repeat('a', 64), 1, 'merging', now(), 0, 0, 0, 0, 0, 0, '{}', '{}')",
    "INSERT INTO organization (id, name, normalized_name, aliases, status, country, dataset_id, "
    "created_at, updated_at) SELECT g, 'OP ' || g, 'OP ' || g, '[]', 'prospect', 'US', 1, now(), "
    "now() FROM generate_series(1, 1200) g",
]
STEPS = {
    "wells": "INSERT INTO well (id, api10, state, county, latitude, longitude, operator_id, "
    "dataset_id, created_at, updated_at) SELECT g, lpad((4200000000 + (g::bigint * 7919 % "
    "50000000))::text, 10, '0'), 'TX', 'MIDLAND', 32.1, -102.1, 1 + g % 1200, 1, now(), now() "
    "FROM generate_series(1, :rows) g",
    "permits": "INSERT INTO permit (id, agency, permit_number, well_id, operator_id, issued_on, "
    "total_depth_ft, lease_name, county, state, dataset_id, created_at, updated_at) SELECT g, "
    "'tx-rrc', (900000 + g)::text, g, 1 + g % 1200, date '2025-01-01' + g % 300, 12000, "
    "'LEASE ' || g % 5000 || ' UNIT', 'MIDLAND', 'TX', 1, now(), now() "
    "FROM generate_series(1, :rows) g",
    "creation records": "INSERT INTO change_record (dataset_id, entity, entity_id, field, before, "
    "after, row_number, created_at) SELECT 1, CASE WHEN g <= :rows THEN 'well' ELSE 'permit' END, "
    "1 + (g - 1) % :rows, '__created__', 'null', 'true', g, now() "
    "FROM generate_series(1, 2 * :rows) g",
}
WITHOUT_FOREIGN_KEYS = [
    "ALTER TABLE well DROP CONSTRAINT fk_well_operator_id_organization",
    "ALTER TABLE permit DROP CONSTRAINT fk_permit_operator_id_organization",
    "ALTER TABLE permit DROP CONSTRAINT fk_permit_well_id_well",
]
SECONDARY_INDEXES = [
    "DROP INDEX ix_well_operator_id",
    "DROP INDEX ix_permit_well_id",
    "DROP INDEX ix_permit_operator_id_issued_on",
    "DROP INDEX ix_permit_issued_on",
    "DROP INDEX ix_change_record_dataset_id",
    "DROP INDEX ix_change_record_entity_entity_id_field",
]


def run(url: str, rows: int, before: list[str]) -> dict[str, float]:
    """One pass in a fresh database, rolled back: seconds per step."""
    engine = create_db_engine(url)
    upgrade(engine)
    seconds: dict[str, float] = {}
    with engine.connect() as conn, conn.begin() as transaction:
        for statement in SETUP + before:
            conn.execute(text(statement))
        for name, statement in STEPS.items():
            start = time.perf_counter()
            conn.execute(text(statement), {"rows": rows})
            seconds[name] = time.perf_counter() - start
        transaction.rollback()
    engine.dispose()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    admin = create_engine(
        make_url(args.pg).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT"
    )
    variants = {
        "schema as migrated": [],
        "without the foreign-key checks": WITHOUT_FOREIGN_KEYS,
        "only primary and unique keys": WITHOUT_FOREIGN_KEYS + SECONDARY_INDEXES,
    }
    print(f"{'PostgreSQL alone, ' + format(args.rows, ',') + ' rows':<34}", end="")
    print("".join(f"{step:>18}" for step in STEPS) + f"{'total':>10}")
    for label, before in variants.items():
        name = f"ogcrm_floor_{uuid.uuid4().hex[:8]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            url = make_url(args.pg).set(database=name).render_as_string(hide_password=False)
            seconds = run(url, args.rows, before)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        print(f"{label:<34}" + "".join(f"{s:>18.1f}" for s in seconds.values()), end="")
        print(f"{sum(seconds.values()):>10.1f}")
    admin.dispose()


if __name__ == "__main__":
    main()
