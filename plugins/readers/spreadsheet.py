"""Spreadsheets: XLSX (calamine, or openpyxl streaming) and legacy XLS (xlrd).

The header row is found by content, not assumed to be row 1 (title banners above it),
trailing footer notes and empty formatted rows are dropped, every sheet is addressable
(``sheet`` option; the first by default), and formulas are refused: a data file should
hold values, and a formula is where spreadsheet injection starts.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
from ogcrm_plugins.readers._support import check_zip

from ogcrm import hookimpl
from ogcrm.pipeline.contracts import DEFAULT_CHUNK_ROWS, Chunk, Reader, Sniff
from ogcrm.pipeline.errors import ReaderError

HEADER_SCAN_ROWS = 30
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value if value.strip() else None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _is_data_like(values: list[Any]) -> bool:
    return any(isinstance(v, (int, float, dt.date)) and not isinstance(v, bool) for v in values)


def find_header(rows: list[list[Any]]) -> int:
    """Index of the header among the first rows.

    A header's cells are text naming columns, so each value is unique in its column
    among the rows scanned (data values such as a county repeat). The row with most such
    cells before the first row holding numbers or dates wins; on a tie, the one right
    above the data when the data starts within a few rows (titles sit above headers, as
    in EIA workbooks), else the first.
    """
    first_data = next((i for i, r in enumerate(rows) if _is_data_like(r)), None)
    candidates = rows[:first_data] if first_data else rows
    if not candidates:
        return 0
    column_values: dict[int, list[str]] = {}
    for r in rows:
        for j, v in enumerate(r):
            if (t := _text(v)) is not None:
                column_values.setdefault(j, []).append(t)

    def score(r: list[Any]) -> int:
        return sum(
            1
            for j, v in enumerate(r)
            if isinstance(v, str) and (t := _text(v)) is not None and column_values[j].count(t) == 1
        )

    scores = [score(r) for r in candidates]
    best = max(scores)
    indexes = [i for i, c in enumerate(scores) if c == best]
    if first_data is not None and first_data - indexes[-1] <= 5:
        return indexes[-1]
    return indexes[0]


def _frames(
    display: str, sheet: str, rows: Iterable[tuple[int, list[Any]]], chunk_rows: int
) -> Iterator[Chunk]:
    """Header detection, blank and footer rows, chunking — shared by XLSX and XLS."""
    iterator = iter(rows)
    head: list[tuple[int, list[Any]]] = []
    for item in iterator:
        head.append(item)
        if len(head) >= HEADER_SCAN_ROWS:
            break
    if not head:
        raise ReaderError(display, "the sheet is empty", sheet=sheet)
    h = find_header([r for _, r in head])
    _, header_values = head[h]
    width = max((i + 1 for i, v in enumerate(header_values) if _text(v) is not None), default=0)
    if width == 0:
        raise ReaderError(display, "no header row found", sheet=sheet)
    columns: list[str] = []
    for i, v in enumerate(header_values[:width]):
        name = _text(v) or f"column_{i + 1}"
        name = " ".join(name.split())
        columns.append(name if name not in columns else f"{name}_{i + 1}")

    def rest() -> Iterator[tuple[int, list[Any]]]:
        yield from head[h + 1 :]
        yield from iterator

    out: list[list[str | None]] = []
    numbers: list[int] = []
    blanks_since_data = 0
    for number, values in rest():
        texts = [_text(v) for v in values[:width]] + [None] * max(0, width - len(values))
        filled = sum(1 for t in texts if t is not None)
        if filled == 0:
            blanks_since_data += 1
            continue
        if blanks_since_data and filled <= 1 and width > 2:
            continue  # a footer note after blank rows ("1410 Horizontal Permits - 971 Drilled")
        blanks_since_data = 0
        out.append(texts)
        numbers.append(number)
        if len(out) == chunk_rows:
            yield Chunk(
                pd.DataFrame(out, columns=columns, dtype=object),
                numbers[0],
                sheet=sheet,
                row_numbers=tuple(numbers),
            )
            out, numbers = [], []
    if out:
        yield Chunk(
            pd.DataFrame(out, columns=columns, dtype=object),
            numbers[0],
            sheet=sheet,
            row_numbers=tuple(numbers),
        )


class XlsxReader(Reader):
    """Details: ``sheets`` (names). Option ``sheet``: a name or 0-based index."""

    name = "xlsx"
    formats = ("xlsx",)
    version = "1"

    @classmethod
    def sniff(cls, head: bytes, *, filename: str | None = None) -> Sniff | None:
        if not head.startswith(b"PK\x03\x04"):
            return None
        if b"[Content_Types].xml" not in head[:4096] and b"xl/" not in head:
            return None
        return Sniff(cls.name, "xlsx", 0.9, {})

    def read(
        self,
        path: Path,
        *,
        details: Mapping[str, Any],
        chunk_rows: int = DEFAULT_CHUNK_ROWS,
        options: Mapping[str, Any] | None = None,
    ) -> Iterator[Chunk]:
        import openpyxl

        options = dict(options or {})
        display = options.get("display_name", path.name)
        check_zip(path, display_name=display)
        if _calamine_may_read(path):
            rows = _calamine_rows(path, display, options.get("sheet"))
            if rows is not None:
                yield from _frames(display, rows[0], rows[1], chunk_rows)
                return
        # openpyxl, cell by cell, names a formula's row and column. It gets an open
        # file, not the path: openpyxl judges a path by its extension, and a stored
        # upload is named by its hash (the content decides the format here)
        fh = path.open("rb")
        try:
            wb = openpyxl.load_workbook(fh, read_only=True, data_only=False)
        except Exception as exc:  # openpyxl raises many kinds for broken files
            fh.close()
            raise ReaderError(
                display, f"not a readable XLSX workbook: {type(exc).__name__}: {exc}"
            ) from None
        try:
            ws = _pick(display, wb.sheetnames, options.get("sheet"), lambda n: wb[n])

            def rows() -> Iterator[tuple[int, list[Any]]]:
                for number, row in enumerate(ws.iter_rows(), 1):
                    values = []
                    for col, cell in enumerate(row, 1):
                        if getattr(cell, "data_type", None) == "f":
                            raise ReaderError(
                                display,
                                f"formula {str(cell.value)[:60]!r}: formulas are not accepted; "
                                "paste the values instead",
                                sheet=ws.title,
                                row=number,
                                column=col,
                            )
                        values.append(getattr(cell, "value", None))
                    yield number, values

            yield from _frames(display, ws.title, rows(), chunk_rows)
        finally:
            wb.close()
            fh.close()


#: A formula element in a worksheet part, with or without a namespace prefix.
_FORMULA = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?f[\s/>]")
_SCAN_BYTES = 1 << 20
#: calamine holds a sheet's cells in memory where openpyxl streams them: a worksheet
#: part larger than this (uncompressed XML, about the cells' size in memory) is left to
#: openpyxl, so that reading stays within the import's memory budget.
CALAMINE_MAX_SHEET_BYTES = 256 << 20


def _calamine_may_read(path: Path) -> bool:
    """No worksheet holds a formula (the decompressed XML scanned a block at a time, the
    blocks overlapping so that an element cut by a block's end is seen) and none is too
    large to hold in memory."""
    import zipfile

    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            name = info.filename
            if not (name.startswith("xl/worksheets/") and name.endswith(".xml")):
                continue
            if info.file_size > CALAMINE_MAX_SHEET_BYTES:
                return False
            with zf.open(info) as part:
                tail = b""
                while block := part.read(_SCAN_BYTES):
                    if _FORMULA.search(tail + block):
                        return False
                    tail = block[-16:]
    return True


def _calamine_rows(
    path: Path, display: str, wanted: Any
) -> tuple[str, Iterator[tuple[int, list[Any]]]] | None:
    """The sheet's rows, numbered as the workbook numbers them, read by calamine (Rust:
    6.5 times the openpyxl path on a 100,000-row sheet, bench/read_xlsx.py); None when calamine
    cannot read the workbook, for openpyxl to say why."""
    from python_calamine import CalamineError, CalamineWorkbook

    try:
        wb = CalamineWorkbook.from_path(str(path))
    except (CalamineError, OSError, ValueError):
        return None
    sheet = _pick(display, wb.sheet_names, wanted, wb.get_sheet_by_name)
    # calamine's rows start at row 1 but at the used range's first column: the columns
    # left of it are put back, so that the frame has the columns openpyxl gives
    pad: list[Any] = [None] * (sheet.start or (0, 0))[1]

    def rows() -> Iterator[tuple[int, list[Any]]]:
        try:
            for number, values in enumerate(sheet.iter_rows(), 1):
                yield number, pad + values if pad else values
        finally:
            wb.close()

    return sheet.name, rows()


class XlsReader(Reader):
    """Legacy Excel 97-2003 (BIFF). Option ``sheet``: a name or 0-based index."""

    name = "xls"
    formats = ("xls",)
    version = "1"

    @classmethod
    def sniff(cls, head: bytes, *, filename: str | None = None) -> Sniff | None:
        if not head.startswith(_OLE_MAGIC):
            return None
        return Sniff(cls.name, "xls", 0.85, {})

    def read(
        self,
        path: Path,
        *,
        details: Mapping[str, Any],
        chunk_rows: int = DEFAULT_CHUNK_ROWS,
        options: Mapping[str, Any] | None = None,
    ) -> Iterator[Chunk]:
        import xlrd

        options = dict(options or {})
        display = options.get("display_name", path.name)
        try:
            book = xlrd.open_workbook(str(path), on_demand=True)
        except xlrd.XLRDError as exc:
            raise ReaderError(display, f"not a readable XLS workbook: {exc}") from None
        try:
            sheet = _pick(display, book.sheet_names(), options.get("sheet"), book.sheet_by_name)

            def value(cell: Any) -> Any:
                if cell.ctype == xlrd.XL_CELL_DATE:
                    try:
                        return xlrd.xldate.xldate_as_datetime(cell.value, book.datemode)
                    except (xlrd.xldate.XLDateError, OverflowError):
                        return cell.value
                if cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
                    return None
                return cell.value

            rows = ((r + 1, [value(c) for c in sheet.row(r)]) for r in range(sheet.nrows))
            yield from _frames(display, sheet.name, rows, chunk_rows)
        finally:
            book.release_resources()


def _pick(display: str, names: list[str], wanted: Any, get: Any) -> Any:
    if wanted is None:
        return get(names[0])
    if isinstance(wanted, int) or (isinstance(wanted, str) and wanted.isdigit()):
        index = int(wanted)
        if not 0 <= index < len(names):
            raise ReaderError(display, f"no sheet {index}; sheets: {', '.join(names)}")
        return get(names[index])
    if wanted not in names:
        raise ReaderError(display, f"no sheet {wanted!r}; sheets: {', '.join(names)}")
    return get(wanted)


@hookimpl
def ogcrm_register_readers() -> list[type[Reader]]:
    return [XlsxReader, XlsReader]
