"""Readers under a hard memory ceiling: hostile or huge files end in a clean error (or a
clean read), never a MemoryError or a killed process.

Each case reads a generated file in a child process whose address space is capped with
``RLIMIT_AS`` (RELIABILITY rows 20, 21, 23), and reports what a user would see: the
rows read, or the error text.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import zipfile
from pathlib import Path

LIMIT_MB = 512

CHILD = r"""
import json, sys
from pathlib import Path
from ogcrm.pipeline.detect import read_file
from ogcrm.pipeline.errors import ReaderError
from ogcrm.plugins import default_registry
path, chunk_rows, naive = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "naive"
try:
    if naive:  # the obvious alternative: parse the whole document at once
        rows = len(json.loads(path.read_bytes()))
    else:
        rows = sum(len(c.frame) for c in read_file(path, default_registry(), chunk_rows=chunk_rows))
    print(json.dumps({"rows": rows}))
except ReaderError as exc:
    print(json.dumps({"error": str(exc), "row": exc.row, "column": exc.column}))
except MemoryError:
    print(json.dumps({"memory_error": True}))
"""


def _limit_address_space() -> None:
    limit = LIMIT_MB * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def read_bounded(path: Path, *, chunk_rows: int = 10_000, naive: bool = False) -> dict:
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), str(chunk_rows), "naive" if naive else "ogcrm"],
        capture_output=True,
        text=True,
        timeout=240,
        env=env,
        preexec_fn=_limit_address_space,  # the test process forks before any thread starts
        check=False,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout)


def test_json_array_larger_than_memory_allows_whole_is_streamed(tmp_path):
    path = tmp_path / "wells.json"
    with path.open("w") as fh:
        fh.write("[")
        for i in range(600_000):
            fh.write(
                ("," if i else "")
                + json.dumps(
                    {
                        "api": f"42{i:08d}",
                        "operator": f"OPERATOR {i % 997} LLC",
                        "county": "REEVES",
                        "oil_bbl": f"{i % 5000}.5",
                        "status": "ACTIVE",
                    }
                )
            )
        fh.write("]")
    # the control: the same file parsed whole does not fit under the ceiling
    assert read_bounded(path, naive=True) == {"memory_error": True}
    assert read_bounded(path) == {"rows": 600_000}


def test_billion_laughs_is_refused_not_expanded(tmp_path):
    entities = "".join(f'<!ENTITY l{i} "{("&l" + str(i - 1) + ";") * 10}">' for i in range(1, 10))
    path = tmp_path / "laughs.xml"
    path.write_text(
        f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY l0 "lol">{entities}]>'
        "<root><r><a>&l9;</a></r></root>"
    )
    result = read_bounded(path)
    assert "DTDs and entities are not allowed" in result["error"]
    assert result["error"].startswith("laughs.xml")


def test_zip_bomb_is_refused_under_the_ceiling(tmp_path):
    path = tmp_path / "bomb.zip"
    block = b"0" * (1 << 20)
    with (
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf,
        zf.open("zeros.csv", "w") as member,
    ):
        for _ in range(1024):  # 1 GiB declared, about 1 MB stored
            member.write(block)
    result = read_bounded(path)
    assert "zip bomb" in result["error"] and "zeros.csv" in result["error"]


def test_ten_million_columns_are_refused_with_the_row(tmp_path):
    path = tmp_path / "wide.csv"
    with path.open("w") as fh:
        fh.write("operator")
        for _ in range(10):
            fh.write(",c" * 1_000_000)
        fh.write("\nAcme" + ",1" * 10_000_000 + "\n")
    result = read_bounded(path)
    assert result["row"] == 1
    assert "longer than 8 MB" in result["error"] and "columns" in result["error"]


def test_one_200_mb_line_is_refused_with_its_row(tmp_path):
    path = tmp_path / "long.csv"
    with path.open("w") as fh:
        fh.write("operator,api\nAcme,4212345678\nBravo,")
        block = "9" * (1 << 20)
        for _ in range(200):
            fh.write(block)
        fh.write("\n")
    result = read_bounded(path)
    assert result["row"] == 3
    assert result["error"].startswith("long.csv, row 3: a line is longer than 8 MB")


def test_archive_with_100k_entries_is_refused(tmp_path):
    entries = 100_000
    path = tmp_path / "many.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        for i in range(entries):
            zf.writestr(f"f{i}.csv", "")
    result = read_bounded(path)
    assert result["error"] == f"many.zip: archive has {entries} entries; at most 10000 are accepted"
