"""JSON records: an array of objects, JSON Lines, or an API response with the records
at a path inside it (e.g. the EIA API v2's ``response.data``).

Everything streams: JSON Lines line by line, arrays and nested documents through ijson
(yajl's C parser) so memory is one chunk whatever the file's size.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal
from itertools import islice
from pathlib import Path
from typing import Any, BinaryIO, TextIO

import ijson
import pandas as pd
from ogcrm_plugins.readers._support import bom_encoding

from ogcrm import hookimpl
from ogcrm.pipeline.contracts import DEFAULT_CHUNK_ROWS, Chunk, Reader, Sniff
from ogcrm.pipeline.errors import ReaderError

#: Above this a document's parse error is reported as the streaming parser words it;
#: below, the file is parsed once more by ``json`` to name the line and character.
MAX_REPARSE_BYTES = 64 * 1024 * 1024


def _text(value: Any) -> str | None:
    """Every value as text, as the other readers give it; nested values as JSON.

    Numbers arrive as :class:`~decimal.Decimal` from the streaming parser and keep the
    digits the file wrote (``1.10`` stays ``1.10``, not a float's ``1.1``).
    """
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, Decimal)):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    return json.dumps(value, ensure_ascii=False, default=str)


def find_record_path(events: Iterable[tuple[str, str, Any]]) -> list[str] | None:
    """The keys leading to the largest array of objects, from a stream of ijson events.

    Arrays nested inside records do not count: a record's own list (say, an API
    request's facets) is a value of that record, not the file's records. Ties go to the
    array met first.
    """
    counts: dict[str, int] = {}
    for prefix, event, _ in events:
        if event != "start_map" or not (prefix == "item" or prefix.endswith(".item")):
            continue
        parent = prefix[: -len(".item")] if prefix != "item" else ""
        if "item" in parent.split("."):
            continue  # inside another array's records
        counts[parent] = counts.get(parent, 0) + 1
    if not counts:
        return None
    best = max(counts, key=lambda k: counts[k])  # max keeps the first of equals
    return best.split(".") if best else []


class JsonReader(Reader):
    """Details: ``encoding``, ``shape`` (``array``, ``lines`` or ``document``) and, for
    documents, ``record_path`` (keys from the root to the list of records).

    Every shape streams: JSON Lines line by line, arrays and documents through ijson's
    event parser, so a 5 GB array costs one chunk of memory. A document whose record
    path is not given is read twice: once to find its largest array of objects, once
    to yield them.
    """

    name = "json"
    formats = ("json", "jsonl")
    version = "2"

    @classmethod
    def sniff(cls, head: bytes, *, filename: str | None = None) -> Sniff | None:
        encoding = bom_encoding(head) or "utf-8"
        text = head.decode(encoding, errors="replace").lstrip("\ufeff").lstrip()
        if not text.startswith(("{", "[")):
            return None
        if text.startswith("{"):
            first = text.split("\n", 1)[0].strip()
            try:
                json.loads(first)
                lines = [ln for ln in text.split("\n")[:-1] if ln.strip()]
                if len(lines) > 1 and all(ln.strip().startswith("{") for ln in lines):
                    return Sniff(cls.name, "jsonl", 0.9, {"encoding": encoding, "shape": "lines"})
            except json.JSONDecodeError:
                pass
            return Sniff(cls.name, "json", 0.8, {"encoding": encoding, "shape": "document"})
        return Sniff(cls.name, "json", 0.8, {"encoding": encoding, "shape": "array"})

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
        encoding = options.get("encoding") or details.get("encoding", "utf-8")
        if details.get("shape") == "lines":
            yield from self._lines(path, display, encoding, chunk_rows)
            return
        try:
            record_path = options.get("record_path")
            if record_path is None and details.get("shape") == "array":
                record_path = []
            if record_path is None:
                with _open(path, encoding) as fh:
                    record_path = find_record_path(ijson.parse(fh))
                if record_path is None:
                    raise ReaderError(
                        display, "no list of records found in the JSON document; set record_path"
                    )
            if isinstance(record_path, str):
                record_path = record_path.split(".")
            prefix = ".".join([*record_path, "item"])
            with _open(path, encoding) as fh:
                yield from self._records(display, ijson.items(fh, prefix), chunk_rows)
        except ijson.JSONError as exc:
            raise _json_error(path, display, encoding, exc) from None
        except UnicodeDecodeError as exc:
            raise ReaderError(
                display, f"not {encoding} text: {exc.reason} at byte {exc.start}"
            ) from None

    @staticmethod
    def _records(display: str, records: Iterator[Any], chunk_rows: int) -> Iterator[Chunk]:
        start = 1
        while batch := list(islice(records, chunk_rows)):
            for i, rec in enumerate(batch):
                if not isinstance(rec, dict):
                    raise ReaderError(
                        display, f"record {start + i} is not an object", row=start + i
                    )
            frame = pd.DataFrame(
                [{k: _text(v) for k, v in rec.items()} for rec in batch], dtype=object
            )
            yield Chunk(frame=frame, first_row=start)
            start += len(batch)

    def _lines(self, path: Path, display: str, encoding: str, chunk_rows: int) -> Iterator[Chunk]:
        rows: list[dict[str, str | None]] = []
        numbers: list[int] = []
        with path.open("r", encoding=encoding) as fh:
            for number, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise ReaderError(
                        display, f"invalid JSON: {exc.msg} (character {exc.colno})", row=number
                    ) from None
                if not isinstance(rec, dict):
                    raise ReaderError(display, "a JSON Lines record must be an object", row=number)
                rows.append({k: _text(v) for k, v in rec.items()})
                numbers.append(number)
                if len(rows) == chunk_rows:
                    yield Chunk(
                        pd.DataFrame(rows, dtype=object), numbers[0], row_numbers=tuple(numbers)
                    )
                    rows, numbers = [], []
        if rows:
            yield Chunk(pd.DataFrame(rows, dtype=object), numbers[0], row_numbers=tuple(numbers))


@hookimpl
def ogcrm_register_readers() -> list[type[Reader]]:
    return [JsonReader]


def _open(path: Path, encoding: str) -> BinaryIO | TextIO:
    """Bytes for UTF-8 (ijson's fast path); decoded text for UTF-16/32 files."""
    if encoding in ("utf-8", "utf-8-sig"):
        fh = path.open("rb")
        if fh.read(3) != codecs.BOM_UTF8:
            fh.seek(0)
        return fh
    return path.open("r", encoding=encoding)


def _json_error(path: Path, display: str, encoding: str, exc: Exception) -> ReaderError:
    """Name the line and character of a syntax error: the streaming parser knows only
    that the document broke, so a file small enough is parsed again by ``json`` for the
    position."""
    if path.stat().st_size <= MAX_REPARSE_BYTES:
        try:
            json.loads(path.read_text(encoding=encoding).lstrip("\ufeff"))
        except json.JSONDecodeError as err:
            return ReaderError(
                display, f"invalid JSON: {err.msg} (character {err.colno})", row=err.lineno
            )
        except UnicodeDecodeError as err:
            return ReaderError(display, f"not {encoding} text: {err.reason} at byte {err.start}")
    return ReaderError(display, f"invalid JSON: {exc}")
