"""A segment condition that only asks whether a count is zero (``permits_90d >= 1``,
``overdue_tasks == 0``) is compiled to EXISTS over the rows the scorer counts instead of
counting them. Its members must be exactly those the JSON-logic interpreter picks from
the computed features, for every such form, for the forms that must still count, and
mixed with other conditions."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from ogcrm.accounts import segments
from ogcrm.accounts.organizations import create_organization
from ogcrm.auth.principal import system_principal
from ogcrm.db.models import (
    Opportunity,
    OpportunityStage,
    Organization,
    Permit,
    Segment,
    Task,
    TaskStatus,
    Well,
)
from ogcrm.db.session import Database
from ogcrm.db.types import utcnow
from ogcrm.rules.jsonlogic import apply, truthy
from ogcrm.scoring.features import catalog, features_select, interpreter_data

COUNTED = ("permits_90d", "active_wells", "new_wells_12m", "counties", "open_opportunities")


@pytest.fixture
def market(db: Database) -> None:
    """Operators with none, one and several of each counted thing, and things that
    are not counted: a permit older than 90 days, a plugged well, a won opportunity, a
    task done or not yet due."""
    today = utcnow().date()
    system = system_principal("test")
    with db.unit_of_work() as s:
        orgs = [
            create_organization(s, system, name=f"Operator {i}", state=state)
            for i, state in enumerate(["TX", "TX", "TX", "NM", "NM", "OK"])
        ]
        a, b, c, d, e, _ = (o.id for o in orgs)
        for n, (operator, days) in enumerate([(a, 10), (b, 10), (b, 20), (c, 200), (d, 5)]):
            s.add(Permit(agency="rrc", permit_number=f"P{n}", operator_id=operator,
                         issued_on=today - dt.timedelta(days=days)))  # fmt: skip
        for n, (operator, status, spud, county) in enumerate(
            [
                (a, "ACTIVE", today - dt.timedelta(days=30), "REEVES"),
                (a, "PA", None, None),
                (b, "PLUGGED", today - dt.timedelta(days=800), "LEA"),
                (c, "ACTIVE", today - dt.timedelta(days=800), None),
                (c, "ACTIVE", None, None),
                (e, "PA", None, None),
            ]
        ):
            s.add(Well(api10=f"42{n:08d}", operator_id=operator, status=status, spud_date=spud,
                       county=county))  # fmt: skip
        for operator, stage in [(a, OpportunityStage.PROPOSAL), (b, OpportunityStage.WON)]:
            s.add(Opportunity(organization_id=operator, name="frac sand", stage=stage))
        now = utcnow()
        for operator, due, status in [
            (a, now - dt.timedelta(days=2), TaskStatus.OPEN),
            (b, now - dt.timedelta(days=2), TaskStatus.DONE),
            (c, now + dt.timedelta(days=2), TaskStatus.OPEN),
            (d, now - dt.timedelta(days=1), TaskStatus.OPEN),
            (d, now - dt.timedelta(days=9), TaskStatus.OPEN),
        ]:
            s.add(Task(organization_id=operator, title="call back", due_at=due, status=status))


def _var(name: str) -> dict[str, Any]:
    return {"var": name}


FILTERS: list[Any] = [
    *({">=": [_var(f), 1]} for f in COUNTED),
    *({"==": [_var(f), 0]} for f in COUNTED),
    {">": [_var("overdue_tasks"), 0]},
    {"<": [_var("overdue_tasks"), 1]},
    {"!=": [_var("permits_90d"), 0]},
    {"!==": [_var("features.permits_90d"), 0]},
    {"===": [_var("permits_90d"), 0]},
    {"<=": [1, _var("permits_90d")]},  # the number on the left
    {">": [1, _var("permits_90d")]},
    {">=": [0, _var("open_opportunities")]},
    {"<": [0, _var("open_opportunities")]},
    {"==": [0, _var("counties")]},
    {">=": [_var("permits_90d"), 0.5]},
    {"<=": [_var("permits_90d"), 0]},
    # these must count
    {">=": [_var("permits_90d"), 2]},
    {"==": [_var("permits_90d"), 1]},
    {">=": [_var("overdue_tasks"), 2]},
    {">=": [_var("permits_90d"), 0]},
    {"<": [_var("permits_90d"), 5]},
    {">=": [_var(["permits_90d", 0]), 1]},  # a default: not taken apart
    # mixed: conjuncts taken apart, the rest compiled as before
    {"and": [{"==": [_var("state"), "TX"]}, {">=": [_var("permits_90d"), 1]}]},
    {"and": [{">=": [_var("permits_90d"), 1]}, {"and": [{"==": [_var("overdue_tasks"), 0]}]}]},
    {"and": [{">=": [_var("active_wells"), 1]}, {">=": [_var("permits_90d"), 2]}]},
    {"and": [{">=": [_var("permits_90d"), 1]}, {">=": [_var("permits_90d"), 2]}]},
    {"or": [{">=": [_var("permits_90d"), 1]}, {"==": [_var("state"), "OK"]}]},
    {"!": {">=": [_var("permits_90d"), 1]}},
    {"and": [{">=": [_var("oil_bbl_12m"), 1]}, {">=": [_var("permits_90d"), 1]}]},
]


def _expected(db: Database, logic: Any) -> set[int]:
    """The interpreter's verdict over the features as the rescore computes them."""
    types = {name: feature.type for name, (feature, _) in catalog().items()}
    with db.read() as s:
        rows = s.execute(features_select(s.get_bind().dialect.name, now=utcnow())).mappings()
        features = {r["organization_id"]: interpreter_data(dict(r), types) for r in rows}
        states = {i: st for i, st in s.execute(select(Organization.id, Organization.state))}
    return {
        org_id
        for org_id, data in features.items()
        if truthy(apply(logic, {**data, "features": data, "state": states[org_id]}))
    }


