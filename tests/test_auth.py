"""Sign-in, the lock after failures, forgotten identifier and password, sessions, CSRF."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from app import create_app
from models.citizen.auth import LoginFailure, PasswordReset, UserSession
from models.people import Account
from models.shared import security
from models.shared.db import database
from models.shared.mail import OutboxEmail

from .helpers import (
    assert_shown_again_with_errors,
    csrf_token,
    post_form,
    sign_in,
)


def outbox() -> list[OutboxEmail]:
    with database.connection_context():
        return list(OutboxEmail.select().order_by(OutboxEmail.id))


def test_good_credentials_open_my_data(client):
    response = sign_in(client, "alfred.depot")
    assert response.headers["Location"] == "/mes-donnees"
    page = client.get("/mes-donnees")
    assert page.status_code == 200
    assert "Alfred DEPOT" in page.text


def test_identifier_is_not_case_sensitive_and_ignores_spaces(client):
    sign_in(client, "  Alfred.Depot ", "Tilleuls-2026")
    assert client.get("/mes-donnees").status_code == 200


@pytest.mark.parametrize(
    ("username", "password"),
    [("alfred.depot", "wrong-password"), ("nobody.here", "Tilleuls-2026")],
    ids=["wrong password", "unknown account"],
)
def test_bad_credentials_say_the_same_thing_and_keep_the_identifier(client, username, password):
    response = post_form(client, "/connexion", {"username": username, "password": password})
    assert_shown_again_with_errors(response)
    assert "L&#39;identifiant ou le mot de passe est incorrect" in response.text
    assert f'value="{username}"' in response.text
    assert 'aria-invalid="true"' in response.text
    assert "<title>Erreur : Connexion - CMI</title>" in response.text
    assert client.get("/mes-donnees").status_code == 303


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"username": "", "password": "x"}, "Saisissez votre identifiant"),
        ({"username": "alfred.depot", "password": ""}, "Saisissez votre mot de passe"),
    ],
)
def test_empty_fields_are_named_in_the_summary_and_beside_the_field(client, data, message):
    response = post_form(client, "/connexion", data)
    assert_shown_again_with_errors(response)
    assert response.text.count(message) == 2  # summary link and field message
    assert 'href="#' in response.text


def _fail(client, username="alfred.depot", times=1):
    for _ in range(times):
        response = post_form(client, "/connexion", {"username": username, "password": "nope"})
    return response


def test_five_failures_lock_the_identifier_for_fifteen_minutes(client, frozen_clock):
    _fail(client, times=4)
    response = post_form(client, "/connexion", {"username": "alfred.depot", "password": "nope"})
    assert "bloqué pendant 15 minutes" in response.text
    # Even the right password is refused while locked.
    response = post_form(
        client, "/connexion", {"username": "alfred.depot", "password": "Tilleuls-2026"}
    )
    assert_shown_again_with_errors(response)
    assert "Vous pourrez réessayer à partir de 10:45" in response.text  # 09:30 UTC = 10:30 Paris
    frozen_clock.advance(timedelta(minutes=15, seconds=1))
    sign_in(client, "alfred.depot")


def test_failures_spread_over_more_than_fifteen_minutes_do_not_lock(client, frozen_clock):
    _fail(client, times=4)
    frozen_clock.advance(timedelta(minutes=16))
    _fail(client, times=1)
    sign_in(client, "alfred.depot")


def test_the_lock_holds_across_server_processes(app, database_url, make_app):
    """Failures are counted in the database: a second app sees the first one's count."""
    first = app.test_client()
    _fail(first, times=5)
    other_process = make_app(database_url)
    response = post_form(
        other_process.test_client(),
        "/connexion",
        {"username": "alfred.depot", "password": "Tilleuls-2026"},
    )
    assert "bloqué pendant 15 minutes" in response.text


def test_unknown_identifiers_are_locked_too(client):
    response = _fail(client, username="ghost.user", times=5)
    assert "bloqué pendant 15 minutes" in response.text


def test_a_success_clears_the_failures(client, db):
    _fail(client, times=3)
    sign_in(client, "alfred.depot")
    assert LoginFailure.select().count() == 0


def test_sign_in_starts_a_new_session(client):
    before = csrf_token(client.get("/connexion").text)
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    client.set_cookie("cmi_sid", "planted-by-an-attacker")
    sign_in(client, "alfred.depot")
    with client.session_transaction() as session:
        assert "planted" not in session
    token = client.get_cookie("cmi_sid").value
    assert token != "planted-by-an-attacker" and len(token) >= 22  # 128 random bits
    # The form secret changed with the session: a token given before signing in (one an
    # attacker could have planted) is refused after it.
    answer = client.post("/deconnexion", data={"csrf_token": before})
    assert answer.status_code == 400
    assert client.get("/mes-donnees").status_code == 200


