"""A form sent after its session ended (WCAG 2.2.1, 2.2.5, 3.3.3): the sign-in page says
the session expired, the answers it carried (never a secret) are kept for their holder
and come back in the same form after sign-in, not sent; the same in the console."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from models import Account, AuditEntry, KeptAnswers, OutboxEmail
from models.demo.data import DEMO_AGENTS, DEMO_PASSWORDS
from models.operator.agents import totp_now
from models.shared import kept_answers
from models.shared.clock import clock
from models.shared.db import database

from .helpers import csrf_token, post_form, sign_in
from .pages import Page
from .test_wizard import request_of, to_delivery

CITIZEN_LIMIT = timedelta(minutes=31)
AGENT_LIMIT = timedelta(minutes=16)
ADDRESS = {"Numéro, libellé de la voie (RUE, AVENUE, ...)": "12 RUE DES LILAS", "Ville": "DOUAI"}
RESTORED = "Vos réponses ont été gardées pendant la déconnexion, mais pas encore envoyées"


def typed_address(client) -> dict:
    """Livraison, « Non », a new street and town typed: what « Valider » would send."""
    page = client.get("/demande/livraison?modifier=1")
    _action, data = Page(page.text).form_data("Valider", ADDRESS)
    return data


def address_typed_then_left(client) -> dict:
    """Alfred types a new address on Livraison, then leaves the page past the session's
    limit: what « Valider » sends now."""
    to_delivery(client)
    data = typed_address(client)
    clock.advance(CITIZEN_LIMIT)
    return data


def query(location: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}


def citizen_signs_in_again(client, location: str, username="alfred.depot"):
    return post_form(client, location, {"username": username, "password": DEMO_PASSWORDS[username]})


def test_a_form_sent_after_the_session_ended_keeps_its_answers_until_sign_in(client):
    data = address_typed_then_left(client)
    sent = client.post(
        "/demande/livraison",
        data=data,
        headers={"Referer": "http://localhost/demande/livraison?modifier=1"},
    )
    # Not « La page a expiré … Rechargez la page »: the sign-in page, session expirée.
    assert sent.status_code == 303, sent.text
    assert urlsplit(sent.location).path == "/connexion"
    asked = query(sent.location)
    assert asked["expiree"] == "1" and asked["next"] == "/demande/livraison?modifier=1"
    login = client.get(sent.location)
    assert "Votre session a expiré après 30 minutes sans activité" in login.text
    assert "vos réponses sont gardées" in login.text
    with database.connection_context():
        assert request_of("alfred.depot").delivery_address.city == "LILLE"
        stored = KeptAnswers.get().answers
    assert "csrf_token" not in stored and "DOUAI" in stored

    back = citizen_signs_in_again(client, sent.location)
    assert back.status_code == 303 and back.location == "/demande/livraison?modifier=1"
    page = Page(client.get(back.location).text)
    assert RESTORED in page.text
    assert page.control("Ville").attrs["value"] == "DOUAI"
    assert page.control("Numéro, libellé de la voie (RUE, AVENUE, ...)").attrs["value"] == (
        "12 RUE DES LILAS"
    )
    assert page.error_summary() == []  # filled in, not sent
    # Given back once: the next visit shows the request's own address again.
    again = Page(client.get("/demande/livraison?modifier=1").text)
    assert RESTORED not in again.text and again.control("Ville").attrs["value"] == "LILLE"
    with database.connection_context():
        assert KeptAnswers.select().count() == 0


def test_without_a_referrer_the_form_s_own_page_is_the_one_to_come_back_to(client):
    data = address_typed_then_left(client)
    sent = client.post("/demande/livraison", data=data)
    assert query(sent.location)["next"] == "/demande/livraison"
    back = citizen_signs_in_again(client, sent.location)
    page = Page(client.get(back.location).text)
    assert page.control("Ville").attrs["value"] == "DOUAI"


def test_kept_answers_go_back_to_their_holder_only(app, client):
    data = address_typed_then_left(client)
    location = client.post("/demande/livraison", data=data).location
    # Someone else signs in at the same computer, with the same page: nothing of them.
    citizen_signs_in_again(client, location, "joseph.quinn")
    page = client.get("/demande/livraison?modifier=1", follow_redirects=True)
    assert "DOUAI" not in page.text and RESTORED not in page.text
    client.post("/deconnexion", data={"csrf_token": csrf_token(page.text)})
    # Their holder still gets them.
    back = citizen_signs_in_again(client, location)
    assert "DOUAI" in client.get(back.location).text


def test_a_form_posted_from_another_site_keeps_nothing(client):
    data = address_typed_then_left(client)
    forged = dict(data, csrf_token="not-a-token-of-this-session")
    sent = client.post("/demande/livraison", data=forged)
    assert sent.status_code == 303 and "reprise" not in query(sent.location)
    with database.connection_context():
        assert KeptAnswers.select().count() == 0


def test_kept_answers_last_thirty_minutes(client):
    data = address_typed_then_left(client)
    location = client.post("/demande/livraison", data=data).location
    clock.advance(kept_answers.LIFETIME + timedelta(seconds=1))
    assert "vos réponses sont gardées" not in client.get(location).text
    back = citizen_signs_in_again(client, location)
    assert RESTORED not in client.get(back.location, follow_redirects=True).text


def test_secrets_and_buttons_are_never_kept():
    sent = [
        ("csrf_token", "x"),
        ("password", "Tilleuls-2026"),
        ("confirmation", "Tilleuls-2026"),
        ("code", "123456"),
        ("number", "4100000000000000"),
        ("security_code", "123"),
        ("expiry", "09/28"),
        ("new_password", "x"),
        ("confirm", "oui"),
        ("action", "precedent"),
        ("city", "DOUAI"),
        ("postcode", "59500"),
    ]
    assert kept_answers.worth_keeping(sent) == [("city", "DOUAI"), ("postcode", "59500")]


def test_an_htmx_form_after_the_session_ended_goes_to_the_sign_in_page(client):
    data = address_typed_then_left(client)
    sent = client.post(
        "/demande/livraison",
        data=data,
        headers={
            "HX-Request": "true",
            "HX-Target": "main#main",
            "Referer": "http://localhost/demande/livraison?modifier=1",
        },
    )
    assert sent.status_code == 204
    target = sent.headers["HX-Redirect"]
    assert urlsplit(target).path == "/connexion" and query(target).get("reprise")


def test_signing_out_after_the_session_ended_says_so_plainly(client):
    sign_in(client, "alfred.depot")
    token = csrf_token(client.get("/mes-donnees").text)
    clock.advance(CITIZEN_LIMIT)
    out = client.post("/deconnexion", data={"csrf_token": token})
    assert out.status_code == 303 and out.location == "/deconnecte"


def test_the_page_s_script_sends_answers_to_keep_and_never_acts_on_them(client):
    """A device that slept past the limit: site.js posts the form to /session/expiree."""
    data = address_typed_then_left(client)
    sent = client.post("/session/expiree?next=/demande/livraison%3Fmodifier%3D1", data=data)
    assert query(sent.location)["next"] == "/demande/livraison?modifier=1"
    back = citizen_signs_in_again(client, sent.location)
    assert "DOUAI" in client.get(back.location).text


def test_the_script_s_answers_come_back_at_once_while_the_session_is_open(client):
    """Another tab kept the session alive: back on the page, the answers in it."""
    to_delivery(client)
    data = typed_address(client)
    sent = client.post("/session/expiree?next=/demande/livraison%3Fmodifier%3D1", data=data)
    assert sent.status_code == 303 and sent.location == "/demande/livraison?modifier=1"
    page = client.get(sent.location).text
    assert "DOUAI" in page and RESTORED in page
    # With a token of no session of theirs, nothing is put in the form.
    forged = dict(data, csrf_token="forged")
    sent = client.post("/session/expiree?next=/demande/livraison%3Fmodifier%3D1", data=forged)
    assert "DOUAI" not in client.get(sent.location).text


def test_the_script_with_no_session_at_all_goes_to_the_sign_in_page(client):
    sent = client.post("/session/expiree?next=/demande/livraison", data={"city": "DOUAI"})
    assert sent.status_code == 303
    assert urlsplit(sent.location).path == "/connexion"
    assert "reprise" not in query(sent.location)


# -- the console -------------------------------------------------------------------------------


def agent_signs_in(client, location="/gestion/connexion", username="superviseur.demo"):
    _name, _role, password, secret = DEMO_AGENTS[username]
    clock.advance(timedelta(seconds=30))
    return post_form(
        client, location, {"username": username, "password": password, "code": totp_now(secret)}
    )


@pytest.fixture
def joseph(db):
    return Account.get(Account.username == "joseph.quinn")


def test_an_agent_s_email_change_after_the_session_ended_comes_back_filled(client, joseph):
    agent_signs_in(client)
    path = f"/gestion/comptes/{joseph.id}/courriel"
    token = csrf_token(client.get(path).text)
    clock.advance(AGENT_LIMIT)
    sent = client.post(path, data={"csrf_token": token, "email": "joseph.q@example.net"})
    assert sent.status_code == 303
    assert urlsplit(sent.location).path == "/gestion/connexion"
    assert query(sent.location)["next"] == path and query(sent.location)["reprise"]
    login = client.get(sent.location).text
    assert "Votre session a expiré après 15 minutes" in login
    assert "vos réponses sont gardées" in login
    assert Account.get_by_id(joseph.id).email == "joseph.quinn@example.org"  # not changed

    back = agent_signs_in(client, sent.location)
    assert back.status_code == 303 and back.location == path
    page = Page(client.get(path).text)
    assert RESTORED in page.text
    assert page.control("Nouvelle adresse électronique").attrs["value"] == "joseph.q@example.net"
    assert Account.get_by_id(joseph.id).email == "joseph.quinn@example.org"


def test_an_agent_s_confirmation_after_the_session_ended_is_not_replayed(client, joseph):
    agent_signs_in(client)
    path = f"/gestion/comptes/{joseph.id}/renvoyer-identifiant"
    token = csrf_token(client.get(path).text)
    clock.advance(AGENT_LIMIT)
    sent = client.post(path, data={"csrf_token": token, "confirm": "oui"})
    assert urlsplit(sent.location).path == "/gestion/connexion"
    assert query(sent.location)["next"] == path
    back = agent_signs_in(client, sent.location)
    assert back.location == path
    page = client.get(path)
    assert page.status_code == 200
    assert Page(page.text).button("Oui, envoyer l'identifiant")  # asked again
    assert AuditEntry.select().where(AuditEntry.action == "Identifiant renvoyé").count() == 0
    assert (
        OutboxEmail.select().where(OutboxEmail.subject.startswith("Votre identifiant")).count() == 0
    )


def test_an_agent_s_search_after_the_session_ended_is_done_again_after_sign_in(client):
    agent_signs_in(client, username="agent.demo")
    clock.advance(AGENT_LIMIT)
    asked = client.get("/gestion/?q=QUINN&etat=")
    assert urlsplit(asked.location).path == "/gestion/connexion"
    assert query(asked.location)["next"] == "/gestion/?q=QUINN&etat="
    back = agent_signs_in(client, asked.location, "agent.demo")
    assert back.location == "/gestion/?q=QUINN&etat="


def test_the_console_never_sends_an_agent_to_a_citizen_s_page(client):
    location = "/gestion/connexion?next=/mes-donnees"
    assert agent_signs_in(client, location, "agent.demo").location == "/gestion/"


# -- the limit, said without JavaScript ----------------------------------------------------------

NOSCRIPT_LIMIT = re.compile(
    r"<p class=\"hint session-limit\">Pour votre sécurité, la session se ferme après (.+?) "
    r"sans action : vos réponses seront gardées.</p>"
)


def limit_said(html: str) -> list[str]:
    assert html.count("la session se ferme après") == len(NOSCRIPT_LIMIT.findall(html))
    return NOSCRIPT_LIMIT.findall(html)


def test_every_citizen_form_page_says_the_limit_once_without_javascript(make_app, database_url):
    import models
    from models.demo.data import load_demo_data

    from .test_wizard import accept_terms, choose, confirm, select

    app = make_app(database_url, SESSION_IDLE_MINUTES=3)
    models.create_tables()
    load_demo_data()
    client = app.test_client()
    assert limit_said(client.get("/connexion").text) == []  # nobody signed in: no session
    sign_in(client, "alfred.depot")
    assert limit_said(client.get("/demande/engagement").text) == ["3 minutes"]
    accept_terms(client)
    assert limit_said(client.get("/demande/choix").text) == ["3 minutes"]
    choose(client, "Duplicata")
    assert limit_said(client.get("/demande/selection").text) == ["3 minutes"]
    select(client, {"1": "Titre perdu"})
    assert limit_said(client.get("/demande/confirmation").text) == ["3 minutes"]
    confirm(client)
    assert limit_said(client.get("/demande/livraison").text) == ["3 minutes"]
    assert limit_said(client.get("/demande/livraison?modifier=1").text) == ["3 minutes"]
    with database.connection_context():
        number = Account.get(Account.username == "alfred.depot").beneficiaries()[0].number
    assert limit_said(client.get(f"/mes-donnees/photo/{number}").text) == ["3 minutes"]


def test_every_console_form_page_says_its_limit_once_without_javascript(client, joseph):
    agent_signs_in(client)
    for path in (
        "/gestion/",
        f"/gestion/comptes/{joseph.id}/courriel",
        f"/gestion/comptes/{joseph.id}/renvoyer-identifiant",
        f"/gestion/comptes/{joseph.id}/deverrouiller",
        "/gestion/agents/nouveau",
    ):
        assert limit_said(client.get(path).text) == ["15 minutes"], path
