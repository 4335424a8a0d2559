"""Outbound messages: every e-mail ogcrm sends (or refuses to send), recorded."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ogcrm.db.base import Base, IdMixin, enum_column, foreign_key
from ogcrm.db.crypto import Sensitive
from ogcrm.db.types import utcnow


class MessageStatus(enum.StrEnum):
    QUEUED = "queued"  # recorded, its job sent
    SENDING = "sending"  # a worker took it
    SENT = "sent"
    FAILED = "failed"  # the notifier refused it, or a worker died while sending
    SKIPPED = "skipped"  # never sent: the contact opted out, or has no address


class OutboundMessageRecord(IdMixin, Base):
    """One message to one person: who, which template, when, the outcome. The body is
    kept until the message is sent (the job sends what was recorded), then dropped:
    the record is the proof, not a copy of the mail."""

    __tablename__ = "outbound_message"
    __table_args__ = (Index("ix_outbound_message_status_created_at", "status", "created_at"),)

    channel: Mapped[str] = mapped_column(String(16), default="email")
    template: Mapped[str] = mapped_column(String(64))
    #: Encrypted at rest when a key is configured, as the contact's own address is.
    address: Mapped[str | None] = mapped_column(Sensitive(320, "outbound_message.address"))
    to_name: Mapped[str | None] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str | None] = mapped_column(Text)
    user_id: Mapped[int | None] = foreign_key("user.id", nullable=True, ondelete="SET NULL")
    contact_id: Mapped[int | None] = foreign_key("contact.id", nullable=True, ondelete="SET NULL")
    task_id: Mapped[int | None] = foreign_key(
        "task.id", nullable=True, ondelete="SET NULL", index=False
    )
    status: Mapped[MessageStatus] = enum_column(MessageStatus, default=MessageStatus.QUEUED)
    notifier: Mapped[str | None] = mapped_column(String(64))
    provider_id: Mapped[str | None] = mapped_column(String(300))
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[dt.datetime | None]
