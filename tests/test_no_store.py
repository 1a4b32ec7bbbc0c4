"""What a browser or a proxy may keep: public pages (``no-cache`` with a validator), never
a page that carries a secret or someone's data (``no-store``, no validator).

Every route of the URL map is asked for while nobody is signed in, with live tokens where
its address takes one (an agent's enrolment link with its TOTP key, a password reset link,
a payment's pages); every form those pages hold is sent with errors and shown again with
what was typed. No answer that holds a secret or someone's data may be kept; a route with
a token in its address is never kept, whatever it shows. Then every route is asked for by
a signed-in citizen and a signed-in agent: nothing is kept either.
"""

from __future__ import annotations

import html
import re

from werkzeug.routing import IntegerConverter

from models import ordering
from models.citizen import auth
from models.citizen.auth import UserSession
from models.operator import agents
from models.operator.agents import Agent
from models.people import Account
from models.shared.db import database

from .helpers import csrf_token, follow_retry, post_form, sign_in
from .pages import Page
from .test_console import agent_sign_in
from .test_payments import handoff_form, pay_through_the_app, recorded_request

# Someone's data and a secret: what is typed into every form, and the demo's own.
TYPED = "temoin.perso@exemple"  # an identifiant, and an e-mail address one dot short
# (not « alfred.depot »: the forms' hints give it as an example of an identifiant)
PERSONAL = [
    "Alfred DEPOT",
    "alfred.depot@example.org",
    "Joseph QUINN",
    "joseph.quinn@example.org",
    "Léa NOUVEL",
    "lea@example.net",
]
# Files anyone may keep: the same for everyone, and never anyone's.
PUBLIC_FILES = {"static", "favicon", "documents.terms_download", "documents.terms_page"}


def kept(answer) -> bool:
    return answer.headers.get("Cache-Control") != "no-store" or "ETag" in answer.headers


def address(rule, values: dict) -> str:
    path = rule.rule
    for name in rule.arguments - set(rule.defaults or ()):
        path = re.sub(rf"<(?:[^:<>]+:)?{name}(?:\([^)]*\))?>", str(values[name]), path)
    return path


def has_token_argument(rule) -> bool:
    return any(not isinstance(c, IntegerConverter) for c in rule._converters.values())


def secrets_and_data(app) -> tuple[dict, list[str], object]:
    """Live tokens for the routes that take one, the texts no kept page may hold, and a
    browser that has paid, then whose session ended (the provider's pages are its)."""
    with database.connection_context():
        supervisor = Agent.get(Agent.username == "superviseur.demo")
        lea, enrolment = agents.create_agent(
            supervisor, "lea.nouvel", "Léa NOUVEL", "lea@example.net", agents.AGENT
        )
        reset = auth.create_password_reset(Account.get(Account.username == "joseph.quinn"))
    payer = app.test_client()
    sign_in(payer, "alfred.depot")
    with database.connection_context():
        _number, reference = pay_through_the_app(payer)
        # Joseph's order, handed to the provider: its card page opens from its address.
        joseph = app.test_client()
        sign_in(joseph, "joseph.quinn")
        request = recorded_request("joseph.quinn", selection={"0000000000000030": "Titre perdu"})
        ordering.check_delivery(request)
    assert post_form(joseph, "/demande/paiement", {"action": "payer"}).status_code == 303
    _action, order = handoff_form(joseph.get("/demande/paiement/envoi").text)
    with database.connection_context():
        UserSession.delete().execute()  # both sessions end (idle): nobody is signed in
    secret = lea.totp_secret
    markers = [
        enrolment,
        reset,
        secret,
        " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        order["Data"],
        "##01",  # the masked card number of Alfred's payment
        TYPED,
        *PERSONAL,
    ]
    live = {
        "console.enrol": {"token": enrolment},
        "auth.reset_password": {"token": reset},
        "provider.result": {"reference": reference},
        "provider.receipt": {"reference": reference},
    }
    query = {"provider.card_page": order}
    return {"live": live, "query": query}, markers, payer


def holding(answer, markers: list[str]) -> list[str]:
    text = html.unescape(answer.get_data().decode("utf-8", "replace"))
    return [marker for marker in markers if marker in text]


def forms_sent_with_errors(browser, page_html: str, url: str):
    """Each form of the page sent with ``TYPED`` in every text field, and its answer as
    the browser ends up seeing it (POST, redirect, GET of the same page)."""
    for form in Page(page_html).root.find_all("form"):
        if form.attrs.get("method", "get").lower() != "post":
            continue
        action = html.unescape(form.attrs.get("action") or url)
        fields = {}
        for control in form.find_all("input"):
            name, kind = control.attrs.get("name"), control.attrs.get("type", "text")
            if not name or kind in ("submit", "checkbox", "radio"):
                continue
            if kind == "hidden":
                fields[name] = control.attrs.get("value", "")
            else:  # (a password too short to be taken: a form that changes nothing)
                fields[name] = "x" if kind == "password" else TYPED
        yield action, follow_retry(browser, browser.post(action, data=fields))


