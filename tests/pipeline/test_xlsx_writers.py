"""An XLSX is detected by its content whichever library wrote it: openpyxl (and so
``pandas.DataFrame.to_excel``'s default) puts ``[Content_Types].xml`` last in the zip,
xlsxwriter first; both are read as XLSX with the right columns and rows, never as an
archive whose XML parts are rows."""

from __future__ import annotations

import zipfile
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter

from ogcrm.pipeline.detect import read_file, sniff_file
from ogcrm.plugins import default_registry

ROWS = [["operator", "api", "county"], ["Acme Oil LLC", "4238912345", "REEVES"],
        ["Bravo Energy", "4238912346", "WARD"]]  # fmt: skip


def _openpyxl(path: Path) -> None:
    book = openpyxl.Workbook()
    for row in ROWS:
        book.active.append(row)
    book.save(path)


def _xlsxwriter(path: Path) -> None:
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("permits")
    for i, row in enumerate(ROWS):
        sheet.write_row(i, 0, row)
    book.close()


@pytest.mark.parametrize("write", [_openpyxl, _xlsxwriter], ids=["openpyxl", "xlsxwriter"])
def test_either_writers_xlsx_is_read_as_xlsx(tmp_path: Path, write):
    path = tmp_path / "permits.xlsx"
    write(path)
    names = zipfile.ZipFile(path).namelist()
    assert "[Content_Types].xml" in names
    registry = default_registry()
    assert sniff_file(path, registry).format == "xlsx"
    chunks = list(read_file(path, registry))
    frame = chunks[0].frame
    assert list(frame.columns) == ROWS[0]
    assert frame.values.tolist() == ROWS[1:]
    assert [chunks[0].row_number(i) for i in range(2)] == [2, 3]
