"""The service's side of payment: sending the browser to pay, the provider's answers,
and what the user leaves with (récapitulatif, attestation, confirmation email)."""

from __future__ import annotations

import logging

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, url_for

from models import payments, sips
from models import requests as card_requests
from models.attestation import attestation_for
from models.cards import DUPLICATE
from models.shared.clock import to_paris
from models.shared.i18n import _, force_locale
from models.shared.pdf import size_label

from ..shared.documents import attestation_pdf, pdf_response
from ..shared.render import external_url, login_required, render_page
from .steps import render_step

log = logging.getLogger(__name__)

bp = Blueprint("payment", __name__)


def hosted_page() -> sips.HostedPaymentPage:
    config = current_app.config
    return sips.HostedPaymentPage(
        url=config["PAYMENT_URL"] or external_url("provider.card_page"),
        merchant_id=config["PAYMENT_MERCHANT_ID"],
        secret=config["PAYMENT_SECRET"],
    )


def start_attempt(card_request) -> None:
    """« Payer »: the attempt (reused while unfinished); the hand-off page follows."""
    payments.start_payment(card_request, payments.amount_due(card_request))


def handoff(card_request) -> sips.Redirection | None:
    """The sealed order to post to the provider, for the attempt « Payer » started.

    The provider's page is reached by a form POST (Sips « Paypage POST »), not a
    redirect: a redirect would carry the order in the address, and the
    browser applies the page's form-action policy to it.
    """
    attempt = payments.latest_payment(card_request)
    if attempt is None or attempt.state != payments.PENDING:
        return None
    if attempt.amount != payments.amount_due(card_request):
        return None
    return hosted_page().redirection(
        transaction_reference=attempt.transaction_reference,
        amount=attempt.amount,
        order_id=str(card_request.number),
        return_url=external_url("payment.browser_return"),
        notify_url=external_url("payment.notification"),
    )


# -- the provider's answers ----------------------------------------------------------------


def attestation(card_request):
    config = current_app.config
    return attestation_for(
        card_request, config["ORGANISATION_NAME"], config["ORGANISATION_ADDRESS"]
    )


def built_attestation(card_request) -> bytes:
    """The PDF, its size remembered so that lists of requests can say it."""
    content = attestation_pdf(attestation(card_request))
    card_requests.record_attestation_size(card_request, len(content))
    return content


def send_confirmation(card_request) -> None:
    """After payment: the confirmation email, queued once and sent, and the attestation's size.

    Called by whichever answer of the provider comes (and again by the next
    one, which finds the email already queued): nothing here runs inside the
    transaction that paid the request.
    """
    if not card_requests.confirmation_missing(card_request):
        return
    built_attestation(card_request)
    context = {
        "card_request": card_request,
        "lines": card_request.lines_with_cards(),
        "payment": payments.accepted_payment(card_request),
        "attestation_url": external_url("payment.attestation_page", number=card_request.number),
        "valid_until": card_requests.attestation_valid_until(card_request),
        "to_paris": to_paris,
    }
    account = card_request.account
    # Written in the account's language: the provider's notification has no session.
    with force_locale(account.language or "fr"):
        if card_request.kind == DUPLICATE:
            subject = _(
                "Votre demande de duplicata n° %(number)s est enregistrée",
                number=card_request.number,
            )
        else:
            subject = _(
                "Votre demande de second exemplaire n° %(number)s est enregistrée",
                number=card_request.number,
            )
        text = render_template("citizen/payment/email.txt", **context)
        html = render_template("citizen/payment/email.html", **context)
    email = card_requests.attach_confirmation(card_request, account.email, subject, text, html)
    if email is not None:
        current_app.extensions["mailer"].deliver(email)


