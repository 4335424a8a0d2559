"""The sales rep's working list: filters, what each row shows, scope, and bad input."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from ogcrm.accounts.contacts import create_contact
from ogcrm.accounts.organizations import create_organization
from ogcrm.accounts.segments import create_segment, update_segment
from ogcrm.auth.principal import system_principal
from ogcrm.auth.users import set_grant
from ogcrm.db.models import (
    Action,
    AuditEvent,
    Interaction,
    InteractionKind,
    Organization,
    Permit,
    ProductionReport,
    Scope,
    Tag,
    Task,
    Well,
    organization_tag,
)
from ogcrm.db.session import Database
from ogcrm.db.types import utcnow
from ogcrm.rules.ruleset import parse
from ogcrm.scoring.overrides import set_override
from ogcrm.scoring.rule_sets import activate, save_rule_set
from tests.support import global_id, gql, token_for

TODAY = utcnow().date()

LIST = """
query($filter: OrganizationFilter, $first: Int!, $order: OrganizationOrder! = PRIORITY, $after: String) {
  prioritizedOrganizations(filter: $filter, first: $first, orderBy: $order, after: $after) {
    totalCount
    edges { cursor node { name priority score } }
    pageInfo { hasNextPage endCursor }
  }
}
"""

ROW = """
query($filter: OrganizationFilter) {
  prioritizedOrganizations(filter: $filter, first: 10) { edges { node {
    name priority
    owner { name email }
    override { value reason until by { name } }
    explanation { contributions { rule weight value contribution } }
    lastInteraction { kind subject }
    openTasks { title dueAt overdue }
    nextTaskDue
    headline { permits90d activeWells oilBbl12m gasMcf12m productionTrend }
    contacts { fullName }
  } } }
}
"""


@pytest.fixture
def world(db: Database, users):
    """Two reps; Alice owns Caprock (TX, tagged vip+permian, a fresh REEVES permit, oil,
    called today, a task) and Dormant (TX, nothing for a year); Bob owns Bobco (NM);
    Prairie is an unowned prospect in OK with an alias and an RRC number."""
    alice, bob = users.create("sales"), users.create("sales")
    manager = users.create("manager")
    system = system_principal("test")
    with db.unit_of_work() as s:
        caprock = create_organization(
            s, system, name="Caprock Operating LLC", owner_id=alice.id, state="TX"
        )
        dormant = create_organization(
            s, system, name="Dormant Oil Co", owner_id=alice.id, state="TX"
        )
        bobco = create_organization(s, system, name="Bobco Energy", owner_id=bob.id, state="NM")
        prairie = create_organization(
            s,
            system,
            name="Prairie Resources Inc",
            state="OK",
            identifiers={"rrc": "020528"},
            aliases=["PRAIRIE RES"],
        )
        s.add_all(
            [
                Permit(
                    agency="tx-rrc",
                    permit_number="P1",
                    operator_id=caprock.id,
                    issued_on=TODAY - dt.timedelta(days=10),
                    county="REEVES",
                    state="TX",
                ),
                Permit(
                    agency="tx-rrc",
                    permit_number="P2",
                    operator_id=dormant.id,
                    issued_on=TODAY - dt.timedelta(days=300),
                    county="REEVES",
                    state="TX",
                ),
                Well(
                    api10="4238912345",
                    operator_id=caprock.id,
                    status="PR",
                    county="Reeves",
                    county_fips="48389",
                ),
                Well(api10="3502512345", operator_id=prairie.id, status="PR", county="Woods"),
            ]
        )
        s.flush()
        well = s.query(Well).filter_by(api10="4238912345").one()
        s.add(
            ProductionReport(
                well_id=well.id,
                operator_id=caprock.id,
                month=TODAY.replace(day=1) - dt.timedelta(days=40),
                oil_bbl=1200.0,
                gas_mcf=300.0,
            )
        )
        s.add(
            Interaction(
                organization_id=caprock.id,
                user_id=alice.id,
                kind=InteractionKind.CALL,
                subject="intro call",
                occurred_at=utcnow() - dt.timedelta(hours=2),
            )
        )
        s.add(
            Interaction(
                organization_id=caprock.id,
                user_id=alice.id,
                kind=InteractionKind.EMAIL,
                subject="older",
                occurred_at=utcnow() - dt.timedelta(days=5),
            )
        )
        s.add(
            Interaction(
                organization_id=dormant.id,
                kind=InteractionKind.NOTE,
                occurred_at=utcnow() - dt.timedelta(days=400),
            )
        )
        s.add_all(
            [
                Task(
                    organization_id=caprock.id,
                    assignee_id=alice.id,
                    title="send quote",
                    due_at=utcnow() + dt.timedelta(days=2),
                ),
                Task(
                    organization_id=caprock.id,
                    assignee_id=alice.id,
                    title="follow up",
                    due_at=utcnow() - dt.timedelta(days=1),
                ),
            ]
        )
        vip, permian = Tag(name="vip"), Tag(name="permian")
        s.add_all([vip, permian])
        s.flush()
        s.execute(
            organization_tag.insert(),
            [
                {"organization_id": caprock.id, "tag_id": vip.id},
                {"organization_id": caprock.id, "tag_id": permian.id},
                {"organization_id": bobco.id, "tag_id": permian.id},
            ],
        )
        spec = parse(
            {
                "name": "rep priorities",
                "rules": [
                    {
                        "name": "fresh permits",
                        "logic": {">": [{"var": "permits_90d"}, 0]},
                        "weight": 10,
                    },
                    {"name": "oil", "logic": {"/": [{"var": "oil_bbl_12m"}, 100]}, "weight": 2},
                    {"name": "vip", "logic": {"in": ["vip", {"var": "tags"}]}, "weight": 5},
                ],
            }
        )
        rule_set = save_rule_set(s, system, spec)
        activate(s, system, rule_set.id)
        ids = {o.name: o.id for o in s.query(Organization)}
    return {"alice": alice, "bob": bob, "manager": manager, "ids": ids}


def _names(client: TestClient, token: str, filter: dict | None = None, **kw) -> list[str]:
    result = gql(client, LIST, token=token, filter=filter, first=kw.pop("first", 20), **kw)
    assert "errors" not in result, result
    return [e["node"]["name"] for e in result["data"]["prioritizedOrganizations"]["edges"]]


def test_a_rep_sees_own_accounts_and_prospects_by_priority(client: TestClient, world):
    token = token_for(client, world["alice"])
    # Caprock: 10 (permit) + 24 (1,200 bbl / 100 x 2) + 5 (vip) = 39
    assert _names(client, token) == [
        "Caprock Operating LLC",
        "Dormant Oil Co",
        "Prairie Resources Inc",
    ]
    result = gql(client, LIST, token=token, first=1)["data"]["prioritizedOrganizations"]
    assert result["totalCount"] == 3
    assert result["edges"][0]["node"]["priority"] == pytest.approx(39.0)
    assert result["pageInfo"]["hasNextPage"] is True


@pytest.mark.parametrize(
    ("filter", "expected"),
    [
        ({"owner": {"is": "MINE"}}, ["Caprock Operating LLC", "Dormant Oil Co"]),
        ({"owner": {"is": "UNOWNED"}}, ["Prairie Resources Inc"]),
        ({"state": "Texas"}, ["Caprock Operating LLC", "Dormant Oil Co"]),
        ({"state": "ok"}, ["Prairie Resources Inc"]),
        ({"county": "Reeves County"}, ["Caprock Operating LLC", "Dormant Oil Co"]),
        ({"county": "48389"}, ["Caprock Operating LLC"]),
        ({"tags": {"any": ["VIP", "permian"]}}, ["Caprock Operating LLC"]),
        ({"tags": {"all": ["vip", "permian"]}}, ["Caprock Operating LLC"]),
        ({"priority": {"gte": 1}}, ["Caprock Operating LLC"]),
        ({"priority": {"lte": 0}}, ["Dormant Oil Co", "Prairie Resources Inc"]),
        ({"search": "prairie"}, ["Prairie Resources Inc"]),
        ({"search": "PRAIRIE RES"}, ["Prairie Resources Inc"]),
        ({"search": "020528"}, ["Prairie Resources Inc"]),
        ({"search": "operating"}, ["Caprock Operating LLC"]),
        (
            {"permit": {"county": "REEVES", "withinDays": 90}},
            ["Caprock Operating LLC"],
        ),
        ({"permit": {"state": "TX"}}, ["Caprock Operating LLC", "Dormant Oil Co"]),
        ({"noInteractionForDays": 30}, ["Dormant Oil Co", "Prairie Resources Inc"]),
        ({"owner": {"is": "MINE"}, "noInteractionForDays": 30}, ["Dormant Oil Co"]),
    ],
)
def test_filters(client: TestClient, world, filter: dict, expected: list[str]):
    token = token_for(client, world["alice"])
    assert _names(client, token, filter) == expected


def test_a_rep_filtering_by_another_reps_accounts_gets_none(client: TestClient, world):
    token = token_for(client, world["alice"])
    bob = global_id("User", world["bob"].id)
    assert _names(client, token, {"owner": {"user": bob}}) == []
    manager = token_for(client, world["manager"])
    assert _names(client, manager, {"owner": {"user": bob}}) == ["Bobco Energy"]
    assert _names(client, manager, {"owner": {"is": "UNOWNED"}}) == ["Prairie Resources Inc"]


def test_pages_by_name_and_by_priority_never_repeat_a_row(client: TestClient, world):
    token = token_for(client, world["manager"])
    for order in ("PRIORITY", "NAME"):
        seen, after = [], None
        while True:
            page = gql(client, LIST, token=token, first=1, order=order, after=after)["data"]
            conn = page["prioritizedOrganizations"]
            seen += [e["node"]["name"] for e in conn["edges"]]
            if not conn["pageInfo"]["hasNextPage"]:
                break
            after = conn["pageInfo"]["endCursor"]
        assert sorted(seen) == sorted(world["ids"]) and len(seen) == len(set(seen))
        if order == "NAME":
            assert seen == sorted(seen, key=str.upper)


def test_a_row_shows_why_whose_what_happened_and_what_is_due(
    client: TestClient, db: Database, world
):
    with db.unit_of_work() as s:
        set_override(
            s,
            world["manager"].principal(db),
            world["ids"]["Dormant Oil Co"],
            priority=80.0,
            reason="board meeting",
        )
    token = token_for(client, world["alice"])
    result = gql(client, ROW, token=token, filter={"owner": {"is": "MINE"}})
    assert "errors" not in result, result
    rows = {
        e["node"]["name"]: e["node"] for e in result["data"]["prioritizedOrganizations"]["edges"]
    }
    dormant, caprock = rows["Dormant Oil Co"], rows["Caprock Operating LLC"]
    assert dormant["priority"] == 80.0
    assert dormant["override"]["value"] == 80.0
    assert dormant["override"]["reason"] == "board meeting"
    assert dormant["override"]["by"]["name"] == "Manager 3"
    assert caprock["override"] is None
    assert caprock["owner"]["email"] == world["alice"].email
    assert caprock["explanation"]["contributions"] == [
        {"rule": "fresh permits", "weight": 10.0, "value": 1.0, "contribution": 10.0},
        {"rule": "oil", "weight": 2.0, "value": 12.0, "contribution": 24.0},
        {"rule": "vip", "weight": 5.0, "value": 1.0, "contribution": 5.0},
    ]
    assert dormant["explanation"]["contributions"] == []
    assert caprock["lastInteraction"] == {"kind": "CALL", "subject": "intro call"}
    assert [t["title"] for t in caprock["openTasks"]] == ["follow up", "send quote"]
    assert [t["overdue"] for t in caprock["openTasks"]] == [True, False]
    assert caprock["nextTaskDue"] == caprock["openTasks"][0]["dueAt"]
    assert caprock["headline"] == {
        "permits90d": 1,
        "activeWells": 1,
        "oilBbl12m": 1200.0,
        "gasMcf12m": 300.0,
        "productionTrend": None,
    }
    assert dormant["openTasks"] == [] and dormant["nextTaskDue"] is None


@pytest.mark.parametrize(
    ("filter", "field", "message"),
    [
        ({"county": "123"}, "filter.county", "5-digit FIPS"),
        ({"state": "Narnia"}, "filter.state", "not a US state"),
        ({"noInteractionForDays": -1}, "filter.noInteractionForDays", "between 0 and 36500"),
        ({"search": "-"}, "search", "nothing to search for"),
        ({"search": "x" * 201}, "search", "longer than 200 characters"),
    ],
)
def test_bad_filters_name_their_field(client: TestClient, world, filter, field, message):
    token = token_for(client, world["alice"])
    result = gql(client, LIST, token=token, filter=filter, first=5)
    error = result["errors"][0]
    assert message in error["message"]
    assert error["extensions"] == {"code": "ValidationError", "field": field}


def test_owner_filter_takes_exactly_one_choice(client: TestClient, world):
    token = token_for(client, world["alice"])
    bob = global_id("User", world["bob"].id)
    result = gql(client, LIST, token=token, filter={"owner": {"is": "MINE", "user": bob}}, first=5)
    assert "exactly one key" in result["errors"][0]["message"]


# --------------------------------------------------- reused statements, reads ahead


def test_a_page_built_for_one_user_is_never_served_to_another(
    client: TestClient, db: Database, world
):
    """The same page asked by three people in turn (each shape's statement is built once
    and used again): each sees their own scope, and a role's narrowed grant applies at
    its holders' next request."""
    alice, bob = token_for(client, world["alice"]), token_for(client, world["bob"])
    manager = token_for(client, world["manager"])
    for _ in range(2):
        assert _names(client, alice) == [
            "Caprock Operating LLC",
            "Dormant Oil Co",
            "Prairie Resources Inc",
        ]
        assert _names(client, bob) == ["Bobco Energy", "Prairie Resources Inc"]
        assert len(_names(client, manager)) == 4
    with db.unit_of_work() as s:
        set_grant(
            s,
            system_principal("test"),
            role="sales",
            entity="prospect",
            action=Action.READ,
            scope=Scope.NONE,
        )
    assert _names(client, alice) == ["Caprock Operating LLC", "Dormant Oil Co"]
    assert _names(client, bob) == ["Bobco Energy"]


