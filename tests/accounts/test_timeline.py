"""What a merge means for accounts: timeline events and follow-up tasks for owners."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from ogcrm.accounts.organizations import create_organization
from ogcrm.accounts.timeline import follow_up_rules
from ogcrm.auth.principal import system_principal
from ogcrm.datasets.intake import receive
from ogcrm.datasets.merge import approve_and_merge
from ogcrm.datasets.staging import process
from ogcrm.db.models import Interaction, InteractionKind, OrganizationEvent, Task
from ogcrm.db.types import utcnow

P = system_principal("test")


def _merge(db, path, data_dir, **kw):
    with db.unit_of_work() as s:
        dataset_id = receive(s, P, path, data_dir=data_dir).dataset_id
    process(db, dataset_id, data_dir=data_dir)
    with db.unit_of_work() as s:
        return approve_and_merge(s, P, dataset_id, **kw)


def test_new_permits_make_events_and_a_follow_up_for_a_quiet_account(
    db, tmp_path, shared_data, users
):
    rep = users.create("sales")
    with db.unit_of_work() as s:
        apache = create_organization(
            s, P, name="Apache Corporation", identifiers={"tx-rrc": "027200"}, owner_id=rep.id
        ).id
        busy = create_organization(
            s,
            P,
            name="WaterBridge Stateline LLC",
            identifiers={"tx-rrc": "900327"},
            owner_id=rep.id,
        ).id
        s.add(
            Interaction(
                organization_id=busy,
                kind=InteractionKind.CALL,
                occurred_at=utcnow() - dt.timedelta(days=2),
            )
        )
    counts = _merge(db, shared_data / "real" / "tx-rrc-drilling-permits-daf420.dat", tmp_path)
    assert counts["events"]["new_permit"] >= 2 and counts["events"]["follow_ups"] == 1
    with db.read() as s:
        events = {(e.organization_id, e.kind): e for e in s.scalars(select(OrganizationEvent))}
        (task,) = s.scalars(select(Task)).all()
    assert (
        events[(apache, "new_permit")].summary.endswith("new permit")
        or "new permits" in events[(apache, "new_permit")].summary
    )
    assert (apache, "new_well") in events
    assert (task.organization_id, task.assignee_id) == (apache, rep.id)
    assert task.title == "New permit for Apache Corporation: no contact in 30 days"


def test_operator_transfer_is_on_both_timelines(db, tmp_path):
    first = tmp_path / "a.csv"
    first.write_text("Operator Name,API #\nAcme Oil Co.,42-003-12345\n")
    _merge(db, first, tmp_path / "s")
    second = tmp_path / "b.csv"
    second.write_text("Operator Name,API #\nBravo Energy LLC,42-003-12345\n")
    counts = _merge(db, second, tmp_path / "s")
    assert counts["events"]["operator_transfer"] == 2
    with db.read() as s:
        kinds = sorted(e.kind for e in s.scalars(select(OrganizationEvent)))
    assert kinds.count("operator_transfer") == 2


def test_follow_up_rules_are_configurable(db, tmp_path, users):
    rep = users.create("sales")
    with db.unit_of_work() as s:
        create_organization(s, P, name="Acme Oil Co.", owner_id=rep.id)
    path = tmp_path / "w.csv"
    path.write_text("Operator Name,API #\nAcme Oil Co.,42-003-12345\nAcme Oil Co.,42-003-12346\n")
    rules = follow_up_rules(
        '[{"kind": "new_well", "logic": {">=": [{"var": "count"}, 2]}, "title": "Two new wells at {name}", "due_days": 1}]'
    )
    counts = _merge(db, path, tmp_path / "s", follow_ups=rules)
    assert counts["events"]["follow_ups"] == 1
    with db.read() as s:
        assert [t.title for t in s.scalars(select(Task))] == ["Two new wells at Acme Oil Co."]
