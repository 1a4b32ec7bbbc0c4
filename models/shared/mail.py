"""Outgoing email: every message is kept in an outbox, then sent by SMTP if configured."""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from peewee import CharField, DateTimeField, TextField

from .clock import clock
from .db import BaseModel

log = logging.getLogger(__name__)


class OutboxEmail(BaseModel):
    recipient = CharField()
    subject = CharField()
    text = TextField()
    html = TextField(null=True)
    created_at = DateTimeField(default=clock.now)
    sent_at = DateTimeField(null=True)
    error = TextField(null=True)


def queue(recipient: str, subject: str, text: str, html: str | None = None) -> OutboxEmail:
    """Keep an email in the outbox; ``Mailer.deliver`` sends it."""
    return OutboxEmail.create(recipient=recipient, subject=subject, text=text, html=html)


class Mailer:
    """Sends through ``smtp_url`` (smtp://user:pass@host:port, smtps://..., ?starttls=1).

    Without an SMTP URL the message stays in the outbox and, in demo mode, is
    written as a file to ``folder`` (``instance/outbox/<id>.txt``), where QA
    reads it. The log only ever says which e-mail (its id), never to whom or what.
    """

    def __init__(
        self, smtp_url: str | None, sender: str, timeout: float = 10, folder: Path | None = None
    ) -> None:
        self.smtp_url = smtp_url or None
        self.sender = sender
        self.timeout = timeout
        self.folder = folder

    def send(self, recipient: str, subject: str, text: str, html: str | None = None):
        return self.deliver(queue(recipient, subject, text, html))

    def deliver(self, email: OutboxEmail) -> OutboxEmail:
        """Send a queued email; call it outside any database transaction (SMTP may be slow)."""
        if self.smtp_url is None:
            if self.folder is not None:
                self.folder.mkdir(parents=True, exist_ok=True)
                (self.folder / f"{email.id}.txt").write_text(
                    f"To: {email.recipient}\nSubject: {email.subject}\n\n{email.text}",
                    encoding="utf-8",
                )
            log.info("Email %s kept in the outbox (no SMTP_URL)", email.id)
            return email
        try:
            self._deliver(self._message(email))
        except (OSError, smtplib.SMTPException) as error:
            # The request goes on; the message waits in the outbox.
            log.error("Email %s not sent: %s", email.id, type(error).__name__)
            OutboxEmail.update(error=str(error)).where(OutboxEmail.id == email.id).execute()
        else:
            email.sent_at, email.error = clock.now(), None
            OutboxEmail.update(sent_at=email.sent_at, error=None).where(
                OutboxEmail.id == email.id
            ).execute()
        return email

    def send_waiting(self) -> tuple[int, int]:
        """Try again every email an SMTP failure left in the outbox: (sent, still waiting).

        For an operator's periodic job (``python app.py --send-outbox``), run
        from one machine only. Emails never tried (no SMTP_URL) are left alone.
        """
        waiting = list(
            OutboxEmail.select()
            .where(OutboxEmail.sent_at.is_null() & OutboxEmail.error.is_null(False))
            .order_by(OutboxEmail.id)
        )
        sent = sum(1 for email in waiting if self.deliver(email).sent_at is not None)
        return sent, len(waiting) - sent

    def _message(self, email: OutboxEmail) -> EmailMessage:
        message = EmailMessage()
        message["From"] = formataddr(("Carte mobilité inclusion", self.sender))
        message["To"] = email.recipient
        message["Subject"] = email.subject
        message["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2] or None)
        message.set_content(email.text)
        if email.html:
            message.add_alternative(email.html, subtype="html")
        return message

    def _deliver(self, message: EmailMessage) -> None:
        url = urlsplit(self.smtp_url)
        options = parse_qs(url.query)
        host = url.hostname or "localhost"
        if url.scheme == "smtps":
            client = smtplib.SMTP_SSL(host, url.port or 465, timeout=self.timeout)
        else:
            client = smtplib.SMTP(host, url.port or 25, timeout=self.timeout)
        with client:
            if options.get("starttls", ["0"])[0] in ("1", "true"):
                client.starttls()
            if url.username:
                client.login(unquote(url.username), unquote(url.password or ""))
            client.send_message(message)
