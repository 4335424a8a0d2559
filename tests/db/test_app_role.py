"""The application connects as a role that cannot lift the append-only guarantee
(finding 11 of the outside attack: as the tables' owner, `ALTER TABLE ... DISABLE
TRIGGER` or `session_replication_role = replica` rewrote history for anyone holding the
application's credentials)."""

from __future__ import annotations

import uuid

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from ogcrm.auth import audit
from ogcrm.auth.principal import system_principal
from ogcrm.cli import main
from ogcrm.db.session import Database


def test_the_app_role_works_but_cannot_change_history(db: Database, settings):
    if not settings.database_url.startswith("postgresql"):
        pytest.skip("roles are PostgreSQL's: SQLite has none")
    role = f"ogcrm_app_{uuid.uuid4().hex[:8]}"
    with db.engine.connect() as conn, conn.begin():
        conn.execute(text(f"CREATE ROLE {role} LOGIN"))
    try:
        granted = CliRunner().invoke(
            main, ["--database-url", settings.database_url, "db", "grant-app-role", role]
        )
        assert granted.exit_code == 0, granted.output
        with db.unit_of_work() as s:
            audit.record(s, system_principal("test"), "test.event")
        app = create_engine(make_url(settings.database_url).set(username=role))
        try:
            with app.connect() as conn, conn.begin():  # the application's work goes on
                conn.execute(text("INSERT INTO tag (name) VALUES ('works')"))
                conn.execute(text("UPDATE tag SET name = 'still works' WHERE name = 'works'"))
                conn.execute(
                    text(
                        "INSERT INTO audit_event (action, details, occurred_at) VALUES ('x', '{}', now())"
                    )
                )
            for attempt in (
                "ALTER TABLE audit_event DISABLE TRIGGER ALL",
                "SET session_replication_role = replica",
                "UPDATE audit_event SET action = 'tampered'",
                "DELETE FROM change_record",
                "TRUNCATE audit_event",
                "DROP TABLE organization",
            ):
                with (
                    pytest.raises(DBAPIError, match=r"permission denied|must be owner"),
                    app.connect() as conn,
                    conn.begin(),
                ):
                    conn.execute(text(attempt))
        finally:
            app.dispose()
    finally:
        with db.engine.connect() as conn, conn.begin():
            conn.execute(text(f"DROP OWNED BY {role}"))
            conn.execute(text(f"DROP ROLE {role}"))
