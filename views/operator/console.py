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
import re
from datetime import date, datetime
from functools import wraps

import segno
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from htmx_flask import make_response
from wtforms import PasswordField
from wtforms.validators import AnyOf, EqualTo, InputRequired, Length

from models import letters
from models.citizen import auth as citizen_auth
from models.eligibility import account_cards
from models.operator import actions, agents, figures, results, search
from models.payments import Payment
from models.people import Account
from models.pricing import euros
from models.requests import CardRequest
from models.shared.clock import clock, to_paris
from models.shared.db import write_transaction
from models.shared.i18n import of
from models.shared.kept_answers import holder_of
from models.shared.mail import queue
from models.shared.pdf import size_label
from views.shared.documents import credentials_letters

from ..shared import kept
from ..shared.forms import EmailAddressField, Form, HiddenTextField, TextField
from ..shared.render import (
    external_url,
    form_to_retry,
    public_base_url,
    render_page,
    safe_next,
    show_errors,
    this_address,
)
from ..shared.web import client_address, forget_sign_in

bp = Blueprint("console", __name__, url_prefix="/gestion")

ENROLMENT_SUBJECT = "Votre accès à l'espace gestionnaire - Carte mobilité inclusion"

OPEN_TO_ALL = {"console.login", "console.enrol"}


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
    g.agent, ended = None, None
    token = session.get("agent_sid")
    if token:
        g.agent, ended = agents.touch_session(token)
        if g.agent is None:
            session.pop("agent_sid", None)
    if request.endpoint in OPEN_TO_ALL or g.agent is not None:
        return None
    if request.method == "POST":
        if ended is None or request.endpoint == "console.logout":
            return kept.to_sign_in("console.login", None) if ended else redirect_to_login()
        # A form sent after the session ended: its answers kept, never acted on
        # (a confirmation comes back as its page, to be confirmed again).
        return kept.session_ended("console.login", holder_of("agent", ended))
    # A page asked for (a search's answers are in its address): back there after sign-in.
    page = this_address()
    if ended is not None:
        return kept.to_sign_in("console.login", page)
    return redirect_to_login(page)


def redirect_to_login(page: str | None = None):
    target = url_for("console.login", next=page)
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
            result = agents.sign_in(
                form.username.data, form.password.data, form.code.data, client_address()
            )
        if result.agent is not None:
            start_agent_session(result.agent)
            home = url_for("console.home")
            kept_page = kept.give_back(holder_of("agent", result.agent.id))
            target = safe_next(kept_page or request.args.get("next"), home)
            if not target.startswith(home):
                target = home
            if request.htmx:
                return make_response("", 204, redirect=target)
            return redirect(target, 303)
        if result.lock is not None:
            until = f"{to_paris(result.lock.until):%H:%M}"
            form.form_errors.append(
                f"Trop d'essais infructueux ont été faits avec cet identifiant : il est bloqué "
                f"jusqu'à {until}. Un superviseur peut le débloquer."
                if result.lock.everywhere
                else f"Après {citizen_auth.MAX_FAILURES} essais infructueux, cet identifiant est "
                f"bloqué pendant {int(citizen_auth.LOCK_DURATION.total_seconds() // 60)} minutes "
                f"(jusqu'à {until}). Un superviseur peut le débloquer."
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
        answers_kept=kept.answers_waiting(),
        notice=session.pop("console_notice", None) if request.method == "GET" else None,
    )


def start_agent_session(agent) -> None:
    """A fresh session: a citizen's session in this browser ends (one or the other)."""
    forget_sign_in()
    if session.get("agent_sid"):
        agents.close_session(session["agent_sid"])
    session.clear()
    g.pop("csrf_token", None)
    session["agent_sid"] = agents.open_session(agent)
    g.agent, g.account = agent, None


@bp.route("/deconnexion", methods=["POST"])
def logout():
    agents.close_session(session.pop("agent_sid"))
    forget_sign_in()
    session.clear()
    return redirect(url_for("console.login"), 303)


@bp.route("/session/prolonger", methods=["POST"])
def keep_alive():
    agents.touch_session(session["agent_sid"])
    return "", 204


