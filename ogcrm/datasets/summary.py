"""What a reviewer sees of a dataset: its description, its issues by cleaner, column and
severity, and while it awaits review what approving it would do."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ogcrm.datasets.preview import merge_preview
from ogcrm.datasets.queries import issue_counts
from ogcrm.db.models import (
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
    out = {
        **describe(session, dataset),
        "issues": [
            {"cleaner": c.cleaner, "column": c.column, "severity": c.severity, "count": c.count}
            for c in issue_counts(session, dataset_id)
        ],
    }
    if dataset.state == DatasetState.AWAITING_REVIEW:
        out["preview"] = merge_preview(session, dataset_id)
    return out


def list_datasets(session: Session, *, limit: int = 100) -> list[dict[str, Any]]:
    rows = session.scalars(select(Dataset).order_by(Dataset.id.desc()).limit(limit)).all()
    return [describe(session, d) for d in rows]
