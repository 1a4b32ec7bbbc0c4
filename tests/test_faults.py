"""The production server killed (SIGKILL) at the worst moments: nothing is half done.

``python app.py`` (gunicorn) runs on the test's database, SQLite or
PostgreSQL; a browser without JavaScript (``HttpClient``) walks the flow. The
whole server is killed, as a machine losing power would; a new one starts on
the same database, and the same browser carries on.
"""

from __future__ import annotations

import html
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

import pytest

from models.cards import Card
from models.demo.data import DEMO_PASSWORDS
from models.payments import Payment
from models.requests import CardRequest, RequestLine
from models.shared.db import database
from models.shared.mail import OutboxEmail

from .http_client import HttpClient, form_token
from .test_mail import free_port

ROOT = Path(__file__).resolve().parent.parent
ALFRED_CARD = "0000000000000001"


class Server:
    """``python app.py --demo`` in a process group of its own, killed as a whole."""

    def __init__(self, database_url: str, tmp_path: Path) -> None:
        self.database_url, self.log_path = database_url, tmp_path / "server.log"
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    def start(self) -> Server:
        env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "PAYMENT_URL")}
        # The control socket in the test's folder: a server killed leaves it behind.
        runtime = str(self.log_path.parent)
        env.update(DATABASE_URL=self.database_url, PYTHONUNBUFFERED="1", XDG_RUNTIME_DIR=runtime)
        with self.log_path.open("a") as log:
            self.process = subprocess.Popen(
                [sys.executable, "app.py", "--demo", "--port", str(self.port), "--workers", "1"],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        client = HttpClient(self.port, timeout=5)
        deadline = time.monotonic() + 30
        while client.get("/connexion").status != 200:
            assert time.monotonic() < deadline, self.log_path.read_text()
            assert self.process.poll() is None, self.log_path.read_text()
            time.sleep(0.2)
        return self

    def kill(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=30)


@pytest.fixture
def server(app, database_url, tmp_path):
    """The server on the test's database (the ``app`` fixture has loaded the demo)."""
    running = Server(database_url, tmp_path)
    yield running
    running.stop()


def sign_in(port: int) -> HttpClient:
    browser = HttpClient(port)
    answer = browser.submit(
        "/connexion", {"username": "alfred.depot", "password": DEMO_PASSWORDS["alfred.depot"]}
    )
    assert answer.status == 303, answer.text[:500]
    return browser


def to_confirmation(browser: HttpClient) -> None:
    for path, form in [
        ("/demande/engagement", {"accept": "y"}),
        ("/demande/choix", {"kind": "duplicata"}),
        (
            "/demande/selection",
            {f"select_{ALFRED_CARD}": "y", f"reason_{ALFRED_CARD}": "Titre perdu", "honour": "y"},
        ),
    ]:
        answer = browser.submit(path, {**form, "action": "suivant"})
        assert answer.status == 303, (path, answer.text[:500])
    assert browser.get("/demande/confirmation").status == 200


def state() -> dict:
    with database.connection_context():
        request = CardRequest.select().order_by(CardRequest.id.desc()).first()
        card = Card.get(Card.number == ALFRED_CARD)
        return {
            "request": request.state if request else None,
            "number": request.number if request else None,
            "lines": RequestLine.select().count(),
            "revoked": card.revoked_on is not None,
            "new cards": Card.select().where(Card.replaces.is_null(False)).count(),
            "paid payments": Payment.select().where(Payment.state == "acceptée").count(),
            "confirmations": OutboxEmail.select()
            .where(OutboxEmail.subject.contains("est enregistrée"))
            .count(),
        }


def test_killed_between_the_notification_and_the_return_the_user_finishes(server):
    server.start()
    browser = sign_in(server.port)
    to_confirmation(browser)
    assert browser.submit("/demande/confirmation", {}).location == "/demande/livraison"
    assert browser.submit("/demande/livraison", {"correct": "oui"}).status == 303
    assert browser.submit("/demande/paiement", {"action": "payer"}).status == 303
    handoff = browser.get("/demande/paiement/envoi").text
    order = dict(re.findall(r'name="(Data|Seal|InterfaceVersion)" value="([^"]*)"', handoff))
    card_page = browser.post(
        "/paiement-securise", {k: html.unescape(v) for k, v in order.items()}
    ).text
    reference = re.search(r'action="/paiement-securise/(\d+)"', card_page).group(1)
    paid = browser.post(
        f"/paiement-securise/{reference}",
        {
            "csrf_token": form_token(card_page),
            "action": "valider",
            "number": "4100 0000 0000 0001",
            "expiry": "12/29",
            "security_code": "123",
        },
        follow=True,
    ).text
    assert "Votre paiement a été accepté." in paid
    # The provider tells the service server to server: the request is paid...
    deadline = time.monotonic() + 15
    while state()["request"] != "payée":
        assert time.monotonic() < deadline, "the provider's notification never arrived"
        time.sleep(0.1)
    back = html.unescape(re.search(r'href="([^"]*/paiement/retour\?[^"]+)"', paid).group(1))

    # ...and the server dies before the browser comes back.
    server.kill()
    server.start()
    url = urllib.parse.urlsplit(back)
    summary = browser.get(f"{url.path}?{url.query}", follow=True).text
    assert "Votre demande est enregistrée sous le numéro" in summary
    assert state() == {
        "request": "payée",
        "number": 10000,
        "lines": 1,
        "revoked": True,
        "new cards": 1,
        "paid payments": 1,
        "confirmations": 1,
    }


def hold_a_lock(database_url: str):
    """Another writer holding what « Oui » needs: SQLite's write lock before the
    request's transaction begins; on PostgreSQL the counter table, half way
    through the transaction (the card is already revoked in it, not committed)."""
    if database_url.startswith("sqlite"):
        import sqlite3

        holder = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        return holder
    import psycopg2

    holder = psycopg2.connect(database_url)
    with holder.cursor() as cursor:
        cursor.execute("LOCK TABLE counter IN ACCESS EXCLUSIVE MODE")
    return holder


def waiting_on_the_lock(database_url: str) -> bool:
    if database_url.startswith("sqlite"):
        return True  # BEGIN IMMEDIATE waits as soon as the request reaches it
    import psycopg2

    watcher = psycopg2.connect(database_url)
    watcher.autocommit = True
    try:
        with watcher.cursor() as cursor:
            for _ in range(200):
                cursor.execute(
                    "SELECT 1 FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock'"
                )
                if cursor.fetchone():
                    return True
                time.sleep(0.05)
    finally:
        watcher.close()
    return False


def test_killed_while_oui_is_being_recorded_nothing_is_half_done(server, database_url):
    server.start()
    browser = sign_in(server.port)
    to_confirmation(browser)
    token = form_token(browser.get("/demande/confirmation").text)
    before = state()

    holder = hold_a_lock(database_url)
    answers = []
    oui = threading.Thread(
        target=lambda: answers.append(browser.post("/demande/confirmation", {"csrf_token": token}))
    )
    oui.start()
    time.sleep(0.5)
    assert waiting_on_the_lock(database_url)
    server.kill()  # « Oui » is inside the server, waiting: it never answers
    oui.join(timeout=30)
    holder.rollback()
    holder.close()
    assert answers and answers[0].status == 0  # the connection was cut

    assert state() == before, "a « Oui » that never answered changed something"
    server.start()
    # The user presses « Oui » again (the page is still there): recorded once.
    answer = browser.post("/demande/confirmation", {"csrf_token": token})
    assert answer.location == "/demande/livraison", answer.text[:500]
    after = state()
    assert (after["request"], after["lines"], after["revoked"]) == ("enregistrée", 1, True)


def test_the_production_server_answers_an_oversized_photo_instead_of_resetting(server):
    """A browser sends its whole body before it reads the answer: a refusal sent while
    the body still comes, then a closed connection, shows it « connection reset »."""
    server.start()
    body = b"\0" * (6 * 1024 * 1024)
    request = (
        "POST /mes-donnees/photo/1 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Type: multipart/form-data; boundary=x\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as connection:
        connection.sendall(request)
        # In pieces, as a slow upload: the server answered (and closed) at the first one
        # without the fix, and a later piece then fails with a reset or a broken pipe.
        for start in range(0, len(body), 256 * 1024):
            connection.sendall(body[start : start + 256 * 1024])
            time.sleep(0.005)
        answer = connection.makefile("rb").read()
    status = answer.split(b"\r\n", 1)[0]
    assert status == b"HTTP/1.1 303 SEE OTHER", answer[:300]
    assert b"Location: /mes-donnees/photo/1" in answer
