"""The delimited reader's fast path: Arrow's C++ CSV parser, streamed in record batches.

Measured on a 1,000,000-row permits file (``bench/read_csv.py``) Arrow parses about five
times faster than the ``csv`` module, in parallel blocks. It is less strict than the
guarantees the reader gives, though, so this path only ever *reads what is certainly
right* and hands the rest of the file to the ``csv`` path, which either reads it too or
refuses it naming the row, exactly as before:

- a record of the wrong width (ragged) stops it at once (``invalid_row_handler``): in
  streaming mode Arrow cannot say which record it was, the ``csv`` path can;
- a NUL byte (found by a first pass over the bytes), a record longer than a block, a
  field longer than the ``csv`` module's limit, any parse error: the same;
- a file that ends inside a quoted field is *accepted* by Arrow (the rest of the file
  becomes one value), so the first pass counts the quote characters too, the last
  chunk is held back, and an odd count sends that chunk to the ``csv`` path, which says
  "ends inside a quoted field" when it does (an odd count is also what an unquoted inch
  mark, ``5-1/2" CSG``, gives: then the ``csv`` path reads the chunk and nothing changes).

Records are counted as the ``csv`` path counts them (a quoted line break is inside one
record, a blank line is no record), so row numbers do not depend on which path read a
row. One difference is deliberate: a character after a closing quote (``"ACME" INC``)
is kept, as Excel and pandas read it, where the ``csv`` module's strict mode refused the
file.
"""

from __future__ import annotations

import csv
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from ogcrm.pipeline.contracts import Chunk

#: Encodings Arrow reads (UTF-8 natively, the single-byte ones through Python's codec
#: per block); UTF-16 and UTF-32 files, rare, go to the ``csv`` path, since their bytes
#: hold NULs that are not NUL characters.
_ARROW_ENCODINGS = {"utf-8": "utf8", "utf-8-sig": "utf8", "cp1252": "cp1252", "latin-1": "latin1"}
#: Arrow parses a block per thread and reads some 37 blocks ahead, so this bounds the
#: memory a read holds (about 40 MB ahead at 1 MB; 155 MB at 4 MB, for no gain in
#: speed). A record longer than a block is left to the ``csv`` path, which takes lines
#: up to ``MAX_LINE_CHARS`` and refuses longer ones naming them.
BLOCK_BYTES = 1 << 20
SCAN_BYTES = 1 << 20
_QUOTE = ord('"')


def _scan(path: Path) -> tuple[bool, int]:
    """Whether the file holds a NUL byte, and how many quote characters: one pass at C
    speed (``in``, ``bytes.count``; 0.1 s per 100 MB) before Arrow reads it natively,
    which is what keeps its read-ahead bounded (a Python file object made Arrow pull
    150 MB ahead)."""
    quotes = 0
    with path.open("rb") as fh:
        while block := fh.read(SCAN_BYTES):
            if b"\x00" in block:
                return True, quotes
            quotes += block.count(_QUOTE)
    return False, quotes


def _refuse(row: Any) -> str:
    """A ragged record: stop, and let the ``csv`` path quarantine it by number."""
    return "error"


def chunks(
    path: Path,
    *,
    encoding: str,
    delimiter: str,
    header: list[str] | None,
    columns: list[str],
    chunk_rows: int,
    first_record: int,
) -> Generator[Chunk, None, int | None]:
    """Chunks of ``chunk_rows`` records, as far as Arrow can be trusted with the file.

    Returns None once the whole file was read, or the number of records handed out,
    all of them right, after which the caller's ``csv`` path reads on. ``header`` is the
    header record as parsed (None when the file has none); ``columns`` the names the
    frames get.
    """
    arrow_encoding = _ARROW_ENCODINGS.get(encoding)
    if arrow_encoding is None:
        return 0
    names = list(header) if header is not None else list(columns)
    has_nul, quotes = _scan(path)
    if has_nul:
        return 0  # the csv path names the record
    stream = pa.input_stream(str(path))
    size = path.stat().st_size
    produced = 0
    consumed = 0  # an estimate of the bytes the rows so far came from (Arrow reads ahead)
    try:
        try:
            batches = pacsv.open_csv(
                stream,
                read_options=pacsv.ReadOptions(
                    use_threads=False,
                    block_size=BLOCK_BYTES,
                    column_names=None if header is not None else names,
                    encoding=arrow_encoding,
                ),
                parse_options=pacsv.ParseOptions(
                    delimiter=delimiter, newlines_in_values=True, invalid_row_handler=_refuse
                ),
                convert_options=pacsv.ConvertOptions(
                    column_types=dict.fromkeys(names, pa.string()),
                    strings_can_be_null=False,
                    quoted_strings_can_be_null=False,
                ),
            )
        except pa.ArrowException:
            return 0
        if batches.schema.names != names:
            return 0  # Arrow read the header otherwise than the csv module did
        pending: list[pa.RecordBatch] = []
        waiting = 0
        while True:
            try:
                batch = batches.read_next_batch()
            except StopIteration:
                break
            except pa.ArrowException:
                return produced
            longest, text_bytes = _measure(batch)
            if longest > csv.field_size_limit():
                return produced  # the csv module refuses it, naming the row
            # the values, a delimiter or line end after each; quotes are not counted
            consumed += text_bytes + batch.num_rows * batch.num_columns
            pending.append(batch)
            waiting += batch.num_rows
            # strictly more than a chunk: the last rows always wait for the quote count
            while waiting > chunk_rows:
                table = pa.Table.from_batches(pending)
                read = produced + waiting  # rows parsed so far, of which a chunk goes
                position = min(consumed * (produced + chunk_rows) // read, size)
                yield _chunk(table.slice(0, chunk_rows), columns, first_record + produced, position)
                produced += chunk_rows
                rest = table.slice(chunk_rows)
                pending, waiting = rest.to_batches(), rest.num_rows
        if waiting == 0 or quotes % 2:
            return produced  # no data (the csv path says so), or maybe an open quote
        yield _chunk(pa.Table.from_batches(pending), columns, first_record + produced, size)
        return None
    finally:
        stream.close()


def _measure(batch: pa.RecordBatch) -> tuple[int, int]:
    """The longest value of the batch and the bytes of all its values, in C."""
    longest = total = 0
    for column in batch.columns:
        lengths = pc.binary_length(column)
        longest = max(longest, pc.max(lengths).as_py() or 0)
        total += pc.sum(lengths).as_py() or 0
    return longest, total


def _chunk(table: pa.Table, columns: list[str], first: int, position: int) -> Chunk:
    frame = table.to_pandas()
    frame.columns = columns
    return Chunk(frame, first, bytes_read=position)
