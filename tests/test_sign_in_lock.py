"""The lock after failed sign-ins, agents' and citizens': counted per identifier and client
together, so that someone elsewhere cannot lock a holder out, with a ceiling across all
clients against a guess spread over many addresses; a supervisor unlocks an agent."""

from __future__ import annotations

import pytest

from models.citizen import auth
from models.citizen.auth import MAX_FAILURES, MAX_FAILURES_EVERYWHERE, LoginFailure
from models.operator import agents
from models.operator.agents import Agent, AuditEntry
from models.shared.db import database

from .helpers import post_form, sign_in
from .test_console import agent_sign_in


def client_at(app, address: str):
    """A browser at ``address`` (as the service sees its client)."""
    browser = app.test_client()
    browser.environ_base["REMOTE_ADDR"] = address
    return browser


def agent_fails(browser, username="agent.demo"):
    return post_form(
        browser,
        "/gestion/connexion",
        {"username": username, "password": "pas-le-bon", "code": "000000"},
    )


def citizen_fails(browser, username="alfred.depot"):
    return post_form(browser, "/connexion", {"username": username, "password": "pas-le-bon"})


PER_CLIENT = "Après 5 essais infructueux, cet identifiant est bloqué"
EVERYWHERE = "Trop d&#39;essais infructueux ont été faits avec cet identifiant"


# -- agents -------------------------------------------------------------------------------------


def test_five_failures_from_one_client_do_not_lock_the_agent_out_from_another(app):
    attacker = client_at(app, "203.0.113.66")
    for _ in range(MAX_FAILURES - 1):
        assert PER_CLIENT not in agent_fails(attacker).text
    assert PER_CLIENT in agent_fails(attacker).text
    # The attacker's client stays locked, even with the right password and code...
    refused = agent_sign_in(attacker)
    assert PER_CLIENT in refused.text and "Un superviseur peut le débloquer" in refused.text
    # ... while the agent, at their own desk, signs in as usual.
    desk = client_at(app, "192.0.2.10")
    assert agent_sign_in(desk).location == "/gestion/"
    # Their success forgets their own failures only: the attacker's still lock its client.
    assert PER_CLIENT in agent_sign_in(attacker).text


def test_failures_spread_over_many_clients_lock_the_agent_everywhere_at_the_ceiling(app):
    clients = MAX_FAILURES_EVERYWHERE // MAX_FAILURES
    for n in range(clients):
        browser = client_at(app, f"198.51.100.{n + 1}")
        for _ in range(MAX_FAILURES - (1 if n == clients - 1 else 0)):
            agent_fails(browser)
    # One failure short of the ceiling: a new client still gets in.
    assert agent_sign_in(client_at(app, "192.0.2.10")).location == "/gestion/"
    with database.connection_context():  # (that success forgot none of the others')
        assert LoginFailure.select().count() == MAX_FAILURES_EVERYWHERE - 1
    agent_fails(client_at(app, "198.51.100.200"))
    refused = agent_sign_in(client_at(app, "192.0.2.11"))
    assert refused.status_code == 200 and EVERYWHERE in refused.text
    assert "Un superviseur peut le débloquer" in refused.text


def test_behind_a_proxy_the_client_is_the_one_it_names(database_url, make_app):
    import models
    from models.demo.data import load_demo_data

    service = make_app(database_url, PROXY_HOPS=1)
    models.create_tables()
    load_demo_data()
    attacker, agent = service.test_client(), service.test_client()
    attacker.environ_base["HTTP_X_FORWARDED_FOR"] = "203.0.113.66"
    agent.environ_base["HTTP_X_FORWARDED_FOR"] = "192.0.2.10"
    for _ in range(MAX_FAILURES):
        agent_fails(attacker)
    assert PER_CLIENT in agent_sign_in(attacker).text
    assert agent_sign_in(agent).location == "/gestion/"
    for _ in range(MAX_FAILURES):
        citizen_fails(attacker)
    sign_in(agent, "alfred.depot")


# -- citizens, by the same rule -----------------------------------------------------------------


def test_five_failures_from_one_client_do_not_lock_a_citizen_out_from_another(app):
    attacker = client_at(app, "203.0.113.66")
    for _ in range(MAX_FAILURES):
        citizen_fails(attacker)
    refused = post_form(
        attacker, "/connexion", {"username": "alfred.depot", "password": "Tilleuls-2026"}
    )
    assert PER_CLIENT in refused.text
    sign_in(client_at(app, "192.0.2.20"), "alfred.depot")


