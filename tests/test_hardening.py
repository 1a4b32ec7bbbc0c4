"""What hostile testing found, one test per finding (each fails without its fix).

1. Hostile input never gets a 500: a non-ASCII seal, a file part or a JSON body
   standing in for a text field, NUL and over-long values (PostgreSQL refuses
   both), NUL in an address.
2. The answers kept for the next page never overflow the session cookie.
3. A payment provider on another site can be reached: the hand-off is a form
   POST, and the page's form-action policy names the provider.
4. Forgotten identifier or password: the same work whether or not an account
   exists, limits per identifier, per client and per recipient, and only the
   newest reset link works.
5. A database that refuses, drops or locks answers 503 with Retry-After.
"""

from __future__ import annotations

import io
import json
import re
import secrets
import threading
import urllib.parse

import pytest
from peewee import OperationalError

from models.citizen import auth, credentials
from models.citizen.auth import PasswordReset
from models.people import Account
from models.shared.db import database
from models.shared.mail import OutboxEmail

from .helpers import QueryLog, csrf_token, follow_retry, post_form, sign_in

HTMX = {"HX-Request": "true", "HX-Target": "main#main", "HX-Source": "form"}


def token_of(client, url: str) -> str:
    return csrf_token(client.get(url).text)


# -- 1. hostile input -----------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/paiement/retour", "/paiement/notification"])
@pytest.mark.parametrize("seal", ["é", "\x00", "€" * 64, "\udcff"])
def test_a_seal_of_any_characters_is_refused_not_a_500(client, path, seal):
    body = "Data=amount%3D902&Seal=" + "".join(
        f"%{byte:02X}" for byte in seal.encode("utf-8", "surrogatepass")
    )
    response = client.post(path, data=body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400


def test_the_built_in_provider_refuses_a_seal_of_any_characters(client):
    response = client.post("/paiement-securise", data={"Data": "amount=902", "Seal": "é"})
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("path", "field", "message"),
    [
        ("/connexion", "username", "Saisissez votre identifiant"),
        ("/mot-de-passe-oublie", "username", "Saisissez votre identifiant"),
        ("/identifiant-oublie", "email", "Saisissez votre adresse électronique"),
    ],
)
def test_a_file_sent_for_a_text_field_is_no_answer(client, path, field, message):
    data = {
        "csrf_token": token_of(client, path),
        field: (io.BytesIO(b"alfred.depot"), "alfred.txt"),
        "password": "whatever",
    }
    response = follow_retry(
        client, client.post(path, data=data, content_type="multipart/form-data")
    )
    assert response.status_code == 200
    assert message in response.text


def test_a_json_body_is_no_answer_either(client):
    """Flask-WTF would read a JSON body as the form: a list or an object for a text field."""
    token = token_of(client, "/connexion")
    response = client.post(
        "/connexion",
        data=json.dumps({"username": ["alfred.depot"], "password": {"x": 1}}),
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )
    page = follow_retry(client, response)
    assert page.status_code == 200
    assert "Saisissez votre identifiant" in page.text


@pytest.mark.parametrize(
    ("path", "field"),
    [("/connexion", "username"), ("/mot-de-passe-oublie", "username")],
)
@pytest.mark.parametrize("value", ["alfred\x00depot", "a" * 300, "alfred\x1bdepot"])
def test_nul_control_characters_and_long_identifiers_are_told_beside_the_field(
    client, path, field, value
):
    """PostgreSQL refuses NUL in any string and a 300-character identifier in its column."""
    response = post_form(client, path, {field: value, "password": "whatever"})
    assert response.status_code == 200, response.status_code
    page = response.text
    assert f'id="{field}-error"' in page
    assert "contient un caractère non autorisé" in page or "au plus 100 caractères" in page


def test_nul_in_an_address_is_refused_before_any_query(client):
    sign_in(client, "alfred.depot")
    assert client.get("/paiement-securise/10%0000/resultat").status_code == 400
    assert client.get("/demande/paiement?resultat=%00").status_code == 400


# -- 2. the kept answers and the cookie -------------------------------------------------------


def test_a_flood_of_extra_fields_does_not_overflow_the_session_cookie(client):
    data = {"csrf_token": token_of(client, "/connexion"), "username": "u" * 150}
    # Random text: the session cookie is compressed, repeated letters would hide the size.
    data.update({f"extra{i}": secrets.token_urlsafe(150) for i in range(280)})
    response = client.post("/connexion", data=data)
    assert response.status_code == 303
    cookie = response.headers["Set-Cookie"]
    assert len(cookie) < 4096, len(cookie)
    # The form's own answer is still there, on the page the browser is sent to.
    page = client.get(response.headers["Location"])
    assert 'value="' + "u" * 150 + '"' in page.text


