"""« Espace gestionnaire »: sign-in with a second factor, every route × role, search, a
request's history, unlock, and an audit log nobody edits (SQLite and PostgreSQL)."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from peewee import DatabaseError

from models.citizen import auth
from models.demo.data import DEMO_AGENTS
from models.operator.agents import AuditEntry, totp_now
from models.shared.clock import clock
from models.shared.db import database

from .helpers import assert_shown_again_with_errors, csrf_token, post_form, sign_in
from .test_payments import pay_through_the_app


def agent_sign_in(client, username="agent.demo", code=None):
    """Signed in with the code of the next 30-second step (a code works once)."""
    _name, _role, password, secret = DEMO_AGENTS[username]
    clock.advance(timedelta(seconds=30))
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

SAMPLE = {
    "number": "10000",
    "account_id": "1",
    "payment_id": "1",
    "agent_id": "1",
    "token": "x",
    "result_id": "1",
}
SUPERVISORS_ONLY = {
    "console.refund",
    "console.change_email",
    "console.cancel",
    "console.agents_page",
    "console.new_agent",
    "console.deactivate_agent",
    "console.unlock_agent",
}
# An action's result: only the agent who did it reads it (nobody has done any here).
OWN_RESULTS = {"console.result", "console.result_letter", "console.result_letter_large"}
# Open to whoever holds the link: the page itself says whether the token is good.
BY_TOKEN = {"console.login", "console.enrol"}


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
        if endpoint in BY_TOKEN:
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
        elif role == "agent" and endpoint in SUPERVISORS_ONLY:
            assert answer.status_code == 403, (path, answer.status_code)
        elif endpoint in OWN_RESULTS:
            assert answer.status_code == 404, (path, answer.status_code)
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


def test_an_agent_and_a_citizen_signed_in_at_once_leave_the_agent_alone(client):
    """Two sign-ins at once in two tabs: the citizen's cookie arrives beside the agent's
    session. The agent's pages end the citizen's session; the agent signs out of both."""
    from models.citizen.auth import UserSession
    from models.shared.db import database

    agent_sign_in(client)
    citizen = app_client_signed_in(client.application, "alfred.depot")
    client.set_cookie("cmi_sid", citizen.get_cookie("cmi_sid").value)
    assert client.get("/gestion/").status_code == 200
    with database.connection_context():
        assert UserSession.select().count() == 0  # the citizen's session is over
    assert client.get("/mes-donnees").location.startswith("/connexion")


def app_client_signed_in(app, username):
    other = app.test_client()
    sign_in(other, username)
    return other


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
    assert "0 demande</h2>" in client.get("/gestion/?du=01/01/2030").text
    assert "1 demande</h2>" in client.get("/gestion/?du=2026-11-22&au=22/11/2026").text
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
    result = client.get(done.location).text
    assert (
        "<title>Compte de Camille MARTIN déverrouillé - Espace gestionnaire - CMI</title>" in result
    )
    assert '<h1 tabindex="-1" autofocus>Compte de Camille MARTIN déverrouillé</h1>' in result
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


def audit(action: str) -> AuditEntry:
    with database.connection_context():
        return AuditEntry.select().where(AuditEntry.action == action).get()


def test_a_supervisor_records_a_refund_and_the_citizen_sees_it(app, client, paid):
    from models.payments import REFUND_DUE, Payment
    from models.requests import CardRequest

    with database.connection_context():
        request = CardRequest.get(CardRequest.number == paid)
        extra = Payment.create(
            request=request, transaction_reference="99990001", amount=902, state=REFUND_DUE
        )
    citizen = client  # alfred, signed in by ``paid``
    assert "Il vous sera remboursé" in citizen.get(f"/demandes/{paid}").text
    agent = app.test_client()
    agent_sign_in(agent, "superviseur.demo")
    page = agent.get(f"/gestion/demandes/{paid}").text
    assert "Enregistrer le remboursement" in page
    path = f"/gestion/demandes/{paid}/paiements/{extra.id}/remboursement"
    refused = post_form(agent, path, {"amount": "12,00", "reference": "RB-1", "day": "22/11/2026"})
    assert "Saisissez un montant de 0,01 à 9,02" in refused.text  # nothing more than was paid
    done = post_form(agent, path, {"amount": "9,02", "reference": "RB-77", "day": "22/11/2026"})
    assert done.status_code == 303
    assert "Remboursement de 9,02\u00a0€ enregistré" in agent.get(done.location).text
    assert "Il vous a été remboursé le 22/11/2026" in citizen.get(f"/demandes/{paid}").text
    entry = audit("Remboursement enregistré")
    assert entry.before_data["état"] == "à rembourser" and entry.after_data["référence"] == "RB-77"
    # Twice is refused (the page was stale): nothing changes.
    post_form(agent, path, {"amount": "9,02", "reference": "RB-78", "day": "22/11/2026"})
    with database.connection_context():
        assert Payment.get_by_id(extra.id).refund_reference == "RB-77"


def test_an_email_change_sends_a_notice_to_both_addresses(app, client):
    from models import Account, OutboxEmail

    agent_sign_in(client, "superviseur.demo")
    with database.connection_context():
        joseph = Account.get(Account.username == "joseph.quinn")
    path = f"/gestion/comptes/{joseph.id}/courriel"
    bad = post_form(client, path, {"email": "pas une adresse"})
    assert "Saisissez une adresse électronique valide" in bad.text
    done = post_form(client, path, {"email": "Joseph.Q@Example.net"})
    assert done.status_code == 303
    with database.connection_context():
        notices = list(OutboxEmail.select().where(OutboxEmail.subject.contains("a changé")))
        assert sorted(n.recipient for n in notices) == [
            "joseph.q@example.net",
            "joseph.quinn@example.org",
        ]
        assert Account.get_by_id(joseph.id).email == "joseph.q@example.net"
    entry = audit("Adresse électronique changée")
    assert entry.before_data == {"courriel": "joseph.quinn@example.org"}


def test_a_supervisor_cancels_an_unpaid_request_and_the_card_stays_revoked(app, client, db):
    from models import Card
    from models.requests import CANCELLED, CardRequest

    from .test_payments import recorded_request

    request = recorded_request()
    agent_sign_in(client, "superviseur.demo")
    confirm = client.get(f"/gestion/demandes/{request.number}/annuler").text
    assert "la carte remplacée reste annulée" in confirm
    post_form(client, f"/gestion/demandes/{request.number}/annuler", {"confirm": "oui"})
    assert CardRequest.get_by_id(request.id).state == CANCELLED
    assert Card.get(Card.number == "0000000000000001").revoked_on is not None
    assert audit("Demande annulée").after_data == {"état": "annulée"}


def test_an_agent_resends_the_identifiant_and_prepares_a_new_letter(app, client):
    from pypdf import PdfReader

    from models import Account, OutboxEmail
    from models.citizen import auth as citizen_auth

    agent_sign_in(client)
    with database.connection_context():
        marie = Account.get(Account.username == "marie.durand")
    post_form(client, f"/gestion/comptes/{marie.id}/renvoyer-identifiant", {"confirm": "oui"})
    with database.connection_context():
        sent = OutboxEmail.select().order_by(OutboxEmail.id.desc()).get()
        assert sent.recipient == "marie.durand@example.org"
        assert "Votre identifiant : marie.durand" in sent.text
    done = post_form(client, f"/gestion/comptes/{marie.id}/nouveau-courrier", {"confirm": "oui"})
    assert done.status_code == 303  # the result, then the letter is a link on it
    result = client.get(done.location).text
    assert "Courrier prêt pour Marie DURAND" in result
    pdf = re.search(r'href="(/gestion/resultats/\d+/courrier\.pdf)"', result).group(1)
    letter = client.get(pdf)
    assert letter.mimetype == "application/pdf"
    text = PdfReader(io.BytesIO(letter.data)).pages[0].extract_text()
    code = text.split("Votre code d'activation : ")[1].split()[0]
    assert "Marie DURAND" in text and "3 place du Marché" in text
    with database.connection_context():
        assert citizen_auth.sign_in("marie.durand", "Ancienne-2026", "test").account is None
        assert (
            citizen_auth.sign_in("marie.durand", code, "test").to_activate.username
            == "marie.durand"
        )
    assert audit("Nouveau courrier de connexion").subject == f"account:{marie.id}"
    assert audit("Identifiant renvoyé").after_data == {"envoyé à": "marie.durand@example.org"}


def test_the_figures_of_the_day_say_what_waits(app, client, paid):
    from models.payments import REFUND_DUE, Payment
    from models.requests import CardRequest

    with database.connection_context():
        request = CardRequest.get(CardRequest.number == paid)
        Payment.create(
            request=request, transaction_reference="99990002", amount=902, state=REFUND_DUE
        )
    agent = app.test_client()
    agent_sign_in(agent)
    page = agent.get("/gestion/chiffres").text
    assert "<title>Chiffres - Espace gestionnaire - CMI</title>" in page
    rows = dict(re.findall(r'<th scope="row">([^<]+)</th><td[^>]*>([^<]+)</td>', page))
    assert rows["Paiements à rembourser"] == "1 (9,02\u00a0€)"
    assert rows["Cartes payées pas encore envoyées à la fabrication"] == "1"
    assert rows["22/11/2026"] == "1"  # the day's duplicata (then its second copies, total)
    assert "pas encore de carte expédiée" in page


def test_a_supervisor_adds_an_agent_who_enrols_by_the_link_then_signs_in(app, client):
    from models import OutboxEmail
    from models.operator.agents import Agent

    agent_sign_in(client, "superviseur.demo")
    added = post_form(
        client,
        "/gestion/agents/nouveau",
        {
            "username": "lea.nouvel",
            "full_name": "Léa NOUVEL",
            "email": "lea@example.net",
            "role": "agent",
        },
    )
    assert added.status_code == 303
    assert "Inscription en attente" in client.get("/gestion/agents").text
    with database.connection_context():
        email = OutboxEmail.select().where(OutboxEmail.recipient == "lea@example.net").get()
        secret = Agent.get(Agent.username == "lea.nouvel").totp_secret
    link = re.search(r"http://localhost(/gestion/inscription/\S+)", email.text).group(1)
    newcomer = app.test_client()
    page = newcomer.get(link).text
    assert " ".join(secret[i : i + 4] for i in range(0, 32, 4)) in page  # the key as text
    assert 'alt="Code QR contenant la clé secrète écrite ci-dessus"' in page
    assert 'src="data:image/svg+xml' in page
    wrong = post_form(
        newcomer,
        link,
        {"password": "Nouvel-acces-2026", "confirmation": "Nouvel-acces-2026", "code": "000000"},
    )
    assert "Ce code ne correspond pas" in wrong.text
    done = post_form(
        newcomer,
        link,
        {
            "password": "Nouvel-acces-2026",
            "confirmation": "Nouvel-acces-2026",
            "code": totp_now(secret),
        },
    )
    assert done.location == "/gestion/connexion"
    assert newcomer.get(link).status_code == 404  # the link works once
    clock.advance(timedelta(seconds=30))  # the enrolment's code has been used: the next one
    signed = post_form(
        newcomer,
        "/gestion/connexion",
        {"username": "lea.nouvel", "password": "Nouvel-acces-2026", "code": totp_now(secret)},
    )
    assert signed.location == "/gestion/"
    assert audit("Agent ajouté").after_data["identifiant"] == "lea.nouvel"

    # Deactivated: the session ends and signing in is refused.
    with database.connection_context():
        lea = Agent.get(Agent.username == "lea.nouvel")
    post_form(client, f"/gestion/agents/{lea.id}/desactiver", {"confirm": "oui"})
    assert newcomer.get("/gestion/").location.startswith("/gestion/connexion")
    clock.advance(timedelta(seconds=30))
    again = post_form(
        newcomer,
        "/gestion/connexion",
        {"username": "lea.nouvel", "password": "Nouvel-acces-2026", "code": totp_now(secret)},
    )
    assert again.status_code != 303 or again.location != "/gestion/"
    assert audit("Agent désactivé").after_data == {"actif": False}


def test_results_come_twenty_a_page_and_the_csv_has_them_all(app, client):
    from .test_account import paid_requests

    with database.connection_context():
        paid_requests(23)
    agent_sign_in(client)
    first = client.get("/gestion/?q=joseph.quinn").text
    assert "23 demandes</h2>" in first and "Page 1 sur 2" in first
    assert first.count('href="/gestion/demandes/') == 20
    assert 'href="/gestion/?q=joseph.quinn&amp;page=2">Page suivante' in first
    second = client.get("/gestion/?q=joseph.quinn&page=2").text
    assert second.count('href="/gestion/demandes/') == 3 and "Page précédente" in second
    rows = client.get("/gestion/export.csv?q=joseph.quinn").data.decode("utf-8-sig").splitlines()
    assert len(rows) == 1 + 23


def test_resending_the_confirmation_is_in_the_audit_log(app, client, paid):
    from models import OutboxEmail

    agent_sign_in(client)
    with database.connection_context():
        before = OutboxEmail.select().count()
    post_form(client, f"/gestion/demandes/{paid}/renvoyer-confirmation", {"confirm": "oui"})
    with database.connection_context():
        assert OutboxEmail.select().count() == before + 1
        assert OutboxEmail.select().order_by(OutboxEmail.id.desc()).get().recipient == (
            "alfred.depot@example.org"
        )
    assert audit("Courriel de confirmation renvoyé").after_data == {
        "envoyé à": "alfred.depot@example.org"
    }


def test_a_csv_cell_is_never_a_spreadsheet_formula():
    from views.operator.console import spreadsheet_safe

    assert spreadsheet_safe("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert spreadsheet_safe("@SUM(1)") == "'@SUM(1)"
    assert spreadsheet_safe("alfred.depot") == "alfred.depot"


def test_a_code_works_once_and_hostile_search_addresses_are_answered(app, client):
    _name, _role, password, secret = DEMO_AGENTS["agent.demo"]
    clock.advance(timedelta(seconds=30))
    code = totp_now(secret)
    fields = {"username": "agent.demo", "password": password, "code": code}
    assert post_form(client, "/gestion/connexion", fields).location == "/gestion/"
    other = app.test_client()
    replayed = post_form(other, "/gestion/connexion", fields)  # the same code, elsewhere
    assert "le code est incorrect" in replayed.text
    for query in ("page=²", "q=²", "au=9999-12-31", "du=0001-01-01", "q=1&endpoint=x&_method=POST"):
        answer = client.get(f"/gestion/?{query}")
        assert answer.status_code == 200, query
    assert 'href="/gestion/?q=1&amp;page=' not in client.get("/gestion/?q=1&endpoint=x").text
    assert client.get("/gestion/export.csv?au=9999-12-31").status_code == 400


def test_an_account_without_a_password_never_signs_in_with_one():
    from models.shared.security import password_matches

    assert not password_matches("", "not a password of anyone")
    assert not password_matches(None, "not a password of anyone")


def test_codes_are_checked_in_utc_whatever_the_servers_time_zone(app, client, monkeypatch):
    import calendar
    import time

    import pyotp

    monkeypatch.setenv("TZ", "Pacific/Kiritimati")  # UTC+14: a naive time would be far off
    time.tzset()
    try:
        _name, _role, password, secret = DEMO_AGENTS["agent.demo"]
        # What the agent's phone shows: the code of the true UTC instant.
        phone = pyotp.TOTP(secret).at(calendar.timegm(clock.now().timetuple()))
        answer = post_form(
            client,
            "/gestion/connexion",
            {"username": "agent.demo", "password": password, "code": phone},
        )
        assert answer.location == "/gestion/"
    finally:
        monkeypatch.undo()
        time.tzset()


def test_a_refused_payment_and_a_new_card_read_as_phrases_in_the_history(client, paid):
    from models.payments import REFUSED as REFUSED_STATE
    from models.payments import Payment
    from models.requests import CardRequest, RequestLine

    with database.connection_context():
        request = CardRequest.get(CardRequest.number == paid)
        Payment.create(
            request=request,
            transaction_reference="9100001",
            amount=902,
            state=REFUSED_STATE,
            response_code="05",
            completed_at=clock.now(),
        )
        line = RequestLine.get(RequestLine.request == request)
        line.new_card.number = "1234567812345678"
        line.new_card.save()
        line.exported_at = clock.now()
        line.save()
    agent_sign_in(client)
    page = client.get(f"/gestion/demandes/{paid}").text
    assert "(référence 9100001, code de réponse 05)" in page
    assert "(9100001 (code 05))" not in page
    assert "1234 5678 1234 5678" in page and "1234567812345678" not in page
