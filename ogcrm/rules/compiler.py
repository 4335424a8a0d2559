"""JSON-logic to SQLAlchemy Core, over a relation of organization features.

One rule becomes one SQL expression whose value, turned into a contribution the same way
the interpreter's is (:func:`ogcrm.rules.jsonlogic.contribution`), agrees with the
interpreter on every row: the differential tests check exactly that, on SQLite and
PostgreSQL. Where JavaScript semantics cannot be expressed faithfully the rule is
*refused* with the reason (:class:`Unsupported`), never approximated.

How JavaScript's values map to SQL:

- A feature without a value is SQL NULL, and JavaScript's ``null``: relational operators
  and ``-``, ``/``, ``min``/``max`` read it as 0, ``==`` only equals another null.
- ``+`` and ``*`` go through ``parseFloat``, where null is NaN; so is the result, carried
  as NULL marked "NaN": NaN compares false with everything and contributes nothing.
- Truthiness is json-logic's: 0, "", null and empty lists are false.
- Lists (``tags``) are stored as ``,a,b,`` so membership is a substring test.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    Float,
    String,
    and_,
    case,
    cast,
    false,
    func,
    literal,
    not_,
    null,
    or_,
    true,
)
from sqlalchemy.sql.elements import ColumnElement

from ogcrm.rules.jsonlogic import number_to_string
from ogcrm.rules.jsonlogic import truthy as js_truthy

NUMBER, STRING, BOOLEAN, LIST, NULL, MISSING = (
    "number",
    "string",
    "boolean",
    "list",
    "null",
    "missing",
)


class Unsupported(ValueError):
    """The compiler cannot express this rule faithfully in SQL; ``path`` is the JSON
    Pointer (``/if/0/</1``; a division is ``/~1``) of the part it cannot express."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path or "/"
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


def pointer_token(key: str) -> str:
    """A key as a JSON Pointer token (RFC 6901): ``/`` (the division rule) is ``~1``."""
    return key.replace("~", "~0").replace("/", "~1")


@dataclass(frozen=True)
class Typed:
    """A compiled value: its SQL, its JavaScript type, and what a SQL NULL in it means."""

    sql: Any
    type: str
    #: NULL means JavaScript null (reads as 0 in arithmetic and relations) ...
    nullable: bool = False
    #: ... or NaN (the result of parseFloat on null): false in every comparison.
    nan: bool = False
    #: For ``missing``/``missing_some``: the SQL of "the list is not empty".
    truthy_sql: Any = None
    literal: Any = None
    is_literal: bool = False


@dataclass(frozen=True)
class Dialect:
    """What differs between SQLite and PostgreSQL."""

    name: str

    def least(self, *args: Any) -> Any:
        return func.min(*args) if self.name == "sqlite" else func.least(*args)

    def greatest(self, *args: Any) -> Any:
        return func.max(*args) if self.name == "sqlite" else func.greatest(*args)

    def position(self, needle: Any, haystack: Any) -> Any:
        """1-based position of ``needle`` in ``haystack``, 0 when absent (case-sensitive)."""
        if self.name == "sqlite":
            return func.instr(haystack, needle)
        return func.strpos(haystack, needle)


def _num(value: Typed) -> Any:
    """The SQL of a number as JavaScript's ToNumber would read it (null -> 0)."""
    if value.type == BOOLEAN:
        return case((value.sql, literal(1.0)), else_=literal(0.0))
    if value.type == NULL:
        return literal(0.0)
    if value.nullable and not value.nan:
        return func.coalesce(value.sql, literal(0.0))
    return value.sql


def truthy(value: Typed) -> Any:
    if value.truthy_sql is not None:
        return value.truthy_sql
    if value.is_literal:
        return true() if js_truthy(value.literal) else false()
    if value.type == BOOLEAN:
        return func.coalesce(value.sql, false()) if value.nullable else value.sql
    if value.type == NUMBER:
        return (
            and_(value.sql.is_not(None), value.sql != 0)
            if value.nullable or value.nan
            else value.sql != 0
        )
    if value.type in (STRING, LIST):
        return and_(value.sql.is_not(None), value.sql != "", value.sql != ",")
    if value.type == NULL:
        return false()
    raise Unsupported("", f"no truthiness for {value.type}")


