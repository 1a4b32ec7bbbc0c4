"""Logs: one JSON object per line, the request's id on every line of it, timings, and none
of the personal data a whole flow handles; the health check."""

from __future__ import annotations

import io
import json
import logging
import re

import pytest

import app as application
from models.shared.db import database
from views.shared import logs

from .helpers import operator_environment, post_form, sign_in
from .test_import import GOOD, csv_text
from .test_payments import pay_through_the_app

# What the demo personas and the flow below would leak if anything logged them.
PERSONAL = [
    "alfred",
    "depot",
    "libertine",
    "tilleuls",
    "camille",
    "quinn",
    "example.org",
    "0000000000000001",
    "0000 0000 0000 0001",
    "4100",
    "lefèvre",
    "lefevre",
    "élodie",
    "lilas",
    "1000000000000101",
]


@pytest.fixture
def json_logs(monkeypatch):
    """The process's logs, as JSON lines, into a buffer (restored after the test); the
    commands' own set-up (to stderr) leaves it in place."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    buffer = io.StringIO()
    logs.configure(stream=buffer)
    monkeypatch.setattr(logs, "configure", lambda *args, **kwargs: None)
    yield buffer
    root.handlers[:], level = saved
    root.setLevel(level)


def test_a_whole_flow_logs_json_lines_with_ids_and_timings_and_no_personal_data(
    app, json_logs, tmp_path, make_app
):
    url = app.config["DATABASE_URL"]
    extract = tmp_path / "extrait.csv"
    extract.write_text(csv_text(GOOD), encoding="utf-8")
    with operator_environment():
        assert application.main(["--database", url, "import-cards", str(extract)]) == 0
    app_ = make_app(url)
    with database.connection_context():
        client = app_.test_client()
        post_form(client, "/connexion", {"username": "alfred.depot", "password": "faux"})
        sign_in(client, "alfred.depot")
        client.get("/mes-donnees")
        pay_through_the_app(client)
        post_form(app_.test_client(), "/mot-de-passe-oublie", {"username": "alfred.depot"})
        app_.extensions["background"].drain()
        token = re.search(r"/mot-de-passe/(\S+)", _last_email()).group(1)
        app_.test_client().get(f"/mot-de-passe/{token}")
    with operator_environment():
        assert application.main(["--database", url, "export", "--folder", str(tmp_path)]) == 0

    text = json_logs.getvalue()
    lines = [json.loads(line) for line in text.splitlines()]
    requests = [entry for entry in lines if entry.get("event") == "request"]
    assert len(requests) >= 15
    for entry in requests:
        assert re.fullmatch(r"[0-9a-f]{16}", entry["request_id"])
        assert entry["route"].startswith("/") and isinstance(entry["ms"], float)
    assert {"route": "/mot-de-passe/<token>", "status": 200} in [
        {"route": e["route"], "status": e["status"]} for e in requests
    ]
    commands = [entry for entry in lines if entry.get("event") == "command"]
    assert [c["exit_status"] for c in commands] == [0, 0]
    assert all(c["request_id"].startswith("cmd-") for c in commands)
    lowered = text.lower()
    leaked = [word for word in [*PERSONAL, token.lower()] if word in lowered]
    assert not leaked, leaked


def _last_email() -> str:
    from models import OutboxEmail

    return OutboxEmail.select().order_by(OutboxEmail.id.desc()).get().text


def test_a_request_id_given_by_the_proxy_is_kept_and_answered(client, json_logs):
    answer = client.get("/connexion", headers={"X-Request-Id": "proxy-1234abcd"})
    assert answer.headers["X-Request-Id"] == "proxy-1234abcd"
    entry = json.loads(json_logs.getvalue().splitlines()[-1])
    assert entry["request_id"] == "proxy-1234abcd" and entry["route"] == "/connexion"
    odd = client.get("/connexion", headers={"X-Request-Id": "a b\x01"})
    assert re.fullmatch(r"[0-9a-f]{16}", odd.headers["X-Request-Id"])


def test_the_health_check_answers_200_then_503_when_the_database_is_gone(app, client):
    answer = client.get("/sante")
    assert answer.status_code == 200 and answer.text == "ok\n"
    assert "Set-Cookie" not in answer.headers
    assert answer.headers["Cache-Control"] == "no-store"
    if "sqlite" in app.config["DATABASE_URL"]:
        from models.shared.db import open_database

        open_database("sqlite:////nonexistent-folder/x.sqlite3")
    else:
        from models.shared.db import open_database

        open_database("postgresql://nobody@127.0.0.1:1/none")
    down = client.get("/sante")
    assert down.status_code == 503 and down.headers["Retry-After"] == "5"
    assert down.text == "database unavailable\n"
