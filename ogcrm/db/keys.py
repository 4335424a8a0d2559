"""What the encryption key protects, as a whole: which values are encrypted under which
key, re-encrypting them all under the current one (``ogcrm keys rotate``), and refusing
to run over encrypted data without a key to read it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, bindparam, exists, inspect, select, type_coerce, update

from ogcrm.config import ConfigError
from ogcrm.db import crypto
from ogcrm.db.models import ContactEmail, ContactPhone, OutboundMessageRecord
from ogcrm.db.session import Database
from ogcrm.failpoints import failpoint


@dataclass(frozen=True)
class Protected:
    """One encrypted column, the blind index beside it (if any) and how it is normalized."""

    model: Any
    column: str
    index: str | None = None
    fold_case: bool = False

    @property
    def name(self) -> str:
        return f"{self.model.__tablename__}.{self.column}"


PROTECTED = (
    Protected(ContactEmail, "address", "address_index", fold_case=True),
    Protected(ContactPhone, "number", "number_index"),
    Protected(OutboundMessageRecord, "address"),
)


def _raw(p: Protected) -> Any:
    """The column as stored (ciphertext, not decrypted)."""
    return type_coerce(getattr(p.model, p.column), String())


def status(db: Database) -> dict[str, Counter[str]]:
    """Per protected column: how many values are in clear and how many under each key."""
    out: dict[str, Counter[str]] = {}
    with db.read() as session:
        for p in PROTECTED:
            counts: Counter[str] = Counter()
            for (raw,) in session.execute(select(_raw(p)).where(_raw(p).is_not(None))):
                kid = (
                    raw[len(crypto.MARK) :].partition(":")[0]
                    if raw.startswith(crypto.MARK)
                    else None
                )
                counts[kid or "clear"] += 1
            out[p.name] = counts
    return out


def rotate(
    db: Database,
    *,
    to_clear: bool = False,
    batch: int = 1000,
    progress: Callable[[str, int], None] | None = None,
) -> dict[str, int]:
    """Re-encrypt every protected value not under the current key (or, ``to_clear``,
    decrypt them all), with its blind index, ``batch`` rows per transaction: stopped
    half-way, running it again carries on, since rows already done are skipped.
    Rewritten rows per column."""
    ring = crypto.keyring()
    if ring is None:
        raise ConfigError("set OGCRM_ENCRYPTION_KEY: there is no key to rotate to or from")
    done: dict[str, int] = {}
    for p in PROTECTED:
        table = p.model.__table__
        value_type = String() if to_clear else table.c[p.column].type
        values: dict[str, Any] = {p.column: bindparam("_value", type_=value_type)}
        if p.index:
            values[p.index] = bindparam("_index")
        stmt = update(table).where(table.c.id == bindparam("_id")).values(values)
        last, rewritten = 0, 0
        while True:
            with db.unit_of_work() as session:
                rows = session.execute(
                    select(table.c.id, _raw(p))
                    .where(table.c.id > last)
                    .order_by(table.c.id)
                    .limit(batch)
                ).all()
                if not rows:
                    break
                last = rows[-1][0]
                stale = []
                for row_id, raw in rows:
                    if raw is None:
                        continue
                    kid = ring.key_of(raw)
                    if (kid is None) if to_clear else (kid == ring.current):
                        continue
                    plain = ring.decrypt(raw, table.c[p.column].type.purpose) if kid else raw
                    index = None if to_clear else crypto.fingerprint(plain, fold_case=p.fold_case)
                    stale.append({"_id": row_id, "_value": plain, "_index": index})
                if stale:
                    session.execute(stmt, stale)
                rewritten += len(stale)
            failpoint("keys.rotate")  # after a batch is committed (resumption tests)
            if progress:
                progress(p.name, rewritten)
        done[p.name] = rewritten
    _purge_freed_pages(db)
    return done


def _purge_freed_pages(db: Database) -> None:
    """SQLite keeps a rewritten value's old bytes in free pages and the WAL until they
    are reused: once values are encrypted, the clear ones must leave the file too."""
    if db.engine.dialect.name != "sqlite":
        return  # PostgreSQL's dead tuples go with VACUUM, which autovacuum runs
    with db.engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        assert raw is not None
        raw.execute("VACUUM")
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def refuse_without_key(db: Database) -> None:
    """A ``ConfigError`` when the database holds encrypted values and no key is set: the
    API and workers would otherwise fail on the first contact they read."""
    if crypto.keyring() is not None:
        return
    present = set(inspect(db.engine).get_table_names())
    with db.read() as session:
        for p in PROTECTED:
            if p.model.__tablename__ not in present:
                continue  # a database not migrated yet holds nothing encrypted
            if session.scalar(select(exists().where(_raw(p).startswith(crypto.MARK)))):
                raise ConfigError(
                    f"{p.name} holds encrypted values but OGCRM_ENCRYPTION_KEY is not set: "
                    "set it to the key they were encrypted with"
                )
