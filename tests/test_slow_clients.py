"""Slow clients against the production server (``python app.py``, 2 workers x 4 threads).

A client that sends its request slowly, or never closes its side, must not
take the service down: ``/sante`` keeps answering within a second while they
are there, and each of them is answered (408, 400 or 503) or closed once its
time is up. The server's deadlines are shortened for the test
(``--head-timeout``, ``--body-timeout``); the slow clients keep the pace of
the issue (a header every 5 s).
"""

from __future__ import annotations

import io
import os
import re
import select
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from PIL import Image

from models.demo.data import DEMO_PASSWORDS

from .http_client import HttpClient, form_token
from .test_mail import free_port

ROOT = Path(__file__).resolve().parent.parent
HEAD_TIMEOUT = 7  # seconds: longer than the slow heads' pace, so they are there a while
BODY_TIMEOUT = 3
SLOW = 12


class Running:
    """``python app.py --demo`` on a SQLite file of its own."""

    def __init__(self, tmp_path: Path, *options: str) -> None:
        self.port = free_port()
        self.log = tmp_path / "server.log"
        kept_out = ("SECRET_KEY", "PAYMENT_URL", "PAYMENT_SECRET", "PUBLIC_URL", "DATABASE_URL")
        env = {k: v for k, v in os.environ.items() if k not in kept_out}
        env.update(
            DATABASE_URL=f"sqlite:///{tmp_path / 'cmi.sqlite3'}",
            XDG_RUNTIME_DIR=str(tmp_path),
            PYTHONUNBUFFERED="1",
        )
        command = [sys.executable, "app.py", "--demo", "--port", str(self.port), *options]
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 60
        while not self.answers("/sante", 2):
            assert self.process.poll() is None, self.log.read_text()
            assert time.monotonic() < deadline, self.log.read_text()
            time.sleep(0.2)

    def answers(self, path: str, within: float) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=within):
                return True
        except OSError:
            return False

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:  # a server the slow clients still hold
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


@pytest.fixture
def server(tmp_path):
    running = Running(
        tmp_path, "--head-timeout", str(HEAD_TIMEOUT), "--body-timeout", str(BODY_TIMEOUT)
    )
    yield running
    running.stop()


class SlowClient(threading.Thread):
    """Sends ``start``, then ``then`` every ``every`` seconds, until the server answers
    or closes; keeps what it was answered."""

    def __init__(self, port: int, start: bytes, then: bytes, every: float) -> None:
        super().__init__(daemon=True)
        self.port, self.start_bytes, self.then, self.every = port, start, then, every
        self.sent = 0
        self.answer: bytes | None = None  # b"" when closed without an answer
        self.connected = threading.Event()

    def run(self) -> None:
        with socket.create_connection(("127.0.0.1", self.port), timeout=60) as connection:
            connection.sendall(self.start_bytes)
            self.connected.set()
            while True:
                readable, _, _ = select.select([connection], [], [], self.every)
                if readable:
                    break
                try:
                    connection.sendall(self.then)
                except OSError:
                    break
                self.sent += 1
            chunks = []
            try:
                while chunk := connection.recv(65536):
                    chunks.append(chunk)
            except OSError:
                pass
            self.answer = b"".join(chunks)

    @property
    def status(self) -> str:
        return self.answer.split(b"\r\n", 1)[0].decode() if self.answer else "closed"


def slow_heads(port: int) -> list[SlowClient]:
    return [
        SlowClient(port, b"GET /sante HTTP/1.1\r\nHost: 127.0.0.1\r\n", b"X-Lent: %d\r\n" % n, 5)
        for n in range(SLOW)
    ]


def slow_bodies(port: int, path: str, length: int, content_type: str) -> list[SlowClient]:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {length}\r\n\r\n"
    ).encode()
    return [SlowClient(port, head, b"a", 1) for _ in range(SLOW)]


def test_slow_clients_leave_the_service_answering_and_are_timed_out(server):
    heads = slow_heads(server.port)
    # A form's body (read by the workers' event loop) and a photo's (read by a thread).
    forms = slow_bodies(server.port, "/connexion", 2000, "application/x-www-form-urlencoded")
    photos = slow_bodies(
        server.port, "/mes-donnees/photo/1", 1_000_000, "multipart/form-data; boundary=x"
    )
    clients = heads + forms + photos
    for client in clients:
        client.start()
    for client in clients:
        assert client.connected.wait(10)
    probes = 0
    # Until the slow heads have sent a second header (5 s after the first), /sante
    # is asked twice a second and must answer within one.
    while min(client.sent for client in heads) < 1:
        there = sum(client.answer is None for client in heads)
        started = time.monotonic()
        assert server.answers("/sante", 1), (
            f"/sante did not answer within 1 s with {there} slow heads connected "
            f"(probe {probes + 1})"
        )
        probes += 1
        time.sleep(max(0, 0.5 - (time.monotonic() - started)))
    assert all(client.answer is None for client in heads), "a slow head was closed too soon"
    assert probes >= 8

    # Then each of them is answered once its time is up.
    for client in clients:
        client.join(HEAD_TIMEOUT + 10)
        assert not client.is_alive(), "a slow client is still connected: never timed out"
    assert {client.status for client in heads} == {"HTTP/1.1 408 Request Timeout"}
    assert {client.status for client in forms} == {"HTTP/1.1 408 Request Timeout"}
    # A photo's body: read by a thread until too slow (the application's 400), or
    # refused before (503) when the threads a worker lends to such bodies were taken.
    assert {client.status for client in photos} <= {
        "HTTP/1.1 400 BAD REQUEST",
        "HTTP/1.1 503 Service Unavailable",
    }, [client.status for client in photos]
    answer = heads[0].answer.decode()
    assert "La demande est arrivée trop lentement" in answer
    assert "Content-Security-Policy: default-src 'none'" in answer
    assert server.answers("/sante", 1)


