"""A JSON-logic interpreter with the reference JavaScript implementation's semantics.

Why our own: the Python packages do not behave like json-logic-js where it matters for
scoring. Measured with ``json-logic-qubit`` 0.9.1 (which passes the official suite):
``{"<": [null, 5]}`` is false (JavaScript: true, null compares as 0), ``{"+": [null, 1]}``
and ``{"min": [null, 3]}`` raise instead of giving NaN/0, ``{"cat": ["a", null]}`` gives
``"aNone"`` (JavaScript: ``"a"``), ``{"/": [1, 0]}`` raises (JavaScript: Infinity).
A missing feature is exactly such a null, so those cases are everyday ones here.

The official JsonLogic test suite (read by ``tests/rules``) runs in CI. Values follow
JavaScript: loose ``==`` with its coercions, relational operators through ToPrimitive and
ToNumber, ``+``/``*`` through ``parseFloat``, NaN and Infinity as floats. ``undefined``
(a variable that is absent) is :data:`UNDEFINED`, distinct from ``null`` (None).

This module is the oracle the SQL compiler (:mod:`ogcrm.rules.compiler`) is tested
against, and the evaluator for single records and previews.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any


class _Undefined:
    """JavaScript's ``undefined``: what ``var`` finds for an absent key."""

    _instance: _Undefined | None = None

    def __new__(cls) -> _Undefined:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "undefined"

    def __bool__(self) -> bool:
        return False


UNDEFINED: Any = _Undefined()
NAN = float("nan")


class JsonLogicError(ValueError):
    """A rule that cannot be evaluated (an unknown operation)."""


# --------------------------------------------------------------------------- JS values


def is_number(v: Any) -> bool:
    return isinstance(v, (int, float, Decimal)) and not isinstance(v, bool)


def to_primitive(v: Any) -> Any:
    """ToPrimitive with hint "default": arrays join, objects stringify."""
    if isinstance(v, list):
        return ",".join("" if x is None or x is UNDEFINED else to_string(x) for x in v)
    if isinstance(v, dict):
        return "[object Object]"
    return v


_NUMBER_RE = re.compile(r"[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)")


def to_number(v: Any) -> float:
    """JavaScript ToNumber."""
    if v is None or v is False:
        return 0.0
    if v is True:
        return 1.0
    if v is UNDEFINED:
        return NAN
    if is_number(v):
        return float(v)
    v = to_primitive(v)
    if not isinstance(v, str):
        return NAN  # no other JSON value converts
    text = v.strip()
    if text == "":
        return 0.0
    if _NUMBER_RE.fullmatch(text):
        return float(text)
    if text in ("Infinity", "+Infinity"):
        return math.inf
    if text == "-Infinity":
        return -math.inf
    if re.fullmatch(r"0[xX][0-9a-fA-F]+", text):
        return float(int(text, 16))
    return NAN


def parse_float(v: Any) -> float:
    """JavaScript parseFloat: the longest numeric prefix of the string form."""
    if is_number(v):
        return float(v)
    text = to_string(v).lstrip()
    m = re.match(r"[+-]?(?:Infinity|\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)", text)
    if not m:
        return NAN
    token = m.group(0)
    if token.endswith("Infinity"):
        return -math.inf if token.startswith("-") else math.inf
    return float(token)


def to_string(v: Any) -> str:
    """JavaScript ToString."""
    if v is None:
        return "null"
    if v is UNDEFINED:
        return "undefined"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if is_number(v):
        return number_to_string(float(v))
    if isinstance(v, str):
        return v
    return str(to_primitive(v))


def number_to_string(x: float) -> str:
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    if x.is_integer() and abs(x) < 1e21:
        return str(int(x))
    text = repr(x)
    if "e" in text:  # JS writes 1e+21, 1.5e-7
        mantissa, exponent = text.split("e")
        sign = "-" if exponent.startswith("-") else "+"
        return f"{mantissa}e{sign}{exponent.lstrip('+-').lstrip('0') or '0'}"
    return text


def truthy(v: Any) -> bool:
    """json-logic's truthiness: JavaScript's, except that an empty array is false."""
    if isinstance(v, list):
        return len(v) > 0
    if v is None or v is UNDEFINED or v is False:
        return False
    if is_number(v):
        return not (v == 0 or (isinstance(v, float) and math.isnan(v)))
    if isinstance(v, str):
        return v != ""
    return True


def _type(v: Any) -> str:
    if v is None:
        return "null"
    if v is UNDEFINED:
        return "undefined"
    if isinstance(v, bool):
        return "boolean"
    if is_number(v):
        return "number"
    if isinstance(v, str):
        return "string"
    return "object"


