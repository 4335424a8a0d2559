"""`ogcrm backup` and `ogcrm restore` as an operator uses them: a backup, a wipe, a
restore with its counts checked, history still append-only, a revert afterwards; and
the refusals (a non-empty target, a backup from a newer ogcrm, a file that is not what
its manifest says)."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from ogcrm.cli import main
from ogcrm.db import backup as backups
from ogcrm.db.session import Database, create_db_engine
from tests.db.test_backup_restore import (
    P,
    approve_and_merge,
    process,
    receive,
    revert,
)


def _seed(db: Database, tmp_path: Path) -> int:
    path = tmp_path / "permits.csv"
    path.write_text("permit_number,api,operator_name\n1,42-003-00001,Caprock Operating LLC\n")
    with db.unit_of_work() as s:
        dataset_id = receive(s, P, path, data_dir=tmp_path).dataset_id
    process(db, dataset_id, data_dir=tmp_path)
    with db.unit_of_work() as s:
        approve_and_merge(s, P, dataset_id)
    return dataset_id


def test_backup_wipe_restore_round_trip(db: Database, database_factory, settings, tmp_path: Path):
    if db.engine.dialect.name == "postgresql" and not shutil.which("pg_dump"):
        pytest.skip("pg_dump / pg_restore are not installed (Debian: postgresql-client)")
    dataset_id = _seed(db, tmp_path)
    before = backups.table_counts(db.engine)
    run = lambda url, *a: CliRunner().invoke(main, ["--database-url", url, *a])  # noqa: E731
    made = run(settings.database_url, "backup", "--to", str(tmp_path / "b"), "--keep", "2")
    assert made.exit_code == 0, made.output
    (info,) = backups.backups(tmp_path / "b")
    assert info.manifest["counts"]["organization"] == 1

    fresh = database_factory.empty()
    restored = run(fresh, "restore", str(info.path))
    assert restored.exit_code == 0, restored.output
    again = Database(replace(settings, database_url=fresh))
    try:
        assert backups.table_counts(again.engine) == before
        with pytest.raises(DBAPIError, match="append-only"), again.unit_of_work() as s:
            s.execute(text("UPDATE audit_event SET action = 'tampered'"))
        with again.unit_of_work() as s:
            assert revert(s, P, dataset_id)["entities_removed"]  # restored history still works
        refused = run(fresh, "restore", str(info.path))
        assert refused.exit_code == 1 and "not empty" in refused.output
    finally:
        again.dispose()

    manifest_path = info.path.parent / (info.path.name + backups.MANIFEST_SUFFIX)
    manifest = json.loads(manifest_path.read_text())
    manifest["revision"] = ["ffffffffffff"]
    manifest_path.write_text(json.dumps(manifest))
    newer = run(database_factory.empty(), "restore", str(info.path))
    assert newer.exit_code == 1 and "made by a newer ogcrm" in newer.output


def test_retention_keeps_the_newest(db: Database, tmp_path: Path):
    _seed(db, tmp_path)
    engine = create_db_engine(db.settings.database_url)
    if engine.dialect.name == "postgresql" and not shutil.which("pg_dump"):
        pytest.skip("pg_dump / pg_restore are not installed (Debian: postgresql-client)")
    try:
        made = [backups.backup(engine, tmp_path / "b", keep=2).path for _ in range(3)]
    finally:
        engine.dispose()
    assert [b.path for b in backups.backups(tmp_path / "b")] == [made[2], made[1]]
    assert not made[0].exists()
