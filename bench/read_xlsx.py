"""The XLSX reader against openpyxl and pandas: rows/s and peak memory.

Writes a 100,000-row, 6-column sheet with xlsxwriter (a banner row above the header, as
agency workbooks have), then reads it in a fresh process per contender, the contenders
interleaved over ``--repeat`` rounds, medians printed (imports not timed):

- ogcrm: the built-in reader, chunk by chunk (calamine, since the sheet has no formula);
- ogcrm, openpyxl path: the same reader made to take its formula-naming path;
- ``pandas.read_excel`` with openpyxl (pandas' default) and with calamine.

    python bench/read_xlsx.py [--rows 100000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
from pathlib import Path

import xlsxwriter

CHILD = r"""
import json, resource, sys, time
from pathlib import Path
path, mode = Path(sys.argv[1]), sys.argv[2]
if mode.startswith("ogcrm"):
    from ogcrm.pipeline.detect import read_file
    from ogcrm.plugins import default_registry
    registry = default_registry()
    if mode == "ogcrm-openpyxl":
        from ogcrm_plugins.readers import spreadsheet
        spreadsheet._calamine_rows = lambda *args: None
    start = time.perf_counter()
    rows = sum(len(c.frame) for c in read_file(path, registry))
else:
    import pandas as pd
    start = time.perf_counter()
    rows = len(pd.read_excel(path, engine=mode.split("-")[1], header=1, dtype=str))
elapsed = time.perf_counter() - start
print(json.dumps({"rows": rows, "seconds": elapsed,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def write(path: Path, rows: int) -> None:
    rng = random.Random(1)
    with xlsxwriter.Workbook(str(path), {"constant_memory": True}) as book:
        sheet = book.add_worksheet("Production")
        sheet.write_row(0, 0, ["Monthly production, generated"])
        sheet.write_row(1, 0, ["API", "Operator", "County", "Oil", "Gas", "Month"])
        for i in range(rows):
            sheet.write_row(
                i + 2,
                0,
                [
                    f"33{rng.randint(0, 99999999):08d}",
                    f"OPERATOR {i % 997} LLC",
                    rng.choice(["MCKENZIE", "WILLIAMS", "DUNN", "MOUNTRAIL"]),
                    round(rng.random() * 1000, 2),
                    rng.randint(0, 99999),
                    f"2023-{1 + i % 12:02d}",
                ],
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    contenders = (
        ("ogcrm", "ogcrm xlsx (calamine)"),
        ("ogcrm-openpyxl", "ogcrm xlsx, openpyxl path"),
        ("pandas-openpyxl", "pandas.read_excel (openpyxl)"),
        ("pandas-calamine", "pandas.read_excel (calamine)"),
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "production.xlsx"
        write(path, args.rows)
        print(f"wrote {args.rows:,} rows, {path.stat().st_size / 1e6:.1f} MB")
        runs: dict[str, list[dict[str, float]]] = {mode: [] for mode, _ in contenders}
        for _ in range(args.repeat):
            for mode, _label in contenders:
                out = subprocess.run(
                    [sys.executable, "-c", CHILD, str(path), mode],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                runs[mode].append(json.loads(out.stdout))
    print(
        f"{'reader (median of --repeat)':<32}{'rows':>9}{'seconds':>9}{'rows/s':>10}{'peak MB':>9}"
    )
    for mode, label in contenders:
        r = sorted(runs[mode], key=lambda x: x["seconds"])[len(runs[mode]) // 2]
        print(
            f"{label:<32}{r['rows']:>9,}{r['seconds']:>9.2f}"
            f"{r['rows'] / r['seconds']:>10,.0f}{r['peak_mb']:>9.0f}"
        )


if __name__ == "__main__":
    main()
