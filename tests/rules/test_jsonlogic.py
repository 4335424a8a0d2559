"""The interpreter: the official JsonLogic suite, and null/missing values as
json-logic-js treats them."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from ogcrm.rules.jsonlogic import JsonLogicError, apply


def _same(got, expected) -> bool:
    """JSON equality that does not let True pass for 1, nor "1" for 1."""
    if isinstance(expected, bool) or isinstance(got, bool):
        return got is expected
    if isinstance(expected, list):
        return (
            isinstance(got, list)
            and len(got) == len(expected)
            and all(_same(g, e) for g, e in zip(got, expected, strict=True))
        )
    if isinstance(expected, dict):
        return (
            isinstance(got, dict)
            and got.keys() == expected.keys()
            and all(_same(got[k], expected[k]) for k in expected)
        )
    if isinstance(expected, (int, float)):
        return isinstance(got, (int, float)) and got == expected
    return type(got) is type(expected) and got == expected


def _suite(shared_data: Path) -> list[tuple[str, object, object, object]]:
    items = json.loads((shared_data / "jsonlogic" / "tests.json").read_text())
    section, cases = "", []
    for item in items:
        if isinstance(item, str):
            section = item
        else:
            cases.append((section, *item))
    return cases


def test_official_suite_passes_every_case(shared_data: Path):
    cases = _suite(shared_data)
    assert len(cases) == 277
    failures = []
    for section, rule, data, expected in cases:
        got = apply(rule, data)
        if not _same(got, expected):
            failures.append((section, rule, data, expected, got))
    assert failures == []


@pytest.mark.parametrize(
    ("rule", "data", "expected"),
    [
        # null compares as 0 in relational operators (JS ToNumber)
        ({"<": [None, 5]}, {}, True),
        ({">": [None, -1]}, {}, True),
        ({"<": [{"var": "x"}, 5]}, {"x": None}, True),
        # an absent variable is null (var's default), so it compares as 0 too
        ({"<": [{"var": "x"}, 5]}, {}, True),
        ({"==": [{"var": "x"}, None]}, {}, True),
        ({"==": [None, 0]}, {}, False),
        # arithmetic: + and * parse (null -> NaN); - and / convert (null -> 0)
        ({"+": [None, 1]}, {}, math.nan),
        ({"-": [None, 1]}, {}, -1.0),
        ({"/": [None, 2]}, {}, 0.0),
        ({"/": [1, 0]}, {}, math.inf),
        ({"%": [5, 0]}, {}, math.nan),
        ({"min": [None, 3]}, {}, 0.0),
        ({"max": [{"var": "x"}, -1]}, {}, 0.0),
        ({"cat": ["a", None, 1]}, {}, "a1"),
        ({"in": ["a", None]}, {}, False),
        ({"var": ["x", 7]}, {"x": None}, None),  # present null is not replaced by the default
        ({"var": ["x", 7]}, {}, 7),
        ({"missing": ["a", "b", "c"]}, {"a": 1, "b": None, "c": ""}, ["b", "c"]),
        ({"missing_some": [1, ["a", "b"]]}, {"b": 2}, []),
        ({"substr": [None, 1]}, {}, "ull"),
    ],
)
def test_nulls_and_missing_values_behave_as_in_javascript(rule, data, expected):
    got = apply(rule, data)
    if isinstance(expected, float) and math.isnan(expected):
        assert isinstance(got, float) and math.isnan(got)
    else:
        assert _same(got, expected), got


def test_unknown_operation_is_refused():
    with pytest.raises(JsonLogicError, match="Unrecognized operation nope"):
        apply({"nope": [1]})
