"""JSON records: an array of objects, JSON Lines, or an API response with the records
at a path inside it (e.g. the EIA API v2's ``response.data``).

JSON Lines stream line by line; other documents are parsed whole, so they are capped
(``MAX_DOCUMENT_BYTES``) — agencies publish bulk data as JSON Lines, and API responses
are paged.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
from ogcrm_plugins.readers._support import bom_encoding

from ogcrm import hookimpl
from ogcrm.pipeline.contracts import DEFAULT_CHUNK_ROWS, Chunk, Reader, Sniff
from ogcrm.pipeline.errors import ReaderError

MAX_DOCUMENT_BYTES = 256 * 1024 * 1024


def _text(value: Any) -> str | None:
    """Every value as text, as the other readers give it; nested values as JSON."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value) if isinstance(value, float) else str(value)
    return json.dumps(value, ensure_ascii=False)


def find_record_path(doc: Any) -> list[str] | None:
    """The path to the largest list of objects in ``doc`` (breadth-first)."""
    if isinstance(doc, list):
        return [] if doc and all(isinstance(x, dict) for x in doc) else None
    best: tuple[int, list[str]] | None = None
    queue: list[tuple[Any, list[str]]] = [(doc, [])]
    while queue:
        node, path = queue.pop(0)
        if isinstance(node, dict):
            for key, value in node.items():
                if isinstance(value, list) and value and all(isinstance(x, dict) for x in value):
                    if best is None or len(value) > best[0]:
                        best = (len(value), [*path, key])
                elif isinstance(value, dict):
                    queue.append((value, [*path, key]))
    return best[1] if best else None


class JsonReader(Reader):
    """Details: ``encoding``, ``shape`` (``array``, ``lines`` or ``document``) and, for
    documents, ``record_path`` (keys from the root to the list of records)."""

    name = "json"
    formats = ("json", "jsonl")
    version = "1"

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
        if path.stat().st_size > MAX_DOCUMENT_BYTES:
            raise ReaderError(
                display, f"JSON documents over {MAX_DOCUMENT_BYTES >> 20} MB must be JSON Lines"
            )
        try:
            doc = json.loads(path.read_text(encoding=encoding).lstrip("\ufeff"))
        except json.JSONDecodeError as exc:
            raise ReaderError(
                display, f"invalid JSON: {exc.msg} (character {exc.colno})", row=exc.lineno
            ) from None
        except UnicodeDecodeError as exc:
            raise ReaderError(
                display, f"not {encoding} text: {exc.reason} at byte {exc.start}"
            ) from None
        record_path = options.get("record_path") or find_record_path(doc)
        if record_path is None:
            raise ReaderError(
                display, "no list of records found in the JSON document; set record_path"
            )
        records: Any = doc
        for key in record_path:
            if not isinstance(records, dict) or key not in records:
                raise ReaderError(display, f"record path {'.'.join(record_path)!r} not found")
            records = records[key]
        if not isinstance(records, list):
            raise ReaderError(
                display, f"{'.'.join(record_path) or 'the document'} is not a list of records"
            )
        for start in range(0, len(records), chunk_rows):
            batch = records[start : start + chunk_rows]
            for i, rec in enumerate(batch):
                if not isinstance(rec, dict):
                    raise ReaderError(
                        display, f"record {start + i + 1} is not an object", row=start + i + 1
                    )
            frame = pd.DataFrame(
                [{k: _text(v) for k, v in rec.items()} for rec in batch], dtype=object
            )
            yield Chunk(frame=frame, first_row=start + 1)

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
