"""History cannot be rewritten: the database itself refuses UPDATE and DELETE."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from ogcrm.auth import audit
from ogcrm.auth.principal import system_principal
from ogcrm.db.models import AuditEvent, ChangeRecord
from ogcrm.db.session import Database


@pytest.fixture
def rows(db: Database) -> None:
    with db.unit_of_work() as s:
        audit.record(s, system_principal("test"), "test.write", entity="organization", entity_id=1)
        from ogcrm.db.models import Role, User

        role_id = s.scalar(select(Role.id).where(Role.name == "admin"))
        user = User(email="a@example.com", name="A", role_id=role_id)
        s.add(user)
        s.flush()
        s.add(
            ChangeRecord(
                user_id=user.id,
                entity="organization",
                entity_id=1,
                field="name",
                before="a",
                after="b",
            )
        )


@pytest.mark.parametrize("table", ["audit_event", "change_record"])
@pytest.mark.parametrize(
    "statement",
    ["UPDATE {table} SET entity = 'tampered'", "DELETE FROM {table}"],
    ids=["update", "delete"],
)
def test_history_rows_cannot_be_changed_through_sql(db: Database, rows, table: str, statement: str):
    with pytest.raises(DBAPIError, match="append-only"), db.unit_of_work() as s:
        s.execute(text(statement.format(table=table)))
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(AuditEvent)) >= 1
        assert s.scalar(select(func.count()).select_from(ChangeRecord)) == 1
        assert s.scalar(text(f"SELECT count(*) FROM {table} WHERE entity = 'tampered'")) == 0


@pytest.mark.parametrize("table", ["audit_event", "change_record"])
def test_replace_cannot_rewrite_a_history_row_on_sqlite(db: Database, rows, table: str):
    """Finding 6 of the outside attack: SQLite's REPLACE deleted the old row without
    firing the DELETE trigger, then inserted the tampered one under the same id."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("REPLACE INTO is SQLite's (PostgreSQL has none; UPDATE is refused above)")
    with pytest.raises(DBAPIError, match="append-only"), db.unit_of_work() as s:
        columns = [r[1] for r in s.execute(text(f"PRAGMA table_info({table})"))]
        chosen = ", ".join("'tampered'" if c == "entity" else c for c in columns)
        s.execute(text(f"REPLACE INTO {table} ({', '.join(columns)}) SELECT {chosen} FROM {table}"))
    with db.read() as s:
        assert s.scalar(text(f"SELECT count(*) FROM {table} WHERE entity = 'tampered'")) == 0


def test_truncate_is_refused_on_postgresql(db: Database, rows):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("TRUNCATE is PostgreSQL's; SQLite has none (DELETE is covered above)")
    with pytest.raises(DBAPIError, match="append-only"), db.unit_of_work() as s:
        s.execute(text("TRUNCATE audit_event"))


def test_appending_still_works(db: Database, rows):
    with db.unit_of_work() as s:
        audit.record(s, system_principal("test"), "test.second")
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(AuditEvent)) == 2


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        ("DELETE FROM cell_issue", "append-only"),
        ("UPDATE cell_issue SET original = 'tampered'", "append-only"),
        ("DELETE FROM dataset", "never deleted"),
        ("TRUNCATE dataset CASCADE", "never deleted"),
    ],
    ids=["issue-delete", "issue-update", "dataset-delete", "dataset-truncate"],
)
def test_datasets_and_their_cell_issues_stay(db: Database, tmp_path, statement, message):
    """Staged rows, issues, change records and CRM rows point at their dataset without a
    foreign key; that a dataset can never go is what keeps those references whole."""
    if statement.startswith("TRUNCATE") and db.engine.dialect.name != "postgresql":
        pytest.skip("TRUNCATE is PostgreSQL's; SQLite has none (DELETE is covered)")
    from ogcrm.datasets.intake import receive
    from ogcrm.datasets.staging import process
    from ogcrm.db.models import CellIssue, Dataset

    path = tmp_path / "permits.csv"
    path.write_text("Operator Name,API #,Spud Date\nAcme  Oil Co.,42-003-12345,1/2/2024\n")
    with db.unit_of_work() as s:
        dataset_id = receive(s, system_principal("test"), path, data_dir=tmp_path).dataset_id
    process(db, dataset_id, data_dir=tmp_path)
    with db.read() as s:
        issues = s.scalar(select(func.count()).select_from(CellIssue))
    assert issues > 0
    with pytest.raises(DBAPIError, match=message), db.unit_of_work() as s:
        s.execute(text(statement))
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(CellIssue)) == issues
        assert s.get(Dataset, dataset_id) is not None
        assert s.scalar(select(func.count()).where(CellIssue.original == "tampered")) == 0
