"""``python app.py``: the production server, its options and its refusal of a public key."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from app import create_app

from .test_mail import free_port

ROOT = Path(__file__).resolve().parent.parent


def _env(**extra):
    kept_out = ("SECRET_KEY", "DEMO", "DATABASE_URL", "PAYMENT_SECRET", "PAYMENT_URL", "PUBLIC_URL")
    env = {k: v for k, v in os.environ.items() if k not in kept_out}
    env.update(extra)
    return env


def test_refuses_to_start_on_the_built_in_secret_key(tmp_path):
    result = subprocess.run(
        [sys.executable, "app.py", "--database", f"sqlite:///{tmp_path / 'x.sqlite3'}"],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "Refusing to start: SECRET_KEY is not set" in result.stderr


def test_refuses_to_start_without_a_real_payment_provider(tmp_path):
    # Real keys, but no PAYMENT_URL: the built-in card page takes no money.
    result = subprocess.run(
        [sys.executable, "app.py", "--database", f"sqlite:///{tmp_path / 'x.sqlite3'}"],
        cwd=ROOT,
        env=_env(SECRET_KEY="k" * 64, PAYMENT_SECRET="p" * 64),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "Refusing to start: PAYMENT_URL is not set" in result.stderr


def test_refuses_to_start_without_its_public_address(tmp_path):
    # Links in emails would otherwise be built from whatever Host a request names.
    result = subprocess.run(
        [sys.executable, "app.py", "--database", f"sqlite:///{tmp_path / 'x.sqlite3'}"],
        cwd=ROOT,
        env=_env(
            SECRET_KEY="k" * 64, PAYMENT_SECRET="p" * 64, PAYMENT_URL="https://pay.example.org/"
        ),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "Refusing to start: PUBLIC_URL is not set" in result.stderr


def test_the_built_in_payment_page_exists_only_for_demonstrations_and_tests(tmp_path):
    database = f"sqlite:///{tmp_path / 'x.sqlite3'}"
    real = create_app({"DATABASE_URL": database, "PAYMENT_URL": "https://pay.example.org/"})
    bare = create_app({"DATABASE_URL": database})
    demo = create_app({"DATABASE_URL": database, "DEMO": True})
    for app in (real, bare):
        assert "provider" not in app.blueprints
        assert app.test_client().get("/paiement-securise").status_code == 404
    assert "provider" in demo.blueprints


def test_send_outbox_tries_the_waiting_emails_then_exits(tmp_path):
    result = subprocess.run(
        [sys.executable, "app.py", "--send-outbox", "--database", f"sqlite:///{tmp_path / 'x.db'}"],
        cwd=ROOT,
        env=_env(SMTP_URL=f"smtp://127.0.0.1:{free_port()}"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "0 email(s) sent, 0 still waiting." in result.stdout


def _wait_for(url: str, process: subprocess.Popen, seconds: float = 30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(process.stdout.read())
        try:
            return urllib.request.urlopen(url, timeout=2)
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer in {seconds} s")


def raw_exchange(port: int, request: bytes) -> bytes:
    """Send bytes as they are (no client would send these) and read the whole answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(request)
        chunks = []
        while chunk := connection.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_demo_mode_serves_the_demo_with_gunicorn(database_url):
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "app.py", "--demo", "--port", str(port), "--workers", "1"],
        cwd=ROOT,
        env=_env(DATABASE_URL=database_url),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_for(base + "/connexion", process)
        request = urllib.request.Request(base + "/connexion", headers={"Accept-Encoding": "gzip"})
        with urllib.request.urlopen(request, timeout=5) as response:
            assert response.headers["Content-Encoding"] == "gzip"
            assert "gunicorn" in response.headers["Server"]
        # What gunicorn answers itself, before the application: in French, with
        # the same security headers as every page.
        for status, raw in [
            (414, b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"),
            (431, b"GET / HTTP/1.1\r\nHost: x\r\nX-Long: " + b"b" * 9000 + b"\r\n\r\n"),
            (400, b"NOT A REQUEST\r\n\r\n"),
        ]:
            head, _, body = raw_exchange(port, raw).partition(b"\r\n\r\n")
            assert head.startswith(f"HTTP/1.1 {status} ".encode()), head[:80]
            for header in (
                b"Content-Security-Policy: default-src 'none'",
                b"X-Content-Type-Options: nosniff",
                b"X-Frame-Options: DENY",
                b"Content-Type: text/html; charset=utf-8",
            ):
                assert header in head, (status, header)
            assert b'<html lang="fr">' in body
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=30)
    assert "Demo data loaded" in output


