"""Fixed-width text driven by a layout file (field name, start, length, type).

Layouts are TOML files: the agencies' layouts ship in ``layouts/``; a source may name
one (``layout = "rrc-daf420"``) or give a path. Two shapes:

- one record per line (``fields`` and ``line_length``), e.g. BOEM OGOR-A;
- grouped multi-record files (``record_type``, ``group_start``, ``records``): one output
  row per group, e.g. a Texas RRC permit = a ``01`` line plus its trailer lines.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd
from ogcrm_plugins.readers._support import guess_encoding, looks_binary, resolve_encoding

from ogcrm import hookimpl
from ogcrm.pipeline.contracts import DEFAULT_CHUNK_ROWS, Chunk, Reader, Sniff
from ogcrm.pipeline.errors import ReaderError

LAYOUT_DIR = Path(__file__).with_name("layouts")


@dataclass(frozen=True)
class Field:
    name: str
    start: int  # 1-based
    length: int
    type: str = "str"

    @property
    def end(self) -> int:
        return self.start - 1 + self.length


@dataclass(frozen=True)
class Layout:
    name: str
    title: str
    fields: tuple[Field, ...] = ()
    line_length: int | None = None
    record_type: Field | None = None
    group_start: str | None = None
    continuation_prefix: str | None = None
    records: Mapping[str, tuple[Field, ...]] | None = None
    concat: Mapping[str, Field] | None = None
    encoding: str | None = None

    @property
    def grouped(self) -> bool:
        return self.record_type is not None

    @property
    def columns(self) -> list[str]:
        if not self.grouped:
            return [f.name for f in self.fields]
        names = [f.name for fields in (self.records or {}).values() for f in fields]
        return names + [f.name for f in (self.concat or {}).values()]


def _fields(raw: list[dict[str, Any]]) -> tuple[Field, ...]:
    return tuple(
        Field(f["name"], int(f["start"]), int(f["length"]), f.get("type", "str")) for f in raw
    )


def load_layout(path: Path) -> Layout:
    """Parse a layout file; a malformed one is reported with its path."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        if "record_type" in data:
            rt = data["record_type"]
            records = {k: _fields(v.get("fields", [])) for k, v in data["records"].items()}
            concat = {
                k: _fields([v["concat"]])[0] for k, v in data["records"].items() if "concat" in v
            }
            return Layout(
                name=data["name"],
                title=data.get("title", data["name"]),
                record_type=Field("record_type", int(rt["start"]), int(rt["length"])),
                group_start=data["group_start"],
                continuation_prefix=data.get("continuation_prefix"),
                records=records,
                concat=concat,
                encoding=data.get("encoding"),
            )
        return Layout(
            name=data["name"],
            title=data.get("title", data["name"]),
            fields=_fields(data["fields"]),
            line_length=data.get("line_length"),
            encoding=data.get("encoding"),
        )
    except (KeyError, TypeError, ValueError, tomllib.TOMLDecodeError) as exc:
        raise ReaderError(str(path), f"invalid layout file: {exc}") from None


@lru_cache(maxsize=1)
def shipped_layouts() -> dict[str, Layout]:
    return {(layout := load_layout(p)).name: layout for p in sorted(LAYOUT_DIR.glob("*.toml"))}


def _lines(head: bytes, encoding: str) -> list[str]:
    # not str.splitlines(): it also splits on U+0085 and other characters found in records
    lines = head.decode(encoding, errors="replace").replace("\r\n", "\n").split("\n")
    return lines[:-1] if len(lines) > 1 else lines  # the last may be cut by the sample


def _score(layout: Layout, lines: list[str]) -> float:
    if not lines:
        return 0.0
    if layout.grouped:
        assert layout.record_type is not None and layout.records is not None
        rt = layout.record_type
        cont = layout.continuation_prefix or "\0"
        types = [ln[rt.start - 1 : rt.end] for ln in lines if not ln.startswith(cont)]
        if not types or types[0] != layout.group_start:
            return 0.0
        return sum(1 for t in types if t in layout.records) / len(types)
    matching = sum(1 for ln in lines if len(ln) == layout.line_length)
    return matching / len(lines)