def apply_provider_answer() -> payments.Outcome:
    response = sips.read_response(
        request.values.get("Data", ""),
        request.values.get("Seal", ""),
        current_app.config["PAYMENT_SECRET"],
    )
    outcome = payments.apply_response(response)
    card_request = outcome.request
    if card_request.is_paid:
        send_confirmation(card_request)
    return outcome


# Where « Paiement » says what happened to the last attempt.
RESULT_OF_STATE = {payments.REFUSED: "refuse", payments.CANCELLED: "annule"}


@bp.route("/paiement/retour", methods=["GET", "POST"])
def browser_return():
    """The browser comes back from the provider (no session needed: the seal vouches)."""
    try:
        outcome = apply_provider_answer()
    except sips.InvalidResponse as error:
        log.warning("Payment response refused: %s", error)
        return render_page(
            "shared/pages/error.html",
            status=400,
            heading=_("La réponse du service de paiement n'a pas pu être vérifiée"),
            paragraphs=[
                _(
                    "Aucun paiement n'a été enregistré à partir de cette réponse, et rien n'a "
                    "été modifié dans votre demande."
                ),
                _("Revenez à l'étape « Paiement » de votre demande pour voir où elle en est."),
            ],
            retry_url=url_for("wizard.payment"),
        )
    card_request = outcome.request
    if card_request.is_paid:
        return redirect(url_for("payment.summary", number=card_request.number), 303)
    result = RESULT_OF_STATE.get(outcome.payment.state)
    return redirect(url_for("wizard.payment", resultat=result), 303)


@bp.route("/paiement/notification", methods=["POST"])
def notification():
    """The provider's server-to-server answer."""
    try:
        apply_provider_answer()
    except sips.InvalidResponse as error:
        log.warning("Payment notification refused: %s", error)
        return "Réponse refusée", 400, {"Content-Type": "text/plain; charset=utf-8"}
    return "OK", 200, {"Content-Type": "text/plain; charset=utf-8"}


# -- after payment -----------------------------------------------------------------------


def owned(number: int):
    card_request = card_requests.owned_request(g.account, number)
    if card_request is None:
        abort(404)
    return card_request


def owned_paid(number: int):
    card_request = owned(number)
    if not card_request.is_paid:
        abort(404)
    return card_request


@bp.route("/demandes/<int(max=2147483647):number>")
@login_required
def summary(number: int):
    """« Récapitulatif »: the last step, and the request's page in « Mes données » later."""
    card_request = owned(number)
    if not card_request.is_paid:
        return redirect(url_for("wizard.start"), 303)
    # The confirmation email, if a stopped server never queued it after the payment.
    send_confirmation(card_request)
    if card_request.attestation_size is None:
        built_attestation(card_request)
    return render_step(
        "citizen/payment/summary.html",
        card_request,
        "recapitulatif",
        page=_("Récapitulatif de la demande n° %(number)s", number=card_request.number),
        lines=card_request.lines_with_cards(),
        payment=payments.accepted_payment(card_request),
        refunds=payments.refunds_due(card_request),
        attestation_label=attestation_label(card_request),
    )


def attestation_label(card_request) -> str:
    """« PDF, 2 Ko »: what a link to the attestation says about the file, known since
    it was first built (a list of requests builds no PDF)."""
    if card_request.attestation_size is None:
        return "PDF"
    return size_label(card_request.attestation_size)


@bp.route("/demandes/<int(max=2147483647):number>/attestation.pdf")
@login_required
def attestation_download(number: int):
    card_request = owned_paid(number)
    return pdf_response(
        built_attestation(card_request),
        f"attestation-demande-{card_request.number}.pdf",
        cacheable=False,
    )


@bp.route("/demandes/<int(max=2147483647):number>/attestation")
@login_required
def attestation_page(number: int):
    card_request = owned_paid(number)
    content = attestation(card_request)
    return render_page(
        "citizen/payment/attestation.html",
        card_request=card_request,
        attestation=content,
        pdf_label=size_label(len(attestation_pdf(content))),
        nav="request",
    )
