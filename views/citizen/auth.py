"""Connexion, déconnexion, identifiant et mot de passe oubliés."""

from __future__ import annotations

import logging

from flask import (
    Blueprint,
    current_app,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from htmx_flask import make_response

from models.citizen import auth, credentials
from models.requests import open_request
from models.shared.clock import to_paris
from models.shared.db import database, write_transaction
from models.shared.i18n import DEFAULT, _, force_locale, language
from models.shared.kept_answers import holder_of
from models.shared.mail import queue
from models.shared.security import example_activation_code

from ..shared import kept
from ..shared.render import (
    external_url,
    form_to_retry,
    login_required,
    public_base_url,
    render_page,
    safe_next,
    show_errors,
)
from ..shared.web import client_address, end_session, sign_in_token, start_session
from .forms import ForgottenPasswordForm, ForgottenUsernameForm, NewPasswordForm, SignInForm

log = logging.getLogger(__name__)

bp = Blueprint("auth", __name__)


def minutes(duration) -> int:
    return int(duration.total_seconds() // 60)


def _after_sign_in_url() -> str:
    """Where the user was going; else the request in progress, at its step; else « Mes données »."""
    default = url_for("account.my_data")
    if g.account is not None and open_request(g.account) is not None:
        default = url_for("wizard.start")
    return safe_next(request.args.get("next"), default)


def after_sign_in():
    """Where to go once signed in: a redirect, or with htmx that page at once.

    With htmx the sign-in form swaps the whole <body> (the header changes
    too), so the next page is rendered in full in this same response.
    """
    target = _after_sign_in_url()
    if not request.htmx:
        return redirect(target, 303)
    g.page_address = target  # the page's links (its language's) are the target's
    if target.startswith(url_for("wizard.start")):
        response = current_app.view_functions["wizard.start"]()
    elif target == url_for("account.my_data"):
        response = current_app.view_functions["account.my_data"]()
    else:
        return redirect(target, 303)
    response = current_app.make_response(response)
    response.headers.setdefault("HX-Push-Url", target)
    return response


@bp.route("/connexion", methods=["GET", "POST"])
def login():
    if request.method == "GET":
        if g.account is not None:
            return redirect(_after_sign_in_url(), 303)
        return show_login(form_to_retry(SignInForm) or SignInForm(formdata=None))
    form = SignInForm()
    if form.validate_on_submit():
        result = auth.sign_in(form.username.data, form.password.data, client_address())
        if result.account is not None:
            start_session(result.account)
            page = kept.give_back(holder_of("citizen", result.account.id))
            if page is not None:
                # The form's page filled in again: loaded whole, like any page after
                # signing in that is not a step rendered at once.
                return to_page(safe_next(page, url_for("account.my_data")))
            return after_sign_in()
        if result.to_activate is not None:
            # First sign-in with the letter's code: choose a password, then sign in.
            with write_transaction():
                token = auth.create_password_reset(result.to_activate)
            target = url_for("auth.reset_password", token=token, premiere="1")
            if request.htmx:
                return "", 204, {"HX-Redirect": target}
            return redirect(target, 303)
        if result.lock is not None and result.lock.everywhere:
            form.form_errors.append(
                _(
                    "Trop d'essais infructueux ont été faits avec cet identifiant : il est "
                    "bloqué jusqu'à %(time)s. Vous pourrez réessayer à partir de cette heure, "
                    "ou demander un nouveau mot de passe.",
                    time=f"{to_paris(result.lock.until):%H:%M}",
                )
            )
        elif result.lock is not None:
            form.form_errors.append(
                _(
                    "Après %(failures)s essais infructueux, cet identifiant est bloqué "
                    "pendant %(minutes)s minutes. Vous pourrez réessayer à partir de "
                    "%(time)s, ou demander un nouveau mot de passe.",
                    failures=auth.MAX_FAILURES,
                    minutes=minutes(auth.LOCK_DURATION),
                    time=f"{to_paris(result.lock.until):%H:%M}",
                )
            )
        else:
            form.password.errors.append(
                _(
                    "L'identifiant ou le mot de passe est incorrect. Vérifiez-les sur le "
                    "courrier de demande de photo, puis réessayez."
                )
            )
    return show_errors(form, show_login)


def show_login(form, status=200):
    return render_page(
        "citizen/auth/login.html",
        status=status,
        form=form,
        expired=g.session_expired or request.args.get("expiree") == "1",
        answers_kept=kept.answers_waiting(),
        code_example=example_activation_code(),
    )


def to_page(target: str):
    if request.htmx:
        return make_response("", 204, redirect=target)
    return redirect(target, 303)


@bp.route("/session/expiree", methods=["POST"])
def session_ended():
    """Where the page's script sends a form when it finds the session over (a device
    that slept past the limit runs no timer): never the form's own action, which would
    act on it. The session found ended here is answered before (``web``); one still
    open (another tab kept it alive) gets its answers back on the page at once."""
    page = kept.page_of_the_form(console=False)
    if g.account is None or page is None:
        return kept.to_sign_in("auth.login", page)
    if kept.form_token_valid():
        kept.give_back(holder_of("citizen", g.account.id), kept.answers_of_the_form(), page)
    return redirect(page, 303)


@bp.route("/deconnexion", methods=["POST"])
def logout():
    end_session()
    return redirect(url_for("auth.signed_out"), 303)


@bp.route("/session/prolonger", methods=["POST"])
@login_required
def keep_alive():
    auth.keep_session_alive(sign_in_token())
    return "", 204


@bp.route("/deconnecte")
def signed_out():
    return render_page("citizen/auth/signed_out.html")


def show_form(template, form, status=200):
    return render_page(template, status=status, form=form)


# -- forgotten identifier or password -----------------------------------------------------
#
# The answer is the same, in the same time, whether or not an account exists:
# the request only records what was asked; the email is prepared once the
# answer has left (``prepare_email``, on the background thread).

AFTER_THE_ANSWER = 0.1  # seconds

FORGOTTEN = {
    credentials.USERNAME_REMINDER: ("citizen/auth/forgotten_username.html", ForgottenUsernameForm),
    credentials.RESET_LINK: ("citizen/auth/forgotten_password.html", ForgottenPasswordForm),
}


def forgotten(kind: str, typed_field: str):
    template, form_class = FORGOTTEN[kind]

    def show(form, status=200):
        return show_form(template, form, status)

    if request.method == "GET":
        return show(form_to_retry(form_class) or form_class(formdata=None))
    form = form_class()
    if not form.validate_on_submit():
        return show_errors(form, show)
    admission = credentials.ask(
        kind, form[typed_field].data, client_address(), public_base_url(), language()
    )
    if not admission.accepted:
        form.form_errors.append(
            _(
                "Vous avez fait plusieurs demandes en peu de temps. Pour protéger les comptes, "
                "attendez %(time)s avant de recommencer. Si un courriel vous a déjà été "
                "envoyé, pensez à consulter vos courriels indésirables.",
                time=f"{to_paris(admission.retry_at):%H:%M}",
            )
        )
        return show_errors(form, show)
    # Written on the background thread once this answer has left (a tenth of a second
    # is ample), whether or not there is an account to write to.
    app = current_app._get_current_object()
    app.extensions["background"].submit(
        prepare_email, app, admission.request.id, delay=AFTER_THE_ANSWER
    )
    return redirect(url_for("auth.email_sent", sujet=kind), 303)


@bp.route("/identifiant-oublie", methods=["GET", "POST"])
def forgotten_username():
    return forgotten(credentials.USERNAME_REMINDER, "email")


@bp.route("/mot-de-passe-oublie", methods=["GET", "POST"])
def forgotten_password():
    return forgotten(credentials.RESET_LINK, "username")


def prepare_email(app, request_id: int) -> None:
    """Write the email a recorded request calls for, if there is anyone to write to.

    Runs on the background thread once the answer has left (or from ``python
    app.py --send-outbox`` for requests a stopped server left), never in front of
    the user. Claiming the request and queueing its email are one transaction:
    if anything fails, the request waits for the next ``--send-outbox``.
    """
    opened = database.connect(reuse_if_open=True)
    try:
        with write_transaction():
            asked = credentials.take(request_id)
            if asked is None:
                return
            # Written in the language of the page that asked for it.
            with (
                app.test_request_context(base_url=asked.base_url),
                force_locale(asked.language or DEFAULT),
            ):
                email = compose(asked)
        if email is not None:
            app.extensions["mailer"].deliver(email)
    finally:
        if opened and not database.is_closed():
            database.close()


def compose(asked):
    accounts = credentials.accounts_for(asked)
    if not accounts:
        return None
    recipient = accounts[0].email
    if not credentials.reserve_recipient(asked, recipient):
        log.warning("Credential request %s: no e-mail, hourly limit of its address", asked.id)
        return None
    if asked.kind == credentials.USERNAME_REMINDER:
        subject = _("Votre identifiant - Carte mobilité inclusion")
        body = render_template(
            "citizen/auth/email_username.txt",
            accounts=accounts,
            login_url=external_url("auth.login"),
        )
    else:
        subject = _("Choisir un nouveau mot de passe - Carte mobilité inclusion")
        body = render_template(
            "citizen/auth/email_reset.txt",
            account=accounts[0],
            reset_url=external_url(
                "auth.reset_password", token=auth.create_password_reset(accounts[0])
            ),
            minutes=minutes(auth.RESET_LINK_LIFETIME),
        )
    return queue(recipient, subject, body)


@bp.route("/courriel-envoye")
def email_sent():
    subject = "mot-de-passe" if request.args.get("sujet") == "mot-de-passe" else "identifiant"
    return render_page("citizen/auth/email_sent.html", subject=subject)


@bp.route("/mot-de-passe/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    if auth.find_password_reset(token) is None:
        return render_page("citizen/auth/reset_invalid.html", status=404)
    if request.method == "GET":
        form = form_to_retry(NewPasswordForm) or NewPasswordForm(formdata=None)
        return show_reset(form)
    form = NewPasswordForm()
    if form.validate_on_submit():
        account = auth.use_password_reset(token, form.password.data)
        if account is None:
            return render_page("citizen/auth/reset_invalid.html", status=404)
        end_session()
        return redirect(url_for("auth.password_changed"), 303)
    return show_errors(form, show_reset)


def show_reset(form, status=200):
    first = request.args.get("premiere") == "1"  # after signing in with the letter's code
    heading = _("Choisir votre mot de passe") if first else _("Choisir un nouveau mot de passe")
    return render_page(
        "citizen/auth/reset_password.html", status=status, form=form, first=first, heading=heading
    )


@bp.route("/mot-de-passe-modifie")
def password_changed():
    return render_page("citizen/auth/password_changed.html")
