"""Engines and the unit of work.

One synchronous engine serves the CLI, the jobs and the API. The API runs service calls
in worker threads (see :mod:`ogcrm.api.context`), so there is a single pool, a single set
of SQLite pragmas, and services that work the same whoever calls them.

Services take a :class:`~sqlalchemy.orm.Session` as their first argument, may flush,
and never commit: :func:`unit_of_work` commits once, at the end, or rolls back.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from ogcrm.config import Settings
from ogcrm.db import crypto

_WRITE_OPTION = "ogcrm_write"
_AUTOCOMMIT_OPTION = "ogcrm_autocommit"


def create_db_engine(
    database_url: str, *, application_name: str = "ogcrm", **kwargs: Any
) -> Engine:
    """Create an engine with the settings ogcrm relies on for the given backend.

    SQLite: WAL (readers do not block the writer), foreign keys on, a busy timeout, and
    SQLAlchemy's recipe for real transactions — Python 3.11's ``sqlite3`` otherwise defers
    ``BEGIN`` so that SAVEPOINTs and read-then-write transactions misbehave. Writers begin
    with ``BEGIN IMMEDIATE`` so two writers queue on the busy timeout instead of failing
    with "database is locked" when one upgrades its read lock.

    PostgreSQL: ``application_name`` names the process kind in ``pg_stat_activity``, and
    pooled connections are checked before use (a restarted server is then survivable).
    """
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        engine = create_engine(url, **kwargs)
        _configure_sqlite(engine)
        return engine
    if url.get_backend_name() == "postgresql" and url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    connect_args = kwargs.pop("connect_args", {})
    if url.get_backend_name() == "postgresql":
        connect_args.setdefault("application_name", application_name)
    return create_engine(url, pool_pre_ping=True, connect_args=connect_args, **kwargs)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute("PRAGMA busy_timeout = 30000")
            # REPLACE (and INSERT OR REPLACE) deletes the row it replaces without firing
            # DELETE triggers unless this is on: it would rewrite an append-only row
            cursor.execute("PRAGMA recursive_triggers = ON")
            if engine.url.database not in (None, "", ":memory:"):
                cursor.execute("PRAGMA journal_mode = WAL")
                cursor.execute("PRAGMA synchronous = NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        options = conn.get_execution_options()
        if options.get(_AUTOCOMMIT_OPTION, False):
            return  # sqlite3 with isolation_level None: each statement commits itself
        conn.exec_driver_sql("BEGIN IMMEDIATE" if options.get(_WRITE_OPTION, False) else "BEGIN")


class Database:
    """The engine and its session factories, built once per process from settings."""

    def __init__(self, settings: Settings, *, application_name: str = "ogcrm") -> None:
        self.settings = settings
        # the keyring the Sensitive columns' bind and result processing reach
        crypto.configure(settings.encryption_key)
        self.engine = create_db_engine(settings.database_url, application_name=application_name)
        #: Facts every session of this database carries in ``Session.info`` (copied when
        #: the session opens): where this process sends jobs, for one
        #: (:func:`ogcrm.jobs.queue.bind`). The database layer does not read it.
        self.info: dict[str, Any] = {}
        self._reader = sessionmaker(self.engine, expire_on_commit=False, info=self.info)
        self._writer = sessionmaker(
            self.engine.execution_options(**{_WRITE_OPTION: True}),
            expire_on_commit=False,
            info=self.info,
        )
        autocommit: dict[str, Any] = {_AUTOCOMMIT_OPTION: True}
        if self.engine.dialect.name != "sqlite":
            autocommit["isolation_level"] = "AUTOCOMMIT"
        self._autocommit = sessionmaker(
            self.engine.execution_options(**autocommit), expire_on_commit=False, info=self.info
        )

    def request_session(self) -> Session:
        """A session whose statements each commit on their own: no BEGIN, no COMMIT.

        For an API request's reads. Under PostgreSQL's READ COMMITTED every statement
        already sees what was committed before it began, so wrapping a request's reads in
        one transaction buys no consistency and costs two round trips (Django runs every
        request this way by default). A write made here is one atomic statement, such as
        the single audit event of a request's reads. The caller closes it.
        """
        return self._autocommit()

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        """A session in a write transaction: committed if the block succeeds, else rolled back."""
        with self._writer() as session, session.begin():
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reads that need none of their own writes; rolled back on exit."""
        with self._reader() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
