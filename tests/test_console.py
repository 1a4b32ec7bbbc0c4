"""« Espace gestionnaire »: sign-in with a second factor, every route × role, search, a
request's history, unlock, and an audit log nobody edits (SQLite and PostgreSQL)."""

from __future__ import annotations

import re

import pytest
from peewee import DatabaseError

from models.citizen import auth
from models.demo.data import DEMO_AGENTS
from models.operator.agents import AuditEntry, totp_now
from models.shared.db import database

from .helpers import assert_shown_again_with_errors, csrf_token, post_form, sign_in
from .test_payments import pay_through_the_app


def agent_sign_in(client, username="agent.demo", code=None):
    _name, _role, password, secret = DEMO_AGENTS[username]
    return post_form(
        client,
        "/gestion/connexion",
        {"username": username, "password": password, "code": code or totp_now(secret)},
    )


def test_an_agent_signs_in_with_password_and_code(client):
    answer = agent_sign_in(client)
    assert answer.status_code == 303 and answer.location == "/gestion/"
    page = client.get("/gestion/")
    assert "Espace gestionnaire : Agnès GUICHET (Agent)" in page.text


def test_a_wrong_code_is_refused_beside_the_field(app):
    client = app.test_client()
    answer = agent_sign_in(client, code="000000")
    assert_shown_again_with_errors(answer)  # POST, redirect, GET of the same page
    page = answer.text
    assert "<title>Erreur : Connexion - Espace gestionnaire - CMI</title>" in page
    assert 'id="code-error"' in page and "le code est incorrect" in page
    assert client.get("/gestion/").status_code == 303


# -- every route, every role ------------------------------------------------------------------

SAMPLE = {"number": "10000", "account_id": "1"}


def console_routes(app):
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/gestion"):
            continue
        path = re.sub(
            r"<(?:[^:<>]+:)?([a-z_]+)(?:\([^)]*\))?>", lambda m: SAMPLE[m.group(1)], rule.rule
        )
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule.endpoint, method, path


@pytest.fixture
def paid(app, client):
    sign_in(client, "alfred.depot")
    with database.connection_context():
        number, _ = pay_through_the_app(client)
    return number


@pytest.mark.parametrize("role", ["anonyme", "citoyen", "agent", "superviseur"])
def test_every_console_route_is_refused_to_the_wrong_role(app, paid, role):
    client = app.test_client()
    if role == "citoyen":
        sign_in(client, "camille.martin")
    elif role == "agent":
        agent_sign_in(client, "agent.demo")
    elif role == "superviseur":
        agent_sign_in(client, "superviseur.demo")
    routes = list(console_routes(app))
    assert len(routes) >= 8
    for endpoint, method, path in routes:
        if endpoint == "console.login":
            continue
        if method == "POST":
            # Without the form's token, refused whoever asks; with it, only agents get in.
            assert client.post(path, data={}).status_code == 400, path
            token = (
                csrf_token(client.get("/gestion/connexion").text)
                if role
                in (
                    "anonyme",
                    "citoyen",
                )
                else csrf_token(client.get("/gestion/").text)
            )
            answer = client.post(path, data={"csrf_token": token, "confirm": "oui"})
        else:
            answer = client.get(path)
        if role in ("anonyme", "citoyen"):
            assert answer.status_code == 303, (path, answer.status_code)
            assert answer.location.startswith("/gestion/connexion"), path
        else:
            assert answer.status_code in (200, 204, 303), (path, answer.status_code)
            if endpoint == "console.logout":  # signed out, as asked: sign in again
                agent_sign_in(client, "agent.demo" if role == "agent" else "superviseur.demo")
                continue
            assert not (answer.location or "").startswith("/gestion/connexion"), path


def test_an_agents_session_never_opens_a_citizens_pages(client):
    sign_in(client, "alfred.depot")
    agent_sign_in(client)  # signing in as an agent ends the citizen's session
    assert client.get("/mes-donnees").location.startswith("/connexion")
    sign_in(client, "alfred.depot")  # and the other way round
    assert client.get("/gestion/").location.startswith("/gestion/connexion")


# -- what agents do -----------------------------------------------------------------------------


def test_an_agent_finds_a_paid_request_by_its_number_and_reads_its_history(client, paid):
    agent_sign_in(client)
    results = client.get(f"/gestion/?q={paid}").text
    assert "1 demande</h2>" in results
    assert f'href="/gestion/demandes/{paid}"' in results
    page = client.get(f"/gestion/demandes/{paid}").text
    history = page[page.index("<h2>Historique</h2>") :]
    steps = [s.strip() for s in re.findall(r"</strong> : ([^(<]+)", history)]
    assert steps[:4] == [
        "Demande commencée",
        "Demande validée",
        "Paiement commencé",
        "Paiement accepté",
    ]
    assert steps[4].startswith("Courriel « ") and len(steps) == 5
    for other in ("alfred.depot", "0000 0000 0000 0001", "Carte perdue"):
        assert other in page
    csv_export = client.get(f"/gestion/export.csv?q={paid}")
    assert csv_export.mimetype == "text/csv"
    assert f"{paid};duplicata;payée;alfred.depot" in csv_export.data.decode("utf-8-sig")


def test_searches_by_name_state_and_dates_and_bad_dates_are_told(client, paid):
    agent_sign_in(client)
    assert "1 demande</h2>" in client.get("/gestion/?q=depot").text
    assert "1 demande</h2>" in client.get("/gestion/?etat=payée").text
    assert "0 demande</h2>" in client.get("/gestion/?etat=expédiée").text
    assert "0 demande</h2>" in client.get("/gestion/?du=2030-01-01").text
    page = client.get("/gestion/?du=29/11").text
    assert "<title>Erreur : Rechercher" in page and 'href="#du"' in page
    assert "Alfred DEPOT (alfred.depot)" in client.get("/gestion/?q=alfred.depot@example.org").text


def test_an_agent_unlocks_an_account_and_the_audit_log_keeps_it_for_good(app, client):
    for _ in range(auth.MAX_FAILURES):
        post_form(app.test_client(), "/connexion", {"username": "camille.martin", "password": "x"})
    with database.connection_context():
        assert auth.locked_until("camille.martin") is not None
        from models import Account

        camille = Account.get(Account.username == "camille.martin")
    agent_sign_in(client)
    page = client.get(f"/gestion/comptes/{camille.id}").text
    assert "Verrouillé après des essais échoués" in page
    confirm = client.get(f"/gestion/comptes/{camille.id}/deverrouiller").text
    assert "Déverrouiller le compte de Camille MARTIN ?" in confirm
    done = post_form(client, f"/gestion/comptes/{camille.id}/deverrouiller", {"confirm": "oui"})
    assert done.status_code == 303
    assert "Le compte camille.martin est déverrouillé." in client.get(done.location).text
    sign_in(app.test_client(), "camille.martin")
    with database.connection_context():
        (entry,) = AuditEntry.select()
        assert entry.agent.username == "agent.demo" and entry.subject == f"account:{camille.id}"
        assert entry.before_data == {"essais échoués": auth.MAX_FAILURES}
        assert entry.after_data == {"essais échoués": 0}
        with pytest.raises(DatabaseError, match="append-only"), database.atomic():
            AuditEntry.update(action="rien").execute()
        with pytest.raises(DatabaseError, match="append-only"), database.atomic():
            AuditEntry.delete().execute()
