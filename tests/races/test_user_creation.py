"""Two admins creating the same team or user at the same moment, and two first-admin
bootstraps at once, on PostgreSQL (SQLite serializes writers before they overlap): one
is made, the other is told why, never an unexpected error and never two."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from ogcrm.auth import users
from ogcrm.auth.principal import system_principal
from ogcrm.db import models as m
from ogcrm.db.session import Database
from ogcrm.errors import InvalidInput
from tests.support import at_once as run_at_once

SYSTEM = system_principal("test")
PASSWORD = "correct horse battery staple"


@pytest.fixture
def at_once(settings, monkeypatch: pytest.MonkeyPatch) -> Callable[..., tuple[list, list]]:
    if not settings.database_url.startswith("postgresql"):
        pytest.skip("needs PostgreSQL: SQLite serializes writers before they overlap")
    monkeypatch.setenv("OGCRM_FAILPOINT", "users.create:sleep=1")

    def run(db: Database, *calls: Callable[[Any], Any]) -> tuple[list, list]:
        done, refused = run_at_once(db, calls, InvalidInput)
        return [row.id for row in done], refused

    return run


def test_one_team_of_a_name(db: Database, at_once):
    made, refused = at_once(db, *[lambda s: users.create_team(s, SYSTEM, "Permian")] * 2)
    assert len(made) == 1 and len(refused) == 1 and refused[0].field == "name"
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(m.Team)) == 1


def test_one_user_of_an_address(db: Database, at_once):
    def make(s: Any) -> Any:
        return users.create_user(s, email="ann@example.com", name="Ann", role="sales",
                                 password=PASSWORD, principal=SYSTEM)  # fmt: skip

    made, refused = at_once(db, make, make)
    assert len(made) == 1 and len(refused) == 1 and refused[0].field == "email"


def test_one_first_admin(empty_database_url, at_once):
    from ogcrm.config import Settings
    from ogcrm.db.migrate import upgrade
    from ogcrm.db.session import create_db_engine

    engine = create_db_engine(empty_database_url)
    upgrade(engine)
    engine.dispose()
    db = Database(Settings(database_url=empty_database_url))
    try:
        made, refused = at_once(
            db,
            lambda s: users.bootstrap_admin(s, email="a@example.com", name="A", password=PASSWORD),
            lambda s: users.bootstrap_admin(s, email="b@example.com", name="B", password=PASSWORD),
        )
        assert len(made) == 1 and len(refused) == 1
        assert "already has users" in str(refused[0])
        with db.read() as s:
            assert s.scalar(select(func.count()).select_from(m.User)) == 1
    finally:
        db.dispose()
