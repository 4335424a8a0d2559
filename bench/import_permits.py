"""Importing a generated permits file: read + clean + stage, then merge, next to a
hand-written pandas read / clean / COPY of the same file, each in a fresh process.

- ogcrm: ``receive`` + ``process`` (stream the file in chunks, the full cleaner chain,
  staged rows and cell issues written with COPY), then ``approve_and_merge`` into the
  CRM tables with change records;
- pandas: ``read_csv`` of the whole file, the same corrections by hand, ``COPY`` of the
  result into a plain table (no history, no issues, no review).

    python bench/import_permits.py [--rows 1000000] [--merge-rows N] [--repeat 3]
        [--messy] [--pg postgresql://postgres@127.0.0.1:5432/test]

``--messy`` uses a file where most rows need a correction (``generate_messy``: dates in
five forms, counties as names in three cases or codes, API numbers in five shapes with
15% invalid, 1% duplicates) and the hand-written script for it (``pandas_clean_messy``:
``format="mixed"`` dates, API digits, county codes, duplicates dropped).

By default the merge is of the whole generated file, after its first staging;
``--merge-rows`` merges a separate, smaller file instead (quicker, for a first look).
The two stagings run ``--repeat`` times, taking turns, each in a fresh database, and the
medians are compared: on a shared 2-core machine one run of either can be 30% off.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from permits_file import generate, generate_messy
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

OGCRM = r"""
import json, resource, sys, time
from pathlib import Path
from ogcrm.auth.principal import system_principal
from ogcrm.config import Settings
from ogcrm.db.migrate import upgrade
from ogcrm.db.session import Database, create_db_engine
from ogcrm.pipeline.contracts import SourceSpec
from ogcrm.plugins import default_registry
from ogcrm.datasets.staging import process
from ogcrm.datasets.intake import receive
from ogcrm.datasets.merge import approve_and_merge
path, url, data_dir, merge = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3]), sys.argv[4] == "merge"
engine = create_db_engine(url); upgrade(engine); engine.dispose()
registry = default_registry()
registry.sources["bench-permits"] = SourceSpec(
    "bench-permits", "Permits", "tx-rrc", state="TX", reader="delimited",
    mapping={
        "permit_number": "permit_number", "api": "api", "operator_number": "operator_number",
        "operator_name": "operator_name", "county": "county", "lease_name": "lease_name",
        "issued_date": "issued_date", "total_depth_ft": "total_depth",
        "latitude": "latitude", "longitude": "longitude",
    },
)
db = Database(Settings(data_dir=data_dir, database_url=url, secret_key="x" * 43))
start = time.perf_counter()
with db.unit_of_work() as s:
    received = receive(s, system_principal("bench"), path, data_dir=data_dir, source="bench-permits")
dataset = process(db, received.dataset_id, data_dir=data_dir, registry=registry)
staged = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
result = {"rows": dataset.rows_read, "staged_seconds": staged, "peak_mb": peak,
          "counts": [dataset.rows_clean, dataset.rows_fixed, dataset.rows_quarantined, dataset.rows_duplicate]}
if merge:
    start = time.perf_counter()
    with db.unit_of_work() as s:
        counts = approve_and_merge(s, system_principal("bench"), received.dataset_id)
    result["merge_seconds"] = time.perf_counter() - start
    result["merge"] = counts
print(json.dumps(result))
"""

PANDAS = r"""
import io, json, resource, sys, time
import numpy as np, pandas as pd, psycopg
path, url, messy = sys.argv[1], sys.argv[2], sys.argv[3] == "messy"
sys.path.insert(0, sys.argv[-1])
from permits_file import pandas_clean, pandas_clean_messy
start = time.perf_counter()
df = pd.read_csv(path, dtype=str, keep_default_na=False)
df = pandas_clean_messy(df) if messy else pandas_clean(df)
buffer = io.StringIO()
df.to_csv(buffer, index=False, header=False)
buffer.seek(0)
with psycopg.connect(url) as conn:
    conn.execute("CREATE TABLE pandas_permits (" + ", ".join(f'"{c}" text' for c in df.columns) + ")")
    with conn.cursor().copy("COPY pandas_permits FROM STDIN WITH (FORMAT csv)") as copy:
        while block := buffer.read(1 << 20):
            copy.write(block)
