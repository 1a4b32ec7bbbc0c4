"""« Espace gestionnaire »: the agents' console, under /gestion.

Agents sign in here with their password and their authenticator's code; a
citizen's session never opens these pages, and an agent's session is not a
citizen's (signing in as one ends the other). Every page works without
JavaScript; every action is confirmed on a page of its own and written to the
audit log.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from functools import wraps

from flask import Blueprint, Response, abort, g, redirect, request, session, url_for
from htmx_flask import make_response
from wtforms import PasswordField
from wtforms.validators import InputRequired, Length

from models.citizen import auth as citizen_auth
from models.operator import agents, search
from models.people import Account
from models.requests import CardRequest
from models.shared.db import write_transaction

from ..shared.forms import Form, TextField
from ..shared.render import form_to_retry, render_page, show_errors

bp = Blueprint("console", __name__, url_prefix="/gestion")

OPEN_TO_ALL = {"console.login"}


class AgentSignInForm(Form):
    username = TextField(
        "Identifiant",
        validators=[InputRequired("Saisissez votre identifiant"), Length(max=100)],
    )
    password = PasswordField(
        "Mot de passe", validators=[InputRequired("Saisissez votre mot de passe")]
    )
    code = TextField(
        "Code de l'application d'authentification",
        validators=[
            InputRequired("Saisissez le code à 6 chiffres de votre application d'authentification"),
            Length(max=20),
        ],
    )


@bp.before_request
def load_agent():
    g.agent, expired = None, False
    token = session.get("agent_sid")
    if token:
        g.agent, expired = agents.touch_session(token)
        if g.agent is None:
            session.pop("agent_sid", None)
    if request.endpoint in OPEN_TO_ALL or g.agent is not None:
        return None
    target = url_for("console.login", **({"expiree": "1"} if expired else {}))
    if request.htmx:
        return make_response("", 204, redirect=target)
    return redirect(target, 303)


def supervisor_only(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        if not g.agent.is_supervisor:
            abort(403)
        return view(*args, **kwargs)

    return wrapped


# -- signing in and out ----------------------------------------------------------------------


@bp.route("/connexion", methods=["GET", "POST"])
def login():
    if request.method == "GET":
        if g.agent is not None:
            return redirect(url_for("console.home"), 303)
        form = form_to_retry(AgentSignInForm) or AgentSignInForm(formdata=None)
        return show_login(form)
    form = AgentSignInForm()
    if form.validate_on_submit():
        with write_transaction():
            result = agents.sign_in(form.username.data, form.password.data, form.code.data)
        if result.agent is not None:
            start_agent_session(result.agent)
            target = url_for("console.home")
            if request.htmx:
                return make_response("", 204, redirect=target)
            return redirect(target, 303)
        if result.locked:
            form.form_errors.append(
                f"Après {agents.MAX_FAILURES} essais infructueux, cet identifiant est bloqué "
                f"pendant {int(agents.FAILURE_WINDOW.total_seconds() // 60)} minutes."
            )
        else:
            form.code.errors.append(
                "L'identifiant, le mot de passe ou le code est incorrect. Le code change "
                "toutes les 30 secondes : saisissez celui que votre application affiche maintenant."
            )
    return show_errors(form, show_login)


def show_login(form, status=200):
    return render_page(
        "operator/login.html",
        status=status,
        form=form,
        expired=request.args.get("expiree") == "1",
    )


def start_agent_session(agent) -> None:
    """A fresh session: a citizen's session in this browser ends (one or the other)."""
    for key, close in (("sid", citizen_auth.close_session), ("agent_sid", agents.close_session)):
        if session.get(key):
            close(session[key])
    session.clear()
    g.pop("csrf_token", None)
    session["agent_sid"] = agents.open_session(agent)
    g.agent, g.account = agent, None


@bp.route("/deconnexion", methods=["POST"])
def logout():
    agents.close_session(session.pop("agent_sid"))
    session.clear()
    return redirect(url_for("console.login"), 303)


