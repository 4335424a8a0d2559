"""On SQLite, ids are never reused: the tables a revert deletes from (and every other
table with an ``id`` key, but the append-only and per-row pipeline ones) become
``AUTOINCREMENT``.

A plain ``INTEGER PRIMARY KEY`` hands out ``max(id) + 1``: once a revert deleted the
rows a dataset created, the next organization, well or permit took a freed id, and the
reverted dataset's change records named the new row. ``AUTOINCREMENT`` keeps the
highest id ever used (``sqlite_sequence``). PostgreSQL's sequences never go back, so
nothing changes there.

SQLite cannot alter a key: each table is rebuilt as its documented procedure says
(https://sqlite.org/lang_altertable.html#otheralter), and its indexes and triggers are
made again. The runner keeps foreign keys off for the rebuild (dropping the old table
with them on would run its ON DELETE CASCADE on every child row) and checks them before
the transaction commits.

Revision ID: 43e36bb028fa
Revises: 13c24501010a
Create Date: 2026-12-01 18:00:00
"""

import re
from collections.abc import Sequence

from alembic import op

revision: str = '43e36bb028fa'
down_revision: str | None = '13c24501010a'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: Append-only or one row per file row, never deleted one by one: left as they are.
UNCHANGED = {'audit_event', 'change_record', 'cell_issue', 'staged_row', 'score_snapshot'}

_NAME = re.compile(r'^CREATE TABLE\s+("?)(\w+)\1')
_TABLE_KEY = re.compile(r',\s*CONSTRAINT (\w+) PRIMARY KEY \(id\)')
_PLAIN_ID = re.compile(r'(\n\s*)id INTEGER NOT NULL,')
_AUTO_ID = re.compile(r'(\n\s*)id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,')


def _autoincrement(sql: str) -> str | None:
    """The table's CREATE with ``id`` as an AUTOINCREMENT key (as SQLAlchemy writes
    one), or None when its key is not a plain ``id``."""
    if not _TABLE_KEY.search(sql) or not _PLAIN_ID.search(sql):
        return None
    sql = _TABLE_KEY.sub('', sql, count=1)
    return _PLAIN_ID.sub(r'\1id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,', sql, count=1)


def _plain(sql: str, table: str) -> str | None:
    """The reverse: ``id`` back to a table-level named key."""
    if not _AUTO_ID.search(sql):
        return None
    sql = _AUTO_ID.sub(r'\1id INTEGER NOT NULL,', sql, count=1)
    head, _, tail = sql.rpartition('\n)')
    return f'{head}, \n\tCONSTRAINT pk_{table} PRIMARY KEY (id)\n){tail}'


def _foreign_keys_must_be_off() -> None:
    """The runner (``ogcrm.db.migrate.migrating``) turns them off for the whole run:
    dropping a table with them on would run its ON DELETE actions on every child row."""
    if op.get_bind().exec_driver_sql('PRAGMA foreign_keys').scalar():
        raise RuntimeError('run migrations through `ogcrm db upgrade` (or alembic with this '
                           "project's env.py): SQLite's foreign keys must be off to rebuild tables")


def _rebuild(change) -> None:  # type: ignore[no-untyped-def]
    conn = op.get_bind()
    if conn.dialect.name != 'sqlite':
        return
    _foreign_keys_must_be_off()
    run = conn.exec_driver_sql
    tables = run("SELECT name, sql FROM sqlite_master WHERE type = 'table' "
                 "AND name NOT LIKE 'sqlite_%' AND name <> 'alembic_version'").all()
    for name, sql in tables:
        if name in UNCHANGED:
            continue
        new_sql = change(sql, name)
        if new_sql is None:
            continue
        extras = [s for (s,) in run(
            "SELECT sql FROM sqlite_master WHERE tbl_name = ? AND type IN ('index', 'trigger') "
            "AND sql IS NOT NULL ORDER BY type, name", (name,))]
        columns = ', '.join(f'"{c[1]}"' for c in run(f'PRAGMA table_info("{name}")'))
        run(_NAME.sub(f'CREATE TABLE "_new_{name}"', new_sql, count=1))
        run(f'INSERT INTO "_new_{name}" ({columns}) SELECT {columns} FROM "{name}"')
        run(f'DROP TABLE "{name}"')
        run(f'ALTER TABLE "_new_{name}" RENAME TO "{name}"')
        for statement in extras:
            run(statement)


def upgrade() -> None:
    _rebuild(lambda sql, name: _autoincrement(sql))


def downgrade() -> None:
    _rebuild(_plain)
