"""Two people moving one record at once, on PostgreSQL (SQLite serializes writers before
they overlap): one move wins, the other is a Conflict naming the state it lost to, and
the history records one move."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from ogcrm.accounts.organizations import create_organization
from ogcrm.db.models import AuditEvent, OpportunityStage
from ogcrm.db.session import Database
from ogcrm.errors import Conflict
from ogcrm.sales import opportunities as opp
from ogcrm.sales import orders
from tests.support import at_once


@pytest.fixture
def concurrent(settings, monkeypatch: pytest.MonkeyPatch) -> Callable[..., tuple[list, list]]:
    if not settings.database_url.startswith("postgresql"):
        pytest.skip("needs PostgreSQL: SQLite serializes writers before they overlap")
    # both movers have read the record before either moves it
    monkeypatch.setenv("OGCRM_FAILPOINT", "sales.move:sleep=1")

    def run(db: Database, *calls: Callable[[Any], Any]) -> tuple[list, list]:
        return at_once(db, calls, Conflict)

    return run


def test_won_and_lost_at_once_records_one_close(db: Database, users, concurrent):
    rep = users.create("sales")
    principal = rep.principal(db)
    with db.unit_of_work() as s:
        org = create_organization(s, principal, name="Caprock Operating LLC").id
        oid = opp.create_opportunity(
            s, principal, organization_id=org, name="Sand", stage=OpportunityStage.PROPOSAL
        ).id
    won, lost = concurrent(
        db,
        lambda s: opp.move_opportunity(s, principal, oid, OpportunityStage.WON).stage,
        lambda s: (
            opp.move_opportunity(
                s, principal, oid, OpportunityStage.LOST, lost_reason="price"
            ).stage
        ),
    )
    assert len(won) == 1 and len(lost) == 1
    assert lost[0].state == won[0].value
    with db.read() as s:
        moves = [(m.from_stage, m.to_stage) for m in opp.stage_history(s, [oid])[oid]]
    assert moves == [(None, "proposal"), ("proposal", won[0].value)]


def test_an_order_confirmed_twice_at_once_is_confirmed_once(db: Database, users, concurrent):
    rep, admin = users.create("sales"), users.create("admin")
    principal = rep.principal(db)
    with db.unit_of_work() as s:
        org = create_organization(s, principal, name="Basin Energy Inc").id
        product = orders.create_product(
            s, admin.principal(db), sku="SAND", name="Sand", unit_price=Decimal("10")
        ).id
        oid = orders.create_order(
            s, principal, organization_id=org, lines=[orders.LineInput(product, Decimal(1))]
        ).id
    confirm = lambda s: orders.move_order(s, principal, oid, "confirm").status  # noqa: E731
    done, refused = concurrent(db, confirm, confirm)
    assert [d.value for d in done] == ["confirmed"]
    assert [e.state for e in refused] == ["confirmed"]
    with db.read() as s:
        confirms = s.scalar(
            select(func.count()).where(
                AuditEvent.action == "order.confirm", AuditEvent.entity_id == str(oid)
            )
        )
    assert confirms == 1
