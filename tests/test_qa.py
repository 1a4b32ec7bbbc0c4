"""QA's sandboxes on a running instance (``views/demo/qa.py``): only with QA_SECRET, only
in demo mode; each sandbox is a database of its own, fresh personas on demand, gone after."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

import pytest

import models
from app import create_app
from models.shared.clock import clock
from models.shared.db import database
from tests.helpers import post_form, sign_in
from views.demo.qa import HEADER, RUN_STARTS_AT, SANDBOX_HEADER, Sandboxes
from views.shared.background import Background

SECRET = "qa-secret-of-this-test-0123456789"


@pytest.fixture
def qa_app(tmp_path, make_app):
    """An instance with a QA secret, whose own database holds no personas at all."""
    application = make_app(f"sqlite:///{tmp_path / 'main.sqlite3'}", QA_SECRET=SECRET)
    application.instance_path = str(tmp_path / "instance")
    application.extensions["qa_sandboxes"].folder = tmp_path / "instance" / "qa-bacs"
    models.create_tables()
    return application


def sandbox_client(app, name: str):
    client = app.test_client()
    client.environ_base["HTTP_X_QA_BAC"] = name
    return client


def ask(app, method: str, name: str, path: str = "/qa/donnees", secret: str = SECRET):
    client = app.test_client()
    return client.open(path, method=method, headers={HEADER: secret, SANDBOX_HEADER: name})


def main_accounts() -> int:
    with database.connection_context():
        return models.Account.select().count()


def test_without_a_secret_there_is_no_qa_address(client):
    name = secrets.token_hex(16)
    assert client.post("/qa/donnees", headers={HEADER: "", SANDBOX_HEADER: name}).status_code == 404
    assert client.get("/connexion", headers={SANDBOX_HEADER: name}).status_code == 200


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"QA_SECRET": SECRET}, "only accepted with --demo"),
        ({"QA_SECRET": "short", "DEMO": True}, "at least 24 characters"),
    ],
)
def test_a_secret_is_refused_outside_demo_mode_or_when_short(tmp_path, config, message):
    with pytest.raises(ValueError, match=message):
        create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}", **config})


def test_the_wrong_secret_or_a_malformed_name_gets_nothing(qa_app):
    name = secrets.token_hex(16)
    assert ask(qa_app, "POST", name, secret="not-the-secret-0123456789").status_code == 404
    assert ask(qa_app, "POST", "../main").status_code == 400
    assert not (qa_app.extensions["qa_sandboxes"].path(name)).exists()


def test_a_sandbox_has_the_personas_the_instance_does_not(qa_app):
    name = secrets.token_hex(16)
    assert ask(qa_app, "POST", name).status_code == 204

    in_sandbox = sandbox_client(qa_app, name)
    sign_in(in_sandbox, "alfred.depot")
    assert "Alfred" in in_sandbox.get("/mes-donnees").text
    # The instance's own data is neither read nor changed.
    assert main_accounts() == 0
    outside = qa_app.test_client()
    answer = post_form(
        outside, "/connexion", {"username": "alfred.depot", "password": "Tilleuls-2026"}
    )
    assert answer.status_code == 200 and "incorrect" in answer.text


def test_two_sandboxes_do_not_see_each_others_drafts(qa_app):
    first, second = secrets.token_hex(16), secrets.token_hex(16)
    for name in (first, second):
        assert ask(qa_app, "POST", name).status_code == 204
    one = sandbox_client(qa_app, first)
    sign_in(one, "alfred.depot")
    post_form(one, "/demande/engagement", {"accept": "y"})
    two = sandbox_client(qa_app, second)
    sign_in(two, "alfred.depot")
    assert "Reprendre" in one.get("/mes-donnees").text
    assert "Reprendre" not in two.get("/mes-donnees").text

    # Made fresh again: the draft is gone.
    assert ask(qa_app, "POST", first).status_code == 204
    again = sandbox_client(qa_app, first)
    sign_in(again, "alfred.depot")
    assert "Reprendre" not in again.get("/mes-donnees").text


def test_the_e_mails_written_after_the_answer_land_in_the_sandbox(qa_app):
    name = secrets.token_hex(16)
    ask(qa_app, "POST", name)
    post_form(sandbox_client(qa_app, name), "/mot-de-passe-oublie", {"username": "alfred.depot"})

    emails = ask(qa_app, "GET", name, "/qa/courriels").get_json()
    assert [e["recipient"] for e in emails] == ["alfred.depot@example.org"]
    assert "/mot-de-passe/" in emails[0]["text"]
    with database.connection_context():
        assert models.OutboxEmail.select().count() == 0


def test_a_removed_sandbox_is_gone_and_its_name_answers_404(qa_app):
    name = secrets.token_hex(16)
    ask(qa_app, "POST", name)
    path = qa_app.extensions["qa_sandboxes"].path(name)
    assert path.exists()

    assert ask(qa_app, "DELETE", name).status_code == 204
    assert not path.exists()
    assert sandbox_client(qa_app, name).get("/connexion").status_code == 404
    assert ask(qa_app, "GET", name, "/qa/courriels").status_code == 404


def test_a_sandbox_another_worker_removed_is_let_go_here_too(tmp_path):
    """Each worker process keeps its own pool per sandbox: once another removed the
    files, this one closes its connections to them instead of keeping them open."""
    here, there = Sandboxes(tmp_path), Sandboxes(tmp_path)
    name = secrets.token_hex(16)
    mine = here.get(name, create=True)
    with mine.connection_context():
        mine.execute_sql("CREATE TABLE t (x INTEGER)")
    assert mine._connections, "the pool kept a connection"
    there.get(name).close_all()  # the other worker opened it, then removes it
    there.remove(name)
    assert here.get(name) is None
    assert mine._connections == [] and name not in here._open


# -- the sandbox's clock: the run's day, whatever the real one ---------------------------------


@pytest.mark.parametrize(
    "real", [datetime(2026, 12, 30, 9), datetime(2027, 1, 5, 9)], ids=["30-12", "05-01"]
)
def test_a_sandbox_lives_on_the_runs_day_before_and_after_the_old_cards_end(qa_app, real):
    """Its pages say what they say on 22/11/2026 (39 days left for the old cards), the
    snapshots' day, while the instance's own pages say what the real day says."""
    clock.freeze(real)
    name = secrets.token_hex(16)
    assert ask(qa_app, "POST", name).status_code == 204
    in_sandbox = sandbox_client(qa_app, name)
    guidance = "/j-ai-perdu-ma-carte?carte=ancienne"
    assert "Il reste 39 jours avant cette date" in in_sandbox.get(guidance).text
    sign_in(in_sandbox, "marie.durand")
    assert "Il reste 39 jours avant cette date" in in_sandbox.get("/mes-donnees").text
    outside = qa_app.test_client().get(guidance).text
    if real.year == 2027:
        assert "ne sont plus valables depuis le 31 décembre 2026" in outside
    else:
        assert "Il reste 1 jour avant cette date" in outside

    # The sandbox's clock runs on with the wall's: ten minutes later there too (still
    # signed in), and an hour later the session has ended there as it would anywhere.
    clock.advance(timedelta(minutes=10))
    with clock.shifted(qa_app.extensions["qa_sandboxes"].shift(name)):
        assert clock.now() == RUN_STARTS_AT + timedelta(minutes=10)
    assert "Il reste 39 jours" in in_sandbox.get("/mes-donnees").text
    clock.advance(timedelta(hours=1))
    assert in_sandbox.get("/mes-donnees").status_code == 303


def test_every_worker_reads_the_sandbox_clock_where_the_first_one_wrote_it(tmp_path, frozen_clock):
    here, there = Sandboxes(tmp_path), Sandboxes(tmp_path)
    name = secrets.token_hex(16)
    here.get(name, create=True)
    started = here.shift(name)
    frozen_clock.advance(timedelta(minutes=10))  # the other worker's first request
    there.get(name)
    assert there.shift(name) == started
    there.remove(name)
    assert not here.started_path(name).exists()


def test_work_left_for_after_the_answer_runs_on_the_requests_clock(frozen_clock):
    """A sandbox's e-mail, written on the service's background thread, is dated on the
    sandbox's day."""
    background = Background()
    seen = []
    elsewhere = datetime(2027, 1, 5, 9)
    with frozen_clock.shifted(frozen_clock.shift_to(elsewhere)):
        background.submit(lambda: seen.append(frozen_clock.now()))
    background.submit(lambda: seen.append(frozen_clock.now()))
    background.drain()
    assert seen == [elsewhere, frozen_clock.wall()]