@pytest.mark.parametrize("logic", FILTERS, ids=lambda logic: str(logic))
def test_members_are_those_the_interpreter_picks(db: Database, market: None, logic: Any):
    assert segments.validate_filter(logic) == []
    expected = _expected(db, logic)
    system = system_principal("test")
    segment = Segment(name="s", filter=logic)
    with db.read() as s:
        rows, more = segments.members(s, system, segment, first=50)
        count = segments.count_members(s, system, segment)
    assert {o.id for o in rows} == expected and not more
    assert count == len(expected)


@pytest.mark.parametrize("logic", FILTERS[:2] + FILTERS[5:7])
def test_each_filter_picks_some_but_not_all(db: Database, market: None, logic: Any):
    """The fixture is not degenerate: each presence test splits the operators."""
    assert 0 < len(_expected(db, logic)) < 6


def _compiled(db: Database, logic: Any) -> str:
    with db.read() as s:
        stmt = segments.member_ids(s, logic)
        return str(stmt.compile(s.get_bind()))


@pytest.mark.parametrize(
    ("logic", "form"),
    [
        ({">=": [_var("permits_90d"), 1]}, "EXISTS"),
        ({">": [_var("permits_90d"), 0]}, "EXISTS"),
        ({"!=": [_var("permits_90d"), 0]}, "EXISTS"),
        ({"<": [0, _var("permits_90d")]}, "EXISTS"),
        ({"<=": [1, _var("permits_90d")]}, "EXISTS"),
        ({"==": [_var("overdue_tasks"), 0]}, "NOT (EXISTS"),
        ({"<": [_var("overdue_tasks"), 1]}, "NOT (EXISTS"),
        ({">=": [0, _var("overdue_tasks")]}, "NOT (EXISTS"),
        ({">": [1, _var("overdue_tasks")]}, "NOT (EXISTS"),
        ({">=": [_var("permits_90d"), 2]}, "scorer_permits"),
        ({"==": [_var("permits_90d"), 1]}, "scorer_permits"),
        ({"<": [_var("permits_90d"), 5]}, "scorer_permits"),
    ],
)
def test_which_tests_read_the_counted_rows(db: Database, logic: Any, form: str):
    sql = _compiled(db, logic)
    assert form in sql
    assert ("EXISTS" in sql) is (form != "scorer_permits")
    assert ("scorer_" in sql) is (form == "scorer_permits")


def test_a_zero_test_beside_other_conditions_joins_no_aggregate(db: Database):
    presence = _compiled(
        db, {"and": [{"==": [_var("state"), "TX"]}, {">=": [_var("permits_90d"), 1]}]}
    )
    assert "EXISTS" in presence and "scorer_permits" not in presence
