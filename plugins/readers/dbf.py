"""dBase (DBF) tables, e.g. the attribute tables of agencies' shapefiles.

The text encoding comes from the ``.cpg`` file beside the table when there is one (as
ArcGIS writes it), else from the option, else cp1252. Values stay as the text stored
in the file (numbers in e-notation included): cleaning them is the cleaners' job.
"""

from __future__ import annotations

import codecs
import struct
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from ogcrm import hookimpl
from ogcrm.pipeline.contracts import DEFAULT_CHUNK_ROWS, Chunk, Reader, Sniff
from ogcrm.pipeline.errors import ReaderError

_VERSIONS = {0x02, 0x03, 0x04, 0x05, 0x30, 0x31, 0x43, 0x83, 0x8B, 0x8E, 0xCB, 0xF5, 0xFB}


def _header(head: bytes) -> tuple[int, int, int] | None:
    if len(head) < 33 or head[0] not in _VERSIONS:
        return None
    _yy, mm, dd = head[1], head[2], head[3]
    if not (1 <= mm <= 12 and 1 <= dd <= 31):
        return None
    records, header_len, record_len = struct.unpack("<IHH", head[4:12])
    if header_len < 33 or record_len < 1:
        return None
    return records, header_len, record_len


def _sidecar_encoding(path: Path) -> str | None:
    cpg = path.with_suffix(".cpg")
    if not cpg.is_file():
        return None
    name = cpg.read_text(encoding="ascii", errors="replace").strip()
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


class DbfReader(Reader):
    """Details: ``records`` (count from the header), ``encoding`` when known."""

    name = "dbf"
    formats = ("dbf",)
    version = "1"

    @classmethod
    def sniff(cls, head: bytes, *, filename: str | None = None) -> Sniff | None:
        parsed = _header(head)
        if parsed is None:
            return None
        records, header_len, _ = parsed
        # field descriptors are 32 bytes each and end with 0x0D
        terminator = head.find(b"\r", 32)
        if terminator == -1 or terminator > header_len or (terminator - 32) % 32:
            return None
        return Sniff(cls.name, "dbf", 0.9, {"records": records})

    def read(
        self,
        path: Path,
        *,
        details: Mapping[str, Any],
        chunk_rows: int = DEFAULT_CHUNK_ROWS,
        options: Mapping[str, Any] | None = None,
    ) -> Iterator[Chunk]:
        from dbfread import DBF
        from dbfread.exceptions import DBFNotFound, MissingMemoFile

        options = dict(options or {})
        display = options.get("display_name", path.name)
        encoding = options.get("encoding") or _sidecar_encoding(path) or "cp1252"
        try:
            table = DBF(
                str(path), encoding=encoding, raw=True, load=False, char_decode_errors="strict"
            )
        except (DBFNotFound, MissingMemoFile, struct.error, ValueError) as exc:
            raise ReaderError(display, f"not a readable DBF table: {exc}") from None
        names = table.field_names
        rows: list[list[str | None]] = []
        produced = 0
        try:
            for number, record in enumerate(table, 1):
                row: list[str | None] = []
                for name in names:
                    raw = record[name]
                    try:
                        text = raw.decode(encoding) if isinstance(raw, bytes) else raw
                    except UnicodeDecodeError as exc:
                        raise ReaderError(
                            display, f"not {encoding} text: {exc.reason}", row=number, column=name
                        ) from None
                    row.append(text if text is None or text.strip() else None)
                rows.append(row)
                if len(rows) == chunk_rows:
                    yield Chunk(pd.DataFrame(rows, columns=names, dtype=object), produced + 1)
                    produced += len(rows)
                    rows = []
        except (struct.error, EOFError) as exc:
            raise ReaderError(
                display, f"truncated DBF table: {exc}", row=produced + len(rows) + 1
            ) from None
        if rows:
            yield Chunk(pd.DataFrame(rows, columns=names, dtype=object), produced + 1)


@hookimpl
def ogcrm_register_readers() -> list[type[Reader]]:
    return [DbfReader]
