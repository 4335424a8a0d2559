"""Manual priority overrides: a person pins an account's priority, with a reason and an
optional expiry, until they clear it.

Who may: the ``priority_override`` grant, scoped like an organization (``own``: the
accounts one owns; ``all``: any). Managers and admins have it for all accounts; a sales
rep has it only if an admin grants it. Every change is audited; a person's is also
recorded in the organization's history (change records by them, as their edits are).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from ogcrm.auth import audit, policy
from ogcrm.auth.principal import Principal
from ogcrm.db.models import Action, ChangeRecord, Organization, OrganizationScore
from ogcrm.db.types import utcnow
from ogcrm.errors import InvalidInput
from ogcrm.scoring.rescore import lock_scores, priority_changed

KIND = "priority_override"
_FIELDS = ("override_priority", "override_reason", "override_expires_at")


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.datetime) else value


def set_override(
    session: Session,
    principal: Principal,
    organization_id: int,
    *,
    priority: float | None,
    reason: str = "",
    expires_at: dt.datetime | None = None,
) -> Organization:
    """Pin an organization's priority by hand (``priority=None`` removes the pin).

    Raises:
        NotFound: no such organization, or not one the principal may see.
        PermissionDenied: the principal may not override this account's priority.
        InvalidInput: a pin without a reason, or a priority that is not a finite number.
    """
    org: Organization = policy.get_readable(session, "organization", principal, organization_id)
    policy.require(principal, KIND, Action.WRITE)
    policy.authorize_write(session, principal, KIND, org)
    if priority is not None and not reason.strip():
        raise InvalidInput("an override needs a reason", field="reason")
    if priority is not None and (priority != priority or abs(priority) == float("inf")):
        raise InvalidInput("priority must be a finite number", field="priority")
    before = {f: getattr(org, f) for f in _FIELDS}
    org.override_priority = priority
    org.override_reason = reason.strip() if priority is not None else None
    org.override_expires_at = expires_at if priority is not None else None
    org.override_by_id = principal.user_id if priority is not None else None
    in_force = priority is not None and (expires_at is None or expires_at > utcnow())
    for name in _FIELDS if principal.user_id is not None else ():  # a person's history
        if before[name] != getattr(org, name):
            session.add(
                ChangeRecord(
                    user_id=principal.user_id,
                    entity="organization",
                    entity_id=org.id,
                    field=name,
                    before=_jsonable(before[name]),
                    after=_jsonable(getattr(org, name)),
                )
            )
    session.flush()
    lock_scores(session)
    old = org.ranking.priority
    session.execute(
        update(OrganizationScore)
        .where(OrganizationScore.organization_id == org.id)
        .values(priority=priority if in_force else OrganizationScore.score)
    )
    session.refresh(org.ranking)
    if org.ranking.priority != old:
        priority_changed(
            session,
            org.id,
            org.owner_id,
            old,
            org.ranking.priority,
            {
                "kind": "override_set" if priority is not None else "override_cleared",
                "user_id": principal.user_id,
            },
        )
    audit.record(
        session,
        principal,
        "organization.override" if priority is not None else "organization.override_clear",
        entity="organization",
        entity_id=org.id,
        priority=priority,
        reason=reason,
        expires_at=expires_at.isoformat() if expires_at else None,
    )
    return org


def clear_override(session: Session, principal: Principal, organization_id: int) -> Organization:
    """Remove an account's pin: its priority is its rule score again."""
    return set_override(session, principal, organization_id, priority=None)
