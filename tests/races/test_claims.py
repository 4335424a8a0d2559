"""Two reps claiming one prospect at the same moment, on PostgreSQL (SQLite serializes
writers before they overlap): one owns it, the other is told it has an owner, and the
audit log records one claim (finding 5 of the outside attack: both were told they owned
it, the last write won)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from ogcrm.accounts.organizations import claim_organization
from ogcrm.db import models as m
from ogcrm.db.session import Database
from ogcrm.errors import PermissionDenied


def test_a_prospect_claimed_twice_at_once_has_one_owner(
    db: Database, users, settings, monkeypatch: pytest.MonkeyPatch
):
    if not settings.database_url.startswith("postgresql"):
        pytest.skip("needs PostgreSQL: SQLite serializes writers before they overlap")
    alice, bob = users.create("sales"), users.create("sales")
    with db.unit_of_work() as s:
        prospect = m.Organization(name="Open Prospect", normalized_name="OPEN PROSPECT")
        s.add(prospect)
        s.flush()
        org_id = prospect.id
    monkeypatch.setenv("OGCRM_FAILPOINT", "organization.claim:sleep=1")
    barrier, owners, refused = threading.Barrier(2), [], []

    def claim(user) -> None:
        principal = user.principal(db)
        barrier.wait()
        try:
            with db.unit_of_work() as s:
                owners.append(claim_organization(s, principal, org_id).owner_id)
        except PermissionDenied as exc:  # the refusal the test is about
            refused.append(exc)

    threads = [threading.Thread(target=claim, args=(u,)) for u in (alice, bob)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(owners) == 1 and len(refused) == 1
    with db.read() as s:
        assert (
            s.scalar(select(m.Organization.owner_id).where(m.Organization.id == org_id))
            == owners[0]
        )
        claims = s.scalar(
            select(func.count()).where(
                m.AuditEvent.action == "organization.claim", m.AuditEvent.entity_id == str(org_id)
            )
        )
    assert claims == 1
