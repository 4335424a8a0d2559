"""The import pipeline's records: sources, uploaded datasets, corrections and changes.

Datasets, cell issues and change records are history: never updated in place except for
a dataset's own state machine, and never deleted.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from ogcrm.db.base import (
    Base,
    IdMixin,
    TimestampMixin,
    dataset_reference,
    enum_column,
    foreign_key,
)
from ogcrm.db.types import JSONType, utcnow


class DatasetState(enum.StrEnum):
    RECEIVED = "received"
    PROCESSING = "processing"
    AWAITING_REVIEW = "awaiting_review"
    MERGING = "merging"
    MERGED = "merged"
    REJECTED = "rejected"
    FAILED = "failed"
    REVERTED = "reverted"


class Severity(enum.StrEnum):
    FIXED = "fixed"
    WARNING = "warning"
    ERROR = "error"


class Source(IdMixin, TimestampMixin, Base):
    """An agency dataset kind: which reader reads it, how its columns map to canonical
    fields, which cleaners run, which scorers it feeds, and how far it is trusted."""

    __tablename__ = "source"

    name: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    agency: Mapped[str] = mapped_column(String(32), index=True)
    reader: Mapped[str] = mapped_column(String(64))
    reader_options: Mapped[dict[str, Any]] = mapped_column(default=dict)
    mapping: Mapped[dict[str, Any]] = mapped_column(default=dict)
    cleaners: Mapped[list[str]] = mapped_column(default=list)
    scorers: Mapped[list[str]] = mapped_column(default=list)
    #: Higher wins: a lower-ranked source never overwrites a value a higher one set.
    precedence: Mapped[int] = mapped_column(default=0)
    schedule: Mapped[str | None] = mapped_column(String(64))
    enabled: Mapped[bool] = mapped_column(default=True)


class Dataset(IdMixin, Base):
    """One uploaded file of a source, and where it is in its lifecycle."""

    __tablename__ = "dataset"
    __table_args__ = (
        UniqueConstraint("source_id", "content_hash"),
        CheckConstraint("length(content_hash) = 64", name="content_hash_sha256"),
        Index("ix_dataset_state_lease_until", "state", "lease_until"),
    )

    source_id: Mapped[int | None] = foreign_key(
        "source.id", nullable=True, ondelete="RESTRICT", index=False
    )
    filename: Mapped[str] = mapped_column(String(255))
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    format: Mapped[str | None] = mapped_column(String(32))
    encoding: Mapped[str | None] = mapped_column(String(32))
    #: the fixed-width layout the file was read with, or the spreadsheet sheet(s) read
    layout: Mapped[str | None] = mapped_column(String(200))
    state: Mapped[DatasetState] = enum_column(DatasetState, default=DatasetState.RECEIVED)
    error: Mapped[str | None] = mapped_column(Text)
    rows_read: Mapped[int] = mapped_column(default=0)
    rows_clean: Mapped[int] = mapped_column(default=0)
    rows_fixed: Mapped[int] = mapped_column(default=0)
    rows_quarantined: Mapped[int] = mapped_column(default=0)
    rows_duplicate: Mapped[int] = mapped_column(default=0)
    #: Entities created and updated by the merge, per kind.
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    #: Seconds spent per stage.
    timings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    attempts: Mapped[int] = mapped_column(default=0)
    #: A job holds the dataset until then; past it, the reconciler may re-enqueue.
    lease_until: Mapped[dt.datetime | None]
    uploaded_by_id: Mapped[int | None] = foreign_key("user.id", nullable=True, index=False)
    reviewed_by_id: Mapped[int | None] = foreign_key("user.id", nullable=True, index=False)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    started_at: Mapped[dt.datetime | None]
    finished_at: Mapped[dt.datetime | None]
    reviewed_at: Mapped[dt.datetime | None]
    merged_at: Mapped[dt.datetime | None]
    reverted_at: Mapped[dt.datetime | None]


class CellIssue(IdMixin, Base):
    """One correction or complaint a cleaner made about one cell."""

    __tablename__ = "cell_issue"
    __table_args__ = (Index("ix_cell_issue_dataset_id_row_number", "dataset_id", "row_number"),)

    dataset_id: Mapped[int] = dataset_reference(nullable=False)
    #: The row as the reader numbers it in the file (a header line is row 1), the same
    #: number its errors use, so a person can open the file at that row.
    row_number: Mapped[int] = mapped_column(BigInteger)
    column: Mapped[str] = mapped_column(String(200))
    original: Mapped[str | None] = mapped_column(Text)
    corrected: Mapped[str | None] = mapped_column(Text)
    cleaner: Mapped[str] = mapped_column(String(64))
    severity: Mapped[Severity] = enum_column(Severity)
    message: Mapped[str] = mapped_column(Text, default="")


class RowOutcome(enum.StrEnum):
    CLEAN = "clean"
    FIXED = "fixed"
    QUARANTINED = "quarantined"
    DUPLICATE = "duplicate"


class StagedRow(IdMixin, Base):
    """One row of a processed file, waiting for review: its cleaned canonical values and
    what became of it. Reviewers page through these without the file being read again,
    and the merge reads them, never the file.

    What was read is not stored twice: every value a cleaner changed has a cell issue
    with the original, so original = cleaned except where an issue says otherwise.
    ``cleaned`` is plain JSON (text) on PostgreSQL, not JSONB: it is written once per
    row and read back whole, so parsing it into JSONB on the way in would be wasted.
    """

    __tablename__ = "staged_row"
    __table_args__ = (
        UniqueConstraint("dataset_id", "row_number"),
        # reviewers page through the rows needing attention; clean rows (nearly all of
        # them) are read in row order along the unique key, so they stay out of this one
        Index(
            "ix_staged_row_attention",
            "dataset_id",
            "outcome",
            "row_number",
            postgresql_where=text("outcome <> 'clean'"),
            sqlite_where=text("outcome <> 'clean'"),
        ),
    )

    dataset_id: Mapped[int] = dataset_reference(nullable=False)
    row_number: Mapped[int] = mapped_column(BigInteger)
    outcome: Mapped[RowOutcome] = enum_column(RowOutcome)
    cleaned: Mapped[dict[str, Any]] = mapped_column(JSON)


class ChangeRecord(IdMixin, Base):
    """A field of a CRM row changed: from what, to what, by which dataset or person.

    The inverse of every merge is computed from these rows, so revert needs nothing else.
    """

    __tablename__ = "change_record"
    __table_args__ = (
        Index("ix_change_record_entity_entity_id_field", "entity", "entity_id", "field"),
        CheckConstraint("dataset_id IS NOT NULL OR user_id IS NOT NULL", name="has_author"),
    )

    dataset_id: Mapped[int | None] = dataset_reference(index=True)
    user_id: Mapped[int | None] = foreign_key("user.id", nullable=True, index=False)
    entity: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[int] = mapped_column(BigInteger)
    field: Mapped[str] = mapped_column(String(64))
    before: Mapped[Any] = mapped_column(JSONType, nullable=True)
    after: Mapped[Any] = mapped_column(JSONType, nullable=True)
    #: Source row in the dataset's file, for provenance.
    row_number: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class MatchVerdict(enum.StrEnum):
    SAME = "same"
    DIFFERENT = "different"


class MatchDecision(IdMixin, Base):
    """A person's word on whether two organization names are one company.

    Keyed by the two normalized name keys (sorted, so the pair has one spelling) and
    reused by every later import: a confirmed pair merges without asking again, a
    denied one is never proposed again. Decisions are appended; the latest one for a
    pair is in force, and the earlier ones stay as history.
    """

    __tablename__ = "match_decision"
    __table_args__ = (
        # sorted by the service in Python's order: a database collation may order
        # strings differently, so only distinctness is checked here
        CheckConstraint("left_key <> right_key", name="keys_distinct"),
        Index("ix_match_decision_pair", "left_key", "right_key", "id"),
    )

    left_key: Mapped[str] = mapped_column(String(300))
    right_key: Mapped[str] = mapped_column(String(300))
    verdict: Mapped[MatchVerdict] = enum_column(MatchVerdict)
    decided_by_id: Mapped[int | None] = foreign_key("user.id", nullable=True, index=False)
    dataset_id: Mapped[int | None] = foreign_key("dataset.id", nullable=True, index=False)
    note: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
