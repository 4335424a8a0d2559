"""XML records, streamed with a parser that refuses DTDs and entities.

The repeating record element is found (the most frequent child of the root, ignoring an
inline schema) or configured (``record_element``). Each record's child elements become
columns. UTF-16 files with a BOM (New Mexico OCD) are read as such.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import ParseError

import defusedxml.ElementTree as safe_et
import pandas as pd
from defusedxml import DefusedXmlException
from ogcrm_plugins.readers._support import bom_encoding

from ogcrm import hookimpl
from ogcrm.pipeline.contracts import DEFAULT_CHUNK_ROWS, Chunk, Reader, Sniff
from ogcrm.pipeline.errors import ReaderError

_SCHEMA_NS = "http://www.w3.org/2001/XMLSchema"


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _events(path: Path, display: str) -> Iterator[tuple[str, Any]]:
    """``iterparse`` start/end events with DTDs forbidden; faults become ReaderErrors."""
    try:
        yield from safe_et.iterparse(str(path), events=("start", "end"), forbid_dtd=True)
    except DefusedXmlException as exc:
        raise ReaderError(
            display, f"DTDs and entities are not allowed in XML ({type(exc).__name__})"
        ) from None
    except ParseError as exc:
        line, column = exc.position
        raise ReaderError(display, f"not well-formed XML: {exc}", row=line, column=column) from None


class XmlReader(Reader):
    """Details: ``encoding`` and, once known, ``record_element``."""

    name = "xml"
    formats = ("xml",)
    version = "1"

    @classmethod
    def sniff(cls, head: bytes, *, filename: str | None = None) -> Sniff | None:
        encoding = bom_encoding(head) or "utf-8"
        text = head.decode(encoding, errors="replace").lstrip("\ufeff").lstrip()
        if not text.startswith("<"):
            return None
        confidence = 0.9 if text.startswith("<?xml") else 0.7
        return Sniff(cls.name, "xml", confidence, {"encoding": encoding})

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
        record = (
            options.get("record_element")
            or details.get("record_element")
            or self._find_record(path, display)
        )
        rows: list[dict[str, str | None]] = []
        produced = 0
        depth = 0
        for event, elem in _events(path, display):
            if event == "start":
                depth += 1
                continue
            depth -= 1
            if depth == 1 and _local(elem.tag) == record:
                row = {_local(child.tag): child.text for child in elem}
                if not len(elem):
                    row = {_local(k): v for k, v in elem.attrib.items()}
                rows.append(row)
                elem.clear()
                if len(rows) == chunk_rows:
                    yield Chunk(pd.DataFrame(rows, dtype=object), first_row=produced + 1)
                    produced += len(rows)
                    rows = []
            elif depth == 1:
                elem.clear()
        if rows:
            yield Chunk(pd.DataFrame(rows, dtype=object), first_row=produced + 1)
        elif produced == 0:
            raise ReaderError(display, f"no <{record}> records found")

    def _find_record(self, path: Path, display: str) -> str:
        """The most frequent element directly under the root, schema elements excluded
        (looks at the first 10,000 elements only)."""
        counts: Counter[str] = Counter()
        depth = 0
        for seen, (event, elem) in enumerate(_events(path, display)):
            if event == "start":
                depth += 1
                continue
            depth -= 1
            if depth == 1 and not elem.tag.startswith("{" + _SCHEMA_NS):
                counts[_local(elem.tag)] += 1
                elem.clear()
            if seen > 20_000:
                break
        if not counts:
            raise ReaderError(display, "the XML has no repeating record element")
        return counts.most_common(1)[0][0]


@hookimpl
def ogcrm_register_readers() -> list[type[Reader]]:
    return [XmlReader]
