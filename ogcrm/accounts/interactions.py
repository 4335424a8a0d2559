"""Interactions: the calls, e-mails, meetings and notes a rep logs against an account.

Logging one changes the account's activity features (``days_since_last_interaction``
above all), so the account is rescored: as a ``rules.rescore`` job sent once the
transaction commits in a process that works jobs (the API), or in the same transaction
otherwise (CLI, scripts), so the new priority is never computed from data that might
still roll back (:func:`ogcrm.scoring.rule_sets.rescore_soon`).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from ogcrm.accounts.events import account_event
from ogcrm.auth import audit, policy
from ogcrm.auth.principal import Principal
from ogcrm.db.models import Contact, Interaction, InteractionKind
from ogcrm.db.types import utcnow
from ogcrm.errors import InvalidInput
from ogcrm.scoring.rule_sets import rescore_soon

#: How far ahead of the server's clock an interaction may be dated (clock skew, time
#: zones typed by hand); later than that is a typo, and would hide the account as
#: "just talked to" for months.
FUTURE_SLACK = dt.timedelta(days=1)
MAX_SUBJECT = 300
MAX_NOTES = 20_000


def log_interaction(
    session: Session,
    principal: Principal,
    *,
    organization_id: int,
    kind: InteractionKind | str,
    occurred_at: dt.datetime | None = None,
    subject: str | None = None,
    notes: str = "",
    contact_id: int | None = None,
) -> Interaction:
    """Record an interaction with an organization the principal may write, and have the
    organization rescored."""
    try:
        kind = InteractionKind(kind)
    except ValueError:
        known = ", ".join(k.value for k in InteractionKind)
        raise InvalidInput(f"unknown kind {kind!r}; one of {known}", field="kind") from None
    now = utcnow()
    occurred_at = occurred_at or now
    if occurred_at.tzinfo is None:
        raise InvalidInput("occurredAt needs a time zone", field="occurredAt")
    if occurred_at > now + FUTURE_SLACK:
        raise InvalidInput("occurredAt is in the future", field="occurredAt")
    subject = " ".join(subject.split()) if subject else None
    if subject and len(subject) > MAX_SUBJECT:
        raise InvalidInput(f"subject is longer than {MAX_SUBJECT} characters", field="subject")
    if len(notes) > MAX_NOTES:
        raise InvalidInput(f"notes are longer than {MAX_NOTES:,} characters", field="notes")
    policy.get_readable(session, "organization", principal, organization_id)
    if contact_id is not None:
        owner = session.scalar(select(Contact.organization_id).where(Contact.id == contact_id))
        if owner != organization_id:
            raise InvalidInput("that contact is not one of this organization's", field="contactId")
    row = Interaction(
        organization_id=organization_id,
        contact_id=contact_id,
        user_id=principal.user_id,
        kind=kind,
        occurred_at=occurred_at,
        subject=subject,
        notes=notes,
    )
    policy.authorize_write(session, principal, "interaction", row)
    session.add(row)
    session.flush()
    audit.record(
        session,
        principal,
        "interaction.create",
        entity="interaction",
        entity_id=row.id,
        organization_id=organization_id,
        kind=kind.value,
    )
    account_event(
        session,
        organization_id,
        "interaction_logged",
        f"{kind.value} logged" + (f": {subject}" if subject else ""),
        user_id=principal.user_id,
    )
    rescore_soon(
        session,
        [organization_id],
        {"kind": "interaction_logged", "interaction_id": row.id, "user_id": principal.user_id},
    )
    return row