@bp.route("/session/expiree", methods=["POST"])
def session_ended():
    """Where the page's script sends a form when it finds the session over (a device
    that slept past the limit): a session found ended is answered before it
    (``load_agent``); one still open gets its answers back on the page at once."""
    page = kept.page_of_the_form(console=True)
    if page is None:
        return redirect(url_for("console.home"), 303)
    kept.give_back(holder_of("agent", g.agent.id), kept.answers_of_the_form(), page)
    return redirect(page, 303)


# -- search -------------------------------------------------------------------------------------


def _date(name: str) -> tuple[date | None, str | None]:
    value = request.args.get(name, "").strip()
    if not value:
        return None, None
    day = _day(value)
    if day is None:
        return None, "Saisissez une date au format JJ/MM/AAAA, par exemple 29/11/2026"
    return day, None


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
        page=int(page) if re.fullmatch(r"[0-9]{1,5}", page) else 1,
    )
    return criteria, errors


@bp.route("/")
def home():
    criteria, errors = criteria_from_query()
    searched = any(request.args.get(k) for k in SEARCH_KEYS)
    requests, total, people = [], 0, []
    if searched and not errors:
        requests, total = search.find_requests(criteria)
        people = search.find_accounts(criteria.text)
    pages = max(1, -(-total // search.PER_PAGE))
    return render_page(
        "operator/search.html",
        nav="search",
        criteria=criteria,
        errors=errors,
        searched=searched,
        requests=requests,
        total=total,
        people=people,
        pages=pages,
        states=search.STATE_FILTERS,
        query=search_query(),
    )


def spreadsheet_safe(value: str) -> str:
    """A cell a spreadsheet would read as a formula (=, +, -, @) is kept as text."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


@bp.route("/export.csv")
def export_csv():
    criteria, errors = criteria_from_query()
    if errors:
        abort(400)
    requests, _total = search.find_requests(criteria, per_page=None)
    with write_transaction():  # who took which list of people out of the service
        agents.record(
            g.agent, "Export CSV", "search", {}, {"critères": search_query(), "demandes": _total}
        )
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(["numero", "type", "etat", "compte", "creee_le", "payee_le"])
    for item in requests:
        writer.writerow(
            [
                item.number or "",
                item.kind or "",
                item.state,
                spreadsheet_safe(item.account.username),
                search.local(item.created_at),
                search.local(item.paid_at) if item.paid_at else "",
            ]
        )
    return Response(
        buffer.getvalue().encode("utf-8-sig"),
        mimetype="text/csv",
        headers={
            "Content-Disposition": 'attachment; filename="demandes.csv"',
            "Cache-Control": "no-store",
        },
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
        payments=list(Payment.select().where(Payment.request == found).order_by(Payment.id)),
        locked=citizen_auth.locked_until(found.account.username) is not None,
    )


@bp.route("/comptes/<int(max=999999999):account_id>")
def account_page(account_id: int):
    account = Account.get_or_none(Account.id == account_id)
    if account is None:
        abort(404)
    history = letters.history(account)
    return render_page(
        "operator/account.html",
        account=account,
        beneficiaries=list(account.beneficiaries()),
        letters=history,
        owed=next((letter for letter in history if letter.owed), None),
        cards=account_cards(account).cards,
        today=clock.today(),
        requests=list(
            CardRequest.select()
            .where(CardRequest.account == account)
            .order_by(CardRequest.created_at.desc())
        ),
        locked=citizen_auth.locked_until(account.username) is not None,
    )


@bp.route("/comptes/<int(max=999999999):account_id>/deverrouiller", methods=["GET", "POST"])
def unlock(account_id: int):
    account = Account.get_or_none(Account.id == account_id)
    if account is None:
        abort(404)
    if request.method == "GET":
        return render_page(
            "operator/unlock.html", account=account, token=results.token_for(g.agent, request.path)
        )
    if request.form.get("confirm") != "oui":
        return redirect(url_for("console.account_page", account_id=account.id), 303)

    def action(_mail):
        name = account.display_name
        if not agents.unlock(g.agent, account):
            return results.Outcome(
                False,
                f"Le compte de {name} n'était pas verrouillé",
                f"Aucun essai de connexion échoué n'était compté pour l'identifiant "
                f"{account.username} : rien n'a changé.",
            )
        return results.Outcome(
            True,
            f"Compte de {name} déverrouillé",
            f"Les essais de connexion échoués de l'identifiant {account.username} sont "
            "oubliés : la personne peut se connecter tout de suite.",
        )

    return once(f"account:{account.id}", action)


# -- actions: each confirmed on its own page, each in the audit log ------------------------------


ACTION_TOKEN_LABEL = "Jeton de l'action"  # noqa: S105 (a label, not a secret)


class RefundForm(Form):
    amount = TextField(
        "Montant remboursé, en euros",
        validators=[InputRequired("Saisissez le montant remboursé, par exemple 9,02")],
    )
    reference = TextField(
        "Référence du remboursement chez le prestataire",
        validators=[
            InputRequired("Saisissez la référence que le prestataire a donnée au remboursement"),
            Length(max=60, message="La référence comporte au plus 60 caractères"),
        ],
    )
    day = TextField(
        "Date du remboursement",
        validators=[InputRequired("Saisissez la date du remboursement, par exemple 29/11/2026")],
    )
    action_token = HiddenTextField(ACTION_TOKEN_LABEL)


class EmailForm(Form):
    email = EmailAddressField(
        "Nouvelle adresse électronique", "Saisissez la nouvelle adresse électronique"
    )
    action_token = HiddenTextField(ACTION_TOKEN_LABEL)


def _cents(text: str) -> int | None:
    text = text.strip().replace("€", "").replace(" ", "").replace("\u00a0", "")
    if not re.fullmatch(r"\d{1,4}([,.]\d{1,2})?", text):
        return None
    euros, _, cents = text.replace(".", ",").partition(",")
    return int(euros) * 100 + int((cents + "0")[:2] if cents else 0)


def _day(text: str) -> date | None:
    text = text.strip()
    for parse in (date.fromisoformat, lambda t: datetime.strptime(t, "%d/%m/%Y").date()):
        try:
            day = parse(text)
        except ValueError:
            continue
        return day if 1900 <= day.year <= 2999 else None
    return None


SEARCH_KEYS = ("q", "etat", "du", "au")


def search_query() -> dict[str, str]:
    """The search's own answers (and nothing else) for the links of the results' pages."""
    return {key: request.args[key][:100] for key in SEARCH_KEYS if request.args.get(key)}


def _compose(mail: list, recipient: str, subject: str, template: str, **context) -> None:
    """An e-mail the action calls for, in its outbox (in the action's transaction), to be
    delivered once the action is recorded."""
    if recipient:
        mail.append(queue(recipient, subject, render_template(template, **context)))


def once(subject: str, action):
    """Run ``action(mail)`` for the first submission of this confirmation only, then land
    on its result, as every later submission of the same confirmation does (POST, redirect,
    GET). ``action`` returns a ``results.Outcome`` and adds to ``mail`` the e-mails it
    queued, delivered once the result is recorded."""
    token = request.form.get("action_token", "")
    if not results.valid_token(token):  # a page without a token (or a tool): confirm again
        return redirect(this_address(), 303)
    mail: list = []
    result, first = results.run_once(g.agent, token, subject, lambda: action(mail), request.path)
    if first:
        for email in mail:
            current_app.extensions["mailer"].deliver(email)
    target = url_for("console.result", result_id=result.id)
    return redirect(target, 303)


def _back(subject: str) -> tuple[str, str]:
    """Where a result leads back to, and the link's words."""
    kind, _, key = subject.partition(":")
    if kind == "account":
        account = Account.get_or_none(Account.id == int(key))
        if account is not None:
            return (
                url_for("console.account_page", account_id=account.id),
                f"Revenir au compte {of(account.display_name)}",
            )
    elif kind in ("request", "payment"):
        found = (
            CardRequest.get_or_none(CardRequest.id == int(key))
            if kind == "request"
            else CardRequest.select()
            .join(Payment, on=(Payment.request == CardRequest.id))
            .where(Payment.id == int(key))
            .first()
        )
        if found is not None:
            return (
                url_for("console.request_page", number=found.number),
                f"Revenir à la demande n° {found.number}",
            )
    elif kind in ("agent", "agents") and g.agent.is_supervisor:
        return url_for("console.agents_page"), "Revenir à la liste des agents"
    return url_for("console.home"), "Revenir à la recherche"


@bp.route("/resultats/<int(max=999999999):result_id>")
def result(result_id: int):
    found = results.result_of(g.agent, result_id) or abort(404)
    letter = until = None
    if found.letter_id is not None:
        letter = letters.agent_letter(found.letter_id, current_app.config["SECRET_KEY"])
        until = to_paris(letters.agent_letter_until(found.letter))
        if letter is not None and found.letter_size is None:
            with write_transaction():
                results.note_letter_size(found, len(_letter_pdf(found, letter)))
    back, back_text = _back(found.subject)
    large_label = None
    if letter is not None:  # laid out for its size only: agents open this page rarely
        large_label = size_label(len(_letter_pdf(found, letter, large_print=True)))
    return render_page(
        "operator/result.html",
        item=found,
        letter=letter,
        letter_label=size_label(found.letter_size) if letter is not None else None,
        large_label=large_label,
        until=until,
        kept_minutes=int(letters.AGENT_LETTER_KEPT.total_seconds() // 60),
        back=back,
        back_text=back_text,
    )


def _letter_pdf(
    found: results.ActionResult, letter: letters.Letter, large_print: bool = False
) -> bytes:
    """The letter of that action, dated the day it was prepared: the same file each time
    (``large_print``: in 16 pt, for a holder who reads large print)."""
    return credentials_letters(
        [letter],
        to_paris(found.letter.created_at).date(),
        public_base_url(),
        current_app.config["ORGANISATION_NAME"],
        current_app.config["CONTACT_EMAIL"],
        large_print=large_print,
    )


@bp.route("/resultats/<int(max=999999999):result_id>/courrier.pdf")
@bp.route(
    "/resultats/<int(max=999999999):result_id>/courrier-gros-caracteres.pdf",
    endpoint="result_letter_large",
    defaults={"large_print": True},
)
def result_letter(result_id: int, large_print: bool = False):
    found = results.result_of(g.agent, result_id) or abort(404)
    letter = None
    if found.letter_id is not None:
        letter = letters.agent_letter(found.letter_id, current_app.config["SECRET_KEY"])
    if letter is None:  # past its time, replaced or used: the result page says so
        return redirect(url_for("console.result", result_id=found.id), 303)
    name = f"courrier-{letter.username}{'-gros-caracteres' if large_print else ''}.pdf"
    return Response(
        _letter_pdf(found, letter, large_print),
        mimetype="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",  # it holds a live activation code
        },
    )


def _payment_of(number: int, payment_id: int) -> tuple[CardRequest, Payment]:
    found = CardRequest.get_or_none(CardRequest.number == number)
    payment = Payment.get_or_none(Payment.id == payment_id)
    if found is None or payment is None or payment.request_id != found.id:
        abort(404)
    return found, payment


@bp.route(
    "/demandes/<int(max=999999999):number>/paiements/<int(max=999999999):payment_id>/remboursement",
    methods=["GET", "POST"],
)
@supervisor_only
def refund(number: int, payment_id: int):
    found, payment = _payment_of(number, payment_id)

    def show(form, status=200):
        return render_page(
            "operator/refund.html", status=status, form=form, item=found, payment=payment
        )

    if request.method == "GET":
        form = form_to_retry(RefundForm) or RefundForm(
            formdata=None,
            amount=euros(payment.amount).replace("\u00a0€", "").replace(" €", ""),
            day=clock.today().strftime("%d/%m/%Y"),
            action_token=results.token_for(g.agent, request.path),
        )
        return show(form)
    form = RefundForm()
    valid = form.validate_on_submit()
    amount, day = _cents(form.amount.data or ""), _day(form.day.data or "")
    if not form.amount.errors and (amount is None or not 0 < amount <= payment.amount):
        form.amount.errors.append(
            f"Saisissez un montant de 0,01 à {euros(payment.amount)}, par exemple 9,02"
        )
    if not form.day.errors and (day is None or day > clock.today()):
        form.day.errors.append(
            "Saisissez une date passée au format JJ/MM/AAAA, par exemple 29/11/2026"
        )
    if valid and not form.amount.errors and not form.day.errors:
        reference = form.reference.data.strip()

        def action(_mail):
            try:
                actions.record_refund(g.agent, payment, amount, reference, day)
            except actions.NotAllowed as refused:
                return results.Outcome(False, "Remboursement non enregistré", str(refused))
            return results.Outcome(
                True,
                f"Remboursement de {euros(amount)} enregistré",
                f"Le paiement {payment.transaction_reference} de la demande n° {number} est "
                f"remboursé le {day:%d/%m/%Y} (référence {reference}). La personne le voit "
                "dans le récapitulatif de sa demande.",
            )

        return once(f"payment:{payment.id}", action)
    return show_errors(form, show)


@bp.route("/comptes/<int(max=999999999):account_id>/courriel", methods=["GET", "POST"])
@supervisor_only
def change_email(account_id: int):
    account = Account.get_or_none(Account.id == account_id) or abort(404)

    def show(form, status=200):
        return render_page("operator/email.html", status=status, form=form, account=account)

    if request.method == "GET":
        return show(
            form_to_retry(EmailForm)
            or EmailForm(formdata=None, action_token=results.token_for(g.agent, request.path))
        )
    form = EmailForm()
    if form.validate_on_submit():
        new = form.email.data.strip().lower()

        def action(mail):
            old = actions.change_email(g.agent, account, new)
            context = {
                "account": account,
                "old": old,
                "new": new,
                "contact": current_app.config["CONTACT_EMAIL"],
            }
            subject = "Votre adresse électronique a changé - Carte mobilité inclusion"
            _compose(mail, old, subject, "operator/email_changed.txt", to_old=True, **context)
            _compose(mail, new, subject, "operator/email_changed.txt", to_old=False, **context)
            notified = f"à l'ancienne adresse ({old}) et à la nouvelle" if old else "à elle"
            return results.Outcome(
                True,
                "Adresse électronique changée",
                f"Le compte {of(account.display_name)} a maintenant l'adresse {new}. Un avis "
                f"est parti {notified}.",
            )

        return once(f"account:{account.id}", action)
    return show_errors(form, show)


CONFIRMATIONS = {
    "annuler": (
        "Annuler la demande n° {number} ?",
        "La demande sera annulée : elle ne pourra plus être payée. Si c'est un duplicata, la "
        "carte remplacée reste annulée (elle ne redevient pas valable) ; la personne pourra "
        "faire une nouvelle demande pour elle.",
        "Oui, annuler la demande",
    ),
    "confirmation": (
        "Renvoyer le courriel de confirmation de la demande n° {number} ?",
        "Le courriel de confirmation part à nouveau à l'adresse du compte ({email}).",
        "Oui, renvoyer le courriel",
    ),
    "identifiant": (
        "Envoyer l'identifiant à {name} ?",
        "Un courriel donnant l'identifiant part à l'adresse du compte ({email}).",
        "Oui, envoyer l'identifiant",
    ),
    "courrier": (
        "Préparer un nouveau courrier de connexion pour {name} ?",
        "Un nouveau code d'activation est créé. L'ancien code et le mot de passe actuel ne "
        "serviront plus, et la personne est déconnectée partout. Vous téléchargez ensuite le "
        "courrier (PDF) pour l'imprimer et l'envoyer par la poste.",
        "Oui, préparer le courrier",
    ),
}


def _confirm(kind: str, back: str, **values):
    title, text, button_text = CONFIRMATIONS[kind]
    return _confirmation(title.format(**values), text.format(**values), button_text, back)


def _confirmation(title: str, text: str, button_text: str, back: str):
    recent = results.recent_result(g.agent, request.path)
    return render_page(
        "operator/confirm.html",
        title=title,
        text=text,
        button_text=button_text,
        back=back,
        token=results.token_of(recent),
        recent=recent,
    )


@bp.route("/demandes/<int(max=999999999):number>/annuler", methods=["GET", "POST"])
@supervisor_only
def cancel(number: int):
    found = CardRequest.get_or_none(CardRequest.number == number) or abort(404)
    back = url_for("console.request_page", number=number)
    if request.method == "GET":
        return _confirm("annuler", back, number=number)
    if request.form.get("confirm") != "oui":
        return redirect(back, 303)

    def action(_mail):
        try:
            actions.cancel_request(g.agent, found)
        except actions.NotAllowed as refused:
            return results.Outcome(False, f"La demande n° {number} n'est pas annulée", str(refused))
        return results.Outcome(
            True,
            f"Demande n° {number} annulée",
            "Elle ne peut plus être payée. Si c'est un duplicata, la carte remplacée reste "
            "annulée ; la personne peut faire une nouvelle demande pour elle.",
        )

    return once(f"request:{found.id}", action)


@bp.route("/demandes/<int(max=999999999):number>/renvoyer-confirmation", methods=["GET", "POST"])
def resend_confirmation(number: int):
    found = CardRequest.get_or_none(CardRequest.number == number) or abort(404)
    back = url_for("console.request_page", number=number)
    if found.confirmation_email_id is None:
        abort(404)
    if request.method == "GET":
        return _confirm("confirmation", back, number=number, email=found.account.email)
    if request.form.get("confirm") != "oui":
        return redirect(back, 303)
    recipient = found.account.email

    def action(mail):
        original = found.confirmation_email
        mail.append(queue(recipient, original.subject, original.text, original.html))
        actions.note_resent(
            g.agent, "Courriel de confirmation renvoyé", f"request:{found.id}", recipient
        )
        return results.Outcome(
            True,
            "Courriel de confirmation renvoyé",
            f"Le courriel de confirmation de la demande n° {number} est reparti à {recipient}. "
            "S'il n'arrive pas, la personne peut regarder dans ses courriels indésirables.",
        )

    return once(f"request:{found.id}", action)


@bp.route("/comptes/<int(max=999999999):account_id>/renvoyer-identifiant", methods=["GET", "POST"])
def resend_username(account_id: int):
    account = Account.get_or_none(Account.id == account_id) or abort(404)
    back = url_for("console.account_page", account_id=account.id)
    if not account.email:
        abort(404)
    if request.method == "GET":
        return _confirm("identifiant", back, name=account.display_name, email=account.email)
    if request.form.get("confirm") != "oui":
        return redirect(back, 303)

    def action(mail):
        _compose(
            mail,
            account.email,
            "Votre identifiant - Carte mobilité inclusion",
            "citizen/auth/email_username.txt",
            accounts=[account],
            login_url=external_url("auth.login"),
        )
        actions.note_resent(g.agent, "Identifiant renvoyé", f"account:{account.id}", account.email)
        return results.Outcome(
            True,
            f"Identifiant envoyé à {account.display_name}",
            f"Un courriel donnant l'identifiant {account.username} est parti à {account.email}.",
        )

    return once(f"account:{account.id}", action)


@bp.route("/comptes/<int(max=999999999):account_id>/nouveau-courrier", methods=["GET", "POST"])
def new_letter(account_id: int):
    account = Account.get_or_none(Account.id == account_id) or abort(404)
    back = url_for("console.account_page", account_id=account.id)
    if request.method == "GET":
        return _confirm("courrier", back, name=account.display_name)
    if request.form.get("confirm") != "oui":
        return redirect(back, 303)

    def action(_mail):
        letter = actions.new_credentials(g.agent, account, current_app.config["SECRET_KEY"])
        return results.Outcome(
            True,
            f"Courrier prêt pour {account.display_name}",
            "L'ancien code d'activation et le mot de passe ne servent plus, et la personne est "
            "déconnectée partout. Le nouveau code est dans le courrier.",
            letter_id=letter.id,
        )

    return once(f"account:{account.id}", action)


@bp.route("/courriers")
def letters_owed():
    page = request.args.get("page", "1")
    page = int(page) if re.fullmatch(r"[0-9]{1,5}", page) else 1
    total, oldest = letters.owed_count()
    return render_page(
        "operator/letters.html",
        nav="figures",
        accounts=letters.accounts_owed_a_letter(page, search.PER_PAGE),
        total=total,
        oldest=oldest,
        page=page,
        pages=max(1, -(-total // search.PER_PAGE)),
    )


@bp.route("/chiffres")
def figures_page():
    return render_page(
        "operator/figures.html", data=figures.figures(), today=clock.today(), nav="figures"
    )


# -- agents' accounts (superviseur), and enrolment by the link sent to a new agent ------------


class NewAgentForm(Form):
    action_token = HiddenTextField(ACTION_TOKEN_LABEL)
    username = TextField(
        "Identifiant",
        validators=[
            InputRequired("Saisissez l'identifiant de l'agent, par exemple prenom.nom"),
            Length(max=60, message="L'identifiant comporte au plus 60 caractères"),
        ],
    )
    full_name = TextField(
        "Prénom et nom",
        validators=[
            InputRequired("Saisissez le prénom et le nom de l'agent"),
            Length(max=80, message="Le prénom et le nom comportent au plus 80 caractères"),
        ],
    )
    email = EmailAddressField(
        "Adresse électronique professionnelle", "Saisissez l'adresse électronique de l'agent"
    )
    role = TextField(
        "Rôle",
        validators=[
            InputRequired("Choisissez le rôle : agent ou superviseur"),
            AnyOf(list(agents.ROLES), message="Choisissez le rôle : agent ou superviseur"),
        ],
    )


class EnrolmentForm(Form):
    password = PasswordField(
        "Mot de passe",
        validators=[
            InputRequired("Choisissez un mot de passe"),
            Length(min=12, max=200, message="Le mot de passe comporte au moins 12 caractères"),
        ],
    )
    confirmation = PasswordField(
        "Confirmez le mot de passe",
        validators=[
            InputRequired("Saisissez à nouveau le mot de passe"),
            EqualTo("password", "Les deux mots de passe ne sont pas identiques"),
        ],
    )
    code = TextField(
        "Code affiché par votre application",
        validators=[InputRequired("Saisissez le code à 6 chiffres de votre application")],
    )


@bp.route("/agents")
@supervisor_only
def agents_page():
    return render_page(
        "operator/agents.html",
        nav="agents",
        agents=[
            (agent, agents.lock_of_agent(agent) is not None)
            for agent in agents.Agent.select().order_by(agents.Agent.display_name)
        ],
    )


class UsernameTaken(Exception):
    """Someone else has the identifiant: nothing is recorded, the form says so."""


@bp.route("/agents/nouveau", methods=["GET", "POST"])
@supervisor_only
def new_agent():
    def show(form, status=200):
        return render_page("operator/new_agent.html", status=status, form=form, nav="agents")

    if request.method == "GET":
        return show(
            form_to_retry(NewAgentForm)
            or NewAgentForm(formdata=None, action_token=results.token_for(g.agent, request.path))
        )
    form = NewAgentForm()
    if form.validate_on_submit():
        username = form.username.data.strip().lower()
        if not agents.valid_username(username):
            form.username.errors.append(
                "L'identifiant ne comporte que des lettres sans accent, des chiffres, des "
                "points et des tirets, par exemple prenom.nom"
            )
            return show_errors(form, show)
        name, email, role = (
            form.full_name.data.strip(),
            form.email.data.strip().lower(),
            form.role.data,
        )

        def action(mail):
            agent, token = agents.create_agent(g.agent, username, name, email, role)
            if agent is None:
                raise UsernameTaken
            hours = int(agents.ENROLMENT_LIFETIME.total_seconds() // 3600)
            _compose(
                mail,
                agent.email,
                ENROLMENT_SUBJECT,
                "operator/email_enrolment.txt",
                agent=agent,
                link=external_url("console.enrol", token=token),
                hours=hours,
            )
            return results.Outcome(
                True,
                f"Agent {agent.display_name} ajouté",
                f"Le lien d'inscription est parti à {agent.email} ; il vaut {hours} heures. "
                "Par ce lien, l'agent choisit son mot de passe et ajoute la clé à son "
                "application d'authentification, puis se connecte.",
            )

        try:
            return once("agents", action)
        except UsernameTaken:
            form.username.errors.append("Cet identifiant est déjà pris : choisissez-en un autre")
    return show_errors(form, show)


@bp.route("/agents/<int(max=999999999):agent_id>/desactiver", methods=["GET", "POST"])
@supervisor_only
def deactivate_agent(agent_id: int):
    agent = agents.Agent.get_or_none(agents.Agent.id == agent_id) or abort(404)
    back = url_for("console.agents_page")
    if request.method == "GET":
        return _confirmation(
            f"Désactiver l'accès de l'agent {agent.username} ?",
            "L'agent ne pourra plus se connecter et ses sessions s'arrêtent tout de suite. "
            "Ses actions passées restent dans le journal.",
            "Oui, désactiver",
            back,
        )
    if request.form.get("confirm") != "oui":
        return redirect(back, 303)

    def action(_mail):
        if agent.id == g.agent.id:
            return results.Outcome(
                False,
                "Accès non désactivé",
                "Vous ne pouvez pas désactiver votre propre accès : demandez-le à un autre "
                "superviseur.",
            )
        if not agents.deactivate(g.agent, agent):
            return results.Outcome(
                False,
                f"L'accès de {agent.username} était déjà désactivé",
                "Rien n'a changé.",
            )
        return results.Outcome(
            True,
            f"Accès de {agent.username} désactivé",
            f"{agent.display_name} ne peut plus se connecter et ses sessions sont terminées. "
            "Ses actions passées restent dans le journal.",
        )

    return once(f"agent:{agent.id}", action)


@bp.route("/agents/<int(max=999999999):agent_id>/debloquer", methods=["GET", "POST"])
@supervisor_only
def unlock_agent(agent_id: int):
    agent = agents.Agent.get_or_none(agents.Agent.id == agent_id) or abort(404)
    back = url_for("console.agents_page")
    if request.method == "GET":
        return _confirmation(
            f"Débloquer l'identifiant de l'agent {agent.username} ?",
            "Ses essais de connexion échoués sont oubliés, quelle que soit l'adresse d'où "
            "ils venaient : l'agent peut se connecter tout de suite. Si ces essais ne venaient "
            "pas de lui, prévenez-le.",
            "Oui, débloquer",
            back,
        )
    if request.form.get("confirm") != "oui":
        return redirect(back, 303)

    def action(_mail):
        try:
            failures = agents.unlock_agent(g.agent, agent)
        except agents.NotAllowed as refused:
            return results.Outcome(False, "Identifiant non débloqué", str(refused))
        if not failures:
            return results.Outcome(
                False,
                f"L'identifiant {agent.username} n'était pas bloqué",
                "Aucun essai de connexion échoué n'était compté : rien n'a changé.",
            )
        return results.Outcome(
            True,
            f"Identifiant {agent.username} débloqué",
            "Ses essais de connexion échoués sont oubliés : l'agent peut se connecter tout de "
            "suite. Si ces essais ne venaient pas de lui, prévenez-le.",
        )

    return once(f"agent:{agent.id}", action)


@bp.route("/inscription/<token>", methods=["GET", "POST"])
def enrol(token: str):
    agent = agents.enrolling(token)
    if agent is None:
        return render_page("operator/enrol_invalid.html", status=404)

    def show(form, status=200):
        uri = agents.provisioning_uri(agent)
        return render_page(
            "operator/enrol.html",
            status=status,
            form=form,
            agent=agent,
            secret=" ".join(
                agent.totp_secret[i : i + 4] for i in range(0, len(agent.totp_secret), 4)
            ),
            qr=segno.make(uri, error="m").svg_data_uri(scale=4),
        )

    if request.method == "GET":
        return show(form_to_retry(EnrolmentForm) or EnrolmentForm(formdata=None))
    form = EnrolmentForm()
    if form.validate_on_submit():
        if agents.enrol(token, form.password.data, form.code.data) is not None:
            session["console_notice"] = (
                "Votre accès est prêt : connectez-vous avec votre mot de passe et le code."
            )
            return redirect(url_for("console.login"), 303)
        form.code.errors.append(
            "Ce code ne correspond pas : vérifiez la clé saisie dans votre application, puis "
            "saisissez le code qu'elle affiche maintenant"
        )
    return show_errors(form, show)