def test_many_long_answers_of_the_form_itself_are_kept_within_a_total(client):
    """The selection form has a field per card: its answers are capped all together."""
    data = {"csrf_token": token_of(client, "/connexion")}
    data.update({"username": secrets.token_urlsafe(4000), "password": "y" * 5000})
    response = client.post("/connexion", data=data)
    assert response.status_code == 303
    assert len(response.headers["Set-Cookie"]) < 1500


# -- 3. a provider on another site ------------------------------------------------------------


def test_the_policy_lets_forms_reach_the_configured_provider_only(database_url, make_app):
    import models
    from models import ordering
    from models.demo.data import load_demo_data

    from .test_payments import recorded_request

    shop = make_app(database_url, PAYMENT_URL="https://paiement.example.net/paymentInit")
    models.create_tables()
    load_demo_data()
    client = shop.test_client()
    policy = client.get("/connexion").headers["Content-Security-Policy"]
    assert "form-action 'self' https://paiement.example.net;" in policy

    with database.connection_context():
        ordering.check_delivery(recorded_request())
    sign_in(client, "alfred.depot")
    payer = post_form(client, "/demande/paiement", {"action": "payer"})
    # « Payer » stays on this site (a redirect elsewhere after a form is what
    # form-action forbids); the next page posts the sealed order to the provider.
    assert payer.headers["Location"] == "/demande/paiement/envoi"
    page = client.get("/demande/paiement/envoi").text
    form = re.search(r'<form method="post" action="([^"]+)"[^>]*data-auto-submit>', page)
    assert form and form.group(1) == "https://paiement.example.net/paymentInit"
    for name in ("Data", "Seal", "InterfaceVersion"):
        assert f'name="{name}"' in page


# -- 4. forgotten identifier and password -----------------------------------------------------


def tables_touched(log: QueryLog) -> list[str]:
    """The statements' shapes, without their values."""
    return [re.sub(r"\?|%s|'[^']*'|\d+", "_", sql) for sql in log.statements]


@pytest.mark.parametrize(
    ("path", "field", "known", "unknown"),
    [
        ("/mot-de-passe-oublie", "username", "alfred.depot", "nobody.here"),
        ("/identifiant-oublie", "email", "alfred.depot@example.org", "nobody@example.org"),
    ],
)
def test_a_known_and_an_unknown_identifier_cost_the_same_work(app, path, field, known, unknown):
    work = {}
    for typed in (known, unknown):
        client = app.test_client()
        token = token_of(client, path)
        with QueryLog() as log:
            # Not closed yet: only what is done before the answer leaves.
            response = client.post(path, data={"csrf_token": token, field: typed})
        assert response.status_code == 303
        work[typed] = tables_touched(log)  # the email is prepared after, on another thread
    assert work[known] == work[unknown]
    assert not any("account" in sql for sql in work[known]), work[known]
    with database.connection_context():
        assert OutboxEmail.select().count() == 1


def test_thirty_requests_for_one_identifier_send_three_emails_and_one_live_link(client, db):
    answers = [
        post_form(client, "/mot-de-passe-oublie", {"username": "alfred.depot"}) for _ in range(30)
    ]
    sent = [a for a in answers if a.status_code == 303]
    refused = [a for a in answers if a.status_code == 200]
    assert len(sent) == credentials.PER_KEY and len(refused) == 30 - credentials.PER_KEY
    assert "Vous avez fait plusieurs demandes en peu de temps" in refused[0].text
    # The oldest of the three leaves the hour at 10:30 UTC, 11:30 in Paris.
    assert "attendez 11:30 avant de recommencer" in refused[0].text
    assert (
        OutboxEmail.select().where(OutboxEmail.recipient == "alfred.depot@example.org").count() == 3
    )
    alfred = Account.get(Account.username == "alfred.depot")
    live = PasswordReset.select().where(
        (PasswordReset.account == alfred) & PasswordReset.used_at.is_null()
    )
    assert live.count() == 1
    links = re.findall(r"/mot-de-passe/(\S+)", "\n".join(e.text for e in OutboxEmail.select()))
    assert auth.find_password_reset(links[-1]) is not None
    assert all(auth.find_password_reset(link) is None for link in links[:-1])


def test_one_client_cannot_probe_many_identifiers(client, db):
    statuses = [
        post_form(client, "/mot-de-passe-oublie", {"username": f"someone.{i}"}).status_code
        for i in range(credentials.PER_CLIENT + 2)
    ]
    assert statuses[: credentials.PER_CLIENT] == [303] * credentials.PER_CLIENT
    assert statuses[credentials.PER_CLIENT :] == [200, 200]