@dataclass
class Compiler:
    """Compiles rules over ``features``: feature name -> (SQL column, type)."""

    features: Mapping[str, tuple[Any, str]]
    dialect: Dialect

    def compile(self, logic: Any, path: str = "") -> Typed:
        if isinstance(logic, bool):
            return Typed(true() if logic else false(), BOOLEAN, literal=logic, is_literal=True)
        if isinstance(logic, (int, float)):
            if not math.isfinite(logic):
                raise Unsupported(path, "only finite numbers")
            return Typed(literal(float(logic), Float), NUMBER, literal=logic, is_literal=True)
        if isinstance(logic, str):
            return Typed(literal(logic, String), STRING, literal=logic, is_literal=True)
        if logic is None:
            return Typed(null(), NULL, nullable=True, literal=None, is_literal=True)
        if isinstance(logic, list):
            raise Unsupported(path, "an array is only allowed as the list of 'in'")
        if not isinstance(logic, dict) or len(logic) != 1:
            raise Unsupported(path, "an operation is an object with exactly one key")
        ((op, args),) = logic.items()
        if not isinstance(args, list):
            args = [args]
        handler = _HANDLERS.get(op)
        if handler is None:
            raise Unsupported(
                f"{path}/{pointer_token(op)}", f"operation {op!r} cannot be compiled to SQL"
            )
        return handler(self, args, f"{path}/{pointer_token(op)}")

    # ----------------------------------------------------------------- helpers

    def _args(self, args: list[Any], path: str) -> list[Typed]:
        return [self.compile(a, f"{path}/{i}") for i, a in enumerate(args)]

    def _numeric(self, values: list[Typed], path: str) -> None:
        for i, v in enumerate(values):
            if v.type not in (NUMBER, NULL, BOOLEAN):
                raise Unsupported(f"{path}/{i}", f"arithmetic on a {v.type} is refused")


def _var(c: Compiler, args: list[Any], path: str) -> Typed:
    if not args or not isinstance(args[0], str):
        raise Unsupported(path, "var needs a feature name")
    name = args[0].removeprefix("features.")
    if name not in c.features:
        raise Unsupported(f"{path}/0", f"unknown feature {args[0]!r}")
    column, kind = c.features[name]
    value = Typed(column, kind, nullable=True)
    if len(args) > 1 and args[1] is not None:
        default = c.compile(args[1], f"{path}/1")
        if not default.is_literal or default.type not in (kind, NULL):
            raise Unsupported(f"{path}/1", f"the default must be a {kind} literal")
        sql = args[1] if kind != LIST else f",{args[1]},"
        value = Typed(func.coalesce(column, literal(sql)), kind, nullable=False)
    return value


def _relation(op: str) -> Callable[[Compiler, list[Any], str], Typed]:
    def compile_relation(c: Compiler, args: list[Any], path: str) -> Typed:
        values = c._args(args, path)
        if op in ("<", "<=") and len(values) == 3:
            pairs = [(values[0], values[1]), (values[1], values[2])]
        elif len(values) == 2:
            pairs = [(values[0], values[1])]
        else:
            raise Unsupported(path, f"{op!r} takes 2 values (or 3 for a range)")
        parts = [_compare(op, a, b, path) for a, b in pairs]
        return Typed(and_(*parts) if len(parts) > 1 else parts[0], BOOLEAN)

    return compile_relation


def _compare(op: str, a: Typed, b: Typed, path: str) -> Any:
    if a.type == STRING and b.type == STRING:
        left, right = a.sql, b.sql
        if a.nullable or b.nullable:
            raise Unsupported(
                path, "comparing text that may be null: JavaScript compares it as a number"
            )
    elif a.type in (STRING, LIST) or b.type in (STRING, LIST):
        raise Unsupported(path, f"comparing a {a.type} with a {b.type} is refused")
    else:
        left, right = _num(a), _num(b)
    sql = {"<": left < right, "<=": left <= right, ">": left > right, ">=": left >= right}[op]
    return func.coalesce(sql, false()) if (a.nan or b.nan) else sql


