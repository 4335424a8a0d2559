"""Exporting 1,000,000 permits over HTTP, next to pandas writing the same rows.

A real ``ogcrm serve`` (uvicorn, PostgreSQL) streams ``GET /exports/permits`` as CSV and
as XLSX to a client that reads it as fast as it can; the server's resident memory is
sampled from ``/proc`` the whole time. In the same run the same rows (the same SELECT)
are loaded into a DataFrame and written with ``DataFrame.to_csv`` and ``to_excel``
(xlsxwriter), which is what an analyst would otherwise script.

    python bench/export.py [--pg postgresql://postgres@127.0.0.1:5432/test]
        [--rows 1000000] [--skip-pandas-xlsx]

Targets (DESIGN §9): server memory flat, under 200 MB whatever the size; CSV at least
as fast as pandas ``to_csv``.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import threading
import time
from pathlib import Path

import httpx
import pandas as pd
import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.api_latency import _database, _spawn  # noqa: E402

SEED = [
    "INSERT INTO organization (name, normalized_name, aliases, status, country, created_at, "
    "updated_at) SELECT 'Operator ' || g || ' LLC', 'OPERATOR ' || g, '[]', 'customer', 'US', "
    "now(), now() FROM generate_series(1, 1200) g",
    "INSERT INTO well (api10, name, operator_id, state, county, latitude, longitude, status, "
    "spud_date, created_at, updated_at) SELECT '42' || lpad(g::text, 8, '0'), 'WELL ' || g, "
    "1 + g %% 1200, 'TX', 'REEVES', 31 + (g %% 1000) / 1000.0, -104 + (g %% 3000) / 1000.0, "
    "'ACTIVE', date '2020-01-01' + g %% 2000, now(), now() "
    "FROM generate_series(1, %(n)s / 2) g",
    "INSERT INTO permit (agency, permit_number, well_id, operator_id, permit_type, status, "
    "received_on, issued_on, total_depth_ft, state, county, lease_name, created_at, updated_at) "
    "SELECT 'rrc', 'P' || g, 1 + g %% (%(n)s / 2), 1 + g %% 1200, 'DRILL', 'APPROVED', "
    "date '2025-01-01' + g %% 365, date '2025-01-08' + g %% 365, 3000 + g %% 18000, 'TX', "
    "CASE WHEN g %% 3 = 0 THEN 'WARD' ELSE 'REEVES' END, "
    "CASE WHEN g %% 1000 = 0 THEN '=HYPERLINK(\"x\")' ELSE 'LEASE ' || g %% 5000 END, "
    "now(), now() FROM generate_series(1, %(n)s) g",
    "ANALYZE",
]
#: What the export selects, for pandas (same columns, same order).
SAME_ROWS = (
    "SELECT p.permit_number, p.agency, w.api10, p.operator_id, o.name AS operator, "
    "p.permit_type, p.status, p.received_on, p.issued_on, p.expires_on, p.total_depth_ft, "
    "p.state, p.county, p.lease_name FROM permit p LEFT JOIN organization o "
    "ON o.id = p.operator_id LEFT JOIN well w ON w.id = p.well_id ORDER BY p.id"
)


def _seed(url: str, rows: int) -> tuple[str, str]:
    from ogcrm.auth.users import create_user
    from ogcrm.config import Settings
    from ogcrm.db.migrate import upgrade
    from ogcrm.db.session import Database, create_db_engine

    engine = create_db_engine(url)
    upgrade(engine)
    engine.dispose()
    db = Database(Settings(database_url=url))
    password = "correct horse battery staple"
    with db.unit_of_work() as s:
        create_user(s, email="analyst@example.com", name="A", role="analyst", password=password)
    db.dispose()
    t = time.perf_counter()
    with psycopg.connect(
        url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True
    ) as c:
        for statement in SEED:
            c.execute(statement, {"n": rows})
    print(f"seeded {rows:,} permits in {time.perf_counter() - t:.1f} s")
    return "analyst@example.com", password


class PeakRss:
    """The largest resident set of a process, sampled every 50 ms."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self._stop = pid, 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _rss(self) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        return 0

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._rss())
            time.sleep(0.05)

    def __enter__(self) -> PeakRss:
        self.before = self._rss()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _download(
    client: httpx.Client, url: str, token: str, fmt: str, pid: int
) -> tuple[float, int, int, int]:
    with PeakRss(pid) as rss:
        t = time.perf_counter()
        size = 0
        with client.stream("GET", url, params={"format": fmt},
                           headers={"authorization": f"Bearer {token}"}) as response:  # fmt: skip
            assert response.status_code == 200, response.read()
            for chunk in response.iter_bytes(1 << 16):
                size += len(chunk)
        elapsed = time.perf_counter() - t
    return elapsed, size, rss.before, rss.peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--skip-pandas-xlsx", action="store_true", help="to_excel takes minutes")
    parser.add_argument("--formats", default="csv,xlsx", help="what ogcrm exports (csv,xlsx)")
    args = parser.parse_args()
    url = _database(args.pg)
    email, password = _seed(url, args.rows)
    env = {k: v for k, v in os.environ.items() if not k.startswith("OGCRM_")}
    data_dir = Path("/tmp/ogcrm-bench-export")
    data_dir.mkdir(exist_ok=True)
    server = _spawn(
        [str(Path(sys.executable).with_name("ogcrm")), "serve", "--port", "8713"],
        {**env, "OGCRM_DATABASE_URL": url, "OGCRM_DATA_DIR": str(data_dir),
         "OGCRM_REDIS_URL": os.environ.get("OGCRM_BENCH_REDIS", "redis://127.0.0.1:6379/14"),
         "OGCRM_SECRET_KEY": "bench-secret-key-bench-secret-key-0123456789",
         "OGCRM_LOG_LEVEL": "WARNING"},
        8713,
    )  # fmt: skip
    results: list[tuple[str, float, int, str]] = []
    try:
        with httpx.Client(timeout=None) as client:
            token = client.post(
                "http://127.0.0.1:8713/graphql",
                json={
                    "query": "mutation($e: String!, $p: String!) { login(email: $e, password: $p)"
                    " { ... on AuthPayload { accessToken } } }",
                    "variables": {"e": email, "p": password},
                },
            ).json()["data"]["login"]["accessToken"]
            for fmt in args.formats.split(","):
                elapsed, size, before, peak = _download(
                    client, "http://127.0.0.1:8713/exports/permits", token, fmt, server.pid
                )
                memory = f"server RSS {before / 2**20:.0f} MB before, peak {peak / 2**20:.0f} MB"
                results.append((f"ogcrm GET /exports/permits {fmt}", elapsed, size, memory))
                print(results[-1], flush=True)
    finally:
        server.terminate()
        server.wait()
    raw = url.replace("postgresql+psycopg://", "postgresql://")
    t = time.perf_counter()
    with psycopg.connect(raw) as conn, conn.cursor() as cur:
        cur.execute(SAME_ROWS)
        frame = pd.DataFrame(cur.fetchall(), columns=[d.name for d in cur.description])
    load = time.perf_counter() - t
    results.append(("pandas: load the rows into a DataFrame", load, 0, ""))
    t = time.perf_counter()
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    results.append(("pandas DataFrame.to_csv (rows in memory)", time.perf_counter() - t,
                    len(buffer.getvalue().encode()), ""))  # fmt: skip
    del buffer
    if not args.skip_pandas_xlsx and "xlsx" in args.formats:
        t = time.perf_counter()
        out = io.BytesIO()
        frame.to_excel(out, index=False, engine="xlsxwriter")
        results.append(("pandas DataFrame.to_excel (rows in memory)", time.perf_counter() - t,
                        out.getbuffer().nbytes, ""))  # fmt: skip
    print(f"\n{args.rows:,} permits, PostgreSQL, one run\n")
    print("| what | seconds | rows/s | MB written | memory |")
    print("| --- | --- | --- | --- | --- |")
    for label, seconds, size, memory in results:
        print(
            f"| {label} | {seconds:.1f} | {args.rows / seconds:,.0f} | {size / 1e6:.0f} | {memory} |"
        )


if __name__ == "__main__":
    main()
