"""The example plugin, tested the way ogcrm tests its built-ins: each piece through
the public contract, then a real import with the ``ogcrm`` command once installed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from ogcrm_example_plugin.cleaner import OtcOperatorCleaner
from ogcrm_example_plugin.plugin import ITD_SOURCE
from ogcrm_example_plugin.reader import ItdReader

from ogcrm import ReaderError
from ogcrm.pipeline.mapping import clean_context
from ogcrm.plugins import default_registry

SAMPLE = Path(__file__).parents[1] / "samples" / "ok-itd-2026-11.txt"


def test_the_reader_knows_its_files_by_content_and_streams_records():
    assert ItdReader.sniff(SAMPLE.read_bytes()[:4096]).reader == "occ_itd"
    assert ItdReader.sniff(b"API,OPERATOR\n35-017-25931,X\n") is None
    chunks = list(ItdReader().read(SAMPLE, details={}, chunk_rows=2))
    assert [len(c.frame) for c in chunks] == [2, 1]
    assert [c.row_number(i) for c in chunks for i in range(len(c.frame))] == [2, 10, 18]
    first = chunks[0].frame.iloc[0]
    assert (first.OPERATOR, first.SURFACE_LAT, first.SURFACE_LONG) == (
        "CEDAR MIDSTREAM INC (OTC 24155)",
        "35.5321",
        "-97.9812",
    )


def test_a_bad_line_is_an_error_naming_the_row_and_column(tmp_path: Path):
    bad = tmp_path / "bad.txt"
    bad.write_text("#OCC-ITD v1\nPERMIT: 1\nDEPTH: 9000\n")
    with pytest.raises(ReaderError) as caught:
        list(ItdReader().read(bad, details={}))
    assert (caught.value.row, caught.value.column) == (3, "DEPTH")


def test_the_cleaner_moves_the_otc_number_and_reports_it():
    frame = pd.DataFrame(
        {"operator_name": ["CEDAR MIDSTREAM INC (OTC 24155)", "Plain Name LLC"]},
        index=pd.RangeIndex(2, 4, name="row"),
        dtype=object,
    )
    out, issues = OtcOperatorCleaner().clean(frame, clean_context(ITD_SOURCE))
    assert out.operator_name.tolist() == ["CEDAR MIDSTREAM INC", "Plain Name LLC"]
    assert out.operator_number.tolist() == ["24155", None]
    assert issues.row.tolist() == [2] and issues.original.tolist() == [frame.operator_name[2]]
    assert frame.operator_name[2].endswith("(OTC 24155)")  # the input is left as it was


def test_ogcrm_loads_the_installed_plugin():
    registry = default_registry()
    assert "occ_itd" in registry.readers and "otc_operator" in registry.cleaners
    assert "ok-occ-itd" in registry.sources and "permit_states" in registry.scorers


@pytest.mark.skipif(shutil.which("ogcrm") is None, reason="needs the ogcrm command installed")
def test_a_bulletin_imports_end_to_end(tmp_path: Path):
    env = {**os.environ, "OGCRM_DATA_DIR": str(tmp_path)}
    env.pop("OGCRM_DATABASE_URL", None)

    def ogcrm(*args: str) -> str:
        done = subprocess.run(["ogcrm", *args], env=env, cwd=tmp_path, capture_output=True,
                              text=True, check=True)  # fmt: skip
        return done.stdout

    ogcrm("db", "upgrade")
    plugins = json.loads(ogcrm("plugins", "--json"))
    ours = next(p for p in plugins if p["from"].startswith("ogcrm-example-plugin "))
    assert ours["error"] is None
    assert {
        "reader:occ_itd",
        "cleaner:otc_operator",
        "scorer:permit_states",
        "source:ok-occ-itd",
    } <= set(ours["provides"])
    dataset = json.loads(ogcrm("import", str(SAMPLE), "--approve", "--json"))
    assert (dataset["source"], dataset["state"], dataset["rows_read"]) == (
        "ok-occ-itd",
        "merged",
        3,
    )
    assert dataset["counts"]["created"]["permit"] == 3
    assert dataset["counts"]["created"]["organization"] == 2  # Cedar twice, by its OTC number
    assert "permit_states_365d" in ogcrm("features")