def test_a_photo_sent_slowly_but_steadily_is_kept(server):
    """A real upload on a slow network: pauses shorter than the body's time-out, and a
    rate above the slowest allowed, go through."""
    browser = HttpClient(server.port)
    answer = browser.submit(
        "/connexion", {"username": "alfred.depot", "password": DEMO_PASSWORDS["alfred.depot"]}
    )
    assert answer.status == 303
    out = io.BytesIO()
    Image.effect_noise((600, 800), 40).convert("RGB").save(out, "JPEG", quality=95)
    photo = out.getvalue()
    assert len(photo) > 128 * 1024  # larger than what the event loop reads itself
    token = form_token(browser.get("/mes-donnees/photo/1").text)
    body = (
        (
            f'--x\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{token}\r\n'
            '--x\r\nContent-Disposition: form-data; name="photo"; filename="photo.jpg"\r\n'
            "Content-Type: image/jpeg\r\n\r\n"
        ).encode()
        + photo
        + b"\r\n--x--\r\n"
    )
    cookies = "; ".join(f"{k}={v}" for k, v in browser.cookies.items())
    head = (
        "POST /mes-donnees/photo/1 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Cookie: {cookies}\r\nContent-Type: multipart/form-data; boundary=x\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as connection:
        connection.sendall(head)
        piece = len(body) // 4
        for start in range(0, len(body), piece):
            connection.sendall(body[start : start + piece])
            time.sleep(BODY_TIMEOUT / 2)  # a network that stalls, but less than the limit
        answer = connection.makefile("rb").read()
    assert answer.startswith(b"HTTP/1.1 303"), answer[:300]
    assert b"Location: /mes-donnees/photo/1?envoyee=1" in answer


def test_requests_sent_back_to_back_on_one_connection_are_each_answered(server):
    form = b"username=x&password=y"
    pipelined = (
        b"GET /sante HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
        b"POST /connexion HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\n"
        b"Content-Length: %d\r\n\r\n%s"
        b"GET /sante HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n" % (len(form), form)
    )
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as connection:
        connection.sendall(pipelined)
        answer = connection.makefile("rb").read()
    statuses = []
    while answer:
        head, _, answer = answer.partition(b"\r\n\r\n")
        statuses.append(head.split(b"\r\n", 1)[0])
        length = re.search(rb"\r\nContent-Length: (\d+)", head)
        answer = answer[int(length.group(1)) :]
    # The form has no token: refused by the application, as any such form.
    assert statuses == [b"HTTP/1.1 200 OK", b"HTTP/1.1 400 BAD REQUEST", b"HTTP/1.1 200 OK"]


def test_a_head_that_never_ends_is_refused_without_waiting(server):
    filler = b"".join(b"X-Remplissage-%d: %s\r\n" % (n, b"a" * 700) for n in range(100))
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as connection:
        connection.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n" + filler)
        readable, _, _ = select.select([connection], [], [], HEAD_TIMEOUT / 2)
        assert readable, "no answer before the head's time-out"
        answer = connection.makefile("rb").read()
    assert answer.startswith(b"HTTP/1.1 431 "), answer[:200]
    assert b"trop volumineuse" in answer


def test_clients_that_never_close_after_their_answer_do_not_hold_the_server(tmp_path):
    """After « Connection: close », the server waits a little for the client to close
    too (so that the end of the answer is not lost): that wait held the worker."""
    running = Running(tmp_path, "--workers", "1")
    try:
        connections = []
        for _ in range(10):
            connection = socket.create_connection(("127.0.0.1", running.port), timeout=10)
            connection.sendall(
                b"GET /sante HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
            )
            connections.append(connection)
        # Each is answered (read later: the client never closes, never reads in time).
        for connection in connections:
            assert connection.recv(65536).startswith(b"HTTP/1.1 200 OK")
        for _ in range(3):
            assert running.answers("/sante", 1), "/sante did not answer within 1 s"
        for connection in connections:
            connection.close()
    finally:
        running.stop()


def test_a_refused_photo_whose_body_stops_coming_still_gets_its_answer(server):
    """A body announced over the limit is read and thrown away (so that a browser reads
    the answer): when it stops coming, the answer goes all the same, never a 500."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as connection:
        connection.sendall(
            b"POST /mes-donnees/photo/1 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: multipart/form-data; boundary=x\r\n"
            b"Content-Length: %d\r\n\r\n" % (6 * 1024 * 1024) + b"\0" * 200_000
        )
        answer = connection.makefile("rb").read()
    assert answer.startswith(b"HTTP/1.1 303 "), answer[:300]
    assert b"Location: /mes-donnees/photo/1" in answer
    assert '"status": 500' not in server.log.read_text()
