"""Delimited text: CSV, TSV, pipe- and brace-delimited, with or without a header.

Encoding by BOM then strict UTF-8 then cp1252; delimiter sniffed from the first
records; quoted fields may hold delimiters and line breaks. Chunks of ``chunk_rows``
rows, every value as text, come from Arrow's parser (``_arrow_csv``) as long as the
file holds nothing it cannot be trusted with; from the first such record on, the
``csv`` module reads the rest record by record, so that a ragged row is quarantined by
its number and a bad one refused naming it (pandas' parser pads short rows silently).
"""

from __future__ import annotations

import csv
import gc
import io
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from functools import partial
from itertools import islice
from pathlib import Path
from typing import Any, NamedTuple, TextIO

import pandas as pd
from ogcrm_plugins.readers import _arrow_csv
from ogcrm_plugins.readers._support import guess_encoding, looks_binary, resolve_encoding

from ogcrm import hookimpl
from ogcrm.pipeline.contracts import DEFAULT_CHUNK_ROWS, Chunk, Reader, RowProblem, Sniff
from ogcrm.pipeline.errors import ReaderError

DELIMITERS = ",\t|;}"
MAX_COLUMNS = 2_000
#: A physical line longer than this is refused before it is parsed: it bounds what one
#: record can cost (a 200 MB line, a header of ten million columns).
MAX_LINE_CHARS = 8 * 1024 * 1024
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
        limits = _ragged_limits(display, options)
        header = bool(options.get("header", details["header"]))
        names = options.get("columns") or (None if header else details["columns"])
        if names is not None and len(names) > MAX_COLUMNS:
            raise ReaderError(
                display, f"{len(names)} columns; at most {MAX_COLUMNS} are accepted", row=1
            )
        with _open_text(path, encoding) as fh:
            reader = csv.reader(_checked_lines(fh), delimiter=details["delimiter"], strict=True)
            columns: list[str]
            raw_header: list[str] | None
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
                    raw_header = None
                    columns = list(names or details["columns"])
                first_record = 2 if header else 1
                done = yield from _arrow_csv.chunks(
                    path,
                    encoding=encoding,
                    delimiter=details["delimiter"],
                    header=raw_header,
                    columns=columns,
                    chunk_rows=chunk_rows,
                    first_record=first_record,
                )
                if done is None:
                    return
                _skip_records(reader, done)
                yield from _chunks(
                    display,
                    reader,
                    columns,
                    chunk_rows,
                    first_record=first_record + done,
                    delimiter=details["delimiter"],
                    already=done,
                    position=fh.buffer.tell,
                    limits=limits,
                )
            except csv.Error as exc:
                row = _record_of_error(path, encoding, details["delimiter"])
                raise _csv_error(display, exc, row) from None
            except _BadLine as exc:
                row = _record_of_error(path, encoding, details["delimiter"])
                raise ReaderError(display, exc.reason, row=row) from None
            except UnicodeDecodeError as exc:
                raise ReaderError(
                    display, f"cannot be decoded as {encoding}: {exc.reason}"
                ) from None


def _chunks(
    display: str,
    reader: Any,
    columns: list[str],
    chunk_rows: int,
    *,
    first_record: int,
    delimiter: str,
    already: int = 0,
    position: Callable[[], int] | None = None,
    limits: RaggedLimits | None = None,
) -> Iterator[Chunk]:
    """Records to DataFrames of ``chunk_rows``. Rows are numbered as records (a quoted
    field with line breaks is one row), the header being row 1.

    A record with too few or too many fields is kept, padded with None or cut to the
    header's width, as a :class:`RowProblem` the pipeline quarantines: one ragged row no
    longer costs the analyst the rest of the file. Where they are not rare (more than
    :data:`MAX_RAGGED_ROWS`, or more than :data:`MAX_RAGGED_SHARE` of the rows and more
    than :data:`FEW_RAGGED_ROWS`) the delimiter or the header is more likely wrong than
    the rows, and the file is refused naming the first ones. A source may set other
    limits (``max_ragged_rows``, ``max_ragged_share`` in its reader options).

    The hot loop is C: ``islice`` pulls a chunk of records out of the csv reader, widths
    are checked with one ``set(map(len, ...))``, and the frame is built column-wise. Only
    a chunk that holds a blank line or a wrong width is looked at record by record.
    """
    most, share = limits or RaggedLimits()
    width = len(columns)
    record = first_record - 1  # the last record number handed out
    produced = already  # by the fast path, before this one took over
    ragged: list[RowProblem] = []
    while True:
        with _gc_paused():
            rows = list(islice(reader, chunk_rows))  # csv.Error: the caller locates it
            if not rows:
                break
            numbers: tuple[int, ...] | None = None
            problems: tuple[RowProblem, ...] = ()
            if set(map(len, rows)) != {width}:
                rows, numbers, problems = _check_widths(rows, columns, record, delimiter)
                ragged.extend(problems)
                if len(ragged) > most:
                    raise _too_ragged(display, ragged, produced + len(rows), most)
                if not rows:
                    continue
            first = numbers[0] if numbers else record + 1
            record = numbers[-1] if numbers else record + len(rows)
            columnwise = zip(columns, map(list, zip(*rows, strict=True)), strict=True)
            frame = pd.DataFrame(dict(columnwise), copy=False)
            produced += len(rows)
            del rows  # freed by reference count before the collector is back on
        yield Chunk(
            frame,
            first,
            row_numbers=numbers,
            problems=problems,
            bytes_read=position() if position else None,
        )
    if produced == 0:  # so there was no fast path's part either
        raise ReaderError(
            display,
            "the file has a header but no data rows"
            if first_record == 2
            else "the file has no data",
            row=1 if first_record == 2 else None,
        )
    if len(ragged) > FEW_RAGGED_ROWS and len(ragged) > share * produced:
        raise _too_ragged(display, ragged, produced, most)


