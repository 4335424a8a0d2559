"""Fixtures shared by the whole suite.

The backend is chosen by the environment, and the whole suite runs on it:
- default: SQLite files in a temporary directory, in-process job broker;
- ``OGCRM_TEST_DATABASE_URL`` (a PostgreSQL server URL; tests create and drop their own
  databases on it) and ``OGCRM_TEST_REDIS_URL``: the production backends. When these are
  set, the services must answer: the run fails instead of skipping.

Every test that touches a database gets a fresh one, copied from a template migrated
once per session, so tests never see each other's rows.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from starlette.testclient import TestClient

from ogcrm.api.app import create_app
from ogcrm.auth.principal import Principal
from ogcrm.config import Settings
from ogcrm.db import migrate
from ogcrm.db.session import Database, create_db_engine

TEST_DATABASE_URL = os.environ.get("OGCRM_TEST_DATABASE_URL", "")
TEST_REDIS_URL = os.environ.get("OGCRM_TEST_REDIS_URL", "")
IN_CI = bool(os.environ.get("CI"))
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
TEST_SECRET_KEY = "test-secret-key-" + "x" * 32


def pytest_report_header(config: pytest.Config) -> list[str]:
    db = (
        make_url(TEST_DATABASE_URL).render_as_string()
        if TEST_DATABASE_URL
        else "SQLite (temporary files)"
    )
    return [
        f"ogcrm test database: {db}",
        f"ogcrm test redis: {TEST_REDIS_URL or 'none (in-process broker)'}",
    ]


def pytest_sessionstart(session: pytest.Session) -> None:
    """Fail the run at once when a configured service does not answer."""
    if TEST_DATABASE_URL:
        engine = create_db_engine(TEST_DATABASE_URL)
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as exc:
            pytest.exit(
                f"OGCRM_TEST_DATABASE_URL is set but the database does not answer: {exc}", 3
            )
        finally:
            engine.dispose()
    if TEST_REDIS_URL:
        import redis

        try:
            redis.Redis.from_url(TEST_REDIS_URL, socket_connect_timeout=3).ping()
        except Exception as exc:
            pytest.exit(f"OGCRM_TEST_REDIS_URL is set but Redis does not answer: {exc}", 3)


class DatabaseFactory:
    """Makes throwaway databases on the configured backend: empty, or migrated to head."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self._created: list[str] = []
        self._template: str | None = None
        self._admin = (
            create_engine(
                make_url(TEST_DATABASE_URL).set(drivername="postgresql+psycopg"),
                isolation_level="AUTOCOMMIT",
            )
            if TEST_DATABASE_URL
            else None
        )

    @property
    def is_postgres(self) -> bool:
        return self._admin is not None

    def _pg_create(self, name: str, template: str | None = None) -> str:
        assert self._admin is not None
        clause = f" TEMPLATE {template}" if template else ""
        with self._admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"{clause}'))
        self._created.append(name)
        return make_url(TEST_DATABASE_URL).set(database=name).render_as_string(hide_password=False)

    def empty(self) -> str:
        name = f"ogcrm_test_{uuid.uuid4().hex[:12]}"
        if self.is_postgres:
            return self._pg_create(name)
        return f"sqlite:///{self.workdir / name}.db"

    def migrated(self) -> str:
        if self._template is None:
            url = self.empty()
            engine = create_db_engine(url)
            try:
                migrate.upgrade(engine)
            finally:
                engine.dispose()
            self._template = url
        if self.is_postgres:
            template = make_url(self._template).database
            return self._pg_create(f"ogcrm_test_{uuid.uuid4().hex[:12]}", template=template)
        target = self.workdir / f"ogcrm_test_{uuid.uuid4().hex[:12]}.db"
        shutil.copyfile(make_url(self._template).database or "", target)
        return f"sqlite:///{target}"

    def drop_all(self) -> None:
        if self._admin is None:
            return
        with self._admin.connect() as conn:
            for name in reversed(self._created):
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self._admin.dispose()


@pytest.fixture(scope="session")
def database_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DatabaseFactory]:
    factory = DatabaseFactory(tmp_path_factory.mktemp("databases"))
    yield factory
    factory.drop_all()


@pytest.fixture
def empty_database_url(database_factory: DatabaseFactory) -> str:
    """A fresh database with no tables at all."""
    return database_factory.empty()


@pytest.fixture
def database_url(database_factory: DatabaseFactory) -> str:
    """A fresh database migrated to head."""
    return database_factory.migrated()


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        data_dir=tmp_path,
        database_url=database_url,
        redis_url=TEST_REDIS_URL,
        secret_key=TEST_SECRET_KEY,
        instance_name=f"ogcrm-test-{uuid.uuid4().hex[:8]}",
    )


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    database = Database(settings)
    yield database
    database.dispose()


@pytest.fixture
def client(settings: Settings, db: Database) -> Iterator[TestClient]:
    """The app in-process (real ASGI stack, real database, no network)."""
    with TestClient(create_app(settings, db=db)) as test_client:
        yield test_client


@pytest.fixture
def shared_data() -> Path:
    """The public agency files in ../shared/data (read in place, never copied)."""
    if not SHARED_DATA.is_dir():
        if IN_CI:
            pytest.fail(f"{SHARED_DATA} is missing; CI must check out ../shared beside the project")
        pytest.skip(f"{SHARED_DATA} is absent: the shared public data files are not checked out")
    return SHARED_DATA


@pytest.fixture
def users(db: Database) -> UserFactory:
    """Creates users with a role (and optionally a team) through the real service."""
    return UserFactory(db)


class UserFactory:
    PASSWORD = "correct horse battery staple"

    def __init__(self, db: Database) -> None:
        self.db = db
        self._n = 0

    def create(self, role: str, *, email: str | None = None, team: str | None = None) -> AppUser:
        from sqlalchemy import insert, select

        from ogcrm.auth.principal import system_principal
        from ogcrm.auth.users import create_user
        from ogcrm.db.models import Team, team_membership

        self._n += 1
        address = email or f"{role}{self._n}@example.com"
        with self.db.unit_of_work() as session:
            user = create_user(
                session,
                email=address,
                name=f"{role.title()} {self._n}",
                role=role,
                password=self.PASSWORD,
                principal=system_principal("test"),
            )
            if team:
                team_id = session.scalar(select(Team.id).where(Team.name == team))
                if team_id is None:
                    row = Team(name=team)
                    session.add(row)
                    session.flush()
                    team_id = row.id
                session.execute(insert(team_membership).values(team_id=team_id, user_id=user.id))
            return AppUser(id=user.id, email=address, password=self.PASSWORD, role=role)


@dataclass
class AppUser:
    id: int
    email: str
    password: str
    role: str

    def principal(self, db: Database) -> Principal:
        """The principal this user's requests get (same grants as through a token)."""
        from sqlalchemy import select

        from ogcrm.db.models import RolePermission, User

        with db.read() as session:
            role_id = session.scalar(select(User.role_id).where(User.id == self.id))
            grants = {
                (g.entity, g.action): g.scope
                for g in session.scalars(
                    select(RolePermission).where(RolePermission.role_id == role_id)
                )
            }
        return Principal(user_id=self.id, role=self.role, grants=grants, email=self.email)
