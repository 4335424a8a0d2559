"""The SQL compiler agrees with the interpreter: random rules x random features, on the
configured database (SQLite by default, PostgreSQL in CI's second run).

Each example compiles a generated rule, evaluates it in SQL over a few generated feature
rows, and compares every row's contribution with the interpreter's on the same values.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import (
    Column,
    Float,
    Integer,
    MetaData,
    Table,
    Text,
    create_engine,
    delete,
    insert,
    select,
)

from ogcrm.rules.compiler import Unsupported, compile_rule, contribution_sql
from ogcrm.rules.jsonlogic import apply, contribution

FEATURE_TYPES = {"n1": "number", "n2": "number", "s1": "string", "tags": "list"}
metadata = MetaData()
features_table = Table(
    "rule_test_features",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("n1", Float),
    Column("n2", Float),
    Column("s1", Text),
    Column("tags", Text, nullable=False),
)


@pytest.fixture(scope="module")
def engine(database_factory):
    eng = create_engine(database_factory.empty())
    metadata.create_all(eng)
    yield eng
    eng.dispose()


def _features() -> dict[str, tuple[Any, str]]:
    return {name: (features_table.c[name], kind) for name, kind in FEATURE_TYPES.items()}


# --------------------------------------------------------------------------- strategies

numbers = st.one_of(
    st.integers(-50, 50),
    st.floats(-1e4, 1e4, allow_nan=False, allow_infinity=False).map(lambda x: round(x, 3)),
)
texts = st.sampled_from(["", "a", "ab", "b", "ba", "null", "Acme", "ACME"])
tag_names = st.sampled_from(["vip", "key", "gom"])
non_zero = st.one_of(st.integers(1, 9), st.integers(-9, -1), st.sampled_from([0.5, 2.5, -4.0]))


def number_rules(depth: int) -> st.SearchStrategy[Any]:
    leaves = st.one_of(
        numbers,
        st.sampled_from([{"var": "n1"}, {"var": "n2"}]),
        st.tuples(st.sampled_from(["n1", "n2"]), numbers).map(lambda t: {"var": [t[0], t[1]]}),
    )
    if depth <= 0:
        return leaves
    sub = number_rules(depth - 1)
    return st.one_of(
        leaves,
        st.tuples(st.sampled_from(["+", "*", "-", "min", "max"]), sub, sub).map(
            lambda t: {t[0]: [t[1], t[2]]}
        ),
        sub.map(lambda a: {"-": [a]}),
        st.tuples(sub, non_zero).map(lambda t: {"/": [t[0], t[1]]}),
        st.tuples(sub, st.integers(1, 7)).map(lambda t: {"%": [t[0], t[1]]}),
        st.tuples(bool_rules(depth - 1), sub, sub).map(lambda t: {"if": [t[0], t[1], t[2]]}),
        st.tuples(st.sampled_from(["and", "or"]), sub, sub).map(lambda t: {t[0]: [t[1], t[2]]}),
    )


def string_rules(depth: int) -> st.SearchStrategy[Any]:
    leaves = st.one_of(texts, st.just({"var": "s1"}))
    if depth <= 0:
        return leaves
    sub = string_rules(depth - 1)
    return st.one_of(
        leaves,
        st.tuples(sub, sub).map(lambda t: {"cat": [t[0], t[1]]}),
        st.tuples(sub, st.integers(0, 3), st.integers(0, 3)).map(
            lambda t: {"substr": [t[0], t[1], t[2]]}
        ),
    )


def bool_rules(depth: int) -> st.SearchStrategy[Any]:
    num = number_rules(max(depth - 1, 0))
    text = string_rules(max(depth - 1, 0))
    leaves = st.one_of(
        st.tuples(st.sampled_from(["<", "<=", ">", ">=", "==", "!=", "===", "!=="]), num, num).map(
            lambda t: {t[0]: [t[1], t[2]]}
        ),
        st.tuples(st.sampled_from(["<", "<="]), num, num, num).map(
            lambda t: {t[0]: [t[1], t[2], t[3]]}
        ),
        st.tuples(st.sampled_from(["==", "!="]), st.sampled_from(["n1", "s1"])).map(
            lambda t: {t[0]: [{"var": t[1]}, None]}
        ),
        st.tuples(st.sampled_from(["==", "!="]), text, text).map(lambda t: {t[0]: [t[1], t[2]]}),
        st.tuples(texts, texts).map(lambda t: {"<": [t[0], t[1]]}),
        st.tuples(st.just({"var": "s1"}), st.lists(texts, max_size=3)).map(
            lambda t: {"in": [t[0], t[1]]}
        ),
        st.tuples(num, st.lists(st.integers(-3, 3), max_size=3)).map(
            lambda t: {"in": [t[0], t[1]]}
        ),
        tag_names.map(lambda t: {"in": [t, {"var": "tags"}]}),
        st.tuples(texts, st.just({"var": "s1"})).map(lambda t: {"in": [t[0], t[1]]}),
        st.tuples(st.just({"var": "s1"}), texts).map(lambda t: {"in": [t[0], t[1]]}),
        st.lists(st.sampled_from(["n1", "n2", "s1", "tags"]), min_size=1, max_size=3).map(
            lambda keys: {"!": {"missing": keys}}
        ),
        st.tuples(
            st.integers(0, 3), st.lists(st.sampled_from(["n1", "n2", "s1"]), min_size=1, max_size=3)
        ).map(lambda t: {"!!": {"missing_some": [t[0], t[1]]}}),
        st.sampled_from([{"!!": {"var": "tags"}}, {"!": {"var": "s1"}}, {"!!": {"var": "n1"}}]),
        st.booleans(),
    )
    if depth <= 0:
        return leaves
    sub = bool_rules(depth - 1)
    return st.one_of(
        leaves,
        st.tuples(st.sampled_from(["and", "or"]), sub, sub).map(lambda t: {t[0]: [t[1], t[2]]}),
        sub.map(lambda a: {"!": [a]}),
        st.tuples(sub, sub, sub).map(lambda t: {"if": [t[0], t[1], t[2]]}),
        num.map(lambda a: {"!!": [a]}),
    )


rows = st.lists(
    st.fixed_dictionaries(
        {
            "n1": st.one_of(st.none(), numbers),
            "n2": st.one_of(st.none(), numbers),
            "s1": st.one_of(st.none(), texts),
            "tags": st.lists(tag_names, unique=True, max_size=2),
        }
    ),
    min_size=1,
    max_size=6,
)


def _interpreter_data(row: dict[str, Any]) -> dict[str, Any]:
    """A feature without a value is absent from the data (``var`` then gives null, or
    its default); lists are always present."""
    return {k: v for k, v in row.items() if v is not None}


def _sql_row(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "tags": "," + ",".join(row["tags"]) + ("," if row["tags"] else "")}


def _check(engine, rule: Any, feature_rows: list[dict[str, Any]]) -> None:
    dialect = engine.dialect.name
    try:
        compiled = compile_rule(rule, _features(), dialect)
    except Unsupported:
        return  # refused with a reason: never mis-scored (refusals are tested below)
    weight = 1.5
    with engine.begin() as conn:
        conn.execute(delete(features_table))
        conn.execute(
            insert(features_table),
            [{"id": i, **_sql_row(r)} for i, r in enumerate(feature_rows)],
        )
        got = dict(
            conn.execute(
                select(features_table.c.id, contribution_sql(compiled, weight)).order_by(
                    features_table.c.id
                )
            ).all()
        )
    for i, row in enumerate(feature_rows):
        expected = contribution(apply(rule, _interpreter_data(row)), weight)
        assert math.isclose(got[i], expected, rel_tol=1e-9, abs_tol=1e-9), (
            rule,
            row,
            got[i],
            expected,
        )


PROFILE = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@PROFILE
@given(rule=bool_rules(2), feature_rows=rows)
def test_boolean_rules_agree(engine, rule, feature_rows):
    _check(engine, rule, feature_rows)


@PROFILE
@given(rule=number_rules(2), feature_rows=rows)
def test_numeric_rules_agree(engine, rule, feature_rows):
    _check(engine, rule, feature_rows)


def test_most_generated_rules_compile(engine):
    """The differential tests would pass vacuously if everything were refused."""
    compiled = refused = 0

    @settings(max_examples=200, deadline=None, database=None)
    @given(rule=st.one_of(bool_rules(2), number_rules(2)))
    def count(rule):
        nonlocal compiled, refused
        try:
            compile_rule(rule, _features(), engine.dialect.name)
            compiled += 1
        except Unsupported:
            refused += 1

    count()
    assert compiled >= 0.8 * (compiled + refused)


@pytest.mark.parametrize(
    ("rule", "path", "reason"),
    [
        ({"/": [{"var": "n1"}, {"var": "n2"}]}, "/~1/1", "divisor must be a non-zero number"),
        ({"map": [{"var": "tags"}, 1]}, "/map", "cannot be compiled"),
        ({"<": [{"var": "s1"}, "b"]}, "/<", "text that may be null"),
        ({"+": [{"var": "s1"}, 1]}, "/+/0", "arithmetic on a string"),
        ({"if": [True, 1, "x"]}, "/if", "mix"),
        ({"var": "nope"}, "/var/0", "unknown feature 'nope'"),
    ],
)
def test_refusals_say_why_and_where(rule, path, reason):
    with pytest.raises(Unsupported) as info:
        compile_rule(rule, _features(), "sqlite")
    assert info.value.path == path
    assert reason in info.value.reason
