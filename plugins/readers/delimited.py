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

from ogcrm import hookimpl
from ogcrm.pipeline.contracts import DEFAULT_CHUNK_ROWS, Chunk, Reader, Sniff
from ogcrm.pipeline.errors import ReaderError
from ogcrm_plugins.readers._support import guess_encoding, looks_binary, resolve_encoding

DELIMITERS = ",\t|;}"
MAX_COLUMNS = 2_000
_NUMBERISH = re.compile(r"^\s*[-+]?[\d.,/: ]+\s*$")
_EXPECTED = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")
_EOF_QUOTE = re.compile(r"EOF inside string starting (?:at row|at line) (\d+)")


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
    """A header names columns: every value is present, none looks like a number or a
    date, and the names are distinct."""
    # a pandas export's index column has an empty name; any other empty name is data
    named = first[1:] if first and not first[0].strip() else first
    if len(named) < 1 or any(not f.strip() for f in named):
        return False
    if any(_NUMBERISH.match(f) for f in first) or len(set(first)) != len(first):
        return False
    return True


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
            if best is None or score > best[0] or (score == best[0] and len(rows[0]) > len(best[2][0])):
                best = (score, delimiter, rows)
        if best is None:
            return None
        score, delimiter, rows = best
        header = _has_header(rows[0])
        columns = [c.strip() or "index" for c in rows[0]] if header else [f"column_{i + 1}" for i in range(len(rows[0]))]
        confidence = round(0.35 + 0.5 * score, 3)
        return Sniff(
            reader=cls.name,
            format={"\t": "tsv", "|": "psv"}.get(delimiter, "csv"),
            confidence=confidence,
            details={"encoding": encoding, "delimiter": delimiter, "header": header, "columns": columns},
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
        encoding = resolve_encoding(path, options.get("encoding") or details["encoding"], display_name=display)
        header = bool(options.get("header", details["header"]))
        names = options.get("columns") or (None if header else details["columns"])
        if names is not None and len(names) > MAX_COLUMNS:
            raise ReaderError(display, f"{len(names)} columns; at most {MAX_COLUMNS} are accepted", row=1)
        frames = pd.read_csv(
            path,
            sep=details["delimiter"],
            encoding=encoding,
            header=0 if header else None,
            names=names if not header else None,
            dtype=str,
            keep_default_na=False,
            na_filter=True,
            na_values=[],
            chunksize=chunk_rows,
            engine="c",
            skip_blank_lines=True,
            encoding_errors="strict",
        )
        first_data_row = 2 if header else 1
        produced = 0
        try:
            for frame in frames:
                if produced == 0 and header:
                    _check_header(display, list(frame.columns))
                _check_ragged(display, frame, first_data_row + produced)
                frame.columns = [
                    "index" if i == 0 and str(c).startswith("Unnamed: ") else str(c).strip()
                    for i, c in enumerate(frame.columns)
                ]
                yield Chunk(frame=frame, first_row=first_data_row + produced)
                produced += len(frame)
        except pd.errors.EmptyDataError:
            raise ReaderError(display, "the file has no data") from None
        except pd.errors.ParserError as exc:
            raise _parser_error(display, str(exc), header) from None
        except UnicodeDecodeError as exc:
            raise ReaderError(display, f"cannot be decoded as {encoding}: {exc.reason}") from None
        if produced == 0:
            raise ReaderError(display, "the file has a header but no data rows", row=1 if header else None)


def _check_header(display: str, columns: list[str]) -> None:
    if len(columns) > MAX_COLUMNS:
        raise ReaderError(display, f"{len(columns)} columns; at most {MAX_COLUMNS} are accepted", row=1)
    seen: dict[str, int] = {}
    for i, raw in enumerate(columns, 1):
        name = str(raw).strip()
        if not name or name.startswith("Unnamed: "):
            if i == 1:
                continue  # an index column without a name (pandas exports)
            raise ReaderError(display, "the header has an empty column name", row=1, column=i)
        if name in seen:
            raise ReaderError(display, f"duplicate column name {name!r} (also column {seen[name]})", row=1, column=i)
        seen[name] = i
        if re.search(r"\.\d+$", name) and name.rsplit(".", 1)[0] in seen:
            base = name.rsplit(".", 1)[0]
            raise ReaderError(display, f"duplicate column name {base!r} (also column {seen[base]})", row=1, column=i)


def _check_ragged(display: str, frame: pd.DataFrame, first_row: int) -> None:
    """A row with fewer fields than the header leaves NaN where a value should be."""
    if frame.empty:
        return
    missing = frame.isna()
    if not missing.to_numpy().any():
        return
    position = int(missing.any(axis=1).to_numpy().argmax())
    col = int(missing.iloc[position].to_numpy().argmax())
    present = col
    raise ReaderError(
        display,
        f"has {present} fields, expected {frame.shape[1]} (missing from {frame.columns[col]!r} on)",
        row=first_row + position,
        column=str(frame.columns[col]),
    )


def _parser_error(display: str, message: str, header: bool) -> ReaderError:
    if m := _EXPECTED.search(message):
        expected, line, saw = (int(g) for g in m.groups())
        return ReaderError(
            display, f"has {saw} fields, expected {expected}", row=line, column=expected + 1
        )
    if m := _EOF_QUOTE.search(message):
        return ReaderError(
            display, "the file ends inside a quoted field (truncated, or an unclosed quote)", row=int(m.group(1))
        )
    return ReaderError(display, f"not valid delimited text: {message.splitlines()[0]}")


@hookimpl
def ogcrm_register_readers() -> list[type[Reader]]:
    return [DelimitedReader]
