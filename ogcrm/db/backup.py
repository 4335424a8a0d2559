"""Backups a person can restore: one verified, timestamped file per backup with a
manifest beside it (schema revision, row counts, checksum), and a restore that checks
it put everything back.

SQLite is copied with its online backup API (consistent while the server writes);
PostgreSQL is dumped with ``pg_dump -Fc`` and restored with ``pg_restore
--single-transaction --exit-on-error``. A restore goes into an empty database only,
refuses a backup made by a newer ogcrm (a schema revision this code does not know), and
afterwards compares every table's row count with the manifest and checks that history
is still append-only.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError

from ogcrm.db.migrate import alembic_config, schema_status
from ogcrm.db.types import utcnow
from ogcrm.errors import Conflict, InvalidInput

MANIFEST_SUFFIX = ".manifest.json"
#: Tables whose rows the database itself refuses to change (checked after a restore).
APPEND_ONLY = ("audit_event", "change_record")


@dataclass(frozen=True)
class BackupInfo:
    path: Path
    manifest: dict[str, Any]


def table_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        names = sorted(inspect(conn).get_table_names())
        return {
            # table names from the database's own catalogue, never from a user
            n: int(conn.execute(text(f'SELECT count(*) FROM "{n}"')).scalar() or 0)  # noqa: S608
            for n in names
        }


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise InvalidInput(f"{name} is not installed (Debian: postgresql-client)", field="database")
    return found


def backup(engine: Engine, to: Path, *, keep: int | None = None) -> BackupInfo:
    """Write a backup of the database into directory ``to`` and verify it; with
    ``keep``, delete all but the ``keep`` newest backups there."""
    status = schema_status(engine)
    if status.empty:
        raise Conflict("the database is empty: nothing to back up", state="empty")
    to.mkdir(parents=True, exist_ok=True)
    stamp = utcnow().strftime("%Y%m%dT%H%M%S%fZ")
    dialect = engine.dialect.name
    counts = table_counts(engine)
    if dialect == "sqlite":
        target = to / f"ogcrm-{stamp}.sqlite3"
        source_path = make_url(str(engine.url)).database
        with sqlite3.connect(source_path) as source, sqlite3.connect(target) as copy:
            source.backup(copy)
        with sqlite3.connect(target) as check:
            verdict = check.execute("PRAGMA integrity_check").fetchone()[0]
        if verdict != "ok":
            raise Conflict(f"the backup failed its integrity check: {verdict}", state="corrupt")
    else:
        target = to / f"ogcrm-{stamp}.dump"
        url = _libpq(engine.url.render_as_string(hide_password=False))
        # the tools found on PATH, given our own URL and paths: no shell, no user text
        subprocess.run([_tool("pg_dump"), "-Fc", "-f", str(target), url], check=True)  # noqa: S603
        subprocess.run(  # noqa: S603
            [_tool("pg_restore"), "--list", str(target)], check=True, capture_output=True
        )
    manifest = {
        "format": 1,
        "dialect": dialect,
        "file": target.name,
        "created_at": utcnow().isoformat(),
        "revision": list(status.current),
        "counts": counts,
        "sha256": _sha256(target),
    }
    (to / (target.name + MANIFEST_SUFFIX)).write_text(json.dumps(manifest, indent=2))
    if keep is not None:
        prune(to, keep=keep)
    return BackupInfo(target, manifest)


def backups(directory: Path) -> list[BackupInfo]:
    """The backups in ``directory`` with a manifest, newest first."""
    found = []
    for manifest_path in directory.glob("*" + MANIFEST_SUFFIX):
        manifest = json.loads(manifest_path.read_text())
        found.append(BackupInfo(directory / manifest["file"], manifest))
    return sorted(found, key=lambda b: b.manifest["created_at"], reverse=True)


def prune(directory: Path, *, keep: int) -> list[Path]:
    """Delete all but the ``keep`` newest backups (file and manifest); the paths removed."""
    if keep < 1:
        raise InvalidInput("keep at least one backup", field="keep")
    removed = []
    for old in backups(directory)[keep:]:
        old.path.unlink(missing_ok=True)
        (old.path.parent / (old.path.name + MANIFEST_SUFFIX)).unlink(missing_ok=True)
        removed.append(old.path)
    return removed


def restore(engine: Engine, path: Path) -> dict[str, Any]:
    """Restore the backup at ``path`` into the (empty) database of ``engine``, then
    check every table's row count against the manifest and that history is still
    append-only. Returns the manifest."""
    manifest_path = path.parent / (path.name + MANIFEST_SUFFIX)
    if not manifest_path.is_file():
        raise InvalidInput(
            f"{path.name} has no manifest beside it ({manifest_path.name})", field="file"
        )
    manifest = json.loads(manifest_path.read_text())
    if _sha256(path) != manifest["sha256"]:
        raise Conflict(f"{path.name} is not the file its manifest describes", state="corrupt")
    known = {r.revision for r in ScriptDirectory.from_config(alembic_config()).walk_revisions()}
    unknown = [r for r in manifest["revision"] if r not in known]
    if unknown:
        raise Conflict(
            f"the backup is of schema {', '.join(unknown)}, made by a newer ogcrm: restore it "
            "with that version",
            state="newer",
        )
    if manifest["dialect"] != engine.dialect.name:
        raise InvalidInput(
            f"a {manifest['dialect']} backup cannot be restored into {engine.dialect.name}",
            field="database",
        )
    if table_counts(engine):
        raise Conflict(
            "the database is not empty: restore into a new, empty one", state="not_empty"
        )
    if engine.dialect.name == "sqlite":
        target = make_url(str(engine.url)).database
        engine.dispose()
        with sqlite3.connect(path) as source, sqlite3.connect(target) as copy:
            source.backup(copy)
    else:
        url = _libpq(engine.url.render_as_string(hide_password=False))
        subprocess.run(  # noqa: S603
            [_tool("pg_restore"), "--single-transaction", "--exit-on-error", "--no-owner",
             "-d", url, str(path)],
            check=True,
        )  # fmt: skip
    restored = table_counts(engine)
    if restored != manifest["counts"]:
        differ = sorted(k for k in set(restored) | set(manifest["counts"])
                        if restored.get(k) != manifest["counts"].get(k))  # fmt: skip
        raise Conflict(
            f"the restore differs from the backup in {', '.join(differ)}", state="differs"
        )
    for table in APPEND_ONLY:
        if not _refuses_update(engine, table):
            raise Conflict(f"{table} is no longer append-only after the restore", state="unguarded")
    return manifest


def _refuses_update(engine: Engine, table: str) -> bool:
    with engine.connect() as conn:
        trans = conn.begin()
        try:
            conn.execute(text(f"UPDATE {table} SET id = id"))  # noqa: S608 (a constant)
        except DBAPIError:
            return True
        finally:
            trans.rollback()
    return False
