"""News about accounts, told to subscribers (``myAccountsChanged``) after commit.

The database keeps the record (timeline events, change records, audit); these say so
sooner, to whoever owns the account: which account, what happened, and which dataset
or person caused it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ogcrm import events
from ogcrm.db.models import Organization
from ogcrm.db.types import utcnow


def account_event(
    session: Session,
    organization_id: int,
    kind: str,
    summary: str,
    *,
    user_id: int | None = None,
    dataset_id: int | None = None,
    owner_id: int | type[Ellipsis] | None = ...,
    data: dict[str, Any] | None = None,
) -> None:
    """Announce ``kind`` on an account (``new_permit``, ``reassigned``...) once the
    transaction commits. ``owner_id`` is looked up unless given (the identity map
    usually has the row)."""
    if not events.has_bus(session):
        return
    if owner_id is ...:
        org = session.get(Organization, organization_id)
        owner_id = org.owner_id if org is not None else None
    events.publish_after_commit(
        session,
        events.ACCOUNTS_CHANNEL,
        {
            "organization_id": organization_id,
            "owner_id": owner_id,
            "kind": kind,
            "summary": summary,
            "user_id": user_id,
            "dataset_id": dataset_id,
            "data": data or {},
            "at": utcnow().isoformat(),
        },
    )


def owners_of(session: Session, organization_ids: list[int]) -> dict[int, int | None]:
    """Owner of each account, in one statement (for events about many accounts)."""
    rows = session.execute(
        select(Organization.id, Organization.owner_id).where(Organization.id.in_(organization_ids))
    )
    return {org_id: owner for org_id, owner in rows}