def _equality(strict: bool, negate: bool) -> Callable[[Compiler, list[Any], str], Typed]:
    def compile_equality(c: Compiler, args: list[Any], path: str) -> Typed:
        if len(args) != 2:
            raise Unsupported(path, "equality takes 2 values")
        a, b = c._args(args, path)
        if a.nan or b.nan:
            raise Unsupported(path, "equality with a sum or product that may be NaN")
        if a.type == NULL or b.type == NULL:
            other = b if a.type == NULL else a
            if other.type == NULL:
                sql: Any = true()
            elif strict or not other.nullable:
                sql = other.sql.is_(None) if other.nullable else false()
            else:
                sql = other.sql.is_(None)
        elif a.type != b.type:
            if strict or {a.type, b.type} != {NUMBER, BOOLEAN}:
                raise Unsupported(path, f"comparing a {a.type} with a {b.type} is refused")
            sql = _num(a) == _num(b)
            if a.nullable or b.nullable:
                raise Unsupported(path, "loose equality of a nullable value with a boolean")
        elif a.type == LIST:
            raise Unsupported(path, "lists are compared by identity in JavaScript")
        else:
            sql = (
                a.sql.is_not_distinct_from(b.sql) if (a.nullable or b.nullable) else a.sql == b.sql
            )
        return Typed(not_(sql) if negate else sql, BOOLEAN)

    return compile_equality


def _not(double: bool) -> Callable[[Compiler, list[Any], str], Typed]:
    def compile_not(c: Compiler, args: list[Any], path: str) -> Typed:
        if not args:
            raise Unsupported(path, "needs a value")
        value = c.compile(args[0], f"{path}/0")
        sql = truthy(value)
        return Typed(sql if double else not_(sql), BOOLEAN)

    return compile_not


def _same_type(values: list[Typed], path: str) -> str:
    kinds = {v.type for v in values if v.type != NULL}
    if len(kinds) > 1:
        raise Unsupported(path, f"the branches mix {sorted(kinds)}: their values differ in type")
    return kinds.pop() if kinds else NULL


def _merge_flags(values: list[Typed]) -> dict[str, bool]:
    return {
        "nullable": any(v.nullable or v.type == NULL for v in values),
        "nan": any(v.nan for v in values),
    }


def _and_or(is_and: bool) -> Callable[[Compiler, list[Any], str], Typed]:
    def compile_and_or(c: Compiler, args: list[Any], path: str) -> Typed:
        if not args:
            raise Unsupported(path, "needs at least one value")
        values = c._args(args, path)
        kind = _same_type(values, path)
        if kind == BOOLEAN and all(not v.nullable for v in values):
            sql = and_(*[v.sql for v in values]) if is_and else or_(*[v.sql for v in values])
            return Typed(sql, BOOLEAN)
        if any(v.truthy_sql is not None for v in values):
            raise Unsupported(path, "'missing' lists can only be tested, not returned")
        # JavaScript returns the deciding operand itself
        whens = [((not_(truthy(v)) if is_and else truthy(v)), v.sql) for v in values[:-1]]
        sql = case(*whens, else_=values[-1].sql) if whens else values[0].sql
        return Typed(sql, kind, **_merge_flags(values))

    return compile_and_or


def _if(c: Compiler, args: list[Any], path: str) -> Typed:
    if not args:
        return Typed(null(), NULL, nullable=True, is_literal=True)
    values = c._args(args, path)
    conditions = values[0:-1:2] if len(values) % 2 else values[0::2]
    results = values[1::2] + ([values[-1]] if len(values) % 2 else [])
    if any(r.truthy_sql is not None for r in results):
        raise Unsupported(path, "'missing' lists can only be tested, not returned")
    kind = _same_type(results, path)
    whens = [(truthy(cond), res.sql) for cond, res in zip(conditions, values[1::2], strict=False)]
    otherwise = values[-1].sql if len(values) % 2 else null()
    flags = _merge_flags(results)
    if not len(values) % 2:
        flags["nullable"] = True
    return Typed(case(*whens, else_=otherwise) if whens else otherwise, kind, **flags)


