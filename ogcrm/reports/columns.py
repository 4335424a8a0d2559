"""Typed output columns, and how a text cell is made inert for spreadsheets.

A value a spreadsheet would read as a formula (``=HYPERLINK(...)``, ``+1+1``,
``@SUM(A1)``, or one led by a tab or carriage return) gets a leading apostrophe in CSV
and XLSX output: Excel and LibreOffice then show it as text. The rule is applied in the
SELECT itself (:func:`inert`), so the PostgreSQL ``COPY`` path and the row-by-row path
write the same bytes, and JSON output, which no spreadsheet evaluates, selects the
value untouched. Only text columns are touched: a negative longitude stays a number.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, String, case, cast, literal, literal_column

from ogcrm.reports.dialect import first_code, iso_utc

#: The first characters that make a spreadsheet evaluate a cell (OWASP "CSV Injection").
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


class Kind(enum.StrEnum):
    TEXT = "text"
    NUMBER = "number"
    DATE = "date"
    DATETIME = "datetime"


@dataclass(frozen=True)
class Column:
    """One output column: its header, the SQL that computes it, and what it holds."""

    name: str
    expr: Any
    kind: Kind = Kind.TEXT
    #: Encrypted at rest (:class:`ogcrm.db.crypto.Sensitive`): the database sees only
    #: ciphertext, so the value is made inert in Python once decrypted.
    sensitive: bool = False


def inert(expr: Any) -> ColumnElement[str]:
    """``expr`` with a leading apostrophe when it starts like a formula."""
    text = expr if isinstance(getattr(expr, "type", None), String) else cast(expr, String)
    codes = [literal_column(str(ord(c))) for c in TRIGGERS]
    return case((first_code(text).in_(codes), literal("'", String) + text), else_=text)


def inert_value(value: str) -> str:
    """:func:`inert` for a value already in Python (a report's rows, tests)."""
    return "'" + value if value[:1] in TRIGGERS else value


def for_sheets(column: Column) -> Any:
    """The SELECT expression of ``column`` for CSV and XLSX output."""
    if column.sensitive:
        return column.expr
    if column.kind is Kind.TEXT:
        return inert(column.expr)
    if column.kind is Kind.DATETIME:
        return iso_utc(column.expr)
    return column.expr


def json_default(value: object) -> object:
    """What ``json.dumps`` writes for the values a row holds besides JSON's own."""
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    return str(value)
