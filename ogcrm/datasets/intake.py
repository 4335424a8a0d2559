"""Intake: an uploaded file kept by content hash as a new dataset, or recognised as one
already imported.

The same bytes for the same source are the same dataset: nothing new is made. A file no
reader recognises is still a dataset, ``failed`` with the reason. The stored file is named
by its SHA-256 only; the client's file name is metadata, sanitized.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ogcrm.auth import audit
from ogcrm.auth.principal import Principal
from ogcrm.datasets import lifecycle
from ogcrm.db.models import (
    Dataset,
    Source,
)
from ogcrm.errors import InvalidInput
from ogcrm.failpoints import failpoint
from ogcrm.pipeline.contracts import SourceSpec
from ogcrm.pipeline.detect import read_file, sniff_file
from ogcrm.pipeline.errors import ReaderError
from ogcrm.pipeline.mapping import MappingError, generic_source, match_source
from ogcrm.plugins import Registry, default_registry

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
        try:
            # two first uploads of one header shape at once: one creates the row
            with session.begin_nested():
                row = Source(name=spec.name, **values)
                session.add(row)
                session.flush()
            return row
        except IntegrityError:
            row = session.scalars(select(Source).where(Source.name == spec.name)).one()
    for key, value in values.items():
        setattr(row, key, value)
    session.flush()
    return row


def choose_source(
    path: Path,
    registry: Registry,
    *,
    source: str | None,
    display_name: str,
    state: str | None = None,
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
    return match_source(columns, registry.sources) or generic_source(columns, state=state)


def receive(
    session: Session,
    principal: Principal,
    path: Path,
    *,
    data_dir: Path,
    filename: str | None = None,
    source: str | None = None,
    registry: Registry | None = None,
    digest: str | None = None,
    move: bool = False,
) -> Received:
    """Keep an uploaded file as a new dataset, or say which dataset already has it.

    A file no reader recognises becomes a ``failed`` dataset with the reason. ``digest``
    is the file's SHA-256 when the caller hashed it while receiving it; ``move`` lets the
    file itself become the stored copy (an upload's temporary file under the data dir)
    instead of a copy of it.

    Raises:
        InvalidInput: an unknown source name.
    """
    registry = registry or default_registry()
    name = safe_filename(filename or path.name)
    digest = digest or content_hash(path)
    try:
        spec = choose_source(path, registry, source=source, display_name=name)
    except (ReaderError, MappingError) as exc:
        return _receive_unreadable(
            session, principal, path, digest, name, str(exc), data_dir, move=move
        )
    if spec.name == "generic":  # one source row per header shape, keeping its mapping
        signature = hashlib.sha1(repr(sorted(spec.mapping.items())).encode(), usedforsecurity=False)
        spec = replace(spec, name=f"generic-{signature.hexdigest()[:10]}")
    source_row = ensure_source(session, spec)
    existing = session.scalars(
        select(Dataset).where(Dataset.source_id == source_row.id, Dataset.content_hash == digest)
    ).first()
    if existing is not None:
        return Received(existing.id, already_imported=True)
    target = _store(path, data_dir, digest, move=move)
    failpoint("intake.before_insert")
    try:
        # the same bytes for the same source at the same moment: the (source, hash) key
        # lets one insert through; the other waits for it, then finds its dataset
        with session.begin_nested():
            dataset = lifecycle.open_received(
                session,
                source_id=source_row.id,
                filename=name,
                content_hash=digest,
                size_bytes=target.stat().st_size,
                uploaded_by_id=principal.user_id,
            )
    except IntegrityError:
        winner = session.scalars(
            select(Dataset).where(
                Dataset.source_id == source_row.id, Dataset.content_hash == digest
            )
        ).one()
        return Received(winner.id, already_imported=True)
    audit.record(
        session,
        principal,
        "dataset.receive",
        entity="dataset",
        entity_id=dataset.id,
        source=spec.name,
    )
    return Received(dataset.id, already_imported=False)


def _store(path: Path, data_dir: Path, digest: str, *, move: bool = False) -> Path:
    """Keep the file under its hash (atomically: a half-copied file is never seen)."""
    target = stored_path(data_dir, digest)
    if not target.exists() and move:
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, target)
    elif not target.exists():
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
    *,
    move: bool = False,
) -> Received:
    """A file no reader can read is still a dataset: ``failed``, with the reason."""
    existing = session.scalars(
        select(Dataset).where(Dataset.source_id.is_(None), Dataset.content_hash == digest)
    ).first()
    if existing is not None:
        return Received(existing.id, already_imported=True)
    target = _store(path, data_dir, digest, move=move)
    dataset = lifecycle.open_failed(
        session,
        reason=reason,
        filename=name,
        content_hash=digest,
        size_bytes=target.stat().st_size,
        uploaded_by_id=principal.user_id,
    )
    audit.record(
        session, principal, "dataset.receive", entity="dataset", entity_id=dataset.id, failed=reason
    )
    return Received(dataset.id, already_imported=False)