#: Ragged rows quarantined at most, in a file of any size.
MAX_RAGGED_ROWS = 1_000
#: ... and as a share of the rows, once there are more than a few.
MAX_RAGGED_SHARE = 0.01
FEW_RAGGED_ROWS = 10


class RaggedLimits(NamedTuple):
    """How many ragged rows a file may have and still import, the rest quarantined."""

    rows: int = MAX_RAGGED_ROWS
    share: float = MAX_RAGGED_SHARE


def _ragged_limits(display: str, options: Mapping[str, Any]) -> RaggedLimits:
    """The source's limits, refused with the option named when they make no sense."""
    rows = options.get("max_ragged_rows", MAX_RAGGED_ROWS)
    share = options.get("max_ragged_share", MAX_RAGGED_SHARE)
    if isinstance(rows, bool) or not isinstance(rows, int) or rows < 0:
        raise ReaderError(display, f"reader option max_ragged_rows must be a count, not {rows!r}")
    if isinstance(share, bool) or not isinstance(share, int | float) or not 0 <= share <= 1:
        raise ReaderError(
            display, f"reader option max_ragged_share must be between 0 and 1, not {share!r}"
        )
    return RaggedLimits(rows, float(share))


def _too_ragged(display: str, ragged: list[RowProblem], rows: int, most: int) -> ReaderError:
    first = ", ".join(str(p.row) for p in ragged[:5])
    return ReaderError(
        display,
        f"{len(ragged):,}{'+' if len(ragged) > most else ''} of {rows:,} rows have "
        f"the wrong number of fields (rows {first}, ...; the first: {ragged[0].message}): "
        "is the delimiter or the header right?",
        row=ragged[0].row,
    )


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cycle collector while a chunk of records becomes a frame.

    Each record is a fresh list, so the collector would otherwise run every few hundred
    records and walk the growing chunk, again and again as it ages into older
    generations (about a third of the read time on a 1,000,000-row file). Lists of
    strings cannot form cycles and are freed by reference count once the frame is built,
    so nothing is lost; the collector's state is restored before the chunk is handed on.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _check_widths(
    rows: list[list[str]], columns: list[str], record: int, delimiter: str
) -> tuple[list[list[str] | list[str | None]], tuple[int, ...], tuple[RowProblem, ...]]:
    """Drop blank lines; pad or cut each record of the wrong width, saying so."""
    width = len(columns)
    kept: list[list[str] | list[str | None]] = []
    numbers: list[int] = []
    problems: list[RowProblem] = []
    for fields in rows:
        if not fields:
            continue  # a blank line is not a record
        record += 1
        if len(fields) != width:
            text = delimiter.join(fields)
            if len(fields) > width:
                message = f"has {len(fields)} fields, expected {width}"
                problems.append(RowProblem(record, f"column {width + 1}", message, text))
                fields = fields[:width]
            else:
                missing = columns[len(fields)]
                message = (
                    f"has {len(fields)} fields, expected {width} (missing from {missing!r} on)"
                )
                problems.append(RowProblem(record, missing, message, text))
                fields = [*fields, *([None] * (width - len(fields)))]  # type: ignore[list-item]
        kept.append(fields)
        numbers.append(record)
    return kept, tuple(numbers), tuple(problems)


def _skip_records(reader: Any, records: int) -> None:
    """Move the csv reader past the records the fast path handed out (blank lines are
    no records there either)."""
    while records > 0:
        if next(reader):
            records -= 1


class _BadLine(Exception):
    """A physical line the csv module must not be given; the caller names its record."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


def _checked_lines(fh: TextIO) -> Iterator[str]:
    """The file's lines, each at most ``MAX_LINE_CHARS`` long and free of NUL.

    ``readline`` with a limit stops a runaway line before it is in memory whole; the
    checks run at C speed (measured: no slower than iterating the file directly).
    """
    for line in iter(partial(fh.readline, MAX_LINE_CHARS + 1), ""):
        if len(line) > MAX_LINE_CHARS:
            raise _BadLine(
                f"a line is longer than {MAX_LINE_CHARS >> 20} MB "
                f"(more than {MAX_COLUMNS:,} columns, or not delimited text?)"
            )
        if "\x00" in line:
            raise _BadLine(f"a NUL byte at character {line.index(chr(0)) + 1} of the line")
        yield line


def _record_of_error(path: Path, encoding: str, delimiter: str) -> int:
    """The record (1-based, header included) at which reading gives up.

    The fast path reads records a chunk at a time and cannot tell how far into a chunk
    it got, so on an error the file is parsed again record by record: a cost paid only
    by a file that is being refused.
    """
    record = 0
    with _open_text(path, encoding) as fh:
        try:
            for fields in csv.reader(_checked_lines(fh), delimiter=delimiter, strict=True):
                record += 1 if fields else 0
        except (csv.Error, _BadLine):
            pass
    return record + 1


def _open_text(path: Path, encoding: str) -> TextIO:
    """The file as text with a UTF-8 BOM (if any) already consumed."""
    fh = path.open("r", encoding=encoding, newline="")
    if encoding in ("utf-8", "utf-8-sig") and fh.read(1) not in ("\ufeff", ""):
        fh.seek(0)
    return fh


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
