"""Emails reach a real SMTP server when SMTP_URL is set, and wait in the outbox when it fails."""

from __future__ import annotations

import socket

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message

from models.shared.mail import Mailer, OutboxEmail

from .helpers import post_form


class Inbox(Message):
    def __init__(self):
        super().__init__()
        self.messages = []

    def handle_message(self, message):
        self.messages.append(message)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, inbox
    controller.stop()


def test_a_reset_link_travels_through_a_real_smtp_server(app, db, smtp_server):
    controller, inbox = smtp_server
    app.extensions["mailer"] = Mailer(
        f"smtp://{controller.hostname}:{controller.port}", "ne-pas-repondre@cmi.example.org"
    )
    post_form(app.test_client(), "/mot-de-passe-oublie", {"username": "alfred.depot"})
    assert len(inbox.messages) == 1
    message = inbox.messages[0]
    assert message["To"] == "alfred.depot@example.org"
    assert "nouveau mot de passe" in message["Subject"]
    body = message.get_payload(decode=True).decode()
    assert "http://localhost/mot-de-passe/" in body
    assert OutboxEmail.select().where(OutboxEmail.sent_at.is_null(False)).count() == 1


def test_html_alternative_is_sent_with_the_text(db, smtp_server):
    controller, inbox = smtp_server
    mailer = Mailer(f"smtp://127.0.0.1:{controller.port}", "service@example.org")
    mailer.send("a@example.org", "Sujet", "Texte brut", "<p>Texte <strong>HTML</strong></p>")
    parts = {part.get_content_type() for part in inbox.messages[0].walk()}
    assert {"text/plain", "text/html"} <= parts


def test_an_unreachable_smtp_server_keeps_the_email_in_the_outbox(app, db, caplog):
    app.extensions["mailer"] = Mailer(f"smtp://127.0.0.1:{free_port()}", "s@example.org", 2)
    response = post_form(app.test_client(), "/mot-de-passe-oublie", {"username": "alfred.depot"})
    assert response.status_code == 303  # the user is not punished for our outage
    email = OutboxEmail.get()
    assert email.sent_at is None and email.error
    assert "not sent" in caplog.text


def test_without_smtp_the_demo_writes_the_email_to_a_file_and_never_to_the_log(
    app, caplog, tmp_path
):
    caplog.set_level("INFO")
    app.extensions["mailer"] = Mailer(None, "s@example.org", folder=tmp_path)
    post_form(app.test_client(), "/identifiant-oublie", {"email": "joseph.quinn@example.org"})
    (written,) = tmp_path.glob("*.txt")
    assert "Votre identifiant : joseph.quinn" in written.read_text("utf-8")
    assert "kept in the outbox" in caplog.text
    assert "joseph" not in caplog.text.lower()


def test_an_email_left_by_an_outage_is_sent_when_tried_again(app, db, smtp_server):
    down = Mailer(f"smtp://127.0.0.1:{free_port()}", "s@example.org", 2)
    failed = down.send("a@example.org", "Votre demande 10000", "Texte")
    assert failed.sent_at is None
    assert down.send_waiting() == (0, 1)  # still down: still waiting

    controller, inbox = smtp_server
    up = Mailer(f"smtp://127.0.0.1:{controller.port}", "s@example.org")
    assert up.send_waiting() == (1, 0)
    assert [m["Subject"] for m in inbox.messages] == ["Votre demande 10000"]
    assert up.send_waiting() == (0, 0)  # sent once only
    email = OutboxEmail.get_by_id(failed.id)
    assert email.sent_at is not None and email.error is None
