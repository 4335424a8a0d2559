"""Declarative base with a naming convention, so constraints have stable names.

Stable names matter twice: Alembic can drop and alter them on SQLite (batch mode needs
names), and a ``IntegrityError`` names the constraint a user broke in words we chose.
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Integer, MetaData, Numeric, String
from sqlalchemy import Enum as SAEnum
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from ogcrm.db.types import JSONType, UTCDateTime, utcnow

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_N_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: Integer primary keys that are 64-bit on PostgreSQL and SQLite's rowid alias on SQLite
#: (``BIGINT PRIMARY KEY`` would not alias the rowid and would not autoincrement).
BigIntPK = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        dt.datetime: UTCDateTime(),
        dict[str, Any]: JSONType,
        list[Any]: JSONType,
        list[str]: JSONType,
        Decimal: Numeric(14, 2),
        str: String(),
    }


class IdMixin:
    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, sort_order=-100)


class TimestampMixin:
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, sort_order=100)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow, sort_order=100)


def foreign_key(
    target: str,
    *,
    nullable: bool = False,
    ondelete: str | None = None,
    index: bool = True,
) -> Any:
    """A foreign-key column typed like the primary keys it points at.

    Indexed by default: every foreign key here is also a join or filter path
    (an owner's accounts, an organization's contacts, a dataset's issues).
    """
    from sqlalchemy import ForeignKey

    return mapped_column(
        BigIntPK, ForeignKey(target, ondelete=ondelete), nullable=nullable, index=index
    )


def dataset_reference(*, nullable: bool = True, index: bool = False) -> Any:
    """The dataset that wrote a row (its provenance), without a foreign key.

    For the tables a million-row import fills: staged rows, cell issues, change records,
    wells, permits, production. Datasets are never deleted (a trigger refuses it), so the
    reference cannot dangle, and a key check per row was the largest single cost the
    database paid for an import (COPY of 1,000,000 wells: 18.9 s with two foreign keys,
    8.6 s without).
    """
    return mapped_column(BigIntPK, nullable=nullable, index=index)


def enum_column(
    enum_cls: type[enum.StrEnum],
    *,
    default: enum.StrEnum | None = None,
    name: str | None = None,
) -> Any:
    """A string column restricted by a CHECK constraint to the values of ``enum_cls``.

    Not a native PostgreSQL enum: adding a value then needs no ``ALTER TYPE`` dance, and the
    column reads the same on SQLite.
    """
    return mapped_column(
        SAEnum(
            enum_cls,
            name=name or enum_cls.__name__.lower(),
            native_enum=False,
            create_constraint=True,
            length=max(len(m.value) for m in enum_cls),
            values_callable=lambda cls: [m.value for m in cls],
            validate_strings=True,
        ),
        default=default,
    )
