"""A source's cleaner chain over a file's chunks: corrected rows, issues, outcomes.

Every row read ends in exactly one outcome, so the counts always add up:

- ``quarantined``: some cleaner reported an ``error``; kept with its reasons, not merged;
- ``duplicate``: its cleaned values equal an earlier row's, in this chunk or any before;
- ``fixed``: at least one value was corrected;
- ``clean``: nothing to correct (warnings may still be shown for review).

State across chunks is one set of 64-bit row hashes (about 60 bytes a row in a Python
set: 60 MB for a million rows), so memory grows with the rows only by that.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ogcrm.pipeline.contracts import Chunk, Cleaner, SourceSpec, empty_issues
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
        issues = pd.concat(parts, ignore_index=True) if parts else empty_issues()
        outcome = self._outcomes(frame, issues)
        self.counts.update(outcome.value_counts().to_dict())
        self.counts["rows_read"] += len(frame)
        if len(issues):
            grouped = issues.groupby(["cleaner", "column", "severity", "message"]).size()
            self.issue_counts.update({k: int(v) for k, v in grouped.items()})
        return CleanedChunk(frame, original, issues, outcome)

    def clean_all(self, chunks: Iterable[Chunk]) -> Iterator[CleanedChunk]:
        for chunk in chunks:
            yield self.clean(chunk)

    def _outcomes(self, frame: pd.DataFrame, issues: pd.DataFrame) -> pd.Series:
        outcome = pd.Series("clean", index=frame.index, dtype=object)
        if len(issues):
            fixed_rows = issues.loc[issues.severity == "fixed", "row"].unique()
            error_rows = issues.loc[issues.severity == "error", "row"].unique()
            outcome[outcome.index.isin(fixed_rows)] = "fixed"
            quarantined = outcome.index.isin(error_rows)
            outcome[quarantined] = "quarantined"
        else:
            quarantined = np.zeros(len(frame), dtype=bool)
        hashes = pd.util.hash_pandas_object(frame, index=False)
        seen = self._seen
        earlier = np.fromiter((h in seen for h in hashes.tolist()), dtype=bool, count=len(hashes))
        repeated = hashes.duplicated().to_numpy() | earlier
        outcome[repeated & ~quarantined] = "duplicate"
        seen.update(hashes.tolist())
        return outcome