def test_no_page_holding_a_secret_or_someones_data_is_kept_nobody_signed_in(app):
    values, markers, browser = secrets_and_data(app)
    walked, private_routes = 0, 0
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        if has_token_argument(rule):
            # A new route with a token in its address: say here how to reach it.
            assert rule.endpoint in values["live"], f"{rule.rule}: no live token for it"
            url = address(rule, values["live"][rule.endpoint])
        else:
            url = address(rule, dict.fromkeys(rule.arguments, 1))
        answer = browser.get(url, query_string=values["query"].get(rule.endpoint))
        walked += 1
        found = holding(answer, markers)
        if found or has_token_argument(rule):
            private_routes += 1
            assert answer.status_code == 200, (url, answer.status_code)
            assert not kept(answer), (url, found, answer.headers.get("Cache-Control"))
        if answer.status_code == 200 and answer.mimetype == "text/html":
            for action, shown_again in forms_sent_with_errors(browser, answer.text, url):
                found = holding(shown_again, markers)
                if found:
                    private_routes += 1
                    assert not kept(shown_again), (action, found)
    # Every route was asked for; these pages held something (the walk is not empty).
    assert walked >= 35
    assert private_routes >= 10, private_routes


def test_the_pages_that_carry_a_token_or_what_was_typed_are_those_named(app):
    """The same pages, one by one, by what they show: the agent's TOTP key, the reset
    link's token in its form, the order at the provider, the answers typed."""
    values, _markers, browser = secrets_and_data(app)
    enrol = browser.get(f"/gestion/inscription/{values['live']['console.enrol']['token']}")
    assert "Léa NOUVEL" in enrol.text and 'src="data:image/svg+xml' in enrol.text
    assert enrol.headers["Cache-Control"] == "no-store" and "ETag" not in enrol.headers
    reset = browser.get(f"/mot-de-passe/{values['live']['auth.reset_password']['token']}")
    assert reset.headers["Cache-Control"] == "no-store" and "ETag" not in reset.headers
    card = browser.get("/paiement-securise", query_string=values["query"]["provider.card_page"])
    assert card.headers["Cache-Control"] == "no-store"
    refused = follow_retry(
        browser,
        browser.post(
            "/connexion",
            data={
                "csrf_token": csrf_token(browser.get("/connexion").text),
                "username": "joseph.quinn",
                "password": "pas-le-bon",
            },
        ),
    )
    assert 'value="joseph.quinn"' in refused.text
    assert refused.headers["Cache-Control"] == "no-store" and "ETag" not in refused.headers
    # An empty Connexion is the same for everyone: kept, and asked again.
    empty = browser.get("/connexion")
    assert empty.headers["Cache-Control"] == "no-cache" and "ETag" in empty.headers


def test_nothing_a_signed_in_citizen_or_agent_is_shown_is_kept(app):
    with database.connection_context():
        supervisor = Agent.get(Agent.username == "superviseur.demo")
        _lea, enrolment = agents.create_agent(
            supervisor, "lea.nouvel", "Léa NOUVEL", "lea@example.net", agents.AGENT
        )
    citizen = app.test_client()
    sign_in(citizen, "alfred.depot")
    with database.connection_context():
        number, reference = pay_through_the_app(citizen)
    agent = app.test_client()
    agent_sign_in(agent, "superviseur.demo")
    samples = {
        "number": number,
        "account_id": 1,
        "payment_id": 1,
        "agent_id": 1,
        "result_id": 1,
        "token": enrolment,
        "reference": reference,
    }
    answered = 0
    for browser, console in ((citizen, False), (agent, True)):
        for rule in app.url_map.iter_rules():
            if "GET" not in rule.methods or rule.endpoint in PUBLIC_FILES:
                continue
            if rule.rule.startswith("/gestion") != console:
                continue  # an agent is nobody on the citizens' pages, and the other way
            answer = browser.get(address(rule, samples))
            if answer.status_code != 200:
                continue  # another's page (a redirect, 404): nothing of anyone's in it
            answered += 1
            assert answer.headers.get("Cache-Control") == "no-store", (
                rule.rule,
                answer.headers.get("Cache-Control"),
            )
            assert "ETag" not in answer.headers, rule.rule
    assert answered >= 20, answered
