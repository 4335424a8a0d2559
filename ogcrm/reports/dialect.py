"""The few date functions reports need, written once per database: where PostgreSQL
and SQLite spell them differently, a report compiles to each one's own SQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Float, Integer, String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement


class month_start(FunctionElement[str]):
    """The first day of the month of a date or timestamp, as ``YYYY-MM-DD`` text."""

    type = String()
    inherit_cache = True


class week_start(FunctionElement[str]):
    """The Monday of the ISO week of a date or timestamp, as ``YYYY-MM-DD`` text."""

    type = String()
    inherit_cache = True


class days_between(FunctionElement[float]):
    """``later - earlier`` in days, fractional (two timestamps)."""

    type = Float()
    inherit_cache = True


class iso_utc(FunctionElement[str]):
    """A timestamp as ISO 8601 text in UTC (``2026-12-01T17:00:00Z``), the same on both
    databases, so a CSV written by PostgreSQL's ``COPY`` matches one written row by row."""

    type = String()
    inherit_cache = True


@compiles(iso_utc, "postgresql")
def _iso_utc_pg(element: iso_utc, compiler: SQLCompiler, **kw: Any) -> str:
    (arg,) = element.clauses
    inner = compiler.process(arg, **kw)
    return f"""to_char(({inner}) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')"""


@compiles(iso_utc, "sqlite")
def _iso_utc_sqlite(element: iso_utc, compiler: SQLCompiler, **kw: Any) -> str:
    (arg,) = element.clauses
    return f"strftime('%Y-%m-%dT%H:%M:%SZ', {compiler.process(arg, **kw)})"


class first_code(FunctionElement[int]):
    """The code point of a text's first character (``NULL`` or 0 when empty): an
    integer compare, which is what makes formula neutralization cheap, where comparing
    a one-character substring is a collation-aware string compare per cell."""

    type = Integer()
    inherit_cache = True


@compiles(first_code, "postgresql")
def _first_code_pg(element: first_code, compiler: SQLCompiler, **kw: Any) -> str:
    return f"ascii({compiler.process(element.clauses, **kw)})"


@compiles(first_code, "sqlite")
def _first_code_sqlite(element: first_code, compiler: SQLCompiler, **kw: Any) -> str:
    return f"unicode({compiler.process(element.clauses, **kw)})"


def _args(element: FunctionElement[Any], compiler: SQLCompiler, **kw: Any) -> list[str]:
    return [compiler.process(arg, **kw) for arg in element.clauses]


@compiles(month_start, "postgresql")
def _month_pg(element: month_start, compiler: SQLCompiler, **kw: Any) -> str:
    (arg,) = _args(element, compiler, **kw)
    return f"to_char(date_trunc('month', {arg}), 'YYYY-MM-DD')"


@compiles(month_start, "sqlite")
def _month_sqlite(element: month_start, compiler: SQLCompiler, **kw: Any) -> str:
    (arg,) = _args(element, compiler, **kw)
    return f"date({arg}, 'start of month')"


@compiles(week_start, "postgresql")
def _week_pg(element: week_start, compiler: SQLCompiler, **kw: Any) -> str:
    (arg,) = _args(element, compiler, **kw)
    return f"to_char(date_trunc('week', {arg}), 'YYYY-MM-DD')"


@compiles(week_start, "sqlite")
def _week_sqlite(element: week_start, compiler: SQLCompiler, **kw: Any) -> str:
    # 'weekday 0' moves forward to the next Sunday (or stays on one): 6 days back is Monday
    (arg,) = _args(element, compiler, **kw)
    return f"date({arg}, 'weekday 0', '-6 days')"


@compiles(days_between, "postgresql")
def _days_pg(element: days_between, compiler: SQLCompiler, **kw: Any) -> str:
    later, earlier = _args(element, compiler, **kw)
    return f"(EXTRACT(EPOCH FROM ({later}) - ({earlier})) / 86400.0)"


@compiles(days_between, "sqlite")
def _days_sqlite(element: days_between, compiler: SQLCompiler, **kw: Any) -> str:
    later, earlier = _args(element, compiler, **kw)
    return f"(julianday({later}) - julianday({earlier}))"
