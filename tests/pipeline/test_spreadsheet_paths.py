"""XLSX is read by calamine unless a worksheet holds a formula (then openpyxl reads it,
naming the formula's cell); either way the user sees the same rows, values and row
numbers. Each test compares with openpyxl alone."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter
from ogcrm_plugins.readers import spreadsheet

from ogcrm.pipeline.detect import read_file, sniff_file
from ogcrm.pipeline.errors import ReaderError
from ogcrm.plugins import default_registry


def _rows(path: Path, **options) -> list[tuple[str | None, int, list]]:
    out = []
    for chunk in read_file(path, default_registry(), chunk_rows=7, options=options):
        frame = chunk.frame.astype(object)
        for i, values in enumerate(frame.itertuples(index=False)):
            out.append((chunk.sheet, chunk.row_number(i), [None if v != v else v for v in values]))
    return out


def _both(path: Path, monkeypatch, **options):
    fast = _rows(path, **options)
    monkeypatch.setattr(spreadsheet, "_calamine_rows", lambda *a: None)
    return fast, _rows(path, **options)


def _write_openpyxl(path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Permits"
    ws.append(["North Dakota permits, May 2023"])  # a banner above the header
    ws.append([])
    ws.append(["API", "Operator", "Issued", "Depth", "Oil"])
    for i in range(20):
        ws.append(
            [f"3305305{i:03d}", f"OPERATOR {i} LLC", dt.date(2023, 5, 1 + i), 9000 + i, 12.5 * i]
        )
    ws.append([])
    ws.append(["20 permits"])  # a footer note after a blank row
    wb.create_sheet("Notes").append(["a note"])
    wb.save(path)


def test_an_openpyxl_workbook_reads_the_same_on_both_paths(tmp_path, monkeypatch):
    path = tmp_path / "permits.xlsx"
    _write_openpyxl(path)
    # openpyxl writes [Content_Types].xml last, here past the first 4 kB (it was read
    # as a zip archive of XML parts)
    assert b"[Content_Types].xml" not in path.read_bytes()[:4096]
    assert sniff_file(path, default_registry()).format == "xlsx"
    fast, slow = _both(path, monkeypatch)
    assert fast == slow and len(fast) == 20
    assert fast[0] == ("Permits", 4, ["3305305000", "OPERATOR 0 LLC", "2023-05-01", "9000", "0"])


def test_an_xlsxwriter_workbook_with_a_second_sheet_reads_the_same(tmp_path, monkeypatch):
    path = tmp_path / "production.xlsx"
    with xlsxwriter.Workbook(path) as wb:
        wb.add_worksheet("Cover").write(0, 0, "see the next sheet")
        ws = wb.add_worksheet("Data")
        ws.write_row(2, 1, ["Well", "Month", "Oil BBL"])  # starts at B3
        for i in range(15):
            ws.write_row(3 + i, 1, [f"WELL {i}", f"2023-{1 + i % 12:02d}", i * 100.25])
    fast, slow = _both(path, monkeypatch, sheet="Data")
    assert fast == slow and len(fast) == 15
    # column A is empty but part of the sheet, on both paths
    assert fast[0] == ("Data", 4, [None, "WELL 0", "2023-01", "0"])


@pytest.mark.parametrize(
    "name", ["nd-dmr-monthly-production-2023-05.xlsx", "nm-ocd-interface-v1.1-data-dictionary.xlsx"]
)
def test_the_real_workbooks_read_the_same(shared_data, monkeypatch, name):
    fast, slow = _both(shared_data / "real" / name, monkeypatch)
    assert fast == slow and fast


def test_a_sheet_too_large_to_hold_is_streamed_by_openpyxl(tmp_path, monkeypatch):
    path = tmp_path / "permits.xlsx"
    _write_openpyxl(path)
    assert spreadsheet._calamine_may_read(path)
    monkeypatch.setattr(spreadsheet, "CALAMINE_MAX_SHEET_BYTES", 1000)
    assert not spreadsheet._calamine_may_read(path)
    assert len(_rows(path)) == 20


def test_a_formula_anywhere_sends_the_workbook_to_openpyxl_which_names_it(tmp_path):
    path = tmp_path / "f.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["API", "Oil"])
    ws.append(["4200312345", 5])
    ws.append(["4200312346", "=B2*2"])
    wb.save(path)
    assert not spreadsheet._calamine_may_read(path)
    with pytest.raises(ReaderError) as info:
        _rows(path)
    assert (info.value.row, info.value.column) == (3, 2)
    assert "formula '=B2*2': formulas are not accepted" in str(info.value)
