"""History cannot be rewritten: the database itself refuses UPDATE and DELETE."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from ogcrm.auth.principal import system_principal
from ogcrm.db.models import AuditEvent, ChangeRecord
from ogcrm.db.session import Database
from ogcrm.services import audit


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
