"""The built-in payment provider's pages: card form, result, printable receipt.

It plays the bank's hosted page in demo mode. Its pages are as accessible as
the service's; it answers the service through the browser and server to server.
"""

from __future__ import annotations

import logging
import threading
import urllib.parse
import urllib.request

from flask import Blueprint, abort, current_app, g, redirect, request, session, url_for

from models.citizen.wizard import BY_KEY, INDICATOR
from models.demo import provider
from models.shared.clock import clock, to_paris
from models.shared.i18n import _, lazy_gettext

from ..shared.forms import Form, TextField
from ..shared.render import page_title, render_page
from ..shared.web import content_security_policy, origin, private
from .qa import SANDBOX_HEADER

log = logging.getLogger(__name__)

bp = Blueprint("provider", __name__, url_prefix="/paiement-securise")


class CardForm(Form):
    number = TextField(lazy_gettext("Numéro de carte"))
    expiry = TextField(lazy_gettext("Date d'expiration"))
    security_code = TextField(lazy_gettext("Cryptogramme visuel"))


def notify_over_http(url: str, fields: dict[str, str], headers: dict | None = None) -> None:
    """The provider's server-to-server call to the merchant; a failure is only logged."""
    body = urllib.parse.urlencode(fields).encode()
    call = urllib.request.Request(url, data=body, headers=headers or {})  # noqa: S310
    try:
        with urllib.request.urlopen(call, timeout=5) as response:  # noqa: S310
            response.read()
    except Exception as error:  # a thread of its own: log whatever went wrong
        log.warning("Payment notification to %s failed: %s", url, error)


def notify(transaction) -> None:
    """Tell the merchant server to server, on its own time, as a bank does: the
    card holder's page does not wait for the merchant's answer."""
    fields = provider.sealed_response(transaction, current_app.config["PAYMENT_SECRET"])
    notifier = current_app.extensions.get("payment_notifier")
    if notifier is not None:
        notifier(transaction.notify_url, fields)
        return
    # A QA run's sandbox (views/demo/qa.py): the merchant's side of it is the same one.
    sandbox = request.headers.get(SANDBOX_HEADER)
    threading.Thread(
        target=notify_over_http,
        args=(transaction.notify_url, fields, {SANDBOX_HEADER: sandbox} if sandbox else None),
        daemon=True,
    ).start()


# Like a bank's hosted page, the provider knows nothing of the merchant's users:
# a transaction's pages open only in the browser that brought its sealed order.
OPENED_HERE = "provider_transactions"


def remember_in_this_browser(reference: str) -> None:
    opened = [r for r in session.get(OPENED_HERE, []) if r != reference][-9:]
    session[OPENED_HERE] = [*opened, reference]


def transaction_of_browser(reference: str):
    """The transaction, only in the browser that opened it (404 otherwise)."""
    if reference not in session.get(OPENED_HERE, []):
        abort(404)
    transaction = provider.ProviderTransaction.get_or_none(
        provider.ProviderTransaction.reference == reference
    )
    if transaction is None:
        abort(404)
    g.merchant_origin = origin(transaction.return_url)
    return transaction


@bp.after_request
def let_forms_lead_back_to_the_merchant(response):
    """This page may send the browser back to the merchant (« Annuler »), maybe on
    another site: its form-action policy names that site. A redirect shows
    nothing, and has no policy (as the service's own redirects)."""
    if g.get("merchant_origin") and not response.location:
        response.headers["Content-Security-Policy"] = content_security_policy(
            current_app, [g.merchant_origin]
        )
    return response


def context(transaction, heading: str, errors: bool = False) -> dict:
    return {
        "transaction": transaction,
        "merchant": current_app.config["PAYMENT_MERCHANT_NAME"],
        "title": page_title(heading, _("Paiement sécurisé"), errors=errors),
        # The provider's pages belong to step 4 of the service's indicator.
        "step_payment": BY_KEY["paiement"],
        "indicator": INDICATOR,
        "to_paris": to_paris,
    }


@bp.route("", methods=["GET", "POST"])
@private  # the order it carries in its address, and the card form
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
    remember_in_this_browser(transaction.reference)
    g.merchant_origin = origin(transaction.return_url)
    if transaction.state == provider.FINISHED:
        return redirect(url_for("provider.result", reference=transaction.reference), 303)
    return show_card_form(transaction, CardForm(formdata=None))


def show_card_form(transaction, form, status=200):
    return render_page(
        "demo/provider/card.html",
        status=status,
        form=form,
        **context(transaction, _("Saisie de la carte bancaire"), bool(form.errors)),
    )


@bp.route("/<reference>", methods=["POST"])
def submit(reference: str):
    transaction = transaction_of_browser(reference)
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
def result(reference: str):
    transaction = transaction_of_browser(reference)
    if transaction.state != provider.FINISHED:
        abort(404)
    return render_page(
        "demo/provider/result.html",
        continue_url=return_url(transaction),
        **context(transaction, transaction.outcome_label),
    )


@bp.route("/<reference>/recu")
def receipt(reference: str):
    transaction = transaction_of_browser(reference)
    if not transaction.accepted:
        abort(404)
    return render_page("demo/provider/receipt.html", **context(transaction, _("Reçu du paiement")))
