"""Datasets: an uploaded file received, processed into staged rows, summarized for review.

``receive`` stores the file by content hash (the same bytes for the same source are the
same dataset: nothing new is made). ``process`` reads it with its source's reader,
runs the cleaner chain and writes staged rows and cell issues in batches, moving the
dataset ``received -> processing -> awaiting_review`` (or ``failed`` with the file, row,
column and reason; nothing half-staged stays behind). ``summary`` is what a reviewer
sees first.

Merging, rejecting and reverting build on these (the dataset lifecycle issue).
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import func, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from ogcrm.auth.principal import Principal
from ogcrm.db.bulk import WriteBehind, bulk_write
from ogcrm.db.models import CellIssue, Dataset, DatasetState, Source
from ogcrm.db.session import Database
from ogcrm.db.types import utcnow
from ogcrm.jobs.failpoints import failpoint
from ogcrm.pipeline.cleaning import CleanedChunk, CleanRun
from ogcrm.pipeline.contracts import SourceSpec
from ogcrm.pipeline.detect import read_file, sniff_file
from ogcrm.pipeline.errors import ReaderError
from ogcrm.pipeline.mapping import MappingError, generic_source, match_source
from ogcrm.plugins import Registry, default_registry
from ogcrm.services import audit
from ogcrm.services.errors import InvalidInput, NotFound
from ogcrm.services.merge import merge_preview

log = logging.getLogger(__name__)

_UNSAFE = re.compile(r"[^\w.\- ]+")


@dataclass(frozen=True)
class Received:
    dataset_id: int
    already_imported: bool


def content_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def safe_filename(name: str) -> str:
    """The original name as metadata only: no directories, no control characters,
    bounded length (the stored file is named by its hash)."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1].replace("\x00", "")
    cleaned = _UNSAFE.sub("_", base).strip(" .") or "upload"
    return cleaned[:200]


def stored_path(data_dir: Path, digest: str) -> Path:
    return data_dir / "files" / digest[:2] / digest


def ensure_source(session: Session, spec: SourceSpec) -> Source:
    """The database row of a source spec (created on first use, kept in step)."""
    row = session.scalars(select(Source).where(Source.name == spec.name)).first()
    values = {
        "title": spec.title,
        "agency": spec.agency,
        "reader": spec.reader or "auto",
        "reader_options": dict(spec.reader_options),
        "mapping": {k: v if isinstance(v, str) else dict(v) for k, v in spec.mapping.items()},
        "cleaners": list(spec.cleaners),
        "scorers": list(spec.scorers),
        "precedence": spec.precedence,
    }
    if row is None:
        row = Source(name=spec.name, **values)
        session.add(row)
    else:
        for key, value in values.items():
            setattr(row, key, value)
    session.flush()
    return row


def choose_source(
    path: Path, registry: Registry, *, source: str | None, display_name: str
) -> SourceSpec:
    """The named source, or the built-in one whose columns the file has, or a generic
    one with the mapping suggested from the header."""
    if source:
        if source not in registry.sources:
            raise InvalidInput(
                f"unknown source {source!r}; `ogcrm sources` lists them", field="source"
            )
        return registry.sources[source]
    verdict = sniff_file(path, registry, display_name=display_name)
    head = next(read_file(path, registry, sniff=verdict, chunk_rows=50, display_name=display_name))
    columns = [str(c) for c in head.frame.columns]
    return match_source(columns, registry.sources) or generic_source(columns)


