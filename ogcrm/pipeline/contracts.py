"""What a reader, a cleaner, a scorer and a notifier are: the plugin contract's classes.

Plugins subclass these and register the classes through the hooks in
:mod:`ogcrm.hookspecs`. Only this module and :mod:`ogcrm.hookspecs` are for plugins to
import; everything else in ogcrm is internal.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
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
class RowProblem:
    """Why a record was kept but cannot be trusted: its ``row`` and ``column`` as a person
    counts them, what is wrong, and the record's text as read (for the reviewer)."""

    row: int
    column: str
    message: str
    original: str


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
    #: Records in ``frame`` the reader kept although it could not shape them (a row
    #: with too few or too many fields, padded with None or cut to the header's
    #: width): the pipeline quarantines each, its problem and text shown for review.
    problems: tuple[RowProblem, ...] = ()
    #: How far into the file (in bytes) the reader had read once this chunk was whole,
    #: for a progress bar with a total; None when the reader cannot tell.
    bytes_read: int | None = None

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


#: The columns of a cleaner's issue frame, one row per cell issue.
ISSUE_COLUMNS = ("row", "column", "original", "corrected", "cleaner", "severity", "message")
#: Severities, mildest first: ``fixed`` (corrected, shown for review), ``warning``
#: (doubtful, kept as is or nulled, shown), ``error`` (the row is quarantined).
SEVERITIES = ("fixed", "warning", "error")


@dataclass(frozen=True)
class CleanContext:
    """What a cleaner knows about the chunk in front of it.

    ``kinds`` maps each canonical column present in the frame to its kind (``name``,
    ``api``, ``date``, ``number``, ``latitude``...; see ``ogcrm.pipeline.fields``), so a
    cleaner picks its columns by kind, never by a source's raw header. ``state`` is the
    USPS code the source implies (``TX`` for Texas RRC files), ``units`` the unit a
    numeric column is written in when it is not the field's base unit (from the mapping
    or the raw header: ``MBBL``, ``MMCF``), ``headers`` the raw header behind each
    canonical column.
    """

    source: str = "generic"
    agency: str = "unknown"
    state: str | None = None
    kinds: Mapping[str, str] = field(default_factory=dict)
    units: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    #: Source-specific cleaner options (``county_codes``, ``datum``, ``utm_zone``...).
    options: Mapping[str, Any] = field(default_factory=dict)

    def columns(self, *kinds: str) -> list[str]:
        """The frame's canonical columns of these kinds, in the frame's order."""
        return [c for c, k in self.kinds.items() if k in kinds]


class IssueLog:
    """Collects a cleaner's issues a column-mask at a time, without a Python loop per row.

    ``row`` is the frame's index (the pipeline indexes frames by file row number).

    Example:
        >>> log = IssueLog("phone")
        >>> log.add(changed, "contact_phone", before, after, "fixed", "written as E.164")
        >>> issues = log.frame()
    """

    def __init__(self, cleaner: str) -> None:
        self.cleaner = cleaner
        self._parts: list[pd.DataFrame] = []

    def add(
        self,
        mask: pd.Series,
        column: str,
        original: pd.Series,
        corrected: pd.Series | None,
        severity: str,
        message: str | pd.Series,
    ) -> None:
        """Record one issue for every row where ``mask`` is true."""
        if severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {SEVERITIES}, not {severity!r}")
        mask = mask.fillna(False).astype(bool)
        if not mask.any():
            return
        rows = original.index[mask.to_numpy()]
        part = pd.DataFrame(
            {
                "row": rows,
                "column": column,
                "original": original[mask].astype(object).to_numpy(),
                "corrected": (
                    None if corrected is None else corrected[mask].astype(object).to_numpy()
                ),
                "cleaner": self.cleaner,
                "severity": severity,
                "message": message[mask].to_numpy() if isinstance(message, pd.Series) else message,
            }
        )
        self._parts.append(part)

    def frame(self) -> pd.DataFrame:
        """All issues recorded, as a frame with :data:`ISSUE_COLUMNS`."""
        if not self._parts:
            return empty_issues()
        return pd.concat(self._parts, ignore_index=True)


def map_distinct(values: pd.Series, func: Callable[[Any], Any]) -> pd.Series:
    """Apply ``func`` once per distinct non-null value and spread the results.

    Agency columns repeat: a million permit rows name a thousand operators and a few
    thousand dates. Cleaning each distinct value once in Python, then taking the result
    for every row by its code, is what keeps name and date cleaning vectorized.
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    results = np.empty(len(uniques) + 1, dtype=object)
    results[:-1] = [func(u) for u in uniques.tolist()]
    results[-1] = None  # code -1: missing
    return pd.Series(results[codes], index=values.index, dtype=object)


def map_distinct_columns(
    values: pd.Series, func: Callable[[Any], tuple[Any, ...]], width: int
) -> tuple[pd.Series, ...]:
    """Like :func:`map_distinct` for a ``func`` returning a tuple of ``width`` results:
    one Series per position, spread by code without a Python call per row."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    results = [func(u) for u in uniques.tolist()] + [(None,) * width]  # last: missing (-1)
    return tuple(
        pd.Series(np.array(column, dtype=object)[codes], index=values.index, dtype=object)
        for column in zip(*results, strict=True)
    )