@pytest.mark.parametrize("value", ["1", "true"])
def test_options_come_from_the_environment(value):
    from app import parse_args

    saved = dict(os.environ)
    try:
        os.environ.update(
            HOST="0.0.0.0", PORT="9001", DEMO=value, DATABASE_URL="postgresql://u@h/db"
        )
        args = parse_args([])
    finally:
        os.environ.clear()
        os.environ.update(saved)
    assert (args.host, args.port, args.demo, args.database) == (
        "0.0.0.0",
        9001,
        True,
        "postgresql://u@h/db",
    )
    assert parse_args(["--port", "8123"]).port == 8123


def test_the_request_time_outs_come_from_the_options_or_the_environment(monkeypatch, capsys):
    from app import parse_args

    assert (parse_args([]).head_timeout, parse_args([]).body_timeout) == (10, 30)
    monkeypatch.setenv("REQUEST_HEAD_TIMEOUT", "2.5")
    monkeypatch.setenv("REQUEST_BODY_TIMEOUT", "45")
    assert (parse_args([]).head_timeout, parse_args([]).body_timeout) == (2.5, 45)
    assert parse_args(["--body-timeout", "5"]).body_timeout == 5
    for bad in ("0", "-1", "abc", "nan", "inf"):
        with pytest.raises(SystemExit) as exit_status:
            parse_args(["--head-timeout", bad])
        assert exit_status.value.code == 2
        assert "is not a number of seconds above 0" in capsys.readouterr().err


def test_two_servers_on_one_host_each_have_their_own_control_socket(tmp_path):
    """gunicorn's default control socket is one path per user: a second server took it
    from the first (``gunicornc`` then reached the wrong one), and stopping either removed
    it for both."""
    from gunicorn.ctl.client import ControlClient

    servers = {}
    try:
        for name in ("a", "b"):
            port = free_port()
            process = subprocess.Popen(
                [sys.executable, "app.py", "--demo", "--port", str(port), "--workers", "1"],
                cwd=ROOT,
                env=_env(
                    DATABASE_URL=f"sqlite:///{tmp_path / f'{name}.sqlite3'}",
                    XDG_RUNTIME_DIR=str(tmp_path),
                ),
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            servers[port] = process
            _wait_for(f"http://127.0.0.1:{port}/sante", process)
        sockets = {port: tmp_path / f"cmi-127.0.0.1-{port}.ctl" for port in servers}

        def bind_of(path: Path) -> str:
            deadline = time.monotonic() + 30  # the socket opens once the workers are up
            while not path.exists():
                assert time.monotonic() < deadline, f"no control socket at {path}"
                time.sleep(0.1)
            with ControlClient(str(path), timeout=10) as control:
                return control.send_command("show config")["bind"]

        for port, path in sockets.items():
            assert bind_of(path) == [f"127.0.0.1:{port}"]
        assert not (tmp_path / "gunicorn.ctl").exists()

        first, second = servers
        stopped = servers.pop(first)
        stopped.terminate()
        stopped.communicate(timeout=30)
        assert not sockets[first].exists(), "the stopped server left its socket"
        assert bind_of(sockets[second]) == [f"127.0.0.1:{second}"]
    finally:
        for process in servers.values():
            process.terminate()
        for process in servers.values():
            process.communicate(timeout=30)
