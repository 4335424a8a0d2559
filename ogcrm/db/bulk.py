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
import io
import json
import operator
import queue
import threading
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from itertools import repeat
from types import TracebackType
from typing import Any

import psycopg
from psycopg.copy import FileWriter
from psycopg.types.json import set_json_dumps
from sqlalchemy import JSON, Connection, Table, event, func, select
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
    """``COPY table FROM STDIN`` on a psycopg connection: in binary when every value is
    of a Python type its column's binary form takes, else as text for the server to
    parse. Binary skips the per-value text formatting, which was most of a merge's
    client-side cost (a million wells: 6.4 s as text, 2 s in binary)."""
    statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    with _driver_errors(dialect, statement), raw.cursor() as cursor:
        types = _binary_types(cursor, table, columns, rows)
        if types is not None:
            set_json_dumps(_json_text, context=cursor)
            statement += " (FORMAT BINARY)"
        with cursor.copy(statement) as copy:
            if types is not None:
                copy.set_types(types)
            for row in rows:
                copy.write_row(row)


def _binary_payload(
    raw: Any, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]
) -> tuple[str, bytes] | None:
    """The rows as one binary ``COPY`` payload, formatted now, by whichever thread
    calls, with the statement that takes it; ``None`` if they must go as text. The
    cursor is only psycopg's adaptation context: nothing is sent on the connection.
    Needs the table's column types already read (:func:`_column_types`)."""
    with raw.cursor() as cursor:
        types = _binary_types(cursor, table, columns, rows)
        if types is None:
            return None
        set_json_dumps(_json_text, context=cursor)
        data = io.BytesIO()
        with psycopg.Copy(cursor, binary=True, writer=FileWriter(data)) as copy:
            copy.set_types(types)
            for row in rows:
                copy.write_row(row)
    return f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)", data.getvalue()


def _send_payload(raw: Any, dialect: Dialect, statement: str, data: bytes) -> None:
    """A formatted ``COPY`` payload sent whole: psycopg hands it to libpq in large
    pieces, waiting on the socket with the GIL released."""
    with _driver_errors(dialect, statement), raw.cursor() as cursor, cursor.copy(statement) as copy:
        copy.write(data)


def _json_text(value: str) -> str:
    """JSON columns are given their JSON text already (see ``insert_rows``)."""
    return value


#: PostgreSQL types sent in binary (by OID), and the Python types their binary form
#: takes; a column of another type, or a value of another Python type, sends the whole
#: COPY as text
_BINARY: dict[int, tuple[type, ...]] = {
    16: (bool,),  # boolean
    20: (int,),  # bigint
    21: (int,),  # smallint
    23: (int,),  # integer
    700: (float, int),  # real
    701: (float, int),  # double precision
    25: (str,),  # text
    1042: (str,),  # char
    1043: (str,),  # varchar
    114: (str,),  # json, as JSON text
    3802: (str,),  # jsonb, as JSON text
    1082: (dt.date,),  # date
    1184: (dt.datetime,),  # timestamptz, if aware
}


def _binary_types(
    cursor: Any, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]
) -> list[int] | None:
    """The columns' type OIDs if the rows can be sent in binary, else ``None``."""
    oid_of = _column_types(cursor.connection, table)
    oids = [oid_of.get(name.strip('"'), 0) for name in columns]
    if any(oid not in _BINARY for oid in oids):
        return None
    # the rows turned into columns once, in C, then one pass in C per column: the set
    # of the Python types it holds
    for oid, values in zip(oids, zip(*rows, strict=True), strict=True):
        kinds = set(map(type, values))
        kinds.discard(type(None))
        if not all(issubclass(kind, _BINARY[oid]) for kind in kinds):
            return None
        if oid == 1184 and any(v is not None and v.tzinfo is None for v in values):
            return None  # naive timestamps: the server decides their zone, as text
    return oids


#: column name -> type OID, per table, per driver connection: read from the catalog
#: once, not before every COPY of every batch
_TYPES: weakref.WeakKeyDictionary[Any, dict[str, dict[str, int]]] = weakref.WeakKeyDictionary()


