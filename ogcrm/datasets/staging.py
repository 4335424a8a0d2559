"""Staging: a received dataset read with its source's reader, cleaned, and written as
staged rows and cell issues, batch by batch.

The dataset moves ``received -> processing -> awaiting_review`` (or ``failed`` with the
file, row, column and reason; nothing half-staged stays behind: one transaction). The
state writes are :mod:`ogcrm.datasets.lifecycle`'s.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from ogcrm.datasets import lifecycle
from ogcrm.datasets.intake import stored_path
from ogcrm.db.bulk import WriteBehind, bulk_write
from ogcrm.db.models import (
    Dataset,
    Source,
)
from ogcrm.db.session import Database
from ogcrm.failpoints import failpoint
from ogcrm.pipeline.cleaning import CleanedChunk, CleanRun
from ogcrm.pipeline.contracts import Chunk, SourceSpec
from ogcrm.pipeline.detect import read_file, sniff_file
from ogcrm.pipeline.errors import ReaderError
from ogcrm.pipeline.mapping import MappingError
from ogcrm.plugins import Registry, default_registry
from ogcrm.progress import Progress, Tick

log = logging.getLogger(__name__)


def _noting_sheets(
    chunks: Iterator[Chunk], sheets: list[str], position: list[int | None]
) -> Iterator[Chunk]:
    """Pass chunks through, noting each spreadsheet sheet they come from and how far
    into the file the reader is."""
    for chunk in chunks:
        if chunk.sheet and chunk.sheet not in sheets:
            sheets.append(chunk.sheet)
        position[0] = chunk.bytes_read
        yield chunk


def _claim(db: Database, dataset_id: int) -> Dataset:
    """Move a received dataset to processing; a second caller gets a typed refusal."""
    with db.unit_of_work() as session:
        dataset = lifecycle.claim(session, dataset_id)
        session.expunge(dataset)
        return dataset


def process(
    db: Database,
    dataset_id: int,
    *,
    data_dir: Path,
    registry: Registry | None = None,
    progress: Progress | None = None,
) -> Dataset:
    """Read, clean and stage a received dataset; returns it ``awaiting_review``, or
    ``failed`` with the reason (file, row, column) when the file cannot be read.

    ``progress`` is told after each chunk is staged: bytes of the file read of its
    size, where the reader can tell (delimited files), else rows so far."""
    registry = registry or default_registry()
    dataset = _claim(db, dataset_id)
    timings: dict[str, float] = {}
    started = time.perf_counter()
    try:
        with db.unit_of_work() as session:
            source = session.get(Source, dataset.source_id)
            spec = registry.sources.get(source.name) if source else None
            path = stored_path(data_dir, dataset.content_hash)
            if not path.is_file():
                # a worker with another data directory: say so, never leave it processing
                raise MissingFile(
                    f"the received file is not in {data_dir} (is OGCRM_DATA_DIR the one "
                    "it was received with?)"
                )
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
            sheets: list[str] = []
            position: list[int | None] = [None]
            chunks = _noting_sheets(chunks, sheets, position)
            size = path.stat().st_size
            rows_done = 0
            if progress is not None:
                progress(Tick(0, size, "bytes", step="processing"))
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
                    rows_done += len(cleaned.frame)
                    if progress is not None:
                        at = position[0]
                        progress(
                            Tick(at, size, "bytes", rows=rows_done, step="processing")
                            if at is not None
                            else Tick(rows_done, None, "rows", rows=rows_done, step="processing")
                        )
                    failpoint("process.after_chunk")
            timings["process"] = round(time.perf_counter() - started, 3)
            counts = run.counts
            lifecycle.finish_processing(
                session,
                dataset_id,
                format=verdict.format,
                encoding=verdict.details.get("encoding"),
                layout=(verdict.details.get("layout") or ", ".join(sheets) or None),
                rows_read=counts["rows_read"],
                rows_clean=counts["clean"],
                rows_fixed=counts["fixed"],
                rows_quarantined=counts["quarantined"],
                rows_duplicate=counts["duplicate"],
                timings=timings,
            )
    except (ReaderError, MappingError, MissingFile) as exc:
        _fail(db, dataset_id, str(exc))
    except (IntegrityError, DataError) as exc:
        # what the file holds broke a constraint or a column: bad input, failed at once
        # with its reason (retrying it would loop forever, finding 1 of the outside attack)
        _fail(db, dataset_id, f"the file's rows cannot be stored: {_first_line(exc)}")
    except DBAPIError:
        # a database fault, not bad input: nothing was staged (one transaction), and the
        # dataset goes back to received so the retried job can claim it again
        _release(db, dataset_id)
        raise
    with db.read() as session:
        result = session.get(Dataset, dataset_id)
        session.expunge(result)
        return result


class MissingFile(Exception):
    """The dataset's stored file is not where this process looks for it."""


def _first_line(exc: DBAPIError) -> str:
    return str(exc.orig).strip().splitlines()[0] if exc.orig is not None else type(exc).__name__


def _release(db: Database, dataset_id: int) -> None:
    """Processing -> received after a database fault, if the database answers (if not,
    the reconciler does it once the lease has passed)."""
    try:
        with db.unit_of_work() as session:
            lifecycle.release(session, dataset_id)
    except DBAPIError:
        log.warning("dataset %s stays processing until the reconciler", dataset_id, exc_info=True)


def _fail(db: Database, dataset_id: int, reason: str) -> None:
    with db.unit_of_work() as session:
        lifecycle.fail_processing(session, dataset_id, reason)


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
