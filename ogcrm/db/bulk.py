"""Writing many rows at once, beneath the ORM.

Staging and merging write hundreds of thousands of rows per dataset; one ORM object
and one ``INSERT`` each is what made a merge run at a few hundred rows a second. Here
rows go in with PostgreSQL's ``COPY`` (or batched ``executemany`` on SQLite), and ids
are handed out before the rows are written, so that rows which point at each other
(a permit at the well it creates) can be written table by table.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from types import TracebackType
from typing import Any

from sqlalchemy import JSON, Table, func, select
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

#: rows per ``executemany`` on SQLite (one prepared statement, many parameter sets)
SQLITE_BATCH = 5_000


def bulk_write(
    session: Session, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]
) -> None:
    """Append rows fast: PostgreSQL's COPY, or batched executemany on SQLite.

    Values are already in their stored form (JSON columns as JSON text), so both paths
    bypass the ORM and its per-row work.
    """
    if not rows:
        return
    connection = session.connection()
    raw = connection.connection.driver_connection
    if connection.dialect.name == "postgresql":
        _copy_rows(raw, connection.dialect, table, columns, rows)
        return
    marks = ", ".join("?" for _ in columns)
    statement = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608 - names come from the models, never from input
    cursor = raw.cursor()
    try:
        with _driver_errors(connection.dialect, statement):
            for start in range(0, len(rows), SQLITE_BATCH):
                cursor.executemany(statement, rows[start : start + SQLITE_BATCH])
    finally:
        cursor.close()


def _copy_rows(
    raw: Any, dialect: Dialect, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]
) -> None:
    """``COPY table FROM STDIN`` on a psycopg connection."""
    statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    with (
        _driver_errors(dialect, statement),
        raw.cursor() as cursor,
        cursor.copy(statement) as copy,
    ):
        for row in rows:
            copy.write_row(row)


@contextmanager
def _driver_errors(dialect: Dialect, statement: str) -> Iterator[None]:
    """Raise the driver's errors as SQLAlchemy's, as if the ORM had run the statement:
    callers (the jobs' retry policy above all) tell a dropped connection
    (``OperationalError``) from bad data the same way whichever path wrote the rows."""
    try:
        yield
    except dialect.loaded_dbapi.Error as exc:
        raise DBAPIError.instance(
            statement, None, exc, dialect.loaded_dbapi.Error, dialect=dialect
        ) from exc


class WriteBehind:
    """Bulk writes done by a second thread while the caller prepares the next batch.

    On PostgreSQL the server takes in a ``COPY`` in its own process; done inline, the
    caller waits for it before cleaning the next chunk, so one of the two cores idles
    at any moment. Here the caller queues the rows and goes on; a writer thread runs
    the COPYs, in order, on the session's connection, which the caller must leave alone
    until the block ends. At most ``depth`` batches wait, which bounds the memory.

    On SQLite (and with ``enabled=False``) rows are written inline, as ``bulk_write``
    does. A failed write is raised in the caller at its next ``write`` or at the end
    of the block; a failure in the caller stops the writer before it is re-raised, so
    the transaction is rolled back with nothing written behind its back.
    """

    _DONE = object()

    def __init__(self, session: Session, *, depth: int = 2, enabled: bool = True) -> None:
        self.session = session
        connection = session.connection()
        self._raw = connection.connection.driver_connection
        self._dialect = connection.dialect
        self._threaded = enabled and connection.dialect.name == "postgresql"
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._abandoned = False
        self._thread: threading.Thread | None = None

    def __enter__(self) -> WriteBehind:
        if self._threaded:
            self._thread = threading.Thread(target=self._run, name="ogcrm-copy", daemon=True)
            self._thread.start()
        return self

    def write(self, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        if not self._threaded:
            bulk_write(self.session, table, columns, rows)
            return
        self._raise_failure()
        self._queue.put((table, columns, rows))

    def _run(self) -> None:
        while (item := self._queue.get()) is not self._DONE:
            if self._error is None and not self._abandoned:  # else only drain the queue
                try:
                    _copy_rows(self._raw, self._dialect, *item)
                except BaseException as exc:  # handed to the caller's thread
                    self._error = exc

    def _raise_failure(self) -> None:
        if self._error is not None:
            raise self._error

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._thread is None:
            return
        self._abandoned = exc is not None
        self._queue.put(self._DONE)
        self._thread.join()
        if exc is None:
            self._raise_failure()


def insert_rows(
    session: Session,
    table: Table,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
) -> None:
    """Insert model rows given as tuples in ``columns`` order, filling the other
    columns' Python-side defaults as the ORM would (timestamps, enums, empty lists)
    and converting only the values whose stored form differs (JSON, enums, SQLite's
    dates)."""
    sqlite = session.get_bind().dialect.name == "sqlite"
    defaulted = [c for c in table.columns if c.name not in columns and c.default is not None]
    all_columns = [table.c[name] for name in columns] + defaulted
    converters = [
        (i, conv) for i, c in enumerate(all_columns) if (conv := _converter(c.type, sqlite))
    ]
    # one evaluation per call: rows written together share their created_at, as rows
    # of one transaction share PostgreSQL's now()
    filled = tuple(_default(c) for c in defaulted)
    out: list[tuple[Any, ...]] = []
    for row in rows:
        values = [*row, *filled]
        for i, conv in converters:
            if values[i] is not None:
                values[i] = conv(values[i])
        out.append(tuple(values))
    bulk_write(session, table.name, [c.name for c in all_columns], out)


def _default(column: Any) -> Any:
    default = column.default
    # SQLAlchemy wraps a callable default to take an execution context
    return default.arg(None) if default.is_callable else default.arg


def _converter(type_: Any, sqlite: bool) -> Callable[[Any], Any] | None:
    """How a value of this column type is written, when not as Python holds it."""
    if isinstance(type_, JSON):
        return lambda v: v if isinstance(v, str) else json.dumps(v)
    python_type = _python_type(type_)
    if sqlite and python_type is dt.datetime:
        # SQLite keeps UTC as naive text, as ogcrm.db.types.UTCDateTime binds it
        return lambda v: str(v.astimezone(dt.UTC).replace(tzinfo=None))
    if sqlite and python_type is dt.date:
        return lambda v: v.isoformat()
    if python_type is not None and issubclass(python_type, enum.Enum):
        return lambda v: v.value
    return None


def _python_type(type_: Any) -> type | None:
    try:
        return type_.python_type
    except NotImplementedError:
        return None


class IdPool:
    """Primary keys of one table handed out before its rows are written.

    PostgreSQL draws them from the column's sequence in blocks (safe with concurrent
    writers; an unused id is a harmless gap). SQLite has one writer at a time and the
    caller's transaction already holds the write lock, so ids follow the largest one
    stored and are counted on locally: only this pool's user may insert into the table
    until its transaction ends.
    """

    def __init__(self, session: Session, table: Table, *, block: int = 1_000) -> None:
        self.session = session
        self.table = table
        self.block = block
        self._free: list[int] = []
        self._next: int | None = None
        self._sequence: str | None = None

    def take(self, count: int = 1) -> list[int]:
        if count <= 0:
            return []
        if self.session.get_bind().dialect.name != "postgresql":
            if self._next is None:
                self._next = (self.session.scalar(select(func.max(self.table.c.id))) or 0) + 1
            start, self._next = self._next, self._next + count
            return list(range(start, start + count))
        if len(self._free) < count:
            # beneath the ORM: thousands of integers, fetched as plainly as possible
            raw = self.session.connection().connection.driver_connection
            with raw.cursor() as cursor:
                if self._sequence is None:
                    # looked up once: per row, the catalog lookup cost 5x the nextval
                    cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", (self.table.name,))
                    self._sequence = cursor.fetchone()[0]
                cursor.execute(
                    "SELECT nextval(%s::regclass) FROM generate_series(1, %s)",
                    (self._sequence, max(count - len(self._free), self.block)),
                )
                self._free.extend(row[0] for row in cursor.fetchall())
        taken, self._free = self._free[:count], self._free[count:]
        return taken