def test_a_segment_filter_reads_the_segment_as_it_is_now(client: TestClient, db: Database, world):
    """A segment's stored filter is read on every request: editing it changes the page."""
    manager = world["manager"].principal(db)
    with db.unit_of_work() as s:
        segment = create_segment(s, manager, name="Oil", logic={">": [{"var": "oil_bbl_12m"}, 0]})
        segment_id = segment.id
    token = token_for(client, world["manager"])
    where = {"segment": global_id("Segment", segment_id)}
    assert _names(client, token, where) == ["Caprock Operating LLC"]
    with db.unit_of_work() as s:
        update_segment(s, manager, segment_id, logic={"==": [{"var": "oil_bbl_12m"}, 0]})
    assert _names(client, token, where) == [
        "Dormant Oil Co",
        "Bobco Energy",
        "Prairie Resources Inc",
    ]


def test_every_edge_cursor_continues_the_list_after_its_row(client: TestClient, world):
    token = token_for(client, world["manager"])
    everyone = _names(client, token)
    result = gql(client, LIST, token=token, filter=None, first=20)["data"]
    edges = result["prioritizedOrganizations"]["edges"]
    for i, edge in enumerate(edges):
        assert _names(client, token, after=edge["cursor"]) == everyone[i + 1 :]


AHEAD = """
query {
  prioritizedOrganizations(first: 10, filter: {owner: {is: MINE}}) { edges { node {
    name
    withMail: contacts { fullName emails }
    plain: contacts { fullName }
    ...more
  } } }
}
fragment more on Organization { owner { email } lastInteraction { subject } nextTaskDue }
"""