def test_signing_in_with_htmx_answers_in_few_header_bytes(client):
    """The sign-in answer is an htmx step like the others: its one cookie is short."""
    answer = post_form(
        client,
        "/connexion",
        {"username": "alfred.depot", "password": "Tilleuls-2026"},
        headers={
            "HX-Request": "true",
            "HX-Target": "main#main",
            "HX-Source": "form",
            "Accept-Encoding": "br",
        },
    )
    assert answer.status_code == 200 and answer.headers["Content-Encoding"] == "br"
    assert answer.headers.getlist("Set-Cookie") == [
        f"cmi_sid={client.get_cookie('cmi_sid').value}; HttpOnly; Path=/; SameSite=Lax"
    ]
    size = sum(len(f"{name}: {value}\r\n") for name, value in answer.headers.items())
    # gunicorn adds its status line, Server, Date and Connection: 95 bytes.
    assert size + 95 <= 350, answer.headers


def test_sign_out_ends_the_session_on_the_server(client, db):
    sign_in(client, "alfred.depot")
    stolen = client.get_cookie("cmi_sid").value
    page = client.get("/mes-donnees")
    response = client.post("/deconnexion", data={"csrf_token": csrf_token(page.text)})
    assert response.status_code == 303
    assert any(c.startswith("cmi_sid=;") for c in response.headers.getlist("Set-Cookie"))
    assert UserSession.select().count() == 0
    # A copy of the old cookie opens nothing any more.
    client.set_cookie("cmi_sid", stolen)
    assert client.get("/mes-donnees").status_code == 303


def test_thirty_idle_minutes_end_the_session(client, frozen_clock):
    sign_in(client, "alfred.depot")
    frozen_clock.advance(timedelta(minutes=29))
    assert client.get("/mes-donnees").status_code == 200
    frozen_clock.advance(timedelta(minutes=29))
    assert client.get("/mes-donnees").status_code == 200  # activity kept it alive
    frozen_clock.advance(timedelta(minutes=31))
    response = client.get("/mes-donnees", follow_redirects=True)
    assert "Votre session a expiré" in response.text


def test_session_cookie_flags(client):
    response = post_form(
        client, "/connexion", {"username": "alfred.depot", "password": "Tilleuls-2026"}
    )
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain HTTP in tests


def test_session_cookie_is_secure_over_https(app):
    client = app.test_client()
    page = client.get("/connexion", base_url="https://localhost")
    response = client.post(
        "/connexion",
        base_url="https://localhost",
        headers={"Referer": "https://localhost/connexion"},
        data={
            "csrf_token": csrf_token(page.text),
            "username": "alfred.depot",
            "password": "Tilleuls-2026",
        },
    )
    assert response.status_code == 303
    assert "Secure" in response.headers["Set-Cookie"]


def test_a_post_without_csrf_token_is_refused_and_changes_nothing(client):
    response = client.post(
        "/connexion", data={"username": "alfred.depot", "password": "Tilleuls-2026"}
    )
    assert response.status_code == 400
    assert "La page a expiré" in response.text
    assert client.get("/mes-donnees").status_code == 303


def test_a_token_from_another_session_is_refused(app):
    attacker = app.test_client()
    token = csrf_token(attacker.get("/connexion").text)
    victim = app.test_client()
    sign_in(victim, "alfred.depot")
    response = victim.post("/deconnexion", data={"csrf_token": token})
    assert response.status_code == 400
    assert victim.get("/mes-donnees").status_code == 200


def test_next_parameter_only_leads_to_this_site(client):
    page = client.get("/connexion?next=https://evil.example/")
    response = client.post(
        "/connexion?next=https://evil.example/",
        data={
            "csrf_token": csrf_token(page.text),
            "username": "alfred.depot",
            "password": "Tilleuls-2026",
        },
    )
    assert response.headers["Location"] == "/mes-donnees"


def test_a_protected_page_sends_to_sign_in_and_back(client):
    response = client.get("/mes-donnees")
    assert response.headers["Location"] == "/connexion?next=/mes-donnees"
    page = client.get(response.headers["Location"])
    response = client.post(
        "/connexion?next=/mes-donnees",
        data={
            "csrf_token": csrf_token(page.text),
            "username": "joseph.quinn",
            "password": "Liberte-2026",
        },
    )
    assert response.headers["Location"] == "/mes-donnees"


# -- forgotten identifier and password --------------------------------------------------


def test_forgotten_identifier_is_emailed(client):
    response = post_form(client, "/identifiant-oublie", {"email": "Camille.Martin@example.org"})
    assert response.status_code == 303
    emails = outbox()
    assert len(emails) == 1
    # To the address the service knows, however it was typed.
    assert emails[0].recipient == "camille.martin@example.org"
    assert "Votre identifiant : camille.martin" in emails[0].text


def test_forgotten_identifier_page_says_the_same_for_an_unknown_address(client):
    known = post_form(
        client, "/identifiant-oublie", {"email": "alfred.depot@example.org"}, follow_redirects=True
    )
    unknown = post_form(
        client, "/identifiant-oublie", {"email": "nobody@example.org"}, follow_redirects=True
    )
    assert known.text == unknown.text
    assert len(outbox()) == 1