def test_one_address_gets_at_most_three_emails_an_hour_whatever_was_typed(app, db):
    typed = ["alfred.depot", "ALFRED.DEPOT ", " Alfred.Depot"]
    for index in range(4):
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = f"192.0.2.{index}"
        post_form(client, "/identifiant-oublie", {"email": "alfred.depot@example.org"})
        post_form(client, "/mot-de-passe-oublie", {"username": typed[index % 3]})
    assert (
        OutboxEmail.select().where(OutboxEmail.recipient == "alfred.depot@example.org").count() == 3
    )


def test_a_request_a_stopped_server_never_wrote_is_written_by_the_outbox_command(
    app, db, monkeypatch
):
    # The process stops right after answering: its background work never runs.
    monkeypatch.setattr(app.extensions["background"], "submit", lambda *args, **kwargs: None)
    answer = post_form(app.test_client(), "/mot-de-passe-oublie", {"username": "alfred.depot"})
    assert answer.status_code == 303
    assert OutboxEmail.select().count() == 0
    from datetime import timedelta

    from models.shared.clock import clock

    clock.advance(timedelta(minutes=2))
    from views.citizen.auth import prepare_email

    for request_id in credentials.waiting():
        prepare_email(app, request_id)
    assert OutboxEmail.select().count() == 1
    assert credentials.waiting() == []


# -- 5. the database unavailable --------------------------------------------------------------


def expect_503(response):
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "120"
    assert "Le service est momentanément indisponible" in response.text
    assert "Votre demande en cours est conservée" in response.text
    assert "Content-Security-Policy" in response.headers


