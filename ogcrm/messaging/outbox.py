"""Recording, taking and settling outbound messages (the message's state machine:
queued -> sending -> sent | failed, or queued again after a retryable failure;
skipped from the start for an opted-out contact)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ogcrm.auth import audit
from ogcrm.auth.principal import Principal
from ogcrm.config import Settings
from ogcrm.db.models import ConsentStatus, Contact, MessageStatus, OutboundMessageRecord
from ogcrm.db.types import utcnow
from ogcrm.jobs import queue
from ogcrm.pipeline.contracts import Notifier, NotifierSettings, OutboundMessage
from ogcrm.plugins import Registry

SEND_JOB = "messages.send"
#: Tries before a retryable failure counts as failed.
MAX_ATTEMPTS = 3


@dataclass(frozen=True)
class Recipient:
    address: str | None
    name: str | None = None
    user_id: int | None = None
    contact_id: int | None = None


def queue_message(
    session: Session,
    principal: Principal | None,
    recipient: Recipient,
    *,
    template: str,
    subject: str,
    body: str,
    task_id: int | None = None,
) -> OutboundMessageRecord:
    """Record a message and have it sent after commit. A contact who opted out, or a
    recipient without an address, gets a ``skipped`` record instead: nothing is sent."""
    skipped = None
    if recipient.contact_id is not None:
        consent = session.scalar(select(Contact.consent).where(Contact.id == recipient.contact_id))
        if consent is ConsentStatus.DENIED:  # opted out
            skipped = "the contact opted out"
    if not recipient.address:
        skipped = skipped or "no address"
    row = OutboundMessageRecord(
        template=template,
        address=recipient.address,
        to_name=recipient.name,
        subject=subject[:300],
        body=None if skipped else body,
        user_id=recipient.user_id,
        contact_id=recipient.contact_id,
        task_id=task_id,
        status=MessageStatus.SKIPPED if skipped else MessageStatus.QUEUED,
        error=skipped,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        principal,
        "message.skipped" if skipped else "message.queued",
        entity="outbound_message",
        entity_id=row.id,
        template=template,
        recipient_user_id=recipient.user_id,
        contact_id=recipient.contact_id,
        reason=skipped,
    )
    if not skipped:
        queue.enqueue(session, SEND_JOB, row.id)
    return row


def take(session: Session, message_id: int, *, now: dt.datetime) -> OutboundMessage | None:
    """Take a queued message for sending; ``None`` if another worker has it, or it was
    sent, skipped or failed already (so a duplicate job sends nothing)."""
    result = session.execute(
        update(OutboundMessageRecord)
        .where(
            OutboundMessageRecord.id == message_id,
            OutboundMessageRecord.status == MessageStatus.QUEUED,
        )
        .values(
            status=MessageStatus.SENDING,
            attempts=OutboundMessageRecord.attempts + 1,
            sent_at=now,  # when this attempt started, until it is settled
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return None
    row = session.get(OutboundMessageRecord, message_id, populate_existing=True)
    assert row is not None and row.address is not None
    return OutboundMessage(
        to=row.address,
        subject=row.subject,
        body=row.body or "",
        template=row.template,
        to_name=row.to_name,
    )


def settle(
    session: Session,
    message_id: int,
    *,
    notifier: str,
    provider_id: str | None = None,
    error: str | None = None,
    retryable: bool = False,
) -> MessageStatus:
    """Record how sending went: sent (the body is dropped), queued again for a later try
    (retryable, attempts left), or failed; audited either way."""
    row = session.get(OutboundMessageRecord, message_id)
    assert row is not None
    row.notifier = notifier
    if error is None:
        row.status, row.provider_id, row.body, row.error = (
            MessageStatus.SENT,
            provider_id,
            None,
            None,
        )
        row.sent_at = utcnow()
    elif retryable and row.attempts < MAX_ATTEMPTS:
        row.status, row.error = MessageStatus.QUEUED, error
    else:
        row.status, row.error, row.body = MessageStatus.FAILED, error, None
    session.flush()
    audit.record(
        session,
        None,
        f"message.{row.status.value}",
        entity="outbound_message",
        entity_id=message_id,
        template=row.template,
        notifier=notifier,
        attempts=row.attempts,
        error=error,
    )
    return row.status


def owed(session: Session, *, cutoff: dt.datetime) -> list[int]:
    """Messages whose job was lost (queued before ``cutoff``, or left for a retry), after
    failing the ones a worker died sending (``sending`` since before ``cutoff``): those
    are never re-sent, since the mail may have gone out."""
    session.execute(
        update(OutboundMessageRecord)
        .where(
            OutboundMessageRecord.status == MessageStatus.SENDING,
            OutboundMessageRecord.sent_at < cutoff,
        )
        .values(status=MessageStatus.FAILED, error="interrupted while sending", body=None)
        .execution_options(synchronize_session=False)
    )
    return list(
        session.scalars(
            select(OutboundMessageRecord.id).where(
                OutboundMessageRecord.status == MessageStatus.QUEUED,
                OutboundMessageRecord.created_at < cutoff,
            )
        )
    )


def notifier_for(settings: Settings, registry: Registry, channel: str = "email") -> Notifier:
    """The configured notifier of highest priority for ``channel``."""
    config = NotifierSettings(
        smtp_url=settings.smtp_url or None, mail_from=settings.mail_from, data_dir=settings.data_dir
    )
    for cls in sorted(
        (c for c in registry.notifiers.values() if c.channel == channel),
        key=lambda c: -c.priority,
    ):
        notifier = cls.configure(config)
        if notifier is not None:
            return notifier
    raise LookupError(f"no notifier is configured for {channel}")