def strict_equal(a: Any, b: Any) -> bool:
    ta, tb = _type(a), _type(b)
    if ta != tb:
        return False
    if ta == "number":
        return float(a) == float(b)
    if ta == "object":
        return a is b
    return bool(a == b)


def loose_equal(a: Any, b: Any) -> bool:
    """The Abstract Equality Comparison (``==``)."""
    ta, tb = _type(a), _type(b)
    if ta == tb:
        return strict_equal(a, b)
    if {ta, tb} == {"null", "undefined"}:
        return True
    if ta in ("null", "undefined") or tb in ("null", "undefined"):
        return False
    if ta == "boolean":
        return loose_equal(to_number(a), b)
    if tb == "boolean":
        return loose_equal(a, to_number(b))
    if ta == "number" and tb == "string":
        return float(a) == to_number(b)
    if ta == "string" and tb == "number":
        return to_number(a) == float(b)
    if ta == "object" and tb in ("number", "string"):
        return loose_equal(to_primitive(a), b)
    if tb == "object" and ta in ("number", "string"):
        return loose_equal(a, to_primitive(b))
    return False


def less_than(a: Any, b: Any, *, or_equal: bool = False) -> bool:
    """``a < b`` (or ``a <= b``) as JavaScript compares."""
    pa, pb = to_primitive(a), to_primitive(b)
    if isinstance(pa, str) and isinstance(pb, str):
        return pa <= pb if or_equal else pa < pb
    na, nb = to_number(pa), to_number(pb)
    if math.isnan(na) or math.isnan(nb):
        return False
    return na <= nb if or_equal else na < nb


# --------------------------------------------------------------------------- operations


def _js_min(*args: Any) -> float:
    values = [to_number(a) for a in args]
    if any(math.isnan(v) for v in values):
        return NAN
    return min(values, default=math.inf)


def _js_max(*args: Any) -> float:
    values = [to_number(a) for a in args]
    if any(math.isnan(v) for v in values):
        return NAN
    return max(values, default=-math.inf)


def _divide(a: Any, b: Any) -> float:
    x, y = to_number(a), to_number(b)
    if y == 0:
        if x == 0 or math.isnan(x):
            return NAN
        return math.copysign(math.inf, x) * math.copysign(1.0, y)
    return x / y


def _remainder(a: Any, b: Any) -> float:
    x, y = to_number(a), to_number(b)
    if y == 0 or math.isinf(x) or math.isnan(x) or math.isnan(y):
        return NAN
    if math.isinf(y):
        return x
    return math.fmod(x, y)


def _plus(*args: Any) -> float:
    total = 0.0
    for a in args:
        total = total + parse_float(a)
    return total


def _times(*args: Any) -> Any:
    if not args:
        raise JsonLogicError("'*' needs at least one value")  # JS: reduce of empty array
    if len(args) == 1:
        return args[0]  # JS reduce without an initial value returns the only element
    result = parse_float(args[0])
    for a in args[1:]:
        result = result * parse_float(a)
    return result


def _minus(a: Any, b: Any = UNDEFINED) -> float:
    if b is UNDEFINED:
        return -to_number(a)
    return to_number(a) - to_number(b)


def _in(a: Any, b: Any) -> bool:
    if isinstance(b, str):
        return to_string(a) in b
    if isinstance(b, list):
        return any(strict_equal(a, x) for x in b)
    return False


def _cat(*args: Any) -> str:
    return "".join("" if a is None or a is UNDEFINED else to_string(a) for a in args)


def _substr(source: Any, start: Any = 0, length: Any = UNDEFINED) -> str:
    text = to_string(source)
    s = int(to_number(start)) if not math.isnan(to_number(start)) else 0
    if s < 0:
        s = max(len(text) + s, 0)
    rest = text[s:]
    if length is UNDEFINED:
        return rest
    n = to_number(length)
    n = 0 if math.isnan(n) else int(n)
    if n < 0:
        return rest[: max(len(rest) + n, 0)]
    return rest[:n]


def _merge(*args: Any) -> list[Any]:
    out: list[Any] = []
    for a in args:
        out.extend(a if isinstance(a, list) else [a])
    return out


def _compare(op: Callable[[Any, Any], bool]) -> Callable[..., bool]:
    def between(a: Any, b: Any = UNDEFINED, c: Any = UNDEFINED) -> bool:
        if c is UNDEFINED:
            return op(a, b)
        return op(a, b) and op(b, c)

    return between