def _in(c: Compiler, args: list[Any], path: str) -> Typed:
    if len(args) != 2:
        raise Unsupported(path, "'in' takes a value and a list or a text")
    needle = c.compile(args[0], f"{path}/0")
    if isinstance(args[1], list):
        items = args[1]
        if any(isinstance(i, (dict, list)) for i in items):
            raise Unsupported(f"{path}/1", "the list of 'in' must hold literal values")
        same = [i for i in items if _type_of(i) == needle.type]
        if needle.type in (NUMBER, STRING) and not needle.nan:
            if not same:
                return Typed(false(), BOOLEAN)
            values = [float(i) if needle.type == NUMBER else i for i in same]
            return Typed(func.coalesce(needle.sql.in_(values), false()), BOOLEAN)
        if needle.type == NULL:
            return Typed(true() if None in items else false(), BOOLEAN)
        raise Unsupported(f"{path}/0", f"'in' a list needs a number or a text, not a {needle.type}")
    haystack = c.compile(args[1], f"{path}/1")
    if haystack.type == LIST:
        if not needle.is_literal or not isinstance(needle.literal, str):
            raise Unsupported(f"{path}/0", "membership in a list feature needs a literal text")
        found = c.dialect.position(literal(f",{needle.literal},"), haystack.sql) > 0
        return Typed(func.coalesce(found, false()), BOOLEAN)
    if haystack.type == STRING:
        if needle.type == STRING and not needle.nullable:
            found = c.dialect.position(needle.sql, haystack.sql) > 0
            return Typed(func.coalesce(found, false()), BOOLEAN)
        if needle.type == STRING and haystack.is_literal:
            # a null needle is searched for as the text "null"
            text = str(haystack.literal)
            found = c.dialect.position(needle.sql, literal(text)) > 0
            return Typed(case((needle.sql.is_(None), "null" in text), else_=found), BOOLEAN)
        raise Unsupported(f"{path}/0", "a substring test needs text on both sides")
    if haystack.type == NULL:
        return Typed(false(), BOOLEAN)
    raise Unsupported(f"{path}/1", f"'in' needs a list or a text, not a {haystack.type}")


def _type_of(value: Any) -> str:
    if value is None:
        return NULL
    if isinstance(value, bool):
        return BOOLEAN
    if isinstance(value, (int, float)):
        return NUMBER
    if isinstance(value, str):
        return STRING
    return LIST


def _parse_float_sum(is_sum: bool) -> Callable[[Compiler, list[Any], str], Typed]:
    def compile_sum(c: Compiler, args: list[Any], path: str) -> Typed:
        values = c._args(args, path)
        c._numeric(values, path)
        if not is_sum and len(values) == 1:
            return values[0]  # JavaScript's reduce returns a single element untouched
        if not values:
            if is_sum:
                return Typed(literal(0.0), NUMBER, literal=0, is_literal=True)
            raise Unsupported(path, "'*' needs a value")
        # parseFloat(null) and parseFloat(true) are NaN: NULL here, marked as NaN
        parts = [null() if v.type in (NULL, BOOLEAN) else v.sql for v in values]
        sql = parts[0]
        for p in parts[1:]:
            sql = (sql + p) if is_sum else (sql * p)
        nan = any(v.nullable or v.nan or v.type in (NULL, BOOLEAN) for v in values)
        return Typed(sql, NUMBER, nullable=nan, nan=nan)

    return compile_sum