def test_a_refused_connection_answers_503(client, monkeypatch):
    def refuse(*_args, **_kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(database.obj, "_connect", refuse)
    expect_503(client.get("/connexion"))


POSTGRES_ONLY = pytest.mark.parametrize(
    "database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@POSTGRES_ONLY
def test_postgresql_refusing_then_back_the_user_finishes(app, postgres_url):
    import psycopg2

    from .postgres import ADMIN_URL

    name = postgres_url.rsplit("/", 1)[1]
    client = app.test_client()
    sign_in(client, "alfred.depot")
    admin = psycopg2.connect(ADMIN_URL)
    admin.autocommit = True
    try:
        with admin.cursor() as cursor:
            cursor.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        expect_503(client.get("/mes-donnees"))
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        admin.close()
    # The next request connects again by itself.
    assert client.get("/mes-donnees").status_code == 200


@POSTGRES_ONLY
def test_a_connection_terminated_mid_request_answers_503_then_the_next_works(app, postgres_url):
    import psycopg2

    client = app.test_client()
    sign_in(client, "alfred.depot")
    holder, watcher = psycopg2.connect(postgres_url), psycopg2.connect(postgres_url)
    watcher.autocommit = True  # sees the server's activity as it is now, not a snapshot
    answers = []
    try:
        with holder.cursor() as cursor:
            # Hold the sessions table: the next request waits on its lock...
            cursor.execute("LOCK TABLE user_session IN ACCESS EXCLUSIVE MODE")
            thread = threading.Thread(target=lambda: answers.append(client.get("/mes-donnees")))
            thread.start()
            waiting = None
            with watcher.cursor() as watch:
                for _ in range(200):
                    watch.execute(
                        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                        "AND wait_event_type = 'Lock'"
                    )
                    waiting = watch.fetchone()
                    if waiting:
                        break
                    threading.Event().wait(0.05)
                assert waiting, "the request never waited on the lock"
                # ...and its connection is cut, as when the database restarts.
                watch.execute("SELECT pg_terminate_backend(%s)", waiting)
        holder.rollback()
        thread.join(timeout=30)
    finally:
        holder.close()
        watcher.close()
    expect_503(answers[0])
    assert client.get("/mes-donnees").status_code == 200


@SQLITE_ONLY
def test_sqlite_locked_past_its_wait_answers_503_then_the_user_finishes(database_url, make_app):
    import sqlite3

    import models
    from models.demo.data import load_demo_data

    app = make_app(database_url, SQLITE_BUSY_TIMEOUT_MS=100)
    models.create_tables()
    load_demo_data()
    client = app.test_client()
    sign_in(client, "alfred.depot")
    other = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process writing, for too long
    try:
        token = token_of(client, "/demande/engagement")
        expect_503(client.post("/demande/engagement", data={"csrf_token": token, "accept": "y"}))
    finally:
        other.execute("ROLLBACK")
        other.close()
    response = client.post("/demande/engagement", data={"csrf_token": token, "accept": "y"})
    assert response.headers["Location"] == "/demande/choix"


def test_behind_a_proxy_each_visitor_has_a_limit_of_their_own(database_url, make_app):
    """Without PROXY_HOPS every visitor would share the proxy's address, and its limit."""
    import models
    from models.demo.data import load_demo_data

    app = make_app(database_url, PROXY_HOPS=1)
    models.create_tables()
    load_demo_data()
    statuses = []
    for visitor in range(credentials.PER_CLIENT + 2):
        client = app.test_client()
        client.environ_base["HTTP_X_FORWARDED_FOR"] = f"203.0.113.{visitor}"
        answer = post_form(client, "/mot-de-passe-oublie", {"username": f"someone.{visitor}"})
        statuses.append(answer.status_code)
    assert statuses == [303] * (credentials.PER_CLIENT + 2)
    with database.connection_context():
        clients = {r.client for r in credentials.CredentialRequest.select()}
    assert len(clients) == credentials.PER_CLIENT + 2


# -- found by review ---------------------------------------------------------------------------


def test_a_host_no_server_has_gets_a_page_not_a_500(client):
    response = client.get("/connexion", headers={"Host": "a" * 64 + ".example.org"})
    assert response.status_code == 400
    assert '<html lang="fr">' in response.text


@pytest.mark.parametrize("target", ["/a\nb", "/a\rSet-Cookie: x=1", "/a\tb"])
def test_a_next_address_with_a_line_break_is_not_followed(client, target):
    sign_in(client, "alfred.depot")
    response = client.get("/connexion?next=" + urllib.parse.quote(target))
    assert response.status_code == 303
    assert response.headers["Location"] == "/mes-donnees"


def test_a_mistake_in_a_query_is_a_500_not_a_database_outage(client, monkeypatch):
    def broken(*_args, **_kwargs):
        raise OperationalError("no such column: t1.nothing")

    monkeypatch.setattr("views.shared.pages.render_page", broken)
    response = client.get("/accessibilite")
    assert response.status_code == 500
    assert "Retry-After" not in response.headers


def test_a_new_password_signs_out_every_other_session(app, db):
    thief, owner = app.test_client(), app.test_client()
    sign_in(thief, "alfred.depot")
    assert thief.get("/mes-donnees").status_code == 200
    token = auth.create_password_reset(Account.get(Account.username == "alfred.depot"))
    answer = post_form(
        owner,
        f"/mot-de-passe/{token}",
        {"password": "Nouveau-mot-2026", "confirmation": "Nouveau-mot-2026"},
    )
    assert answer.status_code == 303
    assert thief.get("/mes-donnees").status_code == 303  # back to sign-in


@POSTGRES_ONLY
def test_a_second_server_counting_the_same_identifier_waits_for_the_first(app, postgres_url):
    """Under READ COMMITTED two servers would both count 2 and both admit a third
    request: the count is taken under a lock named after the identifier."""
    import zlib

    import psycopg2

    holder, watcher = psycopg2.connect(postgres_url), psycopg2.connect(postgres_url)
    watcher.autocommit = True
    client = app.test_client()
    token = token_of(client, "/mot-de-passe-oublie")
    answers = []
    try:
        with holder.cursor() as cursor:
            # The first server, in the middle of counting alfred.depot's requests.
            key = zlib.crc32(b"credential key mot-de-passe alfred.depot")
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", (key,))
            second = threading.Thread(
                target=lambda: answers.append(
                    client.post(
                        "/mot-de-passe-oublie",
                        data={"csrf_token": token, "username": "Alfred.Depot "},
                    )
                )
            )
            second.start()
            waited = False
            with watcher.cursor() as watch:
                for _ in range(200):
                    watch.execute(
                        "SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                    )
                    if watch.fetchone():
                        waited = True
                        break
                    threading.Event().wait(0.05)
            assert waited, "the second server did not wait for the first"
            assert not answers
        holder.rollback()  # the first server is done
        second.join(timeout=30)
    finally:
        holder.close()
        watcher.close()
    assert answers[0].headers["Location"].startswith("/courriel-envoye")


def test_an_email_that_failed_to_be_written_waits_for_the_outbox_command(app, db, monkeypatch):
    from views.citizen import auth as auth_views

    def fails(_asked):
        raise RuntimeError("template missing")

    monkeypatch.setattr(auth_views, "compose", fails)
    answer = post_form(app.test_client(), "/mot-de-passe-oublie", {"username": "alfred.depot"})
    assert answer.status_code == 303
    assert OutboxEmail.select().count() == 0
    monkeypatch.undo()
    from datetime import timedelta

    from models.shared.clock import clock

    clock.advance(timedelta(minutes=2))
    (waiting,) = credentials.waiting()
    auth_views.prepare_email(app, waiting)
    assert OutboxEmail.select().count() == 1
