"""A source's cleaner chain over a file's chunks: corrected rows, issues, outcomes.

Every row read ends in exactly one outcome, so the counts always add up:

- ``quarantined``: some cleaner reported an ``error``; kept with its reasons, not merged;
- ``duplicate``: its cleaned values equal an earlier row's, in this chunk or any before;
- ``fixed``: at least one value was corrected;
- ``clean``: nothing to correct (warnings may still be shown for review).

Each row's cleaned values are serialized once, as the JSON text that is staged for
review; two rows are exact duplicates when their texts are equal. State across chunks is
one set of 64-bit hashes of those texts (about 60 bytes a row in a Python set: 60 MB for
a million rows), so memory grows with the rows only by that.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ogcrm.pipeline.contracts import ISSUE_COLUMNS, Chunk, Cleaner, SourceSpec, empty_issues
from ogcrm.pipeline.mapping import apply_mapping, clean_context
from ogcrm.plugins import Registry

OUTCOMES = ("clean", "fixed", "quarantined", "duplicate")


@dataclass
class CleanedChunk:
    """One chunk after the chain. All frames are indexed by file row number."""

    frame: pd.DataFrame  # canonical fields, cleaned, plus derived ones (api10, *_key)
    original: pd.DataFrame  # the same canonical fields as read
    issues: pd.DataFrame  # ISSUE_COLUMNS
    outcome: pd.Series  # one of OUTCOMES per row
    lines: list[str]  # each row of ``frame`` as JSON text (what is staged)


@dataclass
class CleanRun:
    """Cleans a file chunk by chunk for one source, keeping the running counts."""

    source: SourceSpec
    registry: Registry
    filename: str = "file"
    counts: Counter[str] = field(default_factory=Counter)
    #: (cleaner, column, severity, message) -> issues
    issue_counts: Counter[tuple[str, str, str, str]] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self.context = clean_context(self.source)
        self.cleaners: list[Cleaner] = [self.registry.cleaners[n]() for n in self.source.cleaners]
        self._seen: set[int] = set()

    def clean(self, chunk: Chunk) -> CleanedChunk:
        raw = chunk.frame
        if chunk.row_numbers is not None:
            index = pd.Index(chunk.row_numbers, name="row")
        else:
            index = pd.RangeIndex(chunk.first_row, chunk.first_row + len(raw), name="row")
        original = apply_mapping(raw.set_axis(index, axis=0), self.source, filename=self.filename)
        frame = original
        parts: list[pd.DataFrame] = []
        for cleaner in self.cleaners:
            frame, issues = cleaner.clean(frame, self.context)
            if len(issues):
                parts.append(issues)
        if chunk.problems:  # records the reader could not shape: quarantined as they are
            parts.append(
                pd.DataFrame(
                    {
                        "row": [p.row for p in chunk.problems],
                        "column": [p.column for p in chunk.problems],
                        "original": [p.original for p in chunk.problems],
                        "corrected": [None] * len(chunk.problems),
                        "cleaner": "reader",
                        "severity": "error",
                        "message": [p.message for p in chunk.problems],
                    },
                    columns=list(ISSUE_COLUMNS),
                )
            )
        issues = pd.concat(parts, ignore_index=True) if parts else empty_issues()
        lines = json_lines(frame)
        outcome = self._outcomes(frame, issues, lines)
        self.counts.update(outcome.value_counts().to_dict())
        self.counts["rows_read"] += len(frame)
        if len(issues):
            grouped = issues.groupby(["cleaner", "column", "severity", "message"]).size()
            self.issue_counts.update({k: int(v) for k, v in grouped.items()})
        return CleanedChunk(frame, original, issues, outcome, lines)

    def clean_all(self, chunks: Iterable[Chunk]) -> Iterator[CleanedChunk]:
        for chunk in chunks:
            yield self.clean(chunk)

    def _outcomes(self, frame: pd.DataFrame, issues: pd.DataFrame, lines: list[str]) -> pd.Series:
        outcome = pd.Series("clean", index=frame.index, dtype=object)
        if len(issues):
            fixed_rows = issues.loc[issues.severity == "fixed", "row"].unique()
            error_rows = issues.loc[issues.severity == "error", "row"].unique()
            outcome[outcome.index.isin(fixed_rows)] = "fixed"
            quarantined = outcome.index.isin(error_rows)
            outcome[quarantined] = "quarantined"
        else:
            quarantined = np.zeros(len(frame), dtype=bool)
        # the staged text already says what the row holds: hashing it (in C) costs a
        # tenth of hashing the frame's columns again
        hashes = list(map(hash, lines))
        seen = self._seen
        earlier = np.fromiter(map(seen.__contains__, hashes), dtype=bool, count=len(hashes))
        repeated = pd.Series(hashes, dtype="int64").duplicated().to_numpy() | earlier
        outcome[repeated & ~quarantined] = "duplicate"
        seen.update(hashes)
        return outcome


def json_lines(frame: pd.DataFrame) -> list[str]:
    """Each row as a JSON object, serialized by pandas in C (NaN and None as null).

    pandas writes the records as one JSON array; it is cut into rows at ``},{"key":``,
    where ``key`` is the first column. That text cannot occur inside a value: a quote in
    a string is escaped, and a string's closing quote is followed by ``,`` or ``}``,
    never by a key. (pandas' own ``lines=True`` scans the text character by character
    and cost as much again as the serializing.)
    """
    if frame.empty:
        return ["{}"] * len(frame)
    text = frame.to_json(orient="records", double_precision=15, date_format="iso")
    key = text[2 : json.decoder.scanstring(text, 3)[1]]  # the first key, as pandas wrote it
    first, *rest = text[2:-2].split("},{" + key + ":")
    return ["{" + first + "}", *["{" + key + ":" + part + "}" for part in rest]]
