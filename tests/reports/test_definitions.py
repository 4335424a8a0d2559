"""Who may read and change a saved report: its owner, everyone when it is shared,
managers read all, admins change all, viewers only read."""

from __future__ import annotations

import pytest

from ogcrm.db.session import Database
from ogcrm.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from ogcrm.reports.definitions import (
    delete_report,
    find_report,
    get_report,
    list_reports,
    parse,
    save_report,
)

COUNT = {"subject": "permits", "dimensions": ["county"], "metrics": ["count"]}


@pytest.fixture
def people(db: Database, users) -> dict:
    return {
        role: users.create(role).principal(db) for role in ("sales", "manager", "admin", "viewer")
    } | {"other": users.create("sales").principal(db)}


def test_owners_sharing_and_roles(db, people):
    with db.unit_of_work() as s:
        private = save_report(s, people["sales"], name="Mine", definition=COUNT).id
        shared = save_report(s, people["sales"], name="Ours", definition=COUNT, shared=True).id
    with db.read() as s:
        assert {r.id for r in list_reports(s, people["other"])} == {shared}
        assert {r.id for r in list_reports(s, people["manager"])} == {private, shared}
        assert {r.id for r in list_reports(s, people["viewer"])} == {shared}
        with pytest.raises(NotFound):
            get_report(s, people["other"], private)
    with db.unit_of_work() as s, pytest.raises(PermissionDenied):
        save_report(s, people["viewer"], name="Nope", definition=COUNT)
    with db.unit_of_work() as s, pytest.raises(PermissionDenied):
        delete_report(s, people["other"], shared)  # readable, not theirs
    with db.unit_of_work() as s, pytest.raises(PermissionDenied):
        delete_report(s, people["manager"], shared)  # managers read every report, write their own
    with db.unit_of_work() as s:
        delete_report(s, people["admin"], shared)
    with db.read() as s:
        assert [r.id for r in list_reports(s, people["other"])] == []


def test_names_are_unique_per_owner_and_found_by_name(db, people):
    with db.unit_of_work() as s:
        mine = save_report(s, people["sales"], name="Permits", definition=COUNT, shared=True).id
        theirs = save_report(s, people["other"], name="Permits", definition=COUNT, shared=True).id
    with db.unit_of_work() as s, pytest.raises(Conflict, match="already have a report named"):
        save_report(s, people["sales"], name=" Permits ", definition=COUNT)
    with db.read() as s:
        assert find_report(s, people["sales"], "Permits").id == mine  # one's own first
        assert find_report(s, people["other"], "Permits").id == theirs
        with pytest.raises(InvalidInput, match="2 reports are named 'Permits'"):
            find_report(s, people["manager"], "Permits")


@pytest.mark.parametrize(
    ("definition", "field"),
    [
        ([], "definition"),
        ({**COUNT, "metrics": []}, "metrics"),
        ({**COUNT, "dimensions": ["county", "county"]}, "dimensions"),
        ({**COUNT, "limit": 0}, "limit"),
        ({**COUNT, "limit": True}, "limit"),
        ({**COUNT, "chart": {"mark": "radar"}}, "chart.mark"),
        ({**COUNT, "filters": [{"dimension": "county"}]}, "filters[0]"),
        ({**COUNT, "filters": [{"dimension": "county", "in": [{"$ne": 1}]}]}, "filters[0].in"),
        ({**COUNT, "periodOn": "yesterday"}, "periodOn"),
        (
            {"subject": "cell_issues", "dimensions": [], "metrics": ["count"], "segment": 1},
            "segment",
        ),
    ],
)
def test_malformed_definitions_name_their_field(definition, field):
    with pytest.raises(InvalidInput) as caught:
        parse(definition)
    assert caught.value.field == field


def test_a_segment_narrows_a_report_to_its_members(db, people):
    from decimal import Decimal

    from ogcrm.accounts import segments
    from ogcrm.db import models as m
    from ogcrm.reports.run import run

    with db.unit_of_work() as s:
        for name, state, amount in (("Texan LLC", "TX", 700), ("Sooner LLC", "OK", 50)):
            org = m.Organization(name=name, normalized_name=name.upper(), state=state)
            s.add(org)
            s.flush()
            s.add(m.Opportunity(organization_id=org.id, name="deal", stage="proposal",
                                amount=Decimal(amount)))  # fmt: skip
        texas = segments.create_segment(
            s, people["manager"], name="Texas", logic={"==": [{"var": "state"}, "TX"]}
        ).id
    definition = {"subject": "opportunities", "dimensions": [], "metrics": ["count", "amount"]}
    with db.read() as s:
        everyone = run(s, people["manager"], parse(definition))
        members = run(s, people["manager"], parse({**definition, "segment": texas}))
    assert everyone.rows == [[2, 750.0]]
    assert members.rows == [[1, 700.0]]
