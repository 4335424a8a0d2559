"""Built-in notifiers: e-mail over SMTP, and an outbox file for the embedded default.

``smtp`` is used when ``OGCRM_SMTP_URL`` is set::

    smtp://user:password@mail.example.com:587?starttls=true
    smtps://mail.example.com:465          (TLS from the first byte)
    smtp://127.0.0.1:8025                 (a local relay, no login)

``outbox`` always works and sends nothing: each message becomes one JSON line in
``<data dir>/outbox.jsonl``, so a demo or a test can see what would have gone out.
"""

from __future__ import annotations

import json
import smtplib
import ssl
import threading
import uuid
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from urllib.parse import parse_qs, unquote, urlsplit

from ogcrm import hookimpl
from ogcrm.pipeline.contracts import Notifier, NotifierError, NotifierSettings, OutboundMessage

#: Seconds to wait for the mail server before the message counts as failed (retryable).
SMTP_TIMEOUT = 20


class SmtpNotifier(Notifier):
    """E-mail through an SMTP server, one connection per message (reminders and
    campaign sends are rate-limited upstream: a pool would buy nothing)."""

    name = "smtp"
    channel = "email"
    priority = 10

    def __init__(self, url: str, mail_from: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError(
                f"OGCRM_SMTP_URL must be smtp://host[:port] or smtps://..., not {url!r}"
            )
        self.host = parts.hostname
        self.tls = parts.scheme == "smtps"
        self.port = parts.port or (465 if self.tls else 25)
        self.user = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        query = parse_qs(parts.query)
        self.starttls = query.get("starttls", ["false"])[0].lower() in ("1", "true", "yes")
        self.mail_from = mail_from

    @classmethod
    def configure(cls, settings: NotifierSettings) -> SmtpNotifier | None:
        return cls(settings.smtp_url, settings.mail_from) if settings.smtp_url else None

    def _message(self, message: OutboundMessage) -> EmailMessage:
        mail = EmailMessage()
        mail["From"] = self.mail_from
        mail["To"] = formataddr((message.to_name or "", message.to))
        mail["Subject"] = message.subject
        mail["Message-ID"] = make_msgid(domain=self.mail_from.rpartition("@")[2] or None)
        mail["X-Ogcrm-Template"] = message.template
        mail.set_content(message.body)
        return mail

    def send(self, message: OutboundMessage) -> str:
        mail = self._message(message)
        try:
            if self.tls:
                server: smtplib.SMTP = smtplib.SMTP_SSL(
                    self.host, self.port, timeout=SMTP_TIMEOUT, context=ssl.create_default_context()
                )
            else:
                server = smtplib.SMTP(self.host, self.port, timeout=SMTP_TIMEOUT)
            with server:
                if self.starttls:
                    server.starttls(context=ssl.create_default_context())
                if self.user:
                    server.login(self.user, self.password or "")
                server.send_message(mail)
        except smtplib.SMTPRecipientsRefused as exc:
            raise NotifierError("the mail server refused the recipient", retryable=False) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise NotifierError(f"mail server: {type(exc).__name__}: {exc}") from exc
        return str(mail["Message-ID"])


class OutboxNotifier(Notifier):
    """Writes each message as a JSON line to ``outbox.jsonl`` in the data directory."""

    name = "outbox"
    channel = "email"
    priority = 0
    _lock = threading.Lock()

    def __init__(self, path: str) -> None:
        self.path = path

    @classmethod
    def configure(cls, settings: NotifierSettings) -> OutboxNotifier:
        return cls(str(settings.data_dir / "outbox.jsonl"))

    def send(self, message: OutboundMessage) -> str:
        message_id = uuid.uuid4().hex
        line = json.dumps(
            {
                "id": message_id,
                "to": message.to,
                "to_name": message.to_name,
                "subject": message.subject,
                "template": message.template,
                "body": message.body,
            }
        )
        try:
            with self._lock, open(self.path, "a", encoding="utf-8") as out:
                out.write(line + "\n")
        except OSError as exc:
            raise NotifierError(f"outbox: {exc}") from exc
        return message_id


@hookimpl
def ogcrm_register_notifiers() -> list[type[Notifier]]:
    return [SmtpNotifier, OutboxNotifier]
