"""``python app.py create-agent``: the first agent of a new installation (or any other),
outside demo mode: the enrolment link e-mailed or printed, bad input refused with one clear
line and exit status 2 (SQLite and PostgreSQL)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

import app as application
import models
from models.operator.agents import Agent, AuditEntry, totp_now
from models.shared.clock import clock
from models.shared.db import database
from models.shared.mail import OutboxEmail

from .helpers import post_form
from .test_mail import free_port, smtp_server  # noqa: F401 (a fixture)

PUBLIC_URL = "https://cmi.example.org"


@pytest.fixture
def no_agent_yet(database_url, make_app, monkeypatch):
    """A new installation: tables, no demo data, the production settings in the
    environment (the command reads them as the server does)."""
    service = make_app(database_url)
    models.create_tables()
    monkeypatch.setenv("PUBLIC_URL", PUBLIC_URL)
    monkeypatch.delenv("SMTP_URL", raising=False)
    return service


def run(database_url: str, *args: str) -> int:
    return application.main(["--database", database_url, "create-agent", *args])


def test_the_first_superviseur_gets_the_link_by_e_mail_enrols_and_signs_in(
    no_agent_yet,
    database_url,
    smtp_server,  # noqa: F811 (the fixture imported above)
    monkeypatch,
    capsys,
):
    controller, inbox = smtp_server
    monkeypatch.setenv("SMTP_URL", f"smtp://127.0.0.1:{controller.port}")
    typed = ["marie.chef", "--name", " Marie CHEF ", "--email", " \tMarie.Chef@Example.net "]
    assert run(database_url, *typed) == 0
    printed = capsys.readouterr()
    assert "Superviseur marie.chef created; enrolment link sent to marie.chef@example.net, " in (
        printed.out
    )
    (message,) = inbox.messages
    assert message["To"] == "marie.chef@example.net"
    body = message.get_payload(decode=True).decode()
    link = re.search(rf"{re.escape(PUBLIC_URL)}(/gestion/inscription/\S+)", body).group(1)
    assert link.rsplit("/", 1)[1] not in printed.out + printed.err  # never in the logs

    browser = no_agent_yet.test_client()
    with database.connection_context():
        marie = Agent.get(Agent.username == "marie.chef")
        assert (marie.role, marie.display_name, marie.active) == ("superviseur", "Marie CHEF", True)
        (entry,) = AuditEntry.select()
        assert entry.agent_id is None and entry.action == "Agent ajouté"
        assert entry.actor == "par un opérateur (commande create-agent)"
        assert entry.after_data["identifiant"] == "marie.chef"
    password = "Premiere-cle-2026"
    done = post_form(
        browser,
        link,
        {"password": password, "confirmation": password, "code": totp_now(marie.totp_secret)},
    )
    assert done.location == "/gestion/connexion"
    clock.advance(timedelta(seconds=30))
    signed = post_form(
        browser,
        "/gestion/connexion",
        {"username": "marie.chef", "password": password, "code": totp_now(marie.totp_secret)},
    )
    assert signed.location == "/gestion/"
    assert browser.get("/gestion/agents").status_code == 200  # a superviseur: adds the others


def test_print_link_prints_it_and_sends_nothing_and_role_agent_makes_an_agent(
    no_agent_yet, database_url, capsys
):
    assert run(database_url, "paul.guichet", "--name", "Paul GUICHET", "--email",
               "paul@example.net", "--role", "agent", "--print-link") == 0  # fmt: skip
    out = capsys.readouterr().out.splitlines()
    assert re.fullmatch(rf"{re.escape(PUBLIC_URL)}/gestion/inscription/\S+", out[0])
    assert out[1] == "Agent paul.guichet created; the enrolment link above is valid 48 hours."
    with database.connection_context():
        assert Agent.get(Agent.username == "paul.guichet").role == "agent"
        assert OutboxEmail.select().count() == 0
    path = out[0].removeprefix(PUBLIC_URL)
    assert "Paul GUICHET" in no_agent_yet.test_client().get(path).text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["marie.chef", "--name", "Marie CHEF", "--email", "pas une adresse"],
         "--email: « pas une adresse » is not an e-mail address"),
        (["Marie Chef", "--name", "Marie CHEF", "--email", "m@example.net"],
         "Identifiant « marie chef » refused: at most 60 lower-case letters"),
        (["marie.chef", "--name", "  ", "--email", "m@example.net"],
         "--name: the agent's first and last name"),
    ],
)  # fmt: skip
def test_bad_input_is_refused_with_one_line_and_status_2(
    no_agent_yet, database_url, capsys, args, message
):
    assert run(database_url, *args) == 2
    assert capsys.readouterr().err.splitlines()[0].startswith(message)
    with database.connection_context():
        assert Agent.select().count() == 0 and AuditEntry.select().count() == 0


def test_a_taken_identifiant_is_refused_and_nothing_changes(no_agent_yet, database_url, capsys):
    first = ["marie.chef", "--name", "Marie CHEF", "--email", "m@example.net", "--print-link"]
    assert run(database_url, *first) == 0
    capsys.readouterr()
    again = ["Marie.Chef", "--name", "Autre", "--email", "autre@example.net", "--print-link"]
    assert run(database_url, *again) == 2
    assert capsys.readouterr().err.startswith(
        "Identifiant « marie.chef » is already taken: choose another."
    )
    with database.connection_context():
        assert [a.email for a in Agent.select()] == ["m@example.net"]


def test_without_public_url_or_an_argument_or_with_an_unknown_role_it_is_refused(
    no_agent_yet, database_url, monkeypatch, capsys
):
    monkeypatch.delenv("PUBLIC_URL")
    assert run(database_url, "marie.chef", "--name", "M C", "--email", "m@example.net") == 2
    assert "PUBLIC_URL is not set" in capsys.readouterr().err
    for args in (["marie.chef", "--name", "M C"], ["m.c", "--name", "M", "--email", "m@e.fr",
                                                   "--role", "chef"]):  # fmt: skip
        with pytest.raises(SystemExit) as stopped:
            run(database_url, *args)
        assert stopped.value.code == 2
        assert "error:" in capsys.readouterr().err  # argparse's one line, after the usage
    with database.connection_context():
        assert Agent.select().count() == 0


def test_an_e_mail_that_cannot_leave_is_said_and_waits_in_the_outbox(
    no_agent_yet, database_url, monkeypatch, capsys
):
    monkeypatch.setenv("SMTP_URL", f"smtp://127.0.0.1:{free_port()}")  # nobody listens
    assert run(database_url, "marie.chef", "--name", "Marie CHEF", "--email", "m@example.net") == 1
    assert "waits in the outbox" in capsys.readouterr().err
    with database.connection_context():
        assert OutboxEmail.get().sent_at is None and Agent.select().count() == 1
