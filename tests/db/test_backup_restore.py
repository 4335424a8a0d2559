"""Backups restore to the same data, with history still append-only (RELIABILITY row 34).

PostgreSQL: ``pg_dump -Fc`` then ``pg_restore --single-transaction --exit-on-error`` into
a fresh database reproduces every table's rows (count and checksum), the append-only
triggers, and what a revert does. SQLite: an online backup taken while a writer is busy
is a consistent database.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import threading
from dataclasses import replace

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from ogcrm.auth import audit
from ogcrm.auth.principal import system_principal
from ogcrm.datasets.intake import receive
from ogcrm.datasets.merge import approve_and_merge
from ogcrm.datasets.revert import revert
from ogcrm.datasets.staging import process
from ogcrm.db.session import Database

P = system_principal("test")


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _fingerprint(db: Database) -> dict[str, tuple[int, str | None]]:
    """Every table's row count and a checksum of its rows in a fixed order."""
    with db.engine.connect() as conn:
        tables = inspect(conn).get_table_names()
        return {
            table: tuple(
                conn.execute(
                    text(
                        f"SELECT count(*), md5(string_agg(t::text, '|' ORDER BY t::text)) FROM \"{table}\" t"
                    )
                ).one()
            )
            for table in tables
        }


def test_pg_dump_and_restore_reproduce_the_crm(
    db, settings, database_factory, tmp_path, shared_data
):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("pg_dump / pg_restore are PostgreSQL's tools")
    if not (shutil.which("pg_dump") and shutil.which("pg_restore")):
        pytest.skip("pg_dump / pg_restore are not installed (Debian: postgresql-client)")
    with db.unit_of_work() as s:
        received = receive(
            s, P, shared_data / "real" / "tx-rrc-drilling-permits-daf420.dat", data_dir=tmp_path
        )
    process(db, received.dataset_id, data_dir=tmp_path)
    with db.unit_of_work() as s:
        approve_and_merge(s, P, received.dataset_id)
    dump = tmp_path / "ogcrm.dump"
    subprocess.run(["pg_dump", "-Fc", "-f", str(dump), _libpq(settings.database_url)], check=True)
    target_url = database_factory.empty()
    subprocess.run(
        [
            "pg_restore",
            "--single-transaction",
            "--exit-on-error",
            "--no-owner",
            "-d",
            _libpq(target_url),
            str(dump),
        ],
        check=True,
    )
    restored = Database(replace(settings, database_url=target_url))
    try:
        original = _fingerprint(db)
        assert original["permit"][0] > 0 and original["change_record"][0] > 0
        assert _fingerprint(restored) == original
        # the append-only triggers came back with the tables
        with pytest.raises(DBAPIError, match="append-only"), restored.unit_of_work() as s:
            s.execute(text("DELETE FROM change_record"))
        # and the restored copy behaves as the original: the same revert
        with db.unit_of_work() as s:
            expected = revert(s, P, received.dataset_id)
        with restored.unit_of_work() as s:
            assert revert(s, P, received.dataset_id) == expected
        counts = {t: c for t, (c, _) in _fingerprint(db).items()}
        assert {t: c for t, (c, _) in _fingerprint(restored).items()} == counts
    finally:
        restored.dispose()


def test_sqlite_online_backup_while_writing_is_consistent(db, settings, tmp_path):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("the SQLite backup API")
    source_path = make_url(settings.database_url).database
    done = threading.Event()
    written: list[int] = []

    def writer() -> None:
        for i in range(300):
            with db.unit_of_work() as s:
                audit.record(s, P, "test.write", entity="organization", entity_id=i)
            written.append(i)
        done.set()

    thread = threading.Thread(target=writer)
    thread.start()
    backup_path = tmp_path / "backup.db"
    with sqlite3.connect(source_path) as source, sqlite3.connect(backup_path) as target:
        while len(written) < 20:  # the writer is well under way
            done.wait(0.01)
        source.backup(target, pages=16)
    thread.join(timeout=60)
    with sqlite3.connect(backup_path) as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        copied = copy.execute(
            "SELECT count(*) FROM audit_event WHERE action = 'test.write'"
        ).fetchone()[0]
        # a snapshot of some moment of the writing: whole transactions, none torn
        assert 20 <= copied <= 300
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            copy.execute("DELETE FROM audit_event")
    assert len(written) == 300