class FixedWidthReader(Reader):
    """Details: ``encoding`` and ``layout`` (a shipped layout's name or a file path)."""

    name = "fixed_width"
    formats = ("fixed-width",)
    version = "1"

    @classmethod
    def sniff(cls, head: bytes, *, filename: str | None = None) -> Sniff | None:
        if looks_binary(head):
            return None
        encoding = guess_encoding(head)
        lines = _lines(head, encoding)
        best = max(
            ((_score(layout, lines), layout) for layout in shipped_layouts().values()),
            default=None,
            key=lambda t: t[0],
        )
        if best is None or best[0] < 0.9:
            return None
        score, layout = best
        return Sniff(
            reader=cls.name,
            format="fixed-width",
            confidence=round(0.5 + 0.45 * score, 3),
            details={
                "encoding": layout.encoding or encoding,
                "layout": layout.name,
                "layout_title": layout.title,
                "columns": layout.columns,
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
        ref = options.get("layout") or details.get("layout")
        if not ref:
            raise ReaderError(
                display, "fixed-width files need a layout (name a shipped one or a layout file)"
            )
        layout = shipped_layouts().get(ref) or load_layout(Path(ref))
        encoding = (
            options.get("encoding")
            or layout.encoding
            or resolve_encoding(path, details.get("encoding") or "utf-8", display_name=display)
        )
        with path.open("r", encoding=encoding, newline="") as fh:
            lines = (line.rstrip("\r\n") for line in fh)
            read = _read_grouped if layout.grouped else _read_flat
            for chunk in read(display, layout, lines, chunk_rows):
                # the byte stream's place (a block ahead of the text at most), for progress
                yield replace(chunk, bytes_read=fh.buffer.tell())


def _cut(display: str, line: str, fields: tuple[Field, ...], number: int) -> dict[str, str]:
    row = {}
    for f in fields:
        if (len(line) < f.end and f.type != "str") or len(line) < f.start:
            raise ReaderError(
                display,
                f"line is {len(line)} characters; the layout puts {f.name!r} at {f.start}-{f.end}",
                row=number,
                column=f.name,
            )
        row[f.name] = line[f.start - 1 : f.end]
    return row


def _read_flat(
    display: str, layout: Layout, lines: Iterator[str], chunk_rows: int
) -> Iterator[Chunk]:
    rows: list[dict[str, str]] = []
    numbers: list[int] = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        if layout.line_length and len(line) < layout.line_length:
            last = layout.fields[-1]
            short = next((f for f in layout.fields if f.end > len(line)), last)
            raise ReaderError(
                display,
                f"line is {len(line)} characters, the layout needs {layout.line_length} "
                f"({short.name!r} is at {short.start}-{short.end})",
                row=number,
                column=short.name,
            )
        rows.append(_cut(display, line, layout.fields, number))
        numbers.append(number)
        if len(rows) == chunk_rows:
            yield Chunk(
                frame=pd.DataFrame(rows, columns=layout.columns),
                first_row=numbers[0],
                row_numbers=tuple(numbers),
            )
            rows, numbers = [], []
    if rows:
        yield Chunk(
            frame=pd.DataFrame(rows, columns=layout.columns),
            first_row=numbers[0],
            row_numbers=tuple(numbers),
        )


def _read_grouped(
    display: str, layout: Layout, lines: Iterator[str], chunk_rows: int
) -> Iterator[Chunk]:
    assert layout.record_type is not None and layout.records is not None
    rt = layout.record_type
    concat = layout.concat or {}
    cont = layout.continuation_prefix
    rows: list[dict[str, str]] = []
    numbers: list[int] = []
    current: dict[str, Any] | None = None

    def finish_group() -> None:
        if current is not None:
            for target in concat.values():
                parts = current.pop(f"_{target.name}", [])
                current[target.name] = " ".join("".join(parts).split()) or None
            rows.append(current)

    def take(line: str, number: int) -> None:
        nonlocal current
        kind = line[rt.start - 1 : rt.end]
        if kind == layout.group_start:
            finish_group()
            current = {}
            numbers.append(number)
        elif current is None:
            raise ReaderError(
                display,
                f"record type {kind!r} before the first {layout.group_start!r} record",
                row=number,
            )
        if kind in concat:
            f = concat[kind]
            current.setdefault(f"_{f.name}", []).append(line[f.start - 1 : f.end].ljust(f.length))
        elif kind in layout.records:  # type: ignore[operator]
            for name, value in _cut(display, line, layout.records[kind], number).items():  # type: ignore[index]
                current.setdefault(name, value)
        else:
            raise ReaderError(display, f"unknown record type {kind!r}", row=number, column=rt.start)

    for number, line in enumerate(lines, 1):
        if cont and line.startswith(cont):
            # A record broken by an embedded line break: its text ended on the previous
            # line; the continuation carries only padding and trailing flags.
            if current is None:
                raise ReaderError(
                    display, "continuation line without a record before it", row=number
                )
            continue
        if not line.strip():
            continue
        take(line, number)
        if len(rows) >= chunk_rows:
            yield Chunk(
                frame=pd.DataFrame(rows, columns=layout.columns),
                first_row=numbers[0],
                row_numbers=tuple(numbers[: len(rows)]),
            )
            numbers = numbers[len(rows) :]
            rows = []
    finish_group()
    if rows:
        yield Chunk(
            frame=pd.DataFrame(rows, columns=layout.columns),
            first_row=numbers[0],
            row_numbers=tuple(numbers),
        )


@hookimpl
def ogcrm_register_readers() -> list[type[Reader]]:
    return [FixedWidthReader]
