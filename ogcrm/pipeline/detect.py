"""Which reader reads a file: every reader sniffs the first bytes; the surest wins."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from ogcrm.pipeline.archive import ZIP_MAX_TOTAL_BYTES, extract_members, is_plain_zip
from ogcrm.pipeline.contracts import DEFAULT_CHUNK_ROWS, SNIFF_BYTES, Chunk, Sniff
from ogcrm.pipeline.errors import ReaderError, UnknownFormat
from ogcrm.plugins import Registry

#: Below this, a reader's guess is not good enough to read a file with.
MIN_CONFIDENCE = 0.2


def sniff_file(path: Path, registry: Registry, *, display_name: str | None = None) -> Sniff:
    """The most confident reader's verdict on ``path``.

    Raises:
        UnknownFormat: empty file, or no reader recognises the content.
    """
    display = display_name or path.name
    with path.open("rb") as fh:
        head = fh.read(SNIFF_BYTES)
    if not head:
        raise UnknownFormat(display, "the file is empty")
    if is_plain_zip(head, path):
        return Sniff(reader="archive", format="zip", confidence=1.0, details={})
    verdicts: list[Sniff] = []
    for reader in registry.readers.values():
        try:
            verdict = reader.sniff(head, filename=path.name)
        except Exception:  # a sniff must not raise; one that does is not sure  # noqa: S112
            continue
        if verdict is not None and verdict.confidence >= MIN_CONFIDENCE:
            verdicts.append(verdict)
    if not verdicts:
        raise UnknownFormat(
            display, "not a format ogcrm reads (CSV, fixed-width, JSON, XML, XLSX, XLS, DBF, ZIP)"
        )
    return max(verdicts, key=lambda v: v.confidence)


#: Archives inside archives are read one level deep (a zip of zips), never further.
MAX_ARCHIVE_DEPTH = 2


def read_file(
    path: Path,
    registry: Registry,
    *,
    sniff: Sniff | None = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    options: Mapping[str, Any] | None = None,
    display_name: str | None = None,
    _depth: int = 0,
    _budget: list[int] | None = None,
) -> Iterator[Chunk]:
    """Stream ``path``'s records with the reader that recognised it (or ``sniff``'s)."""
    display = display_name or path.name
    verdict = sniff or sniff_file(path, registry, display_name=display)
    if verdict.reader == "archive":
        if _depth >= MAX_ARCHIVE_DEPTH:
            # each nested zip had a fresh 2 GB budget, to any depth
            raise ReaderError(display, "an archive inside an archive inside an archive; refused")
        # rows are numbered on through the members, in archive order, so that every row
        # of the archive has its own number (each member restarting at 1 made the second
        # member's rows collide with the first's); each chunk names its member
        offset = 0
        budget = _budget if _budget is not None else [ZIP_MAX_TOTAL_BYTES]
        for member, extracted in extract_members(path, display_name=display, budget=budget):
            last = offset
            inner = f"{display}!{member}"
            for chunk in read_file(
                extracted,
                registry,
                chunk_rows=chunk_rows,
                options=options,
                display_name=inner,
                _depth=_depth + 1,
                _budget=budget,
            ):
                numbers = (
                    tuple(r + offset for r in chunk.row_numbers)
                    if chunk.row_numbers is not None
                    else None
                )
                shifted = replace(
                    chunk,
                    first_row=chunk.first_row + offset,
                    row_numbers=numbers,
                    problems=tuple(replace(p, row=p.row + offset) for p in chunk.problems),
                    sheet=member if chunk.sheet is None else f"{member}:{chunk.sheet}",
                    bytes_read=None,  # a place in the member, not in the archive
                )
                if len(chunk.frame):
                    last = max(last, shifted.row_number(len(chunk.frame) - 1))
                yield shifted
            offset = last
        return
    reader = registry.readers[verdict.reader]()
    opts = {"display_name": display, **(options or {})}
    try:
        yield from reader.read(path, details=verdict.details, chunk_rows=chunk_rows, options=opts)
    except ReaderError:
        raise
    except MemoryError:
        raise ReaderError(display, "the file needs more memory than allowed to read") from None


def describe_file(path: Path, registry: Registry, *, rows: int = 5) -> dict[str, Any]:
    """What ``ogcrm sniff`` shows of a file: its format, reader and confidence, encoding,
    sheet, the reader's other findings, its columns and its first ``rows`` rows (empty
    cells as ``None``).

    Raises:
        ReaderError: the file cannot be read (file, row and column named).
    """
    verdict = sniff_file(path, registry)
    preview: list[dict[str, object]] = []
    columns: list[str] = []
    sheet = None
    for chunk in read_file(path, registry, sniff=verdict, chunk_rows=max(rows, 1)):
        columns = [str(c) for c in chunk.frame.columns]
        sheet = chunk.sheet
        frame = chunk.frame.head(rows - len(preview))
        preview += [
            {k: (None if v is None or v != v else v) for k, v in rec.items()}
            for rec in frame.to_dict(orient="records")
        ]
        if len(preview) >= rows:
            break
    details = dict(verdict.details)
    return {
        "format": verdict.format,
        "reader": verdict.reader,
        "confidence": verdict.confidence,
        "encoding": details.pop("encoding", None),
        **({"sheet": sheet} if sheet else {}),
        "details": {k: v for k, v in details.items() if k != "columns"},
        "columns": columns,
        "preview": preview,
    }
