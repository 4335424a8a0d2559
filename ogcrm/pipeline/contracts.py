"""What a reader, a cleaner and a scorer are: the plugin contract's classes.

Plugins subclass these and register the classes through the hooks in
:mod:`ogcrm.hookspecs`. Only this module and :mod:`ogcrm.hookspecs` are for plugins to
import; everything else in ogcrm is internal.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd

#: Bytes a reader's ``sniff`` is shown from the start of a file.
SNIFF_BYTES = 64 * 1024
#: Rows per chunk unless a source says otherwise: bounded memory whatever the file size.
DEFAULT_CHUNK_ROWS = 50_000


@dataclass(frozen=True)
class Sniff:
    """A reader's verdict on a file: how sure it is, and what it found out.

    ``confidence`` is 0 (certainly not) to 1 (certainly). ``details`` carries what the
    reader needs to read the file and what ``ogcrm sniff`` shows: encoding, delimiter,
    layout, sheet names, record path or element.
    """

    reader: str
    format: str
    confidence: float
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Chunk:
    """A bounded slice of a file's records, all values as text (or None when absent).

    ``first_row`` is the 1-based row number, as a person counts rows in the file, of
    ``frame``'s first row; row ``i`` of the frame is file row ``first_row + i`` unless
    ``row_numbers`` gives them one by one (multi-line records, skipped banner rows).
    """

    frame: pd.DataFrame
    first_row: int
    sheet: str | None = None
    row_numbers: tuple[int, ...] | None = None

    def row_number(self, i: int) -> int:
        return self.row_numbers[i] if self.row_numbers is not None else self.first_row + i


class Reader(ABC):
    """Reads one family of file formats into chunks of records.

    Subclasses set ``name`` (stable, lower-case: sources refer to it), ``formats`` and a
    ``version``, and implement :meth:`sniff` and :meth:`read`.

    Contract:
        - ``sniff`` decides from content, never from the file name alone (the name may be
          a hint); it must be cheap and must not raise on any input.
        - ``read`` streams: memory must not grow with the file. It yields
          :class:`Chunk` objects of at most ``chunk_rows`` rows, values as strings.
        - Anything wrong with the file raises :class:`~ogcrm.pipeline.errors.ReaderError`
          naming the file and, when known, the row and column. Never ``print``, never
          write anywhere, never touch the network.

    Example:
        >>> class Pipe(Reader):
        ...     name, formats = "pipe", ("psv",)
        ...     @classmethod
        ...     def sniff(cls, head, *, filename=None): ...
        ...     def read(self, path, *, details, chunk_rows=DEFAULT_CHUNK_ROWS, options=None): ...
    """

    name: ClassVar[str]
    formats: ClassVar[tuple[str, ...]]
    version: ClassVar[str] = "1"

    @classmethod
    @abstractmethod
    def sniff(cls, head: bytes, *, filename: str | None = None) -> Sniff | None:
        """How sure this reader is that a file starting with ``head`` is its format."""

    @abstractmethod
    def read(
        self,
        path: Path,
        *,
        details: Mapping[str, Any],
        chunk_rows: int = DEFAULT_CHUNK_ROWS,
        options: Mapping[str, Any] | None = None,
    ) -> Iterator[Chunk]:
        """Yield the file's records in chunks. ``details`` is this reader's sniff result."""


class Cleaner(ABC):
    """Corrects one kind of value in a chunk and reports every change it makes.

    Contract: vectorized over the chunk (no per-row Python on the hot path); returns a
    new frame and the cell issues, never mutates its input, never touches the database.
    """

    name: ClassVar[str]
    version: ClassVar[str] = "1"

    @abstractmethod
    def clean(
        self, frame: pd.DataFrame, context: Mapping[str, Any]
    ) -> tuple[pd.DataFrame, list[Any]]:
        """Return the corrected frame and the issues found."""


class Scorer(ABC):
    """Contributes named, typed features per organization, computed from merged data."""

    name: ClassVar[str]
    version: ClassVar[str] = "1"

    @abstractmethod
    def features(self) -> Mapping[str, Any]:
        """Feature name -> definition (type, description, SQL expression)."""