def test_the_ceiling_locks_a_citizen_everywhere_and_a_new_password_lifts_it(app):
    for n in range(MAX_FAILURES_EVERYWHERE // MAX_FAILURES):
        browser = client_at(app, f"198.51.100.{n + 1}")
        for _ in range(MAX_FAILURES):
            citizen_fails(browser)
    refused = post_form(
        client_at(app, "192.0.2.20"),
        "/connexion",
        {"username": "alfred.depot", "password": "Tilleuls-2026"},
    )
    assert EVERYWHERE in refused.text and "demander un nouveau mot de passe" in refused.text
    with database.connection_context():
        assert auth.locked_until("alfred.depot") is not None  # as the console shows it
        alfred = auth.Account.get(auth.Account.username == "alfred.depot")
        token = auth.create_password_reset(alfred)
        auth.use_password_reset(token, "Nouveau-mot-2026")
        assert auth.locked_until("alfred.depot") is None
    sign_in(client_at(app, "192.0.2.20"), "alfred.depot", "Nouveau-mot-2026")


# -- a supervisor unlocks an agent ----------------------------------------------------------------


def locked_agent(app) -> Agent:
    attacker = client_at(app, "203.0.113.66")
    for _ in range(MAX_FAILURES):
        agent_fails(attacker)
    with database.connection_context():
        return Agent.get(Agent.username == "agent.demo")


def test_a_supervisor_unlocks_an_agent_after_confirming_and_it_is_in_the_audit_log(app):
    agent = locked_agent(app)
    supervisor = app.test_client()
    agent_sign_in(supervisor, "superviseur.demo")
    listing = supervisor.get("/gestion/agents").text
    assert "Actif, bloqué après des essais de connexion échoués" in listing
    path = f"/gestion/agents/{agent.id}/debloquer"
    assert f'href="{path}">Débloquer<span class="visually-hidden"> agent.demo</span>' in listing
    confirm = supervisor.get(path)
    assert "Débloquer l&#39;identifiant de l&#39;agent agent.demo ?" in confirm.text
    with database.connection_context():
        assert LoginFailure.select().count() == MAX_FAILURES  # nothing done by looking
    no = post_form(supervisor, path, {"confirm": "non"})
    assert no.location == "/gestion/agents"
    with database.connection_context():
        assert LoginFailure.select().count() == MAX_FAILURES
    done = post_form(supervisor, path, {"confirm": "oui"})
    assert done.location.startswith("/gestion/resultats/")
    assert "Identifiant agent.demo débloqué" in supervisor.get(done.location).text
    after = supervisor.get("/gestion/agents").text
    assert "bloqué après" not in after and path not in after
    with database.connection_context():
        (entry,) = AuditEntry.select().where(AuditEntry.action == "Agent débloqué")
        assert entry.agent.username == "superviseur.demo" and entry.subject == f"agent:{agent.id}"
        assert entry.before_data == {"essais échoués": MAX_FAILURES}
        assert entry.after_data == {"essais échoués": 0}
    # The client that was locked may try again.
    assert agent_sign_in(client_at(app, "203.0.113.66")).location == "/gestion/"


def test_an_agent_cannot_unlock_anyone_and_nobody_unlocks_themselves(app):
    agent = locked_agent(app)
    with database.connection_context():
        supervisor = Agent.get(Agent.username == "superviseur.demo")
    plain = app.test_client()
    agent_sign_in(plain, "agent.demo")  # at their own desk: their own client is not locked
    path = f"/gestion/agents/{supervisor.id}/debloquer"
    assert plain.get(path).status_code == 403
    assert post_form_status(plain, path) == 403
    with (
        database.connection_context(),
        pytest.raises(agents.NotAllowed, match="Seul un superviseur"),
    ):
        agents.unlock_agent(agent, supervisor)
    # A supervisor locked out from elsewhere, signed in here, cannot lift their own lock.
    for _ in range(MAX_FAILURES):
        agent_fails(client_at(app, "203.0.113.67"), "superviseur.demo")
    boss = app.test_client()
    agent_sign_in(boss, "superviseur.demo")
    listing = boss.get("/gestion/agents").text
    assert "bloqué après" in listing and f"/gestion/agents/{supervisor.id}/debloquer" not in listing
    own = post_form(boss, f"/gestion/agents/{supervisor.id}/debloquer", {"confirm": "oui"})
    assert own.location.startswith("/gestion/resultats/")
    assert "Vous ne pouvez pas débloquer votre propre identifiant." in boss.get(own.location).text
    with database.connection_context():
        assert agents.lock_of_agent(supervisor) is not None
        assert not AuditEntry.select().where(AuditEntry.action == "Agent débloqué").exists()


def post_form_status(browser, path: str) -> int:
    from .helpers import csrf_token

    token = csrf_token(browser.get("/gestion/").text)
    return browser.post(path, data={"csrf_token": token, "confirm": "oui"}).status_code
