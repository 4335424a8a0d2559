"""Service requests as staff meet them: routed by the rules (first match wins, no match
goes to the default queue), an SLA from kind and priority, states that refuse illegal
moves, feedback once; and rules that fail validation refused with their pointer."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from ogcrm.accounts import routing
from ogcrm.accounts.organizations import create_organization
from ogcrm.auth.principal import system_principal
from ogcrm.auth.users import create_team
from ogcrm.db.models import ServiceRequestPriority, ServiceRequestStatus, Well
from ogcrm.db.session import Database
from ogcrm.db.types import utcnow
from ogcrm.errors import Conflict, InvalidInput, PermissionDenied
from ogcrm.rules.ruleset import RuleSetInvalid
from ogcrm.sales import service_requests as sr

_U, _N, _H = (
    ServiceRequestPriority.URGENT,
    ServiceRequestPriority.NORMAL,
    ServiceRequestPriority.HIGH,
)


@pytest.fixture
def desk(db: Database, users) -> dict:
    staff = {name: users.create("sales") for name in ("permian", "reeves", "wells", "keyaccounts")}
    manager = users.create("manager")
    with db.unit_of_work() as s:
        team = create_team(s, system_principal("test"), "New Mexico field team").id
        big = create_organization(
            s, manager.principal(db), name="Big Operator LLC", priority=80.0, owner_id=manager.id
        ).id
        small = create_organization(
            s, manager.principal(db), name="Small Operator LLC", priority=10.0, owner_id=manager.id
        ).id
    rules = [
        routing.RuleInput(
            "urgent Permian",
            {"and": [{"==": [{"var": "basin"}, "PERMIAN"]}, {">=": [{"var": "priority_rank"}, 4]}]},
            assign_user_id=staff["permian"].id,
        ),
        routing.RuleInput(
            "disabled", {"==": [1, 1]}, assign_user_id=staff["wells"].id, enabled=False
        ),
        routing.RuleInput(
            "Reeves county",
            {"==": [{"var": "county"}, "REEVES"]},
            assign_user_id=staff["reeves"].id,
        ),
        routing.RuleInput("New Mexico", {"==": [{"var": "state"}, "NM"]}, assign_team_id=team),
        routing.RuleInput(
            "well service",
            {"==": [{"var": "kind"}, "well_service"]},
            assign_user_id=staff["wells"].id,
        ),
        routing.RuleInput(
            "big accounts",
            {">=": [{"var": "organization_score"}, 50]},
            assign_user_id=staff["keyaccounts"].id,
        ),
    ]
    with db.unit_of_work() as s:
        routing.save_rules(s, manager.principal(db), rules)
    return {"staff": staff, "manager": manager, "team": team, "big": big, "small": small}


ROUTES = [
    # (county, state, kind, priority, account) -> rule that assigns it (None: default queue)
    (("Reeves", "TX", "inspection", _U, "small"), "urgent Permian"),  # first match wins
    (("Reeves County", "TX", "inspection", _N, "small"), "Reeves county"),
    (("Eddy", "NM", "inspection", _N, "small"), "New Mexico"),
    (("Eddy", "NM", "inspection", _U, "small"), "urgent Permian"),
    (("Weld", "CO", "well_service", _N, "small"), "well service"),
    (("Weld", "CO", "inspection", _H, "big"), "big accounts"),
    (("Weld", "CO", "inspection", _N, "small"), None),
]


@pytest.mark.parametrize(("where", "rule"), ROUTES, ids=[str(r[1]) for r in ROUTES])
def test_routing_assigns_by_the_first_rule_that_holds(db: Database, desk: dict, where, rule):
    county, state, kind, priority, account = where
    with db.unit_of_work() as s:
        row = sr.create_service_request(
            s, desk["manager"].principal(db), organization_id=desk[account], kind=kind,
            subject="pump jack noise", priority=priority, county=county, state=state,
        )  # fmt: skip
        assigned = (row.routed_by_rule, row.assignee_id, row.team_id)
    expected_user = {
        "urgent Permian": desk["staff"]["permian"].id,
        "Reeves county": desk["staff"]["reeves"].id,
        "well service": desk["staff"]["wells"].id,
        "big accounts": desk["staff"]["keyaccounts"].id,
    }.get(rule)
    expected_team = desk["team"] if rule == "New Mexico" else None
    assert assigned == (rule, expected_user, expected_team)


def test_rules_that_fail_validation_are_refused_with_their_pointer(db: Database, desk: dict):
    bad = [
        routing.RuleInput(
            "ok", {"==": [{"var": "county"}, "REEVES"]}, assign_user_id=desk["manager"].id
        ),
        routing.RuleInput(
            "typo", {"==": [{"var": "countyy"}, "REEVES"]}, assign_user_id=desk["manager"].id
        ),
        routing.RuleInput(
            "op", {"near": [{"var": "county"}, 1]}, assign_user_id=desk["manager"].id
        ),
        routing.RuleInput("nobody", {"==": [1, 1]}),
    ]
    with db.unit_of_work() as s, pytest.raises(RuleSetInvalid) as refused:
        routing.save_rules(s, desk["manager"].principal(db), bad)
    faults = [(f.rule, f.path) for f in refused.value.faults]
    assert faults == [
        ("typo", "/rules/1/logic/==/0/var"),
        ("op", "/rules/2/logic/near"),
        ("nobody", "/rules/3"),
    ]
    with db.read() as s:  # nothing saved: the earlier rules still route
        assert routing.stored_rules(s)[0].name == "urgent Permian"


def test_a_rep_may_not_change_the_routing_rules(db: Database, desk: dict):
    with db.unit_of_work() as s, pytest.raises(PermissionDenied):
        routing.save_rules(s, desk["staff"]["wells"].principal(db), [])


def test_preview_shows_where_open_requests_would_go_and_saves_nothing(db: Database, desk: dict):
    manager = desk["manager"].principal(db)
    with db.unit_of_work() as s:
        row = sr.create_service_request(
            s, manager, organization_id=desk["small"], kind="inspection", subject="gauge",
            county="Weld", state="CO",
        )  # fmt: skip
        request_id = row.id
    proposed = [
        routing.RuleInput("Colorado", {"==": [{"var": "state"}, "CO"]}, assign_team_id=desk["team"])
    ]
    with db.read() as s:
        (shown,) = [p for p in routing.preview(s, manager, proposed) if p.request_id == request_id]
        assert (shown.rule, shown.team_id) == ("Colorado", desk["team"])
        assert routing.stored_rules(s)[0].name == "urgent Permian"


def test_sla_states_and_feedback_once(db: Database, desk: dict):
    manager = desk["manager"].principal(db)
    with db.unit_of_work() as s:
        s.add(Well(api10="4238912345", state="TX", county="Reeves"))
    before = utcnow()
    with db.unit_of_work() as s:
        row = sr.create_service_request(
            s, manager, organization_id=desk["small"], kind="well down", subject="ESP tripped",
            priority=_U, api_number="42-389-12345",
        )  # fmt: skip
        request_id, due = row.id, row.sla_due_at
        assert (row.kind, row.county, row.state) == ("well_down", "REEVES", "TX")
        assert row.routed_by_rule == "urgent Permian"  # routed from the well's location
    assert dt.timedelta(hours=2) <= due - before < dt.timedelta(hours=2, minutes=1)
    with db.unit_of_work() as s, pytest.raises(Conflict) as refused:
        sr.record_feedback(s, manager, request_id, rating=5)
    assert refused.value.state == "open"
    with db.unit_of_work() as s, pytest.raises(InvalidInput) as missing:
        sr.move_service_request(s, manager, request_id, "resolve")
    assert missing.value.field == "resolution"
    with db.unit_of_work() as s:
        sr.move_service_request(s, manager, request_id, "start")
        row = sr.move_service_request(s, manager, request_id, "resolve", resolution="reset the VFD")
        assert row.status is ServiceRequestStatus.RESOLVED and row.resolved_at is not None
    with db.unit_of_work() as s, pytest.raises(Conflict) as refused:
        sr.move_service_request(s, manager, request_id, "start")
    assert refused.value.state == "resolved"
    with db.unit_of_work() as s, pytest.raises(InvalidInput):
        sr.record_feedback(s, manager, request_id, rating=6)
    with db.unit_of_work() as s:
        row = sr.record_feedback(s, manager, request_id, rating=4, comment="fast")
        assert (row.rating, row.feedback) == (4, "fast")
    with db.unit_of_work() as s, pytest.raises(Conflict, match="already"):
        sr.record_feedback(s, manager, request_id, rating=1)


def test_organization_rules_route_the_prospects_a_merge_creates(db: Database, desk: dict, tmp_path):
    """DESIGN §6: a merged dataset's new operators go to whoever the rules name: the
    county is where the operator holds its permits."""
    from ogcrm.datasets.merge import approve_and_merge
    from ogcrm.db.models import Organization
    from tests.datasets.test_intake_and_staging import _import

    manager = desk["manager"].principal(db)
    rules = [
        routing.RuleInput(
            "Permian prospects", {"==": [{"var": "basin"}, "PERMIAN"]},
            assign_user_id=desk["staff"]["permian"].id, applies_to=routing.ORGANIZATION,
        ),
    ]  # fmt: skip
    with db.unit_of_work() as s:
        routing.save_rules(s, manager, rules)
    path = tmp_path / "permits.csv"
    path.write_text(
        "permit_number,api,operator_name,county,state\n"
        "P1,42-389-00001,Loving Fields LLC,Reeves,TX\n"
        "P2,35-003-00002,Plains Oklahoma Inc,Alfalfa,OK\n"
    )
    received = _import(db, path, tmp_path / "data")
    with db.unit_of_work() as s:
        counts = approve_and_merge(s, manager, received.dataset_id)
    with db.read() as s:
        owners = dict(s.execute(
            select(Organization.name, Organization.owner_id).where(
                Organization.dataset_id == received.dataset_id
            )
        ).all())  # fmt: skip
    assert counts["routed"] == 1
    assert owners == {"Loving Fields LLC": desk["staff"]["permian"].id, "Plains Oklahoma Inc": None}


def test_an_organization_rule_assigns_a_user_not_a_team(db: Database, desk: dict):
    with db.unit_of_work() as s, pytest.raises(RuleSetInvalid) as refused:
        routing.save_rules(
            s,
            desk["manager"].principal(db),
            [
                routing.RuleInput(
                    "t",
                    {"==": [1, 1]},
                    assign_team_id=desk["team"],
                    applies_to=routing.ORGANIZATION,
                )
            ],
        )
    assert refused.value.faults[0].message == "an organization is owned by a user, not a team"
