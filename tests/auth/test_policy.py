"""Roles x operations: who may read, create, update and delete what, by scope.

The expectations below are the product's access rules written out by hand (issue: roles
and their defaults), not read from the code, and each one is checked against real rows:
a read is what a scoped SELECT returns, a write is what the policy layer allows.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select

from ogcrm.auth import policy
from ogcrm.auth import users as user_service
from ogcrm.auth.principal import Principal, system_principal
from ogcrm.db import models as m
from ogcrm.db.models import Action, Scope
from ogcrm.db.session import Database
from ogcrm.errors import PermissionDenied
from tests.conftest import UserFactory

OWNED = (
    "organization",
    "priority_override",  # pinning an account's priority: scoped like the account
    "contact",
    "interaction",
    "task",
    "opportunity",
    "order",
    "service_request",
)
SHARED = (
    "product",
    "tag",  # the vocabulary: everyone reads it, managers and admins rename and merge
    "well",
    "permit",
    "production",
    "source",
    "dataset",
    "rule_set",
    "user",
    "role",
    "team",
    "audit_event",
)

# (read, write) per kind. "own": only rows of one's own accounts; "all": every row;
# "-": none. Kinds not listed for a role: "-" for both.
EXPECTED: dict[str, dict[str, tuple[str, str]]] = {
    "admin": {kind: ("all", "all") for kind in OWNED + SHARED},
    "manager": {
        **{kind: ("all", "all") for kind in OWNED},
        **{
            kind: ("all", "-")
            for kind in (
                "product",
                "well",
                "permit",
                "production",
                "source",
                "dataset",
                "rule_set",
                "user",
                "team",
            )
        },
        "tag": ("all", "all"),
    },
    "analyst": {
        "tag": ("all", "-"),
        "organization": ("all", "-"),
        **{kind: ("all", "-") for kind in ("product", "well", "permit", "production")},
        **{kind: ("all", "all") for kind in ("source", "dataset", "rule_set")},
    },
    "sales": {
        # no overrides unless an admin grants them
        **{kind: ("own", "own") for kind in OWNED if kind != "priority_override"},
        **{kind: ("all", "-") for kind in ("product", "well", "permit", "production", "rule_set")},
        "tag": ("all", "-"),
    },
    "viewer": {
        "tag": ("all", "-"),
        **{
            kind: ("all", "-")
            for kind in ("organization", "product", "well", "permit", "production", "rule_set")
        },
    },
}


class World:
    """One organization owned by the acting user, one owned by someone else, each with
    one row of every organization-scoped kind, plus one row of each shared kind."""

    def __init__(self, db: Database, users: UserFactory, role: str) -> None:
        self.me = users.create(role)
        self.other = users.create("sales")
        system = system_principal("test")
        with db.unit_of_work() as s:
            self.rows: dict[str, dict[str, int]] = {}
            for who, owner in (("own", self.me.id), ("other", self.other.id)):
                org = m.Organization(
                    name=f"{who} org", normalized_name=f"{who.upper()} ORG", owner_id=owner
                )
                s.add(org)
                s.flush()
                product = s.scalar(select(m.Product)) or m.Product(
                    sku="P1", name="Pump", unit_price=Decimal(1)
                )
                s.add(product)
                s.flush()
                children = {
                    "contact": m.Contact(organization_id=org.id, full_name=f"{who} person"),
                    "interaction": m.Interaction(
                        organization_id=org.id, kind=m.InteractionKind.CALL
                    ),
                    "task": m.Task(organization_id=org.id, title="call back"),
                    "opportunity": m.Opportunity(organization_id=org.id, name="deal"),
                    "order": m.Order(organization_id=org.id, number=f"SO-{who}"),
                    "service_request": m.ServiceRequest(
                        organization_id=org.id, kind="repair", subject="pump"
                    ),
                }
                s.add_all(children.values())
                s.flush()
                self.rows[who] = {
                    "organization": org.id,
                    "priority_override": org.id,
                    **{k: v.id for k, v in children.items()},
                }
            shared = {
                "product": s.scalar(select(m.Product)),
                "well": m.Well(api10="4212345678"),
                "permit": m.Permit(agency="rrc", permit_number="1"),
                "production": m.ProductionReport(
                    agency="rrc", lease_number="L1", month=dt.date(2026, 1, 1)
                ),
                "source": m.Source(name="s", title="S", agency="rrc", reader="csv"),
                "rule_set": m.RuleSet(name="r"),
                "team": m.Team(name="t"),
                "tag": m.Tag(name="permian"),
            }
            s.add_all(shared.values())
            s.flush()
            dataset = m.Dataset(
                source_id=shared["source"].id, filename="f.csv", content_hash="0" * 64, size_bytes=1
            )
            s.add(dataset)
            s.flush()
            from ogcrm.auth import audit

            audit.record(s, system, "test.event")
            s.flush()
            self.shared_ids = {k: v.id for k, v in shared.items()}
            self.shared_ids["dataset"] = dataset.id
            self.shared_ids["user"] = self.other.id
            self.shared_ids["role"] = s.scalar(select(m.Role.id).where(m.Role.name == "viewer"))
            self.shared_ids["audit_event"] = s.scalar(select(m.AuditEvent.id).limit(1))
        self.principal = self.me.principal(db)


def _visible(db: Database, principal: Principal, kind: str) -> set[int]:
    model = policy.ENTITY_KINDS[kind].model
    with db.read() as s:
        return set(s.scalars(policy.readable(select(model.id), kind, principal)))


def _may_write(db: Database, principal: Principal, kind: str, row_id: int, op: str) -> bool:
    """create: a new row under the same parent; update/delete: the row itself."""
    model = policy.ENTITY_KINDS[kind].model
    with db.read() as s:
        row = s.get(model, row_id)
        if op == "create":
            fk = policy.ENTITY_KINDS[kind].org_fk
            row = model(**({fk.key: getattr(row, fk.key)} if fk is not None else {}))
            if kind in ("organization", "priority_override"):
                row.owner_id = s.get(model, row_id).owner_id
        try:
            policy.authorize_write(s, principal, kind, row)
        except PermissionDenied:
            return False
        return True


CASES = [(role, kind) for role in EXPECTED for kind in OWNED + SHARED]


@pytest.mark.parametrize(("role", "kind"), CASES, ids=[f"{r}-{k}" for r, k in CASES])
def test_role_grants_per_entity_kind(db: Database, users: UserFactory, role: str, kind: str):
    world = World(db, users, role)
    read, write = EXPECTED[role].get(kind, ("-", "-"))
    visible = _visible(db, world.principal, kind)

    if kind in OWNED:
        own, other = world.rows["own"][kind], world.rows["other"][kind]
        assert (own in visible, other in visible) == {
            "all": (True, True),
            "own": (True, False),
            "-": (False, False),
        }[read]
        for op in ("create", "update", "delete"):
            allowed = (
                _may_write(db, world.principal, kind, own, op),
                _may_write(db, world.principal, kind, other, op),
            )
            assert (
                allowed == {"all": (True, True), "own": (True, False), "-": (False, False)}[write]
            ), op
    else:
        row = world.shared_ids[kind]
        assert (row in visible) is (read != "-")
        for op in ("create", "update", "delete"):
            assert _may_write(db, world.principal, kind, row, op) is (write != "-"), op


class TestProspects:
    def test_sales_reads_unowned_prospects_but_not_their_contacts(
        self, db: Database, users: UserFactory
    ):
        rep = users.create("sales")
        with db.unit_of_work() as s:
            prospect = m.Organization(name="Open Prospect", normalized_name="OPEN PROSPECT")
            s.add(prospect)
            s.flush()
            s.add(m.Contact(organization_id=prospect.id, full_name="Hidden Person"))
            prospect_id = prospect.id
        principal = rep.principal(db)
        assert prospect_id in _visible(db, principal, "organization")
        assert _visible(db, principal, "contact") == set()

    def test_claiming_makes_a_prospect_ones_own(self, db: Database, users: UserFactory):
        from ogcrm.accounts.organizations import claim_organization

        rep = users.create("sales")
        with db.unit_of_work() as s:
            prospect = m.Organization(name="Claim Me", normalized_name="CLAIM ME")
            s.add(prospect)
            s.flush()
            prospect_id = prospect.id
        with db.unit_of_work() as s:
            assert claim_organization(s, rep.principal(db), prospect_id).owner_id == rep.id

    def test_an_owned_account_cannot_be_claimed(self, db: Database, users: UserFactory):
        from ogcrm.accounts.organizations import claim_organization

        rep, other = users.create("sales"), users.create("sales")
        with db.unit_of_work() as s:
            org = m.Organization(name="Taken", normalized_name="TAKEN", owner_id=other.id)
            s.add(org)
            s.flush()
            org_id = org.id
        with pytest.raises(Exception, match="not found"), db.unit_of_work() as s:
            claim_organization(s, rep.principal(db), org_id)


class TestTeamScope:
    def test_team_scope_reaches_teammates_accounts_only(self, db: Database, users: UserFactory):
        admin = users.create("admin")
        me = users.create("sales", team="north")
        mate = users.create("sales", team="north")
        stranger = users.create("sales", team="south")
        with db.unit_of_work() as s:
            for action in (Action.READ, Action.WRITE):
                for kind in ("organization", "contact"):
                    user_service.set_grant(
                        s,
                        admin.principal(db),
                        role="sales",
                        entity=kind,
                        action=action,
                        scope=Scope.TEAM,
                    )
            ids = {}
            for user in (me, mate, stranger):
                org = m.Organization(
                    name=f"org {user.id}", normalized_name=f"ORG {user.id}", owner_id=user.id
                )
                s.add(org)
                s.flush()
                contact = m.Contact(organization_id=org.id, full_name=f"person {user.id}")
                s.add(contact)
                s.flush()
                ids[user.id] = contact.id
        principal = me.principal(db)
        assert principal.scope("contact", Action.READ) is Scope.TEAM
        assert _visible(db, principal, "contact") == {ids[me.id], ids[mate.id]}
        assert _may_write(db, principal, "contact", ids[mate.id], "update")
        assert not _may_write(db, principal, "contact", ids[stranger.id], "update")

    def test_an_edited_role_applies_to_the_next_request(self, db: Database, users: UserFactory):
        admin, viewer = users.create("admin"), users.create("viewer")
        with db.unit_of_work() as s:
            org = m.Organization(name="X", normalized_name="X", owner_id=admin.id)
            s.add(org)
            s.flush()
            s.add(m.Contact(organization_id=org.id, full_name="Y"))
        assert _visible(db, viewer.principal(db), "contact") == set()
        with db.unit_of_work() as s:
            user_service.set_grant(
                s,
                admin.principal(db),
                role="viewer",
                entity="contact",
                action=Action.READ,
                scope=Scope.ALL,
            )
        assert len(_visible(db, viewer.principal(db), "contact")) == 1

    def test_only_admins_edit_roles(self, db: Database, users: UserFactory):
        manager = users.create("manager")
        with pytest.raises(PermissionDenied), db.unit_of_work() as s:
            user_service.set_grant(
                s,
                manager.principal(db),
                role="sales",
                entity="contact",
                action=Action.READ,
                scope=Scope.ALL,
            )


def test_every_entity_kind_is_covered_by_this_table():
    assert set(policy.ENTITY_KINDS) - set(OWNED + SHARED) == {
        "prospect",
        "segment",
        "campaign",
        "rule_activation",
        # configuration keyed by stage name, not rows by id: its grant is tested with
        # the pipeline (tests/sales)
        "pipeline_stage",
        # one ordered list, replaced whole: tested with routing (tests/sales)
        "routing_rule",
        # owned by a user, not an account, and readable when shared: tested with the
        # reports (tests/api/test_reports_api.py, tests/reports/test_definitions.py)
        "report",
    }