@pytest.mark.parametrize("email", ["", "not-an-email", "a@", "@example.org"])
def test_forgotten_identifier_rejects_a_malformed_address_and_keeps_it(client, email):
    response = post_form(client, "/identifiant-oublie", {"email": email})
    assert_shown_again_with_errors(response)
    assert f'value="{email}"' in response.text
    assert outbox() == []


def _reset_link(client, username="alfred.depot") -> str:
    post_form(client, "/mot-de-passe-oublie", {"username": username})
    text = outbox()[-1].text
    return re.search(r"http://localhost(/mot-de-passe/\S+)", text).group(1)


def test_forgotten_password_page_says_the_same_whether_or_not_the_account_exists(client):
    known = post_form(
        client, "/mot-de-passe-oublie", {"username": "alfred.depot"}, follow_redirects=True
    )
    unknown = post_form(
        client, "/mot-de-passe-oublie", {"username": "nobody"}, follow_redirects=True
    )
    assert known.text == unknown.text
    assert [e.recipient for e in outbox()] == ["alfred.depot@example.org"]


def test_reset_link_sets_a_new_password_once(client, db):
    link = _reset_link(client)
    assert PasswordReset.get().token_digest not in link  # only a digest is stored
    response = post_form(
        client, link, {"password": "Nouveau-mot-2026", "confirmation": "Nouveau-mot-2026"}
    )
    assert response.headers["Location"] == "/mot-de-passe-modifie"
    sign_in(client, "alfred.depot", "Nouveau-mot-2026")
    again = client.get(link)
    assert again.status_code == 404
    assert "Ce lien ne fonctionne plus" in again.text


def test_reset_link_expires_after_an_hour(client, frozen_clock):
    link = _reset_link(client)
    frozen_clock.advance(timedelta(minutes=61))
    assert client.get(link).status_code == 404


def test_reset_clears_a_lock(client):
    _fail(client, times=5)
    link = _reset_link(client)
    post_form(client, link, {"password": "Nouveau-mot-2026", "confirmation": "Nouveau-mot-2026"})
    sign_in(client, "alfred.depot", "Nouveau-mot-2026")


@pytest.mark.parametrize(
    ("password", "confirmation", "message"),
    [
        ("court", "court", "au moins 12 caractères"),
        ("Nouveau-mot-2026", "Autre-mot-2026", "ne sont pas identiques"),
        ("", "", "Saisissez un nouveau mot de passe"),
    ],
)
def test_reset_rejects_weak_or_mismatched_passwords(client, db, password, confirmation, message):
    link = _reset_link(client)
    response = post_form(client, link, {"password": password, "confirmation": confirmation})
    assert_shown_again_with_errors(response)
    assert message in response.text
    # The link is still usable after a mistake.
    assert client.get(link).status_code == 200
    assert Account.get(Account.username == "alfred.depot").password_hash


def test_a_page_rendered_in_the_sign_in_response_carries_the_new_session_token(client):
    """With htmx, sign-in answers with the next page at once; its forms must still work."""
    page = client.get("/connexion")
    response = client.post(
        "/connexion",
        data={
            "csrf_token": csrf_token(page.text),
            "username": "alfred.depot",
            "password": "Tilleuls-2026",
        },
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert response.headers["HX-Push-Url"] == "/mes-donnees"
    sign_out = client.post("/deconnexion", data={"csrf_token": csrf_token(response.text)})
    assert sign_out.status_code == 303


def test_a_refused_form_keeps_no_password_in_the_session(client):
    page = client.get("/connexion")
    response = client.post(
        "/connexion",
        data={
            "csrf_token": csrf_token(page.text),
            "username": "alfred.depot",
            "password": "Secret-1",
        },
    )
    assert response.status_code == 303 and response.headers["Location"] == "/connexion"
    with client.session_transaction() as session:
        assert "Secret-1" not in repr(dict(session))
        assert "alfred.depot" in repr(session["retry"])
    shown = client.get("/connexion")
    assert 'value="alfred.depot"' in shown.text
    # Shown once: a later visit is a clean page.
    assert "<title>Connexion - CMI</title>" in client.get("/connexion").text


def test_servers_hash_passwords_at_werkzeugs_full_scrypt_cost(tmp_path):
    # The suite's cheaper cost is its own: a server never takes it.
    with pytest.raises(ValueError, match="test suite only"):
        create_app(
            {
                "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}",
                "PASSWORD_HASH_METHOD": "scrypt:1024:8:1",
            }
        )
    previous = security._method
    security.hash_cost(security.DEFAULT_METHOD)
    try:
        assert security.hash_password("Tilleuls-2026").startswith("scrypt:32768:8:1$")
    finally:
        security.hash_cost(previous)
