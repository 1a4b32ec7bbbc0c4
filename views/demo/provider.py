"""The built-in payment provider's pages: card form, result, printable receipt.

It plays the bank's hosted page in demo mode. Its pages are as accessible as
the service's; it answers the service through the browser and server to server.
"""

from __future__ import annotations

import logging
import urllib.parse
import urllib.request

from flask import Blueprint, abort, current_app, g, redirect, request, url_for
from flask_wtf import FlaskForm
from wtforms import StringField

from models import payments
from models.citizen.wizard import BY_KEY, INDICATOR
from models.demo import provider
from models.shared.clock import clock, to_paris

from ..shared.render import login_required, page_title, render_page

log = logging.getLogger(__name__)

bp = Blueprint("provider", __name__, url_prefix="/paiement-securise")


class CardForm(FlaskForm):
    number = StringField("Numéro de carte")
    expiry = StringField("Date d'expiration")
    security_code = StringField("Cryptogramme visuel")


def notify_over_http(url: str, fields: dict[str, str]) -> None:
    """The provider's server-to-server call to the merchant; a failure is only logged."""
    body = urllib.parse.urlencode(fields).encode()
    try:
        with urllib.request.urlopen(url, data=body, timeout=5) as response:  # noqa: S310
            response.read()
    except OSError as error:
        log.warning("Payment notification to %s failed: %s", url, error)


def notify(transaction) -> None:
    fields = provider.sealed_response(transaction, current_app.config["PAYMENT_SECRET"])
    notifier = current_app.extensions.get("payment_notifier", notify_over_http)
    notifier(transaction.notify_url, fields)


def transaction_of_account(reference: str):
    """The transaction, only for the account whose request it pays (404 otherwise)."""
    transaction = provider.ProviderTransaction.get_or_none(
        provider.ProviderTransaction.reference == reference
    )
    payment = payments.Payment.get_or_none(payments.Payment.transaction_reference == reference)
    if transaction is None or payment is None or payment.request.account_id != g.account.id:
        abort(404)
    return transaction


def context(transaction, heading: str, errors: bool = False) -> dict:
    return {
        "transaction": transaction,
        "merchant": current_app.config["PAYMENT_MERCHANT_NAME"],
        "title": page_title(heading, "Paiement sécurisé", errors=errors),
        # The provider's pages belong to step 4 of the service's indicator.
        "step_payment": BY_KEY["paiement"],
        "indicator": INDICATOR,
        "to_paris": to_paris,
    }


@bp.route("", methods=["GET", "POST"])
@login_required
def card_page():
    """The merchant sends the browser here with its sealed order."""
    try:
        transaction = provider.open_transaction(
            request.values.get("Data", ""),
            request.values.get("Seal", ""),
            current_app.config["PAYMENT_SECRET"],
        )
    except provider.BadOrder:
        abort(400)
    transaction_of_account(transaction.reference)
    if transaction.state == provider.FINISHED:
        return redirect(url_for("provider.result", reference=transaction.reference), 303)
    return show_card_form(transaction, CardForm(formdata=None))


def show_card_form(transaction, form, status=200):
    return render_page(
        "demo/provider/card.html",
        status=status,
        form=form,
        **context(transaction, "Saisie de la carte bancaire", bool(form.errors)),
    )


@bp.route("/<reference>", methods=["POST"])
@login_required
def submit(reference: str):
    transaction = transaction_of_account(reference)
    if transaction.state == provider.FINISHED:
        # A second click, or the back button: the transaction is already closed.
        return redirect(url_for("provider.result", reference=reference), 303)
    if request.form.get("action") == "annuler":
        if provider.cancel(transaction):
            notify(provider.ProviderTransaction.get_by_id(transaction.id))
        closed = provider.ProviderTransaction.get_by_id(transaction.id)
        return redirect(return_url(closed), 303)
    form = CardForm()
    if not form.validate_on_submit():
        return show_card_form(transaction, form, 422)
    check = provider.check_card(
        form.number.data, form.expiry.data, form.security_code.data, clock.today()
    )
    if check.errors:
        for field, message in check.errors.items():
            form[field].errors.append(message)
        # The security code is never sent back to the browser.
        form.security_code.data = ""
        return show_card_form(transaction, form, 422)
    if provider.pay(transaction, check.digits):
        notify(provider.ProviderTransaction.get_by_id(transaction.id))
    return redirect(url_for("provider.result", reference=reference), 303)


def return_url(transaction) -> str:
    fields = provider.sealed_response(transaction, current_app.config["PAYMENT_SECRET"])
    return f"{transaction.return_url}?{urllib.parse.urlencode(fields)}"


@bp.route("/<reference>/resultat")
@login_required
def result(reference: str):
    transaction = transaction_of_account(reference)
    if transaction.state != provider.FINISHED:
        abort(404)
    return render_page(
        "demo/provider/result.html",
        continue_url=return_url(transaction),
        **context(transaction, transaction.outcome_label),
    )


@bp.route("/<reference>/recu")
@login_required
def receipt(reference: str):
    transaction = transaction_of_account(reference)
    if not transaction.accepted:
        abort(404)
    return render_page("demo/provider/receipt.html", **context(transaction, "Reçu du paiement"))
