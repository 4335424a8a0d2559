"""Delimited text: CSV, TSV, pipe- and brace-delimited, with or without a header.

Encoding by BOM then strict UTF-8 then cp1252; delimiter sniffed from the first
records; quoted fields may hold delimiters and line breaks. Streams with pandas' C parser
in chunks of ``chunk_rows`` rows, every value as text.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
from ogcrm_plugins.readers._support import guess_encoding, looks_binary, resolve_encoding

from ogcrm import hookimpl
from ogcrm.pipeline.contracts import DEFAULT_CHUNK_ROWS, Chunk, Reader, Sniff
from ogcrm.pipeline.errors import ReaderError

DELIMITERS = ",\t|;}"
MAX_COLUMNS = 2_000
_NUMBERISH = re.compile(r"^\s*[-+]?[\d.,/: ]+\s*$")


def _records(text: str, delimiter: str, limit: int = 50) -> list[list[str]]:
    """Parse the sample; the last record may be cut by the sample's end, so drop it."""
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    rows: list[list[str]] = []
    try:
        for row in reader:
            rows.append(row)
            if len(rows) > limit:
                break
    except csv.Error:
        pass
    return rows[:-1] if len(rows) > 1 else rows


def _has_header(first: list[str]) -> bool:
    """A header names columns: every value is present and none looks like a number or a
    date."""
    # a pandas export's index column has an empty name; any other empty name is data
    named = first[1:] if first and not first[0].strip() else first
    if len(named) < 1 or any(not f.strip() for f in named):
        return False
    # duplicates are allowed here: the reader refuses them with the column named
    return not any(_NUMBERISH.match(f) for f in first)


class DelimitedReader(Reader):
    """CSV and friends. Details: ``encoding``, ``delimiter``, ``header`` (bool),
    ``columns`` (names; generated ``column_1``... when there is no header)."""

    name = "delimited"
    formats = ("csv", "tsv", "psv", "txt")
    version = "1"

    @classmethod
    def sniff(cls, head: bytes, *, filename: str | None = None) -> Sniff | None:
        if not head.strip() or looks_binary(head):
            return None
        encoding = guess_encoding(head)
        text = head.decode(encoding, errors="replace").lstrip("\ufeff")
        if text.lstrip().startswith(("<", "{", "[")):
            return None  # markup or JSON
        best: tuple[float, str, list[list[str]]] | None = None
        for delimiter in DELIMITERS:
            rows = _records(text, delimiter)
            if not rows or len(rows[0]) < 2:
                continue
            consistency = sum(1 for r in rows if len(r) == len(rows[0])) / len(rows)
            score = consistency * min(1.0, len(rows) / 5 + 0.4)
            if (
                best is None
                or score > best[0]
                or (score == best[0] and len(rows[0]) > len(best[2][0]))
            ):
                best = (score, delimiter, rows)
        if best is None:
            return None
        score, delimiter, rows = best
        header = _has_header(rows[0])
        columns = (
            [c.strip() or "index" for c in rows[0]]
            if header
            else [f"column_{i + 1}" for i in range(len(rows[0]))]
        )
        confidence = round(0.35 + 0.5 * score, 3)
        return Sniff(
            reader=cls.name,
            format={"\t": "tsv", "|": "psv"}.get(delimiter, "csv"),
            confidence=confidence,
            details={
                "encoding": encoding,
                "delimiter": delimiter,
                "header": header,
                "columns": columns,
            },
        )

    def read(
        self,
        path: Path,
        *,
        details: Mapping[str, Any],
        chunk_rows: int = DEFAULT_CHUNK_ROWS,
        options: Mapping[str, Any] | None = None,
    ) -> Iterator[Chunk]:
        options = dict(options or {})
        display = options.get("display_name", path.name)
        if path.stat().st_size == 0:
            raise ReaderError(display, "the file is empty")
        encoding = resolve_encoding(
            path, options.get("encoding") or details["encoding"], display_name=display
        )
        header = bool(options.get("header", details["header"]))
        names = options.get("columns") or (None if header else details["columns"])
        if names is not None and len(names) > MAX_COLUMNS:
            raise ReaderError(
                display, f"{len(names)} columns; at most {MAX_COLUMNS} are accepted", row=1
            )
        with path.open("r", encoding=encoding, newline="") as fh:
            if encoding in ("utf-8", "utf-8-sig") and fh.read(1) not in ("\ufeff", ""):
                fh.seek(0)
            reader = csv.reader(fh, delimiter=details["delimiter"], strict=True)
            columns: list[str]
            try:
                if header:
                    try:
                        raw_header = next(reader)
                    except StopIteration:
                        raise ReaderError(display, "the file is empty") from None
                    _check_header(display, raw_header)
                    columns = [
                        "index" if i == 0 and not c.strip() else c.strip()
                        for i, c in enumerate(raw_header)
                    ]
                else:
                    columns = list(names or details["columns"])
                yield from _chunks(
                    display, reader, columns, chunk_rows, first_record=2 if header else 1
                )
            except csv.Error as exc:  # in the header
                raise _csv_error(display, exc, 1) from None
            except UnicodeDecodeError as exc:
                raise ReaderError(
                    display, f"cannot be decoded as {encoding}: {exc.reason}"
                ) from None