def receive(
    session: Session,
    principal: Principal,
    path: Path,
    *,
    data_dir: Path,
    filename: str | None = None,
    source: str | None = None,
    registry: Registry | None = None,
) -> Received:
    """Keep an uploaded file as a new dataset, or say which dataset already has it.

    A file no reader recognises becomes a ``failed`` dataset with the reason.

    Raises:
        InvalidInput: an unknown source name.
    """
    registry = registry or default_registry()
    name = safe_filename(filename or path.name)
    digest = content_hash(path)
    try:
        spec = choose_source(path, registry, source=source, display_name=name)
    except (ReaderError, MappingError) as exc:
        return _receive_unreadable(session, principal, path, digest, name, str(exc), data_dir)
    if spec.name == "generic":  # one source row per header shape, keeping its mapping
        signature = hashlib.sha1(repr(sorted(spec.mapping.items())).encode(), usedforsecurity=False)
        spec = replace(spec, name=f"generic-{signature.hexdigest()[:10]}")
    source_row = ensure_source(session, spec)
    existing = session.scalars(
        select(Dataset).where(Dataset.source_id == source_row.id, Dataset.content_hash == digest)
    ).first()
    if existing is not None:
        return Received(existing.id, already_imported=True)
    target = _store(path, data_dir, digest)
    dataset = Dataset(
        source_id=source_row.id,
        filename=name,
        content_hash=digest,
        size_bytes=target.stat().st_size,
        state=DatasetState.RECEIVED,
        uploaded_by_id=principal.user_id,
    )
    session.add(dataset)
    session.flush()
    audit.record(
        session,
        principal,
        "dataset.receive",
        entity="dataset",
        entity_id=dataset.id,
        source=spec.name,
    )
    return Received(dataset.id, already_imported=False)


def _store(path: Path, data_dir: Path, digest: str) -> Path:
    """Keep the file under its hash (atomically: a half-copied file is never seen)."""
    target = stored_path(data_dir, digest)
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
        os.close(fd)
        shutil.copyfile(path, tmp)
        os.replace(tmp, target)
    return target


def _receive_unreadable(
    session: Session,
    principal: Principal,
    path: Path,
    digest: str,
    name: str,
    reason: str,
    data_dir: Path,
) -> Received:
    """A file no reader can read is still a dataset: ``failed``, with the reason."""
    existing = session.scalars(
        select(Dataset).where(Dataset.source_id.is_(None), Dataset.content_hash == digest)
    ).first()
    if existing is not None:
        return Received(existing.id, already_imported=True)
    target = _store(path, data_dir, digest)
    dataset = Dataset(
        filename=name,
        content_hash=digest,
        size_bytes=target.stat().st_size,
        state=DatasetState.FAILED,
        error=reason,
        uploaded_by_id=principal.user_id,
        finished_at=utcnow(),
    )
    session.add(dataset)
    session.flush()
    audit.record(
        session, principal, "dataset.receive", entity="dataset", entity_id=dataset.id, failed=reason
    )
    return Received(dataset.id, already_imported=False)


def _claim(db: Database, dataset_id: int) -> Dataset:
    """Move a received dataset to processing; a second caller gets a no-op."""
    with db.unit_of_work() as session:
        moved = session.execute(
            update(Dataset)
            .where(Dataset.id == dataset_id, Dataset.state == DatasetState.RECEIVED)
            .values(
                state=DatasetState.PROCESSING, started_at=utcnow(), attempts=Dataset.attempts + 1
            )
        ).rowcount
        dataset = session.get(Dataset, dataset_id)
        if dataset is None:
            raise NotFound(f"dataset {dataset_id} not found")
        if not moved:
            raise InvalidInput(f"dataset {dataset_id} is {dataset.state}, not received")
        session.expunge(dataset)
        return dataset