def _minus(c: Compiler, args: list[Any], path: str) -> Typed:
    values = c._args(args, path)
    c._numeric(values, path)
    if len(values) == 1:
        return Typed(-_num(values[0]), NUMBER, nan=values[0].nan, nullable=values[0].nan)
    if len(values) != 2:
        raise Unsupported(path, "'-' takes one or two values")
    nan = values[0].nan or values[1].nan
    return Typed(_num(values[0]) - _num(values[1]), NUMBER, nan=nan, nullable=nan)


def _divide(is_remainder: bool) -> Callable[[Compiler, list[Any], str], Typed]:
    def compile_divide(c: Compiler, args: list[Any], path: str) -> Typed:
        values = c._args(args, path)
        c._numeric(values, path)
        if len(values) != 2:
            raise Unsupported(path, "takes two values")
        divisor = values[1]
        if not (
            divisor.is_literal
            and isinstance(divisor.literal, (int, float))
            and divisor.literal != 0
        ):
            raise Unsupported(
                f"{path}/1",
                "the divisor must be a non-zero number: dividing by zero gives Infinity or "
                "NaN in JavaScript, which SQL cannot carry",
            )
        a = _num(values[0])
        if is_remainder:
            # JavaScript's % keeps the dividend's sign (fmod); SQL's % is for integers
            d = float(divisor.literal)
            sql = a - literal(d) * _trunc(a / literal(d), c.dialect)
        else:
            sql = a / literal(float(divisor.literal))
        nan = values[0].nan
        return Typed(sql, NUMBER, nan=nan, nullable=nan)

    return compile_divide


def _trunc(x: Any, dialect: Dialect) -> Any:
    """Toward zero: SQLite's CAST to INTEGER truncates; PostgreSQL has trunc()."""
    if dialect.name == "sqlite":
        return cast(cast(x, BigInteger), Float)
    return func.trunc(x)


def _min_max(is_min: bool) -> Callable[[Compiler, list[Any], str], Typed]:
    def compile_min_max(c: Compiler, args: list[Any], path: str) -> Typed:
        values = c._args(args, path)
        c._numeric(values, path)
        if not values:
            raise Unsupported(path, "needs at least one value (JavaScript gives ±Infinity)")
        nums = [_num(v) for v in values]
        sql = (
            nums[0]
            if len(nums) == 1
            else (c.dialect.least(*nums) if is_min else c.dialect.greatest(*nums))
        )
        nan_values = [v for v in values if v.nan]
        if nan_values:
            # NaN anywhere makes JavaScript's min/max NaN; PostgreSQL's least ignores NULL
            sql = case(*[(v.sql.is_(None), null()) for v in nan_values], else_=sql)
        nan = bool(nan_values)
        return Typed(sql, NUMBER, nan=nan, nullable=nan)

    return compile_min_max


def _cat(c: Compiler, args: list[Any], path: str) -> Typed:
    values = c._args(args, path)
    parts = []
    for i, v in enumerate(values):
        if v.is_literal:
            lit = v.literal
            text = (
                ""
                if lit is None
                else number_to_string(float(lit))
                if isinstance(lit, (int, float)) and not isinstance(lit, bool)
                else ("true" if lit is True else "false" if lit is False else str(lit))
            )
            parts.append(literal(text, String))
        elif v.type == STRING:
            parts.append(func.coalesce(v.sql, literal("")))
        else:
            raise Unsupported(
                f"{path}/{i}", f"'cat' of a {v.type} feature is refused (number formats differ)"
            )
    if not parts:
        return Typed(literal("", String), STRING, literal="", is_literal=True)
    sql = parts[0]
    for p in parts[1:]:
        sql = sql.concat(p)
    return Typed(sql, STRING)


