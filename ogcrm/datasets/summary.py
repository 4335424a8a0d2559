"""What a reviewer sees of a dataset: its description, its issues by cleaner, column and
severity, and while it awaits review what approving it would do."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ogcrm.datasets.preview import merge_preview
from ogcrm.db.models import (
    CellIssue,
    Dataset,
    DatasetState,
    Source,
)
from ogcrm.errors import NotFound


def describe(session: Session, dataset: Dataset) -> dict[str, Any]:
    """A dataset as the CLI and API show it."""
    source = session.get(Source, dataset.source_id) if dataset.source_id else None
    return {
        "id": dataset.id,
        "filename": dataset.filename,
        "source": source.name if source else None,
        "state": str(dataset.state),
        "format": dataset.format,
        "encoding": dataset.encoding,
        "error": dataset.error,
        "rows_read": dataset.rows_read,
        "clean": dataset.rows_clean,
        "fixed": dataset.rows_fixed,
        "quarantined": dataset.rows_quarantined,
        "duplicates": dataset.rows_duplicate,
        "counts": dataset.counts,
        "timings": dataset.timings,
        "content_hash": dataset.content_hash,
        "created_at": dataset.created_at.isoformat() if dataset.created_at else None,
    }


def summary(session: Session, dataset_id: int) -> dict[str, Any]:
    """The review summary: the dataset, its issues by cleaner, column and severity, and
    while it awaits review what approving it would create and update (``preview``)."""
    dataset = session.get(Dataset, dataset_id)
    if dataset is None:
        raise NotFound(f"dataset {dataset_id} not found")
    grouped = session.execute(
        select(CellIssue.cleaner, CellIssue.column, CellIssue.severity, func.count())
        .where(CellIssue.dataset_id == dataset_id)
        .group_by(CellIssue.cleaner, CellIssue.column, CellIssue.severity)
        .order_by(func.count().desc())
    ).all()
    out = {
        **describe(session, dataset),
        "issues": [
            {"cleaner": c, "column": col, "severity": str(sev), "count": n}
            for c, col, sev, n in grouped
        ],
    }
    if dataset.state == DatasetState.AWAITING_REVIEW:
        out["preview"] = merge_preview(session, dataset_id)
    return out


def list_datasets(session: Session, *, limit: int = 100) -> list[dict[str, Any]]:
    rows = session.scalars(select(Dataset).order_by(Dataset.id.desc()).limit(limit)).all()
    return [describe(session, d) for d in rows]