OPERATIONS: dict[str, Callable[..., Any]] = {
    "==": lambda a=UNDEFINED, b=UNDEFINED: loose_equal(a, b),
    "===": lambda a=UNDEFINED, b=UNDEFINED: strict_equal(a, b),
    "!=": lambda a=UNDEFINED, b=UNDEFINED: not loose_equal(a, b),
    "!==": lambda a=UNDEFINED, b=UNDEFINED: not strict_equal(a, b),
    ">": lambda a=UNDEFINED, b=UNDEFINED: less_than(b, a),
    ">=": lambda a=UNDEFINED, b=UNDEFINED: less_than(b, a, or_equal=True),
    "<": _compare(lambda a, b: less_than(a, b)),
    "<=": _compare(lambda a, b: less_than(a, b, or_equal=True)),
    "!!": lambda a=UNDEFINED, *_: truthy(a),
    "!": lambda a=UNDEFINED, *_: not truthy(a),
    "%": _remainder,
    "in": lambda a=UNDEFINED, b=UNDEFINED: _in(a, b),
    "cat": _cat,
    "substr": _substr,
    "+": _plus,
    "*": _times,
    "-": _minus,
    "/": _divide,
    "min": _js_min,
    "max": _js_max,
    "merge": _merge,
    "log": lambda a=UNDEFINED, *_: a,
}

#: Operations that decide themselves which arguments to evaluate.
CONTROL = frozenset({"if", "?:", "and", "or", "filter", "map", "reduce", "all", "none", "some"})
DATA = frozenset({"var", "missing", "missing_some"})
KNOWN_OPERATIONS = frozenset(OPERATIONS) | CONTROL | DATA


def is_logic(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1


def get_var(data: Any, path: Any = UNDEFINED, default: Any = UNDEFINED) -> Any:
    not_found = None if default is UNDEFINED else default
    if path is UNDEFINED or path is None or path == "":
        return data
    for part in to_string(path).split("."):
        if data is None or data is UNDEFINED:
            return not_found
        if isinstance(data, Mapping):
            data = data.get(part, UNDEFINED)
        elif isinstance(data, (list, str)):
            try:
                index = int(part)
            except ValueError:
                return not_found
            data = data[index] if 0 <= index < len(data) else UNDEFINED
        else:
            data = UNDEFINED
        if data is UNDEFINED:
            return not_found
    return data


def apply(logic: Any, data: Any = None) -> Any:
    """Evaluate ``logic`` against ``data`` (a JSON-like value; absent keys are undefined)."""
    if isinstance(logic, list):
        return [apply(item, data) for item in logic]
    if not is_logic(logic):
        return logic
    data = {} if data is None else data
    ((op, values),) = logic.items()
    if not isinstance(values, list):
        values = [values]
    if op in ("if", "?:"):
        i = 0
        while i < len(values) - 1:
            if truthy(apply(values[i], data)):
                return apply(values[i + 1], data)
            i += 2
        return apply(values[i], data) if len(values) == i + 1 else None
    if op == "and":
        current: Any = UNDEFINED
        for value in values:
            current = apply(value, data)
            if not truthy(current):
                return current
        return current
    if op == "or":
        current = UNDEFINED
        for value in values:
            current = apply(value, data)
            if truthy(current):
                return current
        return current
    if op in ("filter", "map", "all", "none", "some"):
        scoped = apply(values[0], data) if values else UNDEFINED
        inner = values[1] if len(values) > 1 else None
        items = scoped if isinstance(scoped, list) else []
        if op == "map":
            return [apply(inner, item) for item in items]
        if op == "all":
            return bool(items) and all(truthy(apply(inner, item)) for item in items)
        kept = [item for item in items if truthy(apply(inner, item))]
        if op == "filter":
            return kept
        return len(kept) == 0 if op == "none" else len(kept) > 0
    if op == "reduce":
        scoped = apply(values[0], data) if values else UNDEFINED
        inner = values[1] if len(values) > 1 else None
        accumulator = apply(values[2], data) if len(values) > 2 else None
        if not isinstance(scoped, list):
            return accumulator
        for item in scoped:
            accumulator = apply(inner, {"current": item, "accumulator": accumulator})
        return accumulator
    args = [apply(v, data) for v in values]
    if op == "var":
        return get_var(data, *args[:2])
    if op == "missing":
        keys = args[0] if args and isinstance(args[0], list) else args
        return [k for k in keys if get_var(data, k) in (None, "")]
    if op == "missing_some":
        need, options = args[0], args[1]
        missing = [k for k in options if get_var(data, k) in (None, "")]
        return [] if len(options) - len(missing) >= to_number(need) else missing
    fn = OPERATIONS.get(op)
    if fn is None:
        raise JsonLogicError(f"Unrecognized operation {op}")
    return fn(*args)


def contribution(value: Any, weight: float) -> float:
    """What a rule's result adds to a score: its weight when it is a boolean true, weight
    times the value when it is a finite number, nothing otherwise (false, null, NaN,
    text)."""
    if value is True:
        return float(weight)
    if is_number(value) and math.isfinite(value):
        return float(weight) * float(value)
    return 0.0
