"""The delimited reader against the parsers a script would call: rows/s and peak memory.

Generates a 1,000,000-row permits-like CSV (about 110 MB), then reads it in a fresh
process per contender (so each peak RSS is its own), the contenders interleaved over
``--repeat`` rounds and the median printed:

- ogcrm: the built-in delimited reader, chunk by chunk (what an import does): Arrow's
  parser with the csv module taking over from the first record Arrow cannot be trusted
  with (none in this file);
- ogcrm, csv path only: the same reader with the Arrow path switched off (what it was);
- ``pyarrow.csv.read_csv`` of the whole file, every column as text (the floor);
- ``pandas.read_csv(path, dtype=str)``, whole and with ``chunksize`` (it pads short rows
  silently, so it cannot name a ragged row).

    python bench/read_csv.py [--rows 1000000] [--chunk-rows 50000] [--repeat 3]
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
# imports are not timed: a worker pays them once, not per file
if mode.startswith("ogcrm"):
    from ogcrm.pipeline.detect import read_file
    from ogcrm.plugins import default_registry
    registry = default_registry()
    if mode == "ogcrm-csv":
        from ogcrm_plugins.readers import _arrow_csv
        def _off(*args, **kwargs):
            return 0
            yield
        _arrow_csv.chunks = _off
    start = time.perf_counter()
    rows = sum(len(c.frame) for c in read_file(path, registry, chunk_rows=chunk_rows))
elif mode == "pyarrow":
    import pyarrow as pa, pyarrow.csv as pacsv
    start = time.perf_counter()
    names = path.open().readline().strip().split(",")
    table = pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(
        column_types=dict.fromkeys(names, pa.string())))
    rows = table.num_rows
elif mode == "pandas-chunks":
    import pandas as pd
    start = time.perf_counter()
    chunks = pd.read_csv(path, dtype=str, keep_default_na=False, chunksize=chunk_rows)
    rows = sum(len(c) for c in chunks)
else:
    import pandas as pd
    start = time.perf_counter()
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
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "permits.csv"
        t = time.perf_counter()
        generate(path, args.rows)
        size_mb = path.stat().st_size / 1e6
        print(f"generated {args.rows:,} rows, {size_mb:.0f} MB in {time.perf_counter() - t:.1f} s")
        print(
            f"{'reader (median of --repeat)':<30}{'rows':>10}{'seconds':>10}{'rows/s':>12}{'peak MB':>10}"
        )
        contenders = (
            ("ogcrm", f"ogcrm delimited ({args.chunk_rows:,}/chunk)"),
            ("ogcrm-csv", "ogcrm, csv path only"),
            ("pyarrow", "pyarrow.csv.read_csv (whole)"),
            ("pandas-chunks", "pandas.read_csv (chunked)"),
            ("pandas", "pandas.read_csv (whole)"),
        )
        runs: dict[str, list[dict[str, float]]] = {mode: [] for mode, _ in contenders}
        for _ in range(args.repeat):
            for mode, _label in contenders:
                runs[mode].append(run(path, mode, args.chunk_rows))
        for mode, label in contenders:
            r = sorted(runs[mode], key=lambda x: x["seconds"])[len(runs[mode]) // 2]
            print(
                f"{label:<30}{r['rows']:>10,}{r['seconds']:>10.2f}{r['rows'] / r['seconds']:>12,.0f}{r['peak_mb']:>10.0f}"
            )


if __name__ == "__main__":
    main()
