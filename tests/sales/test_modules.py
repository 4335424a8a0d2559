"""The sales modules as their users meet them, through the services: tasks fall due and
overdue and move only along their states; opportunities record every stage move and sum
into the pipeline; orders total exactly and refuse illegal moves."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from ogcrm.accounts.organizations import create_organization
from ogcrm.db.models import OpportunityStage, OrderStatus, TaskStatus, Well
from ogcrm.db.session import Database
from ogcrm.db.types import utcnow
from ogcrm.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from ogcrm.sales import opportunities as opp
from ogcrm.sales import orders, tasks


@pytest.fixture
def shop(db: Database, users) -> dict:
    """A rep with an account, another rep with theirs, a manager and an admin."""
    alice, bob = users.create("sales"), users.create("sales")
    manager, admin = users.create("manager"), users.create("admin")
    out = {"alice": alice, "bob": bob, "manager": manager, "admin": admin}
    for name, user in (("Caprock Operating LLC", alice), ("Basin Energy Inc", bob)):
        with db.unit_of_work() as s:
            org = create_organization(s, user.principal(db), name=name)
            out[name] = org.id
    return out


def _p(shop: dict, who: str, db: Database):
    return shop[who].principal(db)


class TestTasks:
    def test_a_task_falls_due_today_then_overdue(self, db: Database, shop: dict):
        alice = _p(shop, "alice", db)
        now = utcnow()
        with db.unit_of_work() as s:
            soon = tasks.create_task(
                s, alice, organization_id=shop["Caprock Operating LLC"],
                title="  call   about the permit ", due_at=now + dt.timedelta(minutes=1),
            )  # fmt: skip
            late = tasks.create_task(
                s, alice, organization_id=shop["Caprock Operating LLC"], title="send quote",
                due_at=now - dt.timedelta(hours=1),
            )  # fmt: skip
            later = tasks.create_task(
                s, alice, organization_id=shop["Caprock Operating LLC"], title="site visit",
                due_at=now + dt.timedelta(days=3),
            )  # fmt: skip
            ids = soon.id, late.id, later.id
            assert soon.title == "call about the permit" and soon.assignee_id == shop["alice"].id

        def due(kind: tasks.Due) -> list[int]:
            f = tasks.TaskFilter(assignee_id=shop["alice"].id, due=kind)
            with db.read() as s:
                return [t.id for t in tasks.list_tasks(s, alice, where=f, first=10).rows]

        assert due(tasks.Due.OVERDUE) == [ids[1]]
        assert ids[0] in due(tasks.Due.WEEK) and ids[2] in due(tasks.Due.WEEK)
        assert ids[1] not in due(tasks.Due.WEEK)
        with db.unit_of_work() as s:
            tasks.update_task(s, alice, ids[0], due_at=now - dt.timedelta(seconds=1))
        assert due(tasks.Due.OVERDUE) == [ids[1], ids[0]]

    def test_moves_follow_the_states_and_an_illegal_one_names_the_state(
        self, db: Database, shop: dict
    ):
        alice = _p(shop, "alice", db)
        with db.unit_of_work() as s:
            t = tasks.create_task(
                s, alice, organization_id=shop["Caprock Operating LLC"], title="x"
            )
            task_id = t.id
        with db.unit_of_work() as s:
            done = tasks.move_task(s, alice, task_id, "complete")
            assert done.status is TaskStatus.DONE and done.completed_at is not None
        with db.unit_of_work() as s, pytest.raises(Conflict) as refused:
            tasks.move_task(s, alice, task_id, "cancel")
        assert refused.value.state == "done" and "cannot cancel" in str(refused.value)
        with db.unit_of_work() as s:
            reopened = tasks.move_task(s, alice, task_id, "reopen")
            assert reopened.status is TaskStatus.OPEN and reopened.completed_at is None

    def test_bad_input_names_its_field(self, db: Database, shop: dict):
        alice = _p(shop, "alice", db)
        org = shop["Caprock Operating LLC"]
        cases = [
            ({"title": "  "}, "title"),
            ({"title": "x" * 301}, "title"),
            ({"title": "x", "due_at": dt.datetime(2030, 1, 1)}, "dueAt"),
            ({"title": "x", "assignee_id": 999_999}, "assigneeId"),
        ]
        for kwargs, field in cases:
            with db.unit_of_work() as s, pytest.raises(InvalidInput) as refused:
                tasks.create_task(s, alice, organization_id=org, **kwargs)
            assert refused.value.field == field

    def test_a_rep_cannot_touch_another_reps_tasks_but_sees_one_assigned_to_them(
        self, db: Database, shop: dict
    ):
        alice, bob = _p(shop, "alice", db), _p(shop, "bob", db)
        manager = _p(shop, "manager", db)
        with db.unit_of_work() as s:
            bobs = tasks.create_task(s, bob, organization_id=shop["Basin Energy Inc"], title="b")
            handed = tasks.create_task(
                s, manager, organization_id=shop["Basin Energy Inc"], title="cover for Bob",
                assignee_id=shop["alice"].id,
            )  # fmt: skip
            ids = bobs.id, handed.id
        with db.unit_of_work() as s, pytest.raises(NotFound):
            tasks.move_task(s, alice, ids[0], "complete")
        with db.unit_of_work() as s, pytest.raises(NotFound):
            tasks.create_task(s, alice, organization_id=shop["Basin Energy Inc"], title="sneak")
        with db.read() as s:
            seen = tasks.list_tasks(s, alice, where=tasks.TaskFilter(), first=50).rows
        assert [t.id for t in seen] == [ids[1]]
        with db.unit_of_work() as s:
            assert tasks.move_task(s, alice, ids[1], "complete").status is TaskStatus.DONE

    def test_a_reminder_is_claimed_once_and_rescheduling_rearms_it(self, db: Database, shop: dict):
        alice = _p(shop, "alice", db)
        now = utcnow()
        with db.unit_of_work() as s:
            t = tasks.create_task(
                s, alice, organization_id=shop["Caprock Operating LLC"], title="call",
                due_at=now + dt.timedelta(minutes=30),
            )  # fmt: skip
            task_id = t.id
        ahead = dt.timedelta(hours=1)
        with db.unit_of_work() as s:
            assert tasks.due_for_reminder(s, now=now, ahead=ahead) == [task_id]
            assert tasks.claim_reminder(s, task_id, now=now) is not None
        with db.unit_of_work() as s:
            assert tasks.due_for_reminder(s, now=now, ahead=ahead) == []
            assert tasks.claim_reminder(s, task_id, now=now) is None
            tasks.update_task(s, alice, task_id, due_at=now + dt.timedelta(minutes=45))
        with db.unit_of_work() as s:
            assert tasks.due_for_reminder(s, now=now, ahead=ahead) == [task_id]


class TestOpportunities:
    def test_every_stage_move_is_recorded_and_closed_is_final(self, db: Database, shop: dict):
        alice = _p(shop, "alice", db)
        with db.unit_of_work() as s:
            o = opp.create_opportunity(
                s, alice, organization_id=shop["Caprock Operating LLC"], name="Frac water",
                amount=Decimal("120000"), source=opp.OpportunitySource.PERSON,
            )  # fmt: skip
            oid = o.id
        for stage in ("qualification", "proposal", "qualification", "won"):
            with db.unit_of_work() as s:
                opp.move_opportunity(s, alice, oid, OpportunityStage(stage))
        with db.read() as s:
            moves = [(m.from_stage, m.to_stage) for m in opp.stage_history(s, [oid])[oid]]
            row = opp.list_opportunities(s, alice, where=opp.OpportunityFilter(), first=5)[0][0]
        assert moves == [
            (None, "prospecting"),
            ("prospecting", "qualification"),
            ("qualification", "proposal"),
            ("proposal", "qualification"),
            ("qualification", "won"),
        ]
        assert row.closed_at is not None and row.source_user_id == shop["alice"].id
        with db.unit_of_work() as s, pytest.raises(Conflict) as refused:
            opp.move_opportunity(s, alice, oid, OpportunityStage.NEGOTIATION)
        assert refused.value.state == "won"

    def test_lost_needs_a_reason(self, db: Database, shop: dict):
        alice = _p(shop, "alice", db)
        with db.unit_of_work() as s:
            oid = opp.create_opportunity(
                s, alice, organization_id=shop["Caprock Operating LLC"], name="Rental tools"
            ).id
        with db.unit_of_work() as s, pytest.raises(InvalidInput) as refused:
            opp.move_opportunity(s, alice, oid, OpportunityStage.LOST)
        assert refused.value.field == "lostReason"
        with db.unit_of_work() as s:
            lost = opp.move_opportunity(s, alice, oid, OpportunityStage.LOST, lost_reason="price")
            assert lost.lost_reason == "price"

    def test_the_pipeline_weights_each_stage_by_its_probability(self, db: Database, shop: dict):
        alice, admin = _p(shop, "alice", db), _p(shop, "admin", db)
        org = shop["Caprock Operating LLC"]
        with db.unit_of_work() as s:
            for name, amount, stage in (
                ("a", "1000.00", OpportunityStage.PROSPECTING),
                ("b", "2500.50", OpportunityStage.PROPOSAL),
                ("c", "499.50", OpportunityStage.PROPOSAL),
            ):
                opp.create_opportunity(
                    s, alice, organization_id=org, name=name, amount=Decimal(amount), stage=stage
                )
        with db.unit_of_work() as s, pytest.raises(PermissionDenied):
            opp.set_stage_probability(s, alice, OpportunityStage.PROPOSAL, 0.9)
        with db.unit_of_work() as s:
            opp.set_stage_probability(s, admin, OpportunityStage.PROPOSAL, 0.6)
        with db.read() as s:
            figures = {f.stage: f for f in opp.pipeline(s, alice)}
        assert figures[OpportunityStage.PROPOSAL].count == 2
        assert figures[OpportunityStage.PROPOSAL].amount == Decimal("3000.00")
        assert figures[OpportunityStage.PROPOSAL].weighted_amount == Decimal("1800.00")
        assert figures[OpportunityStage.PROSPECTING].weighted_amount == Decimal("100.00")
        with db.read() as s:  # Bob's pipeline has none of Alice's
            assert opp.pipeline(s, _p(shop, "bob", db)) == []


class TestOrders:
    @pytest.fixture
    def catalog(self, db: Database, shop: dict) -> dict[str, int]:
        admin = _p(shop, "admin", db)
        with db.unit_of_work() as s:
            sand = orders.create_product(
                s, admin, sku="frac-sand 40/70", name="Frac sand", unit="ton",
                unit_price=Decimal("38.75"),
            )  # fmt: skip
            hose = orders.create_product(
                s, admin, sku="HOSE-4", name="Hose", unit_price=Decimal("0.333")
            )
            return {"sand": sand.id, "hose": hose.id}

    def test_totals_are_exact_with_mixed_quantities_and_prices(
        self, db: Database, shop: dict, catalog: dict
    ):
        alice = _p(shop, "alice", db)
        with db.unit_of_work() as s:
            order = orders.create_order(
                s, alice, organization_id=shop["Caprock Operating LLC"],
                lines=[
                    orders.LineInput(catalog["sand"], Decimal("12.5")),
                    orders.LineInput(catalog["hose"], Decimal("3")),
                ],
            )  # fmt: skip
            oid, number = order.id, order.number
        with db.read() as s:
            lines = [line for line, *_ in orders.lines_of(s, [oid])[oid]]
        # 12.5 t x 38.75 = 484.375 -> 484.38; the hose's price was kept to the cent (0.33)
        assert [orders.line_total(line) for line in lines] == [Decimal("484.38"), Decimal("0.99")]
        assert orders.order_total(lines) == Decimal("485.37")
        assert number == f"SO-{oid:06d}"

    def test_status_moves_refuse_illegal_ones_and_lines_are_fixed_once_confirmed(
        self, db: Database, shop: dict, catalog: dict
    ):
        alice = _p(shop, "alice", db)
        with db.unit_of_work() as s:
            s.add(Well(api10="4238912345", state="TX", county="Reeves"))
        with db.unit_of_work() as s:
            oid = orders.create_order(
                s, alice, organization_id=shop["Caprock Operating LLC"],
                delivery=orders.Delivery(api_number="42-389-12345", lease="Hill 4"),
            ).id  # fmt: skip
        with db.unit_of_work() as s, pytest.raises(InvalidInput) as refused:
            orders.move_order(s, alice, oid, "confirm")
        assert refused.value.field == "lines"
        with db.unit_of_work() as s:
            orders.set_order_lines(s, alice, oid, [orders.LineInput(catalog["sand"], Decimal(2))])
            row = orders.move_order(s, alice, oid, "confirm")
            assert (row.status, row.county, row.state) == (OrderStatus.CONFIRMED, "REEVES", "TX")
        with db.unit_of_work() as s, pytest.raises(Conflict) as refused:
            orders.set_order_lines(s, alice, oid, [orders.LineInput(catalog["hose"], Decimal(1))])
        assert refused.value.state == "confirmed"
        with db.unit_of_work() as s, pytest.raises(Conflict) as refused:
            orders.move_order(s, alice, oid, "invoice")
        assert refused.value.state == "confirmed"
        with db.unit_of_work() as s, pytest.raises(InvalidInput) as refused:
            orders.move_order(s, alice, oid, "schedule")
        assert refused.value.field == "delivery.date"
        with db.unit_of_work() as s:
            orders.update_delivery(
                s, alice, oid, orders.Delivery(date=dt.date(2027, 1, 5), address="Yard 3, Pecos")
            )
            for action in ("schedule", "deliver", "invoice"):
                row = orders.move_order(s, alice, oid, action)
            assert row.status is OrderStatus.INVOICED and row.location == "Yard 3, Pecos"
        with db.unit_of_work() as s, pytest.raises(Conflict) as refused:
            orders.move_order(s, alice, oid, "cancel")
        assert refused.value.state == "invoiced"

    def test_a_retired_product_and_a_bad_quantity_are_refused(
        self, db: Database, shop: dict, catalog: dict
    ):
        alice, admin = _p(shop, "alice", db), _p(shop, "admin", db)
        with db.unit_of_work() as s:
            orders.update_product(s, admin, catalog["hose"], active=False)
        for line, field in (
            (orders.LineInput(catalog["hose"], Decimal(1)), "lines.productId"),
            (orders.LineInput(catalog["sand"], Decimal("0")), "lines.quantity"),
            (orders.LineInput(catalog["sand"], Decimal("1.0005")), "lines.quantity"),
        ):
            with db.unit_of_work() as s, pytest.raises(InvalidInput) as refused:
                orders.create_order(
                    s, alice, organization_id=shop["Caprock Operating LLC"], lines=[line]
                )
            assert refused.value.field == field
        with db.unit_of_work() as s, pytest.raises(InvalidInput) as refused:
            orders.create_product(s, admin, sku="HOSE-4", name="again", unit_price=Decimal(1))
        assert refused.value.field == "sku"
        with db.unit_of_work() as s, pytest.raises(PermissionDenied):
            orders.create_product(s, alice, sku="X", name="x", unit_price=Decimal(1))
