"""An e-mail address typed or pasted with spaces or tabs around it is taken, without them,
on every form that asks for one (SQLite and PostgreSQL)."""

from __future__ import annotations

from wtforms.validators import Email

from models import Account, OutboxEmail
from models.citizen.credentials import CredentialRequest
from models.operator.agents import Agent
from models.shared.db import database
from views.shared.forms import EmailAddressField, Form

from .helpers import post_form
from .test_console import agent_sign_in

AROUND = " \t{} \t"


def test_identifiant_oublie_takes_an_address_with_spaces_around_it(client):
    answer = post_form(
        client, "/identifiant-oublie", {"email": AROUND.format("alfred.depot@example.org")}
    )
    assert answer.status_code == 303 and answer.location.startswith("/courriel-envoye")
    with database.connection_context():
        assert [r.key for r in CredentialRequest.select()] == ["alfred.depot@example.org"]
        sent = OutboxEmail.select().where(OutboxEmail.recipient == "alfred.depot@example.org")
        assert "alfred.depot" in sent.get().text


def test_a_new_agents_address_with_spaces_around_it_is_taken_and_stored_trimmed(client):
    agent_sign_in(client, "superviseur.demo")
    added = post_form(
        client,
        "/gestion/agents/nouveau",
        {
            "username": "lea.nouvel",
            "full_name": "Léa NOUVEL",
            "email": AROUND.format("Lea@Example.net"),
            "role": "agent",
        },
    )
    assert added.status_code == 303, added.text
    with database.connection_context():
        assert Agent.get(Agent.username == "lea.nouvel").email == "lea@example.net"
        assert OutboxEmail.select().where(OutboxEmail.recipient == "lea@example.net").exists()


def test_a_changed_address_with_spaces_around_it_is_taken_and_stored_trimmed(client):
    agent_sign_in(client, "superviseur.demo")
    with database.connection_context():
        joseph = Account.get(Account.username == "joseph.quinn")
    done = post_form(
        client,
        f"/gestion/comptes/{joseph.id}/courriel",
        {"email": AROUND.format("Joseph.Q@Example.net")},
    )
    assert done.status_code == 303, done.text
    with database.connection_context():
        assert Account.get_by_id(joseph.id).email == "joseph.q@example.net"


def test_spaces_inside_an_address_are_still_refused(client):
    agent_sign_in(client, "superviseur.demo")
    with database.connection_context():
        joseph = Account.get(Account.username == "joseph.quinn")
    refused = post_form(
        client, f"/gestion/comptes/{joseph.id}/courriel", {"email": "joseph q@example.net"}
    )
    assert "Saisissez une adresse électronique valide" in refused.text


def all_forms(cls=Form):
    for sub in cls.__subclasses__():
        yield sub
        yield from all_forms(sub)


def test_every_field_that_checks_an_address_is_an_address_field(app):
    """The class, not the three examples: a form added later with a field that checks an
    e-mail address gets the same trimming."""
    checked = []
    with app.test_request_context():
        for form_class in all_forms():
            for field in form_class(formdata=None):
                if any(isinstance(v, Email) for v in field.validators):
                    checked.append(f"{form_class.__name__}.{field.name}")
                    assert isinstance(field, EmailAddressField), checked[-1]
    assert sorted(checked) == [
        "EmailForm.email",
        "ForgottenUsernameForm.email",
        "NewAgentForm.email",
    ]