def test_what_a_page_reads_ahead_answers_every_selection_of_it(
    client: TestClient, db: Database, world
):
    """The page reads its rows' contacts, owner, last interaction and tasks with the rows,
    for every alias and fragment that asks: each answers as if loaded on its own, and the
    e-mails read are audited once."""
    alice = world["alice"]
    with db.unit_of_work() as s:
        create_contact(
            s,
            system_principal("test"),
            organization_id=world["ids"]["Caprock Operating LLC"],
            full_name="Ada Lane",
            emails=["ada@caprock.example"],
        )
    result = gql(client, AHEAD, token=token_for(client, alice))
    assert "errors" not in result, result
    rows = {
        e["node"]["name"]: e["node"] for e in result["data"]["prioritizedOrganizations"]["edges"]
    }
    caprock, dormant = rows["Caprock Operating LLC"], rows["Dormant Oil Co"]
    assert caprock["withMail"] == [{"fullName": "Ada Lane", "emails": ["ada@caprock.example"]}]
    assert caprock["plain"] == [{"fullName": "Ada Lane"}]
    assert dormant["withMail"] == [] and dormant["plain"] == []
    assert caprock["owner"] == {"email": alice.email}
    assert caprock["lastInteraction"] == {"subject": "intro call"}
    assert caprock["nextTaskDue"] is not None and dormant["nextTaskDue"] is None
    with db.read() as s:
        reads = s.scalars(
            select(AuditEvent).where(
                AuditEvent.action == "contact.read", AuditEvent.user_id == alice.id
            )
        ).all()
    assert [r.details["count"] for r in reads] == [1]