def process(
    db: Database,
    dataset_id: int,
    *,
    data_dir: Path,
    registry: Registry | None = None,
    progress: Callable[[int], None] | None = None,
) -> Dataset:
    """Read, clean and stage a received dataset; returns it ``awaiting_review``, or
    ``failed`` with the reason (file, row, column) when the file cannot be read."""
    registry = registry or default_registry()
    dataset = _claim(db, dataset_id)
    timings: dict[str, float] = {}
    started = time.perf_counter()
    try:
        with db.unit_of_work() as session:
            source = session.get(Source, dataset.source_id)
            spec = registry.sources.get(source.name) if source else None
            path = stored_path(data_dir, dataset.content_hash)
            if spec is None:  # a generic source lives only in its row
                spec = SourceSpec(source.name, source.title, source.agency, mapping=source.mapping)
            verdict = sniff_file(path, registry, display_name=dataset.filename)
            run = CleanRun(spec, registry, dataset.filename)
            chunks = read_file(
                path,
                registry,
                sniff=verdict,
                options=dict(spec.reader_options),
                display_name=dataset.filename,
            )
            # the server takes in one chunk's COPY while the next chunk is cleaned
            with WriteBehind(session) as writer:
                for cleaned in run.clean_all(chunks):
                    writer.write(
                        "staged_row",
                        STAGED_COLUMNS,
                        staged_rows(dataset_id, cleaned),
                    )
                    writer.write(
                        "cell_issue", ISSUE_COLUMNS, issue_rows(dataset_id, cleaned.issues)
                    )
                    if progress is not None:
                        progress(len(cleaned.frame))
                    failpoint("process.after_chunk")
            timings["process"] = round(time.perf_counter() - started, 3)
            counts = run.counts
            session.execute(
                update(Dataset)
                .where(Dataset.id == dataset_id)
                .values(
                    state=DatasetState.AWAITING_REVIEW,
                    attempts=0,  # attempts count the current stage's jobs: merge starts anew
                    format=verdict.format,
                    encoding=verdict.details.get("encoding"),
                    rows_read=counts["rows_read"],
                    rows_clean=counts["clean"],
                    rows_fixed=counts["fixed"],
                    rows_quarantined=counts["quarantined"],
                    rows_duplicate=counts["duplicate"],
                    timings=timings,
                    finished_at=utcnow(),
                    error=None,
                )
            )
    except (ReaderError, MappingError) as exc:
        _fail(db, dataset_id, str(exc))
    except DBAPIError:
        # a database fault, not bad input: nothing was staged (one transaction), and the
        # dataset goes back to received so the retried job can claim it again
        _release(db, dataset_id)
        raise
    with db.read() as session:
        result = session.get(Dataset, dataset_id)
        session.expunge(result)
        return result


def _release(db: Database, dataset_id: int) -> None:
    """Processing -> received after a database fault, if the database answers (if not,
    the reconciler does it once the lease has passed)."""
    try:
        with db.unit_of_work() as session:
            session.execute(
                update(Dataset)
                .where(Dataset.id == dataset_id, Dataset.state == DatasetState.PROCESSING)
                .values(state=DatasetState.RECEIVED)
            )
    except DBAPIError:
        log.warning("dataset %s stays processing until the reconciler", dataset_id, exc_info=True)


def _fail(db: Database, dataset_id: int, reason: str) -> None:
    with db.unit_of_work() as session:
        session.execute(
            update(Dataset)
            .where(Dataset.id == dataset_id)
            .values(state=DatasetState.FAILED, error=reason, finished_at=utcnow())
        )


def _json_value(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if hasattr(value, "item"):  # numpy scalars
        return _json_value(value.item())
    return value


STAGED_COLUMNS = ("dataset_id", "row_number", "outcome", "cleaned")
ISSUE_COLUMNS = (
    "dataset_id",
    "row_number",
    '"column"',
    "original",
    "corrected",
    "cleaner",
    "severity",
    "message",
)


def staged_rows(dataset_id: int, cleaned: CleanedChunk) -> list[tuple[Any, ...]]:
    """A cleaned chunk as ``staged_row`` tuples (``STAGED_COLUMNS``)."""
    return list(
        zip(
            [dataset_id] * len(cleaned.frame),
            cleaned.frame.index.astype("int64").tolist(),
            cleaned.outcome.astype(str).tolist(),
            cleaned.lines,
            strict=True,
        )
    )


def _text(value: Any) -> str | None:
    value = _json_value(value)
    return None if value is None else str(value)


def issue_rows(dataset_id: int, issues: pd.DataFrame) -> list[tuple[Any, ...]]:
    """Cell issues as ``cell_issue`` tuples (``ISSUE_COLUMNS``)."""
    return [
        (
            dataset_id,
            int(r.row),
            str(r.column),
            _text(r.original),
            _text(r.corrected),
            r.cleaner,
            r.severity,
            str(r.message),
        )
        for r in issues.itertuples(index=False)
    ]


def stage_issues(session: Session, dataset_id: int, issues: pd.DataFrame) -> None:
    bulk_write(session, "cell_issue", ISSUE_COLUMNS, issue_rows(dataset_id, issues))


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
