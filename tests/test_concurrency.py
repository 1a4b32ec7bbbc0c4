"""« Oui » applies exactly once, even when it arrives many times at once, on a real server.

A threaded Werkzeug server serves the ``app`` fixture (SQLite or PostgreSQL);
each simulated browser is plain ``http.client`` with its own cookies, so the
requests really run side by side, each on its own database connection.
"""

from __future__ import annotations

import html
import re
import threading
from datetime import date

import pytest
from werkzeug.serving import make_server

from models.cards import Card
from models.people import Account, Beneficiary, Mandate
from models.requests import CardRequest, Counter, RequestLine

from .helpers import csrf_token
from .http_client import Answer, HttpClient

TODAY = date(2026, 11, 22)
CONCURRENT_CLICKS = 8
CONFLICT = "Une des cartes choisies ne peut plus faire l'objet de cette demande"
# Camille's only parking card is Léo's: losing it leaves her nothing to copy.
ALREADY_COPIED = "Un second exemplaire a déjà été commandé pour chacune de vos cartes"


@pytest.fixture
def server(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


def signed_in(server, username: str) -> HttpClient:
    from models.demo.data import DEMO_PASSWORDS

    browser = HttpClient(server.server_port)
    answer = browser.submit(
        "/connexion", {"username": username, "password": DEMO_PASSWORDS[username]}
    )
    assert answer.status == 303, answer.text
    return browser


def to_confirmation(browser: HttpClient, kind: str, number: str, reason: str | None) -> str:
    """Walk the wizard to the confirmation page; return the « Oui » form's token."""
    assert browser.get("/demande").location == "/demande/engagement"
    answer = browser.submit("/demande/engagement", {"accept": "y", "action": "suivant"})
    assert answer.location == "/demande/choix", answer.text
    answer = browser.submit("/demande/choix", {"kind": kind, "action": "suivant"})
    assert answer.location == "/demande/selection", answer.text
    selection = {"action": "valider", f"select_{number}": "y", "honour": "y"}
    if reason:
        selection[f"reason_{number}"] = reason
    answer = browser.submit("/demande/selection", selection)
    assert answer.location == "/demande/confirmation", answer.text
    page = browser.get("/demande/confirmation")
    assert page.status == 200
    assert "Validation de la demande de" in page.text
    assert re.search(r"<button[^>]*>Oui</button>", page.text)
    return csrf_token(page.text)


def all_at_once(calls) -> list[Answer]:
    """Run ``calls`` in threads released together; their answers, in order."""
    barrier = threading.Barrier(len(calls))
    answers: list[Answer | BaseException | None] = [None] * len(calls)

    def run(index, call):
        barrier.wait()
        try:
            answers[index] = call()
        except BaseException as error:  # reported below, in the test's thread
            answers[index] = error

    threads = [threading.Thread(target=run, args=item) for item in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    for answer in answers:
        if not isinstance(answer, Answer):
            raise AssertionError(f"a concurrent request failed: {answer!r}")
    return answers


def card(number: str) -> Card:
    return Card.get(Card.number == number)


def request_of(username: str) -> CardRequest:
    return (
        CardRequest.select()
        .join(Account)
        .where(Account.username == username)
        .order_by(CardRequest.id.desc())
        .get()
    )


def test_eight_simultaneous_oui_record_the_request_exactly_once(server, db):
    browser = signed_in(server, "alfred.depot")
    token = to_confirmation(browser, "duplicata", "0000000000000001", "Titre volé")

    answers = all_at_once(
        [lambda: browser.post("/demande/confirmation", {"csrf_token": token})] * CONCURRENT_CLICKS
    )

    assert [a.status for a in answers] == [303] * CONCURRENT_CLICKS, [
        (a.status, a.text[:200]) for a in answers
    ]
    assert {a.location for a in answers} == {"/demande/livraison"}
    assert RequestLine.select().count() == 1
    line = RequestLine.get()
    assert (line.card.number, line.kind, line.reason) == (
        "0000000000000001",
        "duplicata",
        "Titre volé",
    )
    revoked = card("0000000000000001")
    assert (revoked.revoked_on, revoked.revocation_reason) == (TODAY, "Titre volé")
    assert card("0000000000000002").revoked_on is None
    recorded = request_of("alfred.depot")
    assert (recorded.state, recorded.number) == ("enregistrée", 10000)
    assert CardRequest.select().where(CardRequest.number.is_null(False)).count() == 1
    assert Counter.get_by_id("request").value == 10000
    # And the user carries on normally.
    assert browser.get("/demande").location == "/demande/livraison"


def test_simultaneous_oui_on_a_second_copy_make_one_line_and_revoke_nothing(server, db):
    browser = signed_in(server, "camille.martin")
    token = to_confirmation(browser, "second_exemplaire", "0000000000000040", None)

    answers = all_at_once(
        [lambda: browser.post("/demande/confirmation", {"csrf_token": token})] * CONCURRENT_CLICKS
    )

    assert all(a.status == 303 for a in answers), [a.status for a in answers]
    assert RequestLine.select().count() == 1
    assert card("0000000000000040").revoked_on is None
    assert request_of("camille.martin").number == 10000


def give_joseph_a_mandate_on_leo():
    """Léo MARTIN's other parent: joseph.quinn now acts for him too."""
    joseph = Account.get(Account.username == "joseph.quinn")
    leo = Beneficiary.get(Beneficiary.number == 40)
    Mandate.create(account=joseph, beneficiary=leo, role=Mandate.LEGAL_REPRESENTATIVE)


@pytest.mark.parametrize(
    ("kind", "reasons"),
    [
        ("second_exemplaire", {"camille.martin": None, "joseph.quinn": None}),
        ("duplicata", {"camille.martin": "Titre perdu", "joseph.quinn": "Titre volé"}),
    ],
)
def test_two_accounts_cannot_both_order_the_same_card(server, db, kind, reasons):
    give_joseph_a_mandate_on_leo()
    parents = {username: signed_in(server, username) for username in reasons}
    tokens = {
        username: to_confirmation(browser, kind, "0000000000000040", reasons[username])
        for username, browser in parents.items()
    }

    def oui(username):
        return lambda: parents[username].post(
            "/demande/confirmation", {"csrf_token": tokens[username]}
        )

    answers = dict(zip(parents, all_at_once([oui(username) for username in parents]), strict=True))

    statuses = sorted(a.status for a in answers.values())
    assert statuses == [303, 409], {u: (a.status, a.text[:300]) for u, a in answers.items()}
    winner = next(u for u, a in answers.items() if a.status == 303)
    loser = next(u for u, a in answers.items() if a.status == 409)
    assert answers[winner].location == "/demande/livraison"
    # The loser is told why, on the selection page of what is left to order.
    told = html.unescape(answers[loser].text)
    if kind == "second_exemplaire" and loser == "camille.martin":
        assert ALREADY_COPIED in told
    else:
        assert CONFLICT in told
        assert "Il y a un problème" in told

    leo_card = card("0000000000000040")
    lines = list(RequestLine.select().where(RequestLine.card == leo_card))
    assert len(lines) == 1
    assert lines[0].request.account.username == winner
    assert (request_of(winner).state, request_of(winner).number) == ("enregistrée", 10000)
    assert (request_of(loser).state, request_of(loser).number) == ("brouillon", None)
    if kind == "duplicata":
        assert (leo_card.revoked_on, leo_card.revocation_reason) == (TODAY, reasons[winner])
    else:
        assert leo_card.revoked_on is None
    # Nothing else was revoked by the request that lost.
    revoked = Card.select().where(Card.revoked_on == TODAY).count()
    assert revoked == (1 if kind == "duplicata" else 0)
