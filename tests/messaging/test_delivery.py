"""Outbound e-mail as a recipient meets it: a task reminder delivered once to a real SMTP
server (aiosmtpd, started by the test), an opted-out contact never sent anything, the
outbox file when no SMTP server is configured, and a mail server that is down."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Iterator
from email import message_from_bytes
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from ogcrm.accounts.organizations import create_organization
from ogcrm.config import Settings
from ogcrm.db.models import (
    AuditEvent,
    ConsentStatus,
    Contact,
    MessageStatus,
    OutboundMessageRecord,
)
from ogcrm.db.session import Database
from ogcrm.db.types import utcnow
from ogcrm.jobs.runtime import JobRuntime
from ogcrm.messaging import outbox
from ogcrm.messaging.tasks import owed_messages, send_message
from ogcrm.sales import tasks
from ogcrm.sales.jobs import owed_reminders, remind
from tests.support import free_port


class Inbox:
    """An aiosmtpd handler keeping what it was sent."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def _runtime(db: Database, settings: Settings, **changes: object) -> JobRuntime:
    config = dataclasses.replace(settings, **changes)
    return JobRuntime(db, config.data_dir, None, config)


@pytest.fixture
def task_due_soon(db: Database, users) -> tuple[int, object]:
    rep = users.create("sales")
    principal = rep.principal(db)
    with db.unit_of_work() as s:
        org = create_organization(s, principal, name="Caprock Operating LLC").id
        task = tasks.create_task(
            s, principal, organization_id=org, title="Call about the Reeves permit",
            due_at=utcnow() + dt.timedelta(minutes=30),
        )  # fmt: skip
        return task.id, rep


def test_a_task_reminder_reaches_the_assignee_once(
    db: Database, settings: Settings, smtp: tuple[Inbox, int], task_due_soon
):
    inbox, port = smtp
    task_id, rep = task_due_soon
    rt = _runtime(db, settings, smtp_url=f"smtp://127.0.0.1:{port}", mail_from="crm@example.com")
    assert owed_reminders(db, utcnow()) == {"sales.remind": [task_id]}
    with db.unit_of_work() as s:
        assert remind(s, task_id, now=utcnow()) is True
    with db.unit_of_work() as s:
        assert remind(s, task_id, now=utcnow()) is False  # a second worker, a re-sent job
    assert owed_reminders(db, utcnow()) == {"sales.remind": []}
    with db.read() as s:
        (record,) = s.scalars(select(OutboundMessageRecord)).all()
    send_message(rt, record.id)
    send_message(rt, record.id)  # a duplicate job takes nothing

    (mail_from, to, content) = inbox.messages[0]
    assert len(inbox.messages) == 1
    mail = message_from_bytes(content)
    assert mail_from == "crm@example.com" and to == [rep.email]
    assert mail["Subject"].endswith("Call about the Reeves permit")
    assert "Caprock Operating LLC" in mail.get_payload()
    with db.read() as s:
        record = s.get(OutboundMessageRecord, record.id)
        actions = s.scalars(
            select(AuditEvent.action).where(AuditEvent.entity == "outbound_message")
        ).all()
    assert record.status is MessageStatus.SENT and record.notifier == "smtp"
    assert record.body is None and record.provider_id  # the record, not a copy of the mail
    assert actions == ["message.queued", "message.sent"]


def test_an_opted_out_contact_is_never_sent_anything(
    db: Database, settings: Settings, smtp: tuple[Inbox, int], users
):
    inbox, port = smtp
    rep = users.create("sales")
    with db.unit_of_work() as s:
        org = create_organization(s, rep.principal(db), name="Basin Energy Inc").id
        contact = Contact(organization_id=org, full_name="No Mail", consent=ConsentStatus.DENIED)
        s.add(contact)
        s.flush()
        record = outbox.queue_message(
            s,
            None,
            outbox.Recipient("nomail@example.com", "No Mail", contact_id=contact.id),
            template="campaign",
            subject="Hello",
            body="Hello",
        )
        record_id = record.id
    send_message(_runtime(db, settings, smtp_url=f"smtp://127.0.0.1:{port}"), record_id)
    assert inbox.messages == []
    with db.read() as s:
        record = s.get(OutboundMessageRecord, record_id)
    assert (record.status, record.error) == (MessageStatus.SKIPPED, "the contact opted out")


def test_without_smtp_messages_go_to_the_outbox_file(
    db: Database, settings: Settings, task_due_soon
):
    task_id, rep = task_due_soon
    with db.unit_of_work() as s:
        remind(s, task_id, now=utcnow())
    with db.read() as s:
        record_id = s.scalar(select(OutboundMessageRecord.id))
    rt = _runtime(db, settings, smtp_url="")
    send_message(rt, record_id)
    lines = (Path(settings.data_dir) / "outbox.jsonl").read_text().splitlines()
    (sent,) = [json.loads(line) for line in lines]
    assert sent["to"] == rep.email and sent["template"] == "task_reminder"


def test_a_mail_server_that_is_down_is_retried_then_failed(
    db: Database, settings: Settings, task_due_soon
):
    task_id, _ = task_due_soon
    with db.unit_of_work() as s:
        remind(s, task_id, now=utcnow())
    with db.read() as s:
        record_id = s.scalar(select(OutboundMessageRecord.id))
    rt = _runtime(db, settings, smtp_url=f"smtp://127.0.0.1:{free_port()}")  # nobody listens
    statuses = []
    for _ in range(outbox.MAX_ATTEMPTS):
        send_message(rt, record_id)
        with db.read() as s:
            record = s.get(OutboundMessageRecord, record_id)
            statuses.append(record.status)
    assert statuses == [MessageStatus.QUEUED, MessageStatus.QUEUED, MessageStatus.FAILED]
    assert "ConnectionRefusedError" in record.error and record.attempts == 3
    # a queued message whose job was lost is owed again; a failed one never is
    assert owed_messages(db, utcnow() + dt.timedelta(seconds=1)) == {"messages.send": []}


def test_a_reminder_is_an_event_for_the_assignee_after_commit(db: Database, task_due_soon):
    """What `myAccountsChanged` delivers: a `task_due` event addressed to the assignee,
    published once the reminder is committed (never for one rolled back)."""
    from ogcrm.events import ACCOUNTS_CHANNEL, InProcessBus, bind, iterate

    task_id, rep = task_due_soon
    bus = InProcessBus()
    bind(db.info, bus)
    sub = bus.subscribe(ACCOUNTS_CHANNEL)
    try:
        with pytest.raises(RuntimeError), db.unit_of_work() as s:
            remind(s, task_id, now=utcnow())
            raise RuntimeError("rolled back")
        assert list(iterate(sub, timeout=0.1)) == []
        with db.unit_of_work() as s:
            assert remind(s, task_id, now=utcnow()) is True
        (event,) = list(iterate(sub, timeout=0.2))
    finally:
        sub.close()
        bind(db.info, None)
    assert (event["kind"], event["owner_id"]) == ("task_due", rep.id)
    assert (
        event["data"]["task_id"] == task_id and "Call about the Reeves permit" in event["summary"]
    )
