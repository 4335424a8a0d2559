"""A reader for a format none of ogcrm's readers knows: records as blocks of
``KEY: value`` lines separated by blank lines, after a ``#OCC-ITD`` banner line.

    #OCC-ITD v1 bulletin 2026-11-30
    PERMIT: 1234567
    API: 35-017-25931
    WELL: HALE 1-23H
    OPERATOR: CEDAR MIDSTREAM INC (OTC 24155)
    COUNTY: CANADIAN
    APPROVED: 11/24/2026
    SURFACE: 35.5321, -97.9812

What the contract asks of a reader, and how this one keeps it:

- ``sniff`` decides from the content (the banner), is cheap and never raises;
- ``read`` streams: one line at a time, chunks of at most ``chunk_rows`` records, so
  memory does not grow with the file;
- every value is text (or None when the record lacks the key); cleaners type them;
- a fault is a ``ReaderError`` naming the file, the row (the line, as an editor
  counts them) and the column.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from ogcrm import DEFAULT_CHUNK_ROWS, Chunk, Reader, ReaderError, Sniff

BANNER = b"#OCC-ITD"
KEYS = ("PERMIT", "API", "WELL", "OPERATOR", "COUNTY", "APPROVED", "SURFACE")
#: SURFACE holds "latitude, longitude"; it becomes two columns.
COLUMNS = ("PERMIT", "API", "WELL", "OPERATOR", "COUNTY", "APPROVED", "SURFACE_LAT", "SURFACE_LONG")


class ItdReader(Reader):
    name = "occ_itd"
    formats = ("occ-itd",)
    version = "1"

    @classmethod
    def sniff(cls, head: bytes, *, filename: str | None = None) -> Sniff | None:
        if not head.lstrip(b"\xef\xbb\xbf").startswith(BANNER):
            return None
        return Sniff(
            reader=cls.name,
            format="occ-itd",
            confidence=0.99,
            details={"encoding": "utf-8", "columns": list(COLUMNS)},
        )

    def read(
        self,
        path: Path,
        *,
        details: Mapping[str, Any],
        chunk_rows: int = DEFAULT_CHUNK_ROWS,
        options: Mapping[str, Any] | None = None,
    ) -> Iterator[Chunk]:
        display = (options or {}).get("display_name", path.name)
        records: list[dict[str, str | None]] = []
        starts: list[int] = []
        record: dict[str, str | None] = {}
        with path.open(encoding="utf-8-sig", newline="") as fh:
            for number, line in enumerate(fh, start=1):
                text = line.rstrip("\r\n")
                if number == 1:
                    continue  # the banner
                if not text.strip():
                    if record:
                        records.append(record)
                        record = {}
                    if len(records) >= chunk_rows:
                        yield self._chunk(records, starts)
                        records, starts = [], []
                    continue
                key, sep, value = text.partition(":")
                key = key.strip().upper()
                if not sep:
                    raise ReaderError(display, "expected 'KEY: value'", row=number)
                if key not in KEYS:
                    raise ReaderError(
                        display, f"unknown key (known: {', '.join(KEYS)})", row=number, column=key
                    )
                if not record:
                    starts.append(number)
                if key == "SURFACE":
                    lat, comma, lon = value.partition(",")
                    if not comma:
                        raise ReaderError(
                            display, "SURFACE is 'latitude, longitude'", row=number, column=key
                        )
                    record["SURFACE_LAT"], record["SURFACE_LONG"] = lat.strip(), lon.strip()
                else:
                    record[key] = value.strip() or None
        if record:
            records.append(record)
        if records:
            yield self._chunk(records, starts)

    @staticmethod
    def _chunk(records: list[dict[str, str | None]], starts: list[int]) -> Chunk:
        frame = pd.DataFrame.from_records(records, columns=list(COLUMNS)).astype(object)
        frame = frame.where(frame.notna(), None)
        return Chunk(frame=frame, first_row=starts[0], row_numbers=tuple(starts))