seconds = time.perf_counter() - start
print(json.dumps({"rows": len(df), "staged_seconds": seconds,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def child(code: str, *args: str) -> dict:
    bench = str(Path(__file__).parent)  # the children import permits_file from here
    out = subprocess.run([sys.executable, "-c", code, *args, bench], capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--merge-rows", type=int, default=None)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--messy", action="store_true", help="most rows need a correction")
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    admin = create_engine(
        make_url(args.pg).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT"
    )
    names: list[str] = []

    def drop(name: str) -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def fresh(code: str, *args_: str) -> dict:
        """One child run in a database of its own, dropped after it."""
        name = f"ogcrm_bench_{uuid.uuid4().hex[:8]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        names.append(name)
        url = make_url(args.pg).set(database=name).render_as_string(hide_password=False)
        try:
            return child(code, args_[0], url, *args_[1:])
        finally:
            drop(name)

    try:
        with tempfile.TemporaryDirectory() as tmp:
            big, small = Path(tmp) / "permits.csv", Path(tmp) / "permits-small.csv"
            t = time.perf_counter()
            make = generate_messy if args.messy else lambda p, n: generate(p, n, dirty=True)
            make(big, args.rows)
            if args.merge_rows:
                make(small, args.merge_rows)
            print(
                f"generated {args.rows:,} permit rows ({big.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - t:.1f} s"
            )
            if args.merge_rows:
                merged = fresh(OGCRM, str(small), tmp + "/m", "merge")
            ogcrm_runs: list[dict] = []
            pandas_runs: list[dict] = []
            for turn in range(args.repeat):
                mode = "merge" if turn == 0 and not args.merge_rows else "stage"
                data_dir = Path(tmp) / f"run{turn}"
                data_dir.mkdir()
                ogcrm_runs.append(fresh(OGCRM, str(big), str(data_dir), mode))
                pandas_runs.append(fresh(PANDAS, str(big), "messy" if args.messy else "dirty"))
            if not args.merge_rows:
                merged = ogcrm_runs[0]
    finally:
        for name in names:
            drop(name)
        admin.dispose()
    print(
        f"\n{'read + clean + stage (PostgreSQL)':<44}{'rows':>11}{'median s':>10}"
        f"{'rows/s':>10}{'peak MB':>9}   each run (s)"
    )
    for label, runs in (
        ("ogcrm (chunks, issues, staged for review)", ogcrm_runs),
        ("hand-written pandas + COPY", pandas_runs),
    ):
        seconds = [r["staged_seconds"] for r in runs]
        median, rows = statistics.median(seconds), runs[0]["rows"]
        print(
            f"{label:<44}{rows:>11,}{median:>10.1f}{rows / median:>10,.0f}"
            f"{max(r['peak_mb'] for r in runs):>9.0f}   " + ", ".join(f"{x:.1f}" for x in seconds)
        )
    ogcrm = ogcrm_runs[0]
    clean, fixed, quarantined, duplicate = ogcrm["counts"]
    print(
        f"  ogcrm outcomes: clean {clean:,}, fixed {fixed:,}, quarantined {quarantined:,}, duplicate {duplicate:,}"
    )
    rate = merged["rows"] / merged["merge_seconds"]
    print(
        f"\nmerge of {merged['rows']:,} rows into the CRM (PostgreSQL): {merged['merge_seconds']:.1f} s "
        f"({rate:,.0f} rows/s; {args.rows:,} rows would take about {args.rows / rate:,.0f} s) "
        f"created {merged['merge']['created']}, {merged['merge']['changes']:,} change records"
    )


if __name__ == "__main__":
    main()
