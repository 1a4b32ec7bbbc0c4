"""Every confirmed console action ends on a result page (POST, redirect, GET), and the
same confirmation sent again does nothing more and lands on the same result."""

from __future__ import annotations

import re

from models import Account, OutboxEmail
from models.operator.agents import AuditEntry
from models.shared.db import database

from .helpers import ACTION_TOKEN_INPUT, csrf_token
from .test_console import agent_sign_in
from .test_documents import letter_sizes


def confirmation(client, path: str) -> dict:
    page = client.get(path).text
    token = ACTION_TOKEN_INPUT.search(page)
    return {
        "csrf_token": csrf_token(page),
        "action_token": token.group(1) or token.group(2),
        "confirm": "oui",
    }


def test_a_new_letter_replayed_makes_no_second_code_and_lands_on_the_same_result(app, client):
    agent_sign_in(client)
    with database.connection_context():
        marie = Account.get(Account.username == "marie.durand")
    path = f"/gestion/comptes/{marie.id}/nouveau-courrier"
    form = confirmation(client, path)
    first = client.post(path, data=form)
    with database.connection_context():
        digest = Account.get_by_id(marie.id).activation_digest
    again = client.post(path, data=form)  # a double click, or back then « Oui » again
    assert first.status_code == again.status_code == 303
    assert first.location == again.location and re.fullmatch(
        r"/gestion/resultats/\d+", first.location
    )
    with database.connection_context():
        assert Account.get_by_id(marie.id).activation_digest == digest  # the letter still works
        assert (
            AuditEntry.select().where(AuditEntry.action == "Nouveau courrier de connexion").count()
            == 1
        )
    page = client.get(first.location).text
    assert "<title>Courrier prêt pour Marie DURAND - Espace gestionnaire - CMI</title>" in page
    assert "ancien code d&#39;activation et le mot de passe ne servent plus" in page
    assert re.search(r"Télécharger le courrier de connexion \(PDF, \d+ Ko\)", page)
    pdf = client.get(f"{first.location}/courrier.pdf")
    assert pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    assert client.get(f"{first.location}/courrier.pdf").data == pdf.data  # the same letter
    # The same letter in large print (16 pt), for a holder who reads it better.
    assert re.search(
        r"Le même courrier en gros caractères, pour une personne qui lit mal les petits "
        r"caractères \(PDF, \d+ Ko\)",
        page,
    )
    large = client.get(f"{first.location}/courrier-gros-caracteres.pdf")
    assert large.mimetype == "application/pdf"
    assert "gros-caracteres" in large.headers["Content-Disposition"]
    assert min(letter_sizes(large.data).values()) == 16
    assert min(letter_sizes(pdf.data).values()) == 12


def test_the_identifiant_sent_twice_by_the_same_form_goes_once(app, client):
    agent_sign_in(client)
    with database.connection_context():
        marie = Account.get(Account.username == "marie.durand")
        before = OutboxEmail.select().count()
    path = f"/gestion/comptes/{marie.id}/renvoyer-identifiant"
    form = confirmation(client, path)
    first = client.post(path, data=form)
    assert client.post(path, data=form).location == first.location
    with database.connection_context():
        assert OutboxEmail.select().count() == before + 1
        assert AuditEntry.select().where(AuditEntry.action == "Identifiant renvoyé").count() == 1
    assert "Identifiant envoyé à Marie DURAND" in client.get(first.location).text


def test_another_agent_never_reads_a_result(app, client):
    agent_sign_in(client)
    with database.connection_context():
        marie = Account.get(Account.username == "marie.durand")
    path = f"/gestion/comptes/{marie.id}/nouveau-courrier"
    done = client.post(path, data=confirmation(client, path))
    other = app.test_client()
    agent_sign_in(other, "superviseur.demo")
    assert other.get(done.location).status_code == 404
    assert other.get(f"{done.location}/courrier.pdf").status_code == 404


def test_the_back_button_reloads_the_confirmation_with_the_same_token(app, client):
    """Console pages are never stored, so « back » fetches the confirmation again: moments
    after its action it carries the same token and says the action is done; later it is a new
    confirmation."""
    from datetime import timedelta

    from models.operator.results import SHOWN_AGAIN_WITHIN
    from models.shared.clock import clock

    agent_sign_in(client)
    with database.connection_context():
        marie = Account.get(Account.username == "marie.durand")
    path = f"/gestion/comptes/{marie.id}/nouveau-courrier"
    first = client.post(path, data=confirmation(client, path))
    page = client.get(path).text
    assert "Vous avez confirmé cette action à" in page and "Courrier prêt pour" in page
    again = client.post(path, data=confirmation(client, path))
    assert again.location == first.location
    with database.connection_context():
        assert (
            AuditEntry.select().where(AuditEntry.action == "Nouveau courrier de connexion").count()
            == 1
        )
    with clock.shifted(SHOWN_AGAIN_WITHIN + timedelta(seconds=1)):
        later = client.post(path, data=confirmation(client, path))
    assert later.location != first.location
