"""Connexion, déconnexion, identifiant et mot de passe oubliés."""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from peewee import fn

from models.citizen import auth
from models.people import Account
from models.requests import open_request
from models.shared.clock import to_paris

from ..shared.render import form_to_retry, login_required, render_page, safe_next, show_errors
from ..shared.web import end_session, start_session
from .forms import ForgottenPasswordForm, ForgottenUsernameForm, NewPasswordForm, SignInForm

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
        result = auth.sign_in(form.username.data, form.password.data)
        if result.account is not None:
            start_session(result.account)
            return after_sign_in()
        if result.locked_until is not None:
            until = to_paris(result.locked_until)
            form.form_errors.append(
                f"Après {auth.MAX_FAILURES} essais infructueux, cet identifiant est bloqué "
                f"pendant {minutes(auth.LOCK_DURATION)} minutes. Vous pourrez réessayer à "
                f"partir de {until:%H:%M}, ou demander un nouveau mot de passe."
            )
        else:
            form.password.errors.append(
                "L'identifiant ou le mot de passe est incorrect. Vérifiez-les sur le "
                "courrier de demande de photo, puis réessayez."
            )
    return show_errors(form, show_login)


def show_login(form, status=200):
    return render_page(
        "citizen/auth/login.html",
        status=status,
        form=form,
        expired=g.session_expired or request.args.get("expiree") == "1",
    )


@bp.route("/deconnexion", methods=["POST"])
def logout():
    end_session()
    return redirect(url_for("auth.signed_out"), 303)


@bp.route("/session/prolonger", methods=["POST"])
@login_required
def keep_alive():
    auth.keep_session_alive(session["sid"])
    return "", 204


@bp.route("/deconnecte")
def signed_out():
    return render_page("citizen/auth/signed_out.html")


def show_form(template, form, status=200):
    return render_page(template, status=status, form=form)


@bp.route("/identifiant-oublie", methods=["GET", "POST"])
def forgotten_username():
    if request.method == "GET":
        form = form_to_retry(ForgottenUsernameForm) or ForgottenUsernameForm(formdata=None)
        return show_form("citizen/auth/forgotten_username.html", form)
    form = ForgottenUsernameForm()
    if form.validate_on_submit():
        email = form.email.data.strip()
        accounts = list(Account.select().where(fn.LOWER(Account.email) == email.lower()))
        if accounts:
            body = render_template(
                "citizen/auth/email_username.txt",
                accounts=accounts,
                login_url=url_for("auth.login", _external=True),
            )
            current_app.extensions["mailer"].send(
                email, "Votre identifiant - Carte mobilité inclusion", body
            )
        return redirect(url_for("auth.email_sent", sujet="identifiant"), 303)
    return show_errors(
        form, lambda form, status: show_form("citizen/auth/forgotten_username.html", form, status)
    )


@bp.route("/mot-de-passe-oublie", methods=["GET", "POST"])
def forgotten_password():
    if request.method == "GET":
        form = form_to_retry(ForgottenPasswordForm) or ForgottenPasswordForm(formdata=None)
        return show_form("citizen/auth/forgotten_password.html", form)
    form = ForgottenPasswordForm()
    if form.validate_on_submit():
        username = auth.normalise_username(form.username.data)
        account = Account.get_or_none(Account.username == username)
        if account is not None:
            token = auth.create_password_reset(account)
            body = render_template(
                "citizen/auth/email_reset.txt",
                account=account,
                reset_url=url_for("auth.reset_password", token=token, _external=True),
                minutes=minutes(auth.RESET_LINK_LIFETIME),
            )
            current_app.extensions["mailer"].send(
                account.email,
                "Choisir un nouveau mot de passe - Carte mobilité inclusion",
                body,
            )
        return redirect(url_for("auth.email_sent", sujet="mot-de-passe"), 303)
    return show_errors(
        form, lambda form, status: show_form("citizen/auth/forgotten_password.html", form, status)
    )


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
        return show_form("citizen/auth/reset_password.html", form)
    form = NewPasswordForm()
    if form.validate_on_submit():
        account = auth.use_password_reset(token, form.password.data)
        if account is None:
            return render_page("citizen/auth/reset_invalid.html", status=404)
        end_session()
        return redirect(url_for("auth.password_changed"), 303)
    return show_errors(
        form, lambda form, status: show_form("citizen/auth/reset_password.html", form, status)
    )


@bp.route("/mot-de-passe-modifie")
def password_changed():
    return render_page("citizen/auth/password_changed.html")