def _chunks(
    display: str, reader: Any, columns: list[str], chunk_rows: int, *, first_record: int
) -> Iterator[Chunk]:
    """Records to DataFrames of ``chunk_rows``; every record must have exactly as many
    fields as there are columns. Rows are numbered as records (a quoted field with line
    breaks is one row), the header being row 1."""
    width = len(columns)
    rows: list[list[str]] = []
    numbers: list[int] = []
    record = first_record - 1
    produced = 0
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise _csv_error(display, exc, record + 1) from None
        if not fields:
            continue  # a blank line
        record += 1
        if len(fields) != width:
            if len(fields) > width:
                raise ReaderError(
                    display,
                    f"has {len(fields)} fields, expected {width}",
                    row=record,
                    column=width + 1,
                )
            raise ReaderError(
                display,
                f"has {len(fields)} fields, expected {width} (missing from {columns[len(fields)]!r} on)",
                row=record,
                column=columns[len(fields)],
            )
        rows.append(fields)
        numbers.append(record)
        if len(rows) == chunk_rows:
            yield Chunk(
                pd.DataFrame(rows, columns=columns, dtype=object),
                numbers[0],
                row_numbers=tuple(numbers),
            )
            produced += len(rows)
            rows, numbers = [], []
    if rows:
        yield Chunk(
            pd.DataFrame(rows, columns=columns, dtype=object),
            numbers[0],
            row_numbers=tuple(numbers),
        )
        produced += len(rows)
    if produced == 0:
        raise ReaderError(
            display,
            "the file has a header but no data rows"
            if first_record == 2
            else "the file has no data",
            row=1 if first_record == 2 else None,
        )


def _check_header(display: str, columns: list[str]) -> None:
    if len(columns) > MAX_COLUMNS:
        raise ReaderError(
            display, f"{len(columns)} columns; at most {MAX_COLUMNS} are accepted", row=1
        )
    seen: dict[str, int] = {}
    for i, raw in enumerate(columns, 1):
        name = str(raw).strip()
        if not name or name.startswith("Unnamed: "):
            if i == 1:
                continue  # an index column without a name (pandas exports)
            raise ReaderError(display, "the header has an empty column name", row=1, column=i)
        if name in seen:
            raise ReaderError(
                display,
                f"duplicate column name {name!r} (also column {seen[name]})",
                row=1,
                column=i,
            )
        seen[name] = i
        if re.search(r"\.\d+$", name) and name.rsplit(".", 1)[0] in seen:
            base = name.rsplit(".", 1)[0]
            raise ReaderError(
                display,
                f"duplicate column name {base!r} (also column {seen[base]})",
                row=1,
                column=i,
            )


def _csv_error(display: str, exc: csv.Error, row: int) -> ReaderError:
    message = str(exc)
    if "unexpected end of data" in message or "EOF" in message:
        return ReaderError(
            display,
            "the file ends inside a quoted field (truncated, or an unclosed quote)",
            row=row,
        )
    if "field larger than field limit" in message:
        return ReaderError(display, "a field is larger than 128 KB (not delimited text?)", row=row)
    return ReaderError(display, f"not valid delimited text: {message}", row=row)


@hookimpl
def ogcrm_register_readers() -> list[type[Reader]]:
    return [DelimitedReader]
