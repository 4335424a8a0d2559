"""The whole cleaner chain on a generated 1,000,000-row permits file, next to a
hand-written pandas cleaning of the same columns, each in a fresh process.

- ogcrm: read in 50,000-row chunks, map, run the source's full cleaner chain (every
  correction recorded as a cell issue, outcomes counted, duplicates found);
- pandas: ``read_csv`` of the whole file, then the same corrections written by hand
  (strip, null codes, API digits, name key, mixed dates, separators, swapped
  coordinates), with no record of what changed.

    python bench/clean_permits.py [--rows 1000000]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from permits_file import generate

CHILD_OGCRM = r"""
import json, resource, sys, time
from pathlib import Path
from ogcrm.pipeline.cleaning import CleanRun
from ogcrm.pipeline.contracts import SourceSpec
from ogcrm.pipeline.detect import read_file
from ogcrm.plugins import default_registry
path = Path(sys.argv[1])
start = time.perf_counter()
registry = default_registry()
source = SourceSpec(
    "bench-permits", "Permits", "tx-rrc", state="TX",
    mapping={
        "permit_number": "permit_number", "api": "api", "operator_number": "operator_number",
        "operator_name": "operator_name", "county": "county", "lease_name": "lease_name",
        "issued_date": "issued_date", "total_depth_ft": "total_depth",
        "latitude": "latitude", "longitude": "longitude",
    },
)
run = CleanRun(source, registry, path.name)
issues = 0
for cleaned in run.clean_all(read_file(path, registry)):
    issues += len(cleaned.issues)
elapsed = time.perf_counter() - start
counts = {k: v for k, v in run.counts.items()}
print(json.dumps({"rows": counts["rows_read"], "seconds": elapsed, "issues": issues,
                  "counts": counts,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

CHILD_PANDAS = r"""
import json, resource, sys, time
import numpy as np, pandas as pd
path = sys.argv[1]
sys.path.insert(0, sys.argv[-1])
from permits_file import pandas_clean
start = time.perf_counter()
df = pd.read_csv(path, dtype=str, keep_default_na=False)
df = pandas_clean(df)
elapsed = time.perf_counter() - start
print(json.dumps({"rows": len(df), "seconds": elapsed, "issues": 0,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def run(code: str, path: Path) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", code, str(path), str(Path(__file__).parent)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "permits.csv"
        t = time.perf_counter()
        generate(path, args.rows, dirty=True)
        print(
            f"generated {args.rows:,} permit rows ({path.stat().st_size / 1e6:.0f} MB, "
            f"1 in 50 dirty) in {time.perf_counter() - t:.1f} s"
        )
        print(
            f"{'cleaning':<34}{'rows':>11}{'seconds':>9}{'rows/s':>10}{'peak MB':>9}{'issues':>9}"
        )
        for label, code in (
            ("ogcrm chain (50k chunks, issues)", CHILD_OGCRM),
            ("hand-written pandas (whole file)", CHILD_PANDAS),
        ):
            r = run(code, path)
            print(
                f"{label:<34}{r['rows']:>11,}{r['seconds']:>9.1f}{r['rows'] / r['seconds']:>10,.0f}"
                f"{r['peak_mb']:>9.0f}{r['issues']:>9,}"
            )
            if "counts" in r:
                c = r["counts"]
                print(
                    f"  outcomes: clean {c.get('clean', 0):,}, fixed {c.get('fixed', 0):,}, "
                    f"quarantined {c.get('quarantined', 0):,}, duplicate {c.get('duplicate', 0):,}"
                )


if __name__ == "__main__":
    main()