def _column_types(raw: Any, table: str) -> dict[str, int]:
    tables = _TYPES.setdefault(raw, {})
    if table not in tables:
        with raw.cursor() as cursor:
            cursor.execute(
                "SELECT attname, atttypid::int FROM pg_attribute "
                "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
                (table,),
            )
            tables[table] = dict(cursor.fetchall())
    return tables[table]


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
    caller waits for it before preparing the next batch, so one of the two cores idles
    at any moment. Here the caller queues the rows and goes on; a writer thread runs
    the COPYs, in order, on the session's connection. A statement the caller runs
    through that connection (a lookup, an ORM flush) first waits until every queued
    write is done, so it sees them and never shares the connection with the writer;
    raw driver use of it is the caller's to avoid. At most ``depth`` batches wait,
    which bounds the memory.

    On SQLite (and with ``enabled=False``) rows are written inline, as ``bulk_write``
    does. A failed write is raised in the caller at its next ``write`` or statement,
    or at the end of the block; a failure in the caller stops the writer before it is
    re-raised, so the transaction is rolled back with nothing written behind its back.
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
        self._connection = connection

    def __enter__(self) -> WriteBehind:
        if self._threaded:
            event.listen(self._connection, "before_cursor_execute", self._wait_for_writes)
            self._thread = threading.Thread(target=self._run, name="ogcrm-copy", daemon=True)
            self._thread.start()
        return self

    def _wait_for_writes(self, *_: Any) -> None:
        """Before any statement of the caller's: the queued writes are done (or failed)."""
        self._queue.join()
        self._raise_failure()

    def write(self, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        """Queue the rows; in binary, formatted here first.

        Formatting in the caller's thread leaves the writer thread nothing to do but
        send whole payloads, with the GIL released: when it formatted the rows itself,
        each refill of the socket waited for the GIL the caller held, and the server sat
        idle meanwhile (a 1,000,000-row merge: 119 s; formatted here: see
        docs/pipeline.md)."""
        if not rows:
            return
        if not self._threaded:
            bulk_write(self.session, table, columns, rows)
            return
        self._raise_failure()
        if table not in _TYPES.get(self._raw, {}):
            # a table's column types are read once, on the connection the writer uses
            self._wait_for_writes()
            _column_types(self._raw, table)
        payload = _binary_payload(self._raw, table, columns, rows)
        self._queue.put(("payload", *payload) if payload else ("rows", table, columns, rows))

    def _run(self) -> None:
        while (item := self._queue.get()) is not self._DONE:
            if self._error is None and not self._abandoned:  # else only drain the queue
                try:
                    if item[0] == "payload":
                        _send_payload(self._raw, self._dialect, item[1], item[2])
                    else:
                        _copy_rows(self._raw, self._dialect, *item[1:])
                except BaseException as exc:  # handed to the caller's thread
                    self._error = exc
            self._queue.task_done()

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
        event.remove(self._connection, "before_cursor_execute", self._wait_for_writes)
        if exc is None:
            self._raise_failure()


def insert_rows(
    session: Session,
    table: Table,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    writer: WriteBehind | None = None,
) -> None:
    """Insert model rows given as tuples in ``columns`` order, filling the other
    columns' Python-side defaults as the ORM would (timestamps, enums, empty lists)
    and converting only the values whose stored form differs (JSON, enums, SQLite's
    dates). With a ``writer`` the rows are queued on it instead of written now."""
    sqlite = session.get_bind().dialect.name == "sqlite"
    defaulted = [c for c in table.columns if c.name not in columns and c.default is not None]
    all_columns = [table.c[name] for name in columns] + defaulted
    converters = [
        (i, conv) for i, c in enumerate(all_columns) if (conv := _converter(c.type, sqlite))
    ]
    # one evaluation per call: rows written together share their created_at, as rows
    # of one transaction share PostgreSQL's now()
    filled = tuple(_default(c) for c in defaulted)
    out: list[tuple[Any, ...]]
    if not converters:
        # the common case, a merge's wells and permits: whole rows joined in C
        out = list(map(operator.add, map(tuple, rows), repeat(filled)))
    else:
        out = []
        for row in rows:
            values = [*row, *filled]
            for i, conv in converters:
                if values[i] is not None:
                    values[i] = conv(values[i])
            out.append(tuple(values))
    names = [c.name for c in all_columns]
    if writer is None:
        bulk_write(session, table.name, names, out)
    else:
        writer.write(table.name, names, out)


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
        return lambda v: v if isinstance(v, str) else v.isoformat()
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

    ``draw_on`` is another connection to draw them on (PostgreSQL): sequences are not
    transactional, so ids drawn there are as unique, and drawing them does not wait
    for writes queued on the session's connection (see :class:`WriteBehind`).
    """

    def __init__(
        self,
        session: Session,
        table: Table,
        *,
        block: int = 1_000,
        draw_on: Connection | None = None,
    ) -> None:
        self.session = session
        self.table = table
        self.block = block
        self.draw_on = draw_on
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
            connection = self.draw_on or self.session.connection()
            raw = connection.connection.driver_connection
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