def _substr(c: Compiler, args: list[Any], path: str) -> Typed:
    if not args:
        raise Unsupported(path, "needs a text")
    source = c.compile(args[0], f"{path}/0")
    if source.type not in (STRING, NULL):
        raise Unsupported(f"{path}/0", f"substr of a {source.type} is refused")
    start = args[1] if len(args) > 1 else 0
    length = args[2] if len(args) > 2 else None
    if not isinstance(start, int) or isinstance(start, bool) or start < 0:
        raise Unsupported(f"{path}/1", "the start must be a literal whole number >= 0")
    if length is not None and (
        not isinstance(length, int) or isinstance(length, bool) or length < 0
    ):
        raise Unsupported(f"{path}/2", "the length must be a literal whole number >= 0")
    text = func.coalesce(source.sql, literal("null")) if source.type != NULL else literal("null")
    sql = func.substr(text, start + 1) if length is None else func.substr(text, start + 1, length)
    return Typed(sql, STRING)


def _missing(some: bool) -> Callable[[Compiler, list[Any], str], Typed]:
    def compile_missing(c: Compiler, args: list[Any], path: str) -> Typed:
        if some:
            if len(args) != 2 or not isinstance(args[0], int) or not isinstance(args[1], list):
                raise Unsupported(path, "missing_some takes a count and a list of features")
            need, names = args[0], args[1]
        else:
            names = args[0] if args and isinstance(args[0], list) else args
            need = None
        absent = []
        for i, name in enumerate(names):
            if not isinstance(name, str):
                raise Unsupported(f"{path}/{i}", "feature names must be literal text")
            var = _var(c, [name], f"{path}/{i}")
            sql = var.sql.is_(None)
            if var.type in (STRING, LIST):
                sql = or_(sql, var.sql == "")
            absent.append(sql)
        if not absent:
            return Typed(false(), MISSING, truthy_sql=false())
        if some:
            present = sum((case((a, 0), else_=1) for a in absent), literal(0))
            flag = and_(present < need, or_(*absent)) if need > 0 else false()
        else:
            flag = or_(*absent)
        return Typed(flag, MISSING, truthy_sql=flag)

    return compile_missing


_HANDLERS: dict[str, Callable[[Compiler, list[Any], str], Typed]] = {
    "var": _var,
    "<": _relation("<"),
    "<=": _relation("<="),
    ">": _relation(">"),
    ">=": _relation(">="),
    "==": _equality(strict=False, negate=False),
    "!=": _equality(strict=False, negate=True),
    "===": _equality(strict=True, negate=False),
    "!==": _equality(strict=True, negate=True),
    "!": _not(double=False),
    "!!": _not(double=True),
    "and": _and_or(is_and=True),
    "or": _and_or(is_and=False),
    "if": _if,
    "?:": _if,
    "in": _in,
    "+": _parse_float_sum(is_sum=True),
    "*": _parse_float_sum(is_sum=False),
    "-": _minus,
    "/": _divide(is_remainder=False),
    "%": _divide(is_remainder=True),
    "min": _min_max(is_min=True),
    "max": _min_max(is_min=False),
    "cat": _cat,
    "substr": _substr,
    "missing": _missing(some=False),
    "missing_some": _missing(some=True),
}
COMPILABLE = frozenset(_HANDLERS)


def contribution_sql(value: Typed, weight: float) -> ColumnElement[Any]:
    """A rule's contribution, as :func:`ogcrm.rules.jsonlogic.contribution` computes it:
    the weight when the value is boolean true, weight x value for a number (NULL, which
    stands for null or NaN, adds nothing), nothing for anything else."""
    w = literal(float(weight), Float)
    if value.type == BOOLEAN:
        return case((func.coalesce(value.sql, false()), w), else_=literal(0.0, Float))
    if value.type == NUMBER:
        if value.is_literal:
            return literal(float(weight) * float(value.literal), Float)
        return func.coalesce(w * value.sql, literal(0.0, Float))
    return literal(0.0, Float)


def compile_rule(logic: Any, features: Mapping[str, tuple[Any, str]], dialect: str) -> Typed:
    """Compile one rule; raises :class:`Unsupported` with the JSON path of the fault."""
    return Compiler(features, Dialect(dialect)).compile(logic)


__all__ = [
    "BOOLEAN",
    "COMPILABLE",
    "LIST",
    "NUMBER",
    "STRING",
    "Typed",
    "Unsupported",
    "compile_rule",
    "contribution_sql",
]