def empty_issues() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in ISSUE_COLUMNS})


class Cleaner(ABC):
    """Corrects one kind of value in a chunk and reports every change it makes.

    Subclasses set ``name`` (sources list cleaners by it) and ``kinds``: the field kinds
    whose columns it cleans (see :class:`CleanContext`).

    Contract:
        - Vectorized over the chunk: pandas/NumPy operations per column, no Python loop
          per row on the hot path.
        - Returns a new frame (never mutates its input) and an issue frame built with
          :class:`IssueLog`; every value it changes has an issue with the original.
        - Adds columns only when it derives a new canonical value (a normalized key,
          an API-14), never drops one.
        - Never touches the database, the network or the file system; keeps no state
          between chunks.
        - Padding (leading and trailing blanks) is formatting, not content: trimming it
          is not an issue.
    """

    name: ClassVar[str]
    version: ClassVar[str] = "1"
    kinds: ClassVar[tuple[str, ...]] = ()

    @abstractmethod
    def clean(
        self, frame: pd.DataFrame, context: CleanContext
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Return the corrected frame and its issues (columns :data:`ISSUE_COLUMNS`)."""


#: What :meth:`ColumnCleaner.clean_column` returns: the column's new values, or several
#: columns by name (the column itself and any it derives, such as a matching key).
ColumnResult = pd.Series | Mapping[str, pd.Series]


class ColumnCleaner(Cleaner):
    """A cleaner that treats each column of its ``kinds`` on its own.

    Implement :meth:`clean_column`; copying the frame, finding the columns and
    collecting the issues are done here, the same way for every such cleaner.

    Example:
        >>> class Upper(ColumnCleaner):
        ...     name, kinds = "upper", ("code",)
        ...     def clean_column(self, raw, column, context, log):
        ...         upper = raw.str.upper()
        ...         log.add(upper != raw, column, raw, upper, "fixed", "upper-cased")
        ...         return upper
    """

    def clean(
        self, frame: pd.DataFrame, context: CleanContext
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        out = frame.copy(deep=False)  # copy-on-write: the caller's frame stays as it was
        log = IssueLog(self.name)
        for column in context.columns(*self.kinds):
            result = self.clean_column(out[column], column, context, log)
            if isinstance(result, pd.Series):
                out[column] = result
            else:
                for name, values in result.items():
                    out[name] = values
        return out, log.frame()

    @abstractmethod
    def clean_column(
        self, raw: pd.Series, column: str, context: CleanContext, log: IssueLog
    ) -> ColumnResult:
        """The column's cleaned values (or named columns); every change goes to ``log``."""


#: The cleaner chain a source gets unless it names its own: padding and null codes
#: first, identifiers before geography (a county may come from the API number), names,
#: dates, numbers, positions, then contact points.
DEFAULT_CLEANERS = (
    "whitespace",
    "api_number",
    "geography",
    "company_name",
    "dates",
    "numbers",
    "coordinates",
    "phone",
    "email",
)


@dataclass(frozen=True)
class SourceSpec:
    """An agency dataset kind: how its files are read, mapped and cleaned.

    ``mapping`` maps canonical field names (``ogcrm fields``) to the file's raw column
    names; a value may also be a table ``{column = "...", unit = "MBBL"}`` when the
    column's unit is not the field's base unit and the header does not say so.
    ``state`` is the USPS code the source implies (API numbers without a state code,
    coordinate bounds). ``options`` are passed to the cleaners (``county_codes``,
    ``datum``, ``excel_dates``). ``precedence``: a higher-ranked source's values are
    never overwritten by a lower-ranked one's.
    """

    name: str
    title: str
    agency: str
    mapping: Mapping[str, Any]
    state: str | None = None
    reader: str | None = None
    reader_options: Mapping[str, Any] = field(default_factory=dict)
    cleaners: tuple[str, ...] = DEFAULT_CLEANERS
    scorers: tuple[str, ...] = ()
    precedence: int = 0
    options: Mapping[str, Any] = field(default_factory=dict)
    description: str = ""

    def raw_column(self, canonical: str) -> str:
        spec = self.mapping[canonical]
        return str(spec["column"] if isinstance(spec, Mapping) else spec)

    def unit(self, canonical: str) -> str | None:
        spec = self.mapping[canonical]
        return spec.get("unit") if isinstance(spec, Mapping) else None


#: The types a feature may have, as rules see them.
FEATURE_TYPES = ("number", "string", "list")


@dataclass(frozen=True)
class Feature:
    """A named, typed, documented value per organization that rules can refer to.

    ``default`` is the value for an organization the scorer's query has no row for (a
    count is 0); None leaves it without a value (JSON-logic's null). Lists are carried
    in SQL as ``,a,b,`` (``,`` when empty).
    """

    name: str
    type: str
    description: str
    default: Any = None


@dataclass(frozen=True)
class FeatureContext:
    """What a scorer's query may use: the database's tables by name (``permit``,
    ``well``, ``production_report``, ``organization``, ``interaction``, ``task``,
    ``opportunity``, ``organization_tag``, ``tag``), the moment scores are computed for,
    and portable SQL helpers. Table and column names are part of the plugin contract."""

    tables: Mapping[str, Any]
    now: Any  # datetime.datetime, aware UTC
    dialect: str
    #: The features the caller will read, or None for all of them. A segment naming
    #: only ``permits_90d`` need not aggregate a year of permits: a scorer may narrow
    #: its window or leave out other columns, and every scorer may ignore it.
    wanted: frozenset[str] | None = None

    def wants(self, name: str) -> bool:
        """Whether the caller reads feature ``name``."""
        return self.wanted is None or name in self.wanted

    def days_since(self, column: Any) -> Any:
        """Whole days from ``column`` (a timestamp) to ``now``."""
        from sqlalchemy import Integer, cast, func, literal

        if self.dialect == "sqlite":
            now = literal(self.now.replace(tzinfo=None).isoformat(sep=" "))
            return cast(func.julianday(now) - func.julianday(column), Integer)
        return func.floor(func.extract("epoch", literal(self.now) - column) / 86400)

    def list_of(self, column: Any) -> Any:
        """An aggregate of ``column``'s values as the ``,a,b,`` list form."""
        from sqlalchemy import func, literal

        return literal(",").concat(func.aggregate_strings(column, ",")).concat(literal(","))


class Scorer(ABC):
    """Contributes named, typed features per organization, computed in SQL from merged
    data and CRM activity.

    Contract:
        - :meth:`features` declares every feature (name unique across all scorers).
        - :meth:`query` returns one SELECT with a column ``organization_id`` and one
          column per declared feature (per feature in ``context.wanted`` when that is
          set), at most one row per organization; rows for organizations it knows
          nothing about may be left out (their features take the default).
        - Set-based: no Python per organization, no writes.
    """

    name: ClassVar[str]
    version: ClassVar[str] = "1"

    @abstractmethod
    def features(self) -> list[Feature]:
        """The features this scorer provides."""

    @abstractmethod
    def query(self, context: FeatureContext) -> Any:
        """The SELECT computing them (``organization_id`` + one column per feature)."""

    def counted_rows(self, feature: str, context: FeatureContext) -> Any | None:
        """For a feature that counts something, a SELECT of one column
        ``organization_id`` whose rows are what it counts; None (the default) otherwise.

        The promise is only this: the feature is 0 for an organization with no such
        row, and a whole number of at least 1 for one with any. A filter that asks no
        more than that (``permits_90d >= 1``, ``overdue_tasks == 0``) is then compiled
        to ``EXISTS`` over these rows, which stops at the first one, instead of
        counting every organization's rows: half the time of the count on a million
        organizations. Optional, like ``context.wanted``.
        """
        return None


@dataclass(frozen=True)
class OutboundMessage:
    """One message to one person, as a notifier is asked to deliver it."""

    to: str  # the channel's address: an e-mail address for ``email``
    subject: str
    body: str
    #: What kind of message (``task_reminder``, ``campaign``): for the notifier's
    #: templates and the record, never shown as the sender.
    template: str
    to_name: str | None = None


@dataclass(frozen=True)
class NotifierSettings:
    """What a notifier may be configured from (ogcrm's settings, read-only)."""

    smtp_url: str | None
    mail_from: str
    data_dir: Path


class NotifierError(Exception):
    """A message could not be delivered; ``retryable`` says whether a later try may."""

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


class Notifier(ABC):
    """Delivers outbound messages on one channel (campaign e-mails, task reminders).

    Contract:
        - ``name`` is unique across plugins; ``channel`` says what ``to`` addresses
          (``email``). Of the notifiers of a channel that :meth:`configure` accepts,
          the one with the highest ``priority`` delivers.
        - :meth:`configure` decides from the settings alone, without I/O, and returns
          ``None`` when this notifier is not set up (no SMTP URL, say).
        - :meth:`send` delivers one message or raises :class:`NotifierError`; it returns
          the provider's id for the message (or ``""``). It is called from a job, one
          message at a time, already rate-limited and never for an opted-out contact.
        - Never log a message's body or address: they are personal data (the record
          ogcrm keeps says who, which template, when and the outcome).
    """

    name: ClassVar[str]
    channel: ClassVar[str] = "email"
    priority: ClassVar[int] = 0

    @classmethod
    @abstractmethod
    def configure(cls, settings: NotifierSettings) -> Notifier | None:
        """An instance ready to send, or ``None`` when the settings do not ask for it."""

    @abstractmethod
    def send(self, message: OutboundMessage) -> str:
        """Deliver ``message``; raise :class:`NotifierError` when it cannot be."""