@bp.route("/session/prolonger", methods=["POST"])
def keep_alive():
    agents.touch_session(session["agent_sid"])
    return "", 204


# -- search -------------------------------------------------------------------------------------


def _date(name: str) -> tuple[date | None, str | None]:
    value = request.args.get(name, "").strip()
    if not value:
        return None, None
    try:
        return date.fromisoformat(value), None
    except ValueError:
        return None, "Saisissez une date au format JJ/MM/AAAA, par exemple 29/11/2026"


def criteria_from_query() -> tuple[search.Criteria, dict[str, str]]:
    errors = {}
    since, error = _date("du")
    if error:
        errors["du"] = error
    until, error = _date("au")
    if error:
        errors["au"] = error
    state = request.args.get("etat", "")
    if state and state not in search.STATE_FILTERS:
        errors["etat"] = "Choisissez un état dans la liste"
        state = ""
    page = request.args.get("page", "1")
    criteria = search.Criteria(
        text=request.args.get("q", "")[:100],
        state=state,
        since=since,
        until=until,
        page=int(page) if page.isdigit() and len(page) < 6 else 1,
    )
    return criteria, errors


@bp.route("/")
def home():
    criteria, errors = criteria_from_query()
    searched = any(request.args.get(k) for k in ("q", "etat", "du", "au"))
    requests, total, people = [], 0, []
    if searched and not errors:
        requests, total = search.find_requests(criteria)
        people = search.find_accounts(criteria.text)
    pages = max(1, -(-total // search.PER_PAGE))
    return render_page(
        "operator/search.html",
        criteria=criteria,
        errors=errors,
        searched=searched,
        requests=requests,
        total=total,
        people=people,
        pages=pages,
        states=search.STATE_FILTERS,
        query=request.args.to_dict(),
    )


@bp.route("/export.csv")
def export_csv():
    criteria, errors = criteria_from_query()
    if errors:
        abort(400)
    requests, _total = search.find_requests(criteria, per_page=None)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(["numero", "type", "etat", "compte", "creee_le", "payee_le"])
    for item in requests:
        writer.writerow(
            [
                item.number or "",
                item.kind or "",
                item.state,
                item.account.username,
                search.local(item.created_at),
                search.local(item.paid_at) if item.paid_at else "",
            ]
        )
    return Response(
        buffer.getvalue().encode("utf-8-sig"),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="demandes.csv"'},
    )


# -- a request, an account -----------------------------------------------------------------------


@bp.route("/demandes/<int(max=999999999):number>")
def request_page(number: int):
    found = CardRequest.get_or_none(CardRequest.number == number)
    if found is None:
        abort(404)
    return render_page(
        "operator/request.html",
        item=found,
        lines=found.lines_with_cards(),
        history=search.history(found),
        locked=found.account.username in agents.locked_identifiers(),
    )


@bp.route("/comptes/<int(max=999999999):account_id>")
def account_page(account_id: int):
    account = Account.get_or_none(Account.id == account_id)
    if account is None:
        abort(404)
    return render_page(
        "operator/account.html",
        account=account,
        beneficiaries=list(account.beneficiaries()),
        requests=list(
            CardRequest.select()
            .where(CardRequest.account == account)
            .order_by(CardRequest.created_at.desc())
        ),
        locked=account.username in agents.locked_identifiers(),
        notice=session.pop("console_notice", None),
    )


@bp.route("/comptes/<int(max=999999999):account_id>/deverrouiller", methods=["GET", "POST"])
def unlock(account_id: int):
    account = Account.get_or_none(Account.id == account_id)
    if account is None:
        abort(404)
    if request.method == "GET":
        return render_page("operator/unlock.html", account=account)
    if request.form.get("confirm") != "oui":
        return redirect(url_for("console.account_page", account_id=account.id), 303)
    agents.unlock(g.agent, account)
    session["console_notice"] = f"Le compte {account.username} est déverrouillé."
    return redirect(url_for("console.account_page", account_id=account.id), 303)
