"""Streaming CSV reader vs pandas.read_csv of the whole file: rows/s and peak memory.

Generates a 1,000,000-row permits-like CSV (about 100 MB), then reads it in a fresh
process per contender so each peak RSS is its own:

- ogcrm: the built-in delimited reader, chunk by chunk (what an import does);
- pandas: ``pandas.read_csv(path, dtype=str)`` of the whole file (the obvious script);
- pandas chunked: the same with ``chunksize`` (fast, but it pads short rows silently, so
  it cannot name a ragged row: why ogcrm parses with the ``csv`` module).

    python bench/read_csv.py [--rows 1000000] [--chunk-rows 50000]
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

CHILD = r"""
import json, resource, sys, time
from pathlib import Path
path, mode, chunk_rows = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
start = time.perf_counter()
if mode == "ogcrm":
    from ogcrm.pipeline.detect import read_file
    from ogcrm.plugins import default_registry
    rows = sum(len(c.frame) for c in read_file(path, default_registry(), chunk_rows=chunk_rows))
elif mode == "pandas-chunks":
    import pandas as pd
    chunks = pd.read_csv(path, dtype=str, keep_default_na=False, chunksize=chunk_rows)
    rows = sum(len(c) for c in chunks)
else:
    import pandas as pd
    rows = len(pd.read_csv(path, dtype=str, keep_default_na=False))
elapsed = time.perf_counter() - start
peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"rows": rows, "seconds": elapsed, "peak_mb": peak_mb}))
"""


def run(path: Path, mode: str, chunk_rows: int) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), mode, str(chunk_rows)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--chunk-rows", type=int, default=50_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "permits.csv"
        t = time.perf_counter()
        generate(path, args.rows)
        size_mb = path.stat().st_size / 1e6
        print(f"generated {args.rows:,} rows, {size_mb:.0f} MB in {time.perf_counter() - t:.1f} s")
        print(f"{'reader':<28}{'rows':>10}{'seconds':>10}{'rows/s':>12}{'peak MB':>10}")
        for mode, label in (
            ("ogcrm", f"ogcrm delimited ({args.chunk_rows:,}/chunk)"),
            ("pandas-chunks", "pandas.read_csv (chunked)"),
            ("pandas", "pandas.read_csv (whole)"),
        ):
            r = run(path, mode, args.chunk_rows)
            print(
                f"{label:<28}{r['rows']:>10,}{r['seconds']:>10.2f}{r['rows'] / r['seconds']:>12,.0f}{r['peak_mb']:>10.0f}"
            )


if __name__ == "__main__":
    main()
