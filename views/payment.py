"""The service's side of payment: sending the browser to pay, the provider's answers,
and what the user leaves with (récapitulatif, attestation, confirmation email)."""

from __future__ import annotations

import logging

from flask import (
    Blueprint,
    abort,
    current_app,
    g,
    redirect,
    render_template,
    request,
    url_for,
)

from models import payments
from models import requests as card_requests
from models.attestation import attestation_for, attestation_pdf
from models.cards import DUPLICATE
from models.clock import to_paris
from models.documents import size_label
from models.mail import queue
from models.wizard import BY_KEY, INDICATOR, request_label

from .documents import pdf_response
from .render import login_required, page_title, render_page

log = logging.getLogger(__name__)

bp = Blueprint("payment", __name__)


def hosted_page() -> payments.HostedPaymentPage:
    config = current_app.config
    return payments.HostedPaymentPage(
        url=config["PAYMENT_URL"] or url_for("provider.card_page", _external=True),
        merchant_id=config["PAYMENT_MERCHANT_ID"],
        secret=config["PAYMENT_SECRET"],
    )


def send_to_provider(card_request):
    """« Payer »: the attempt (reused while unfinished) and the sealed order."""
    payment = payments.start_payment(card_request, payments.amount_due(card_request))
    redirection = hosted_page().redirection(
        payment,
        return_url=url_for("payment.browser_return", _external=True),
        notify_url=url_for("payment.notification", _external=True),
    )
    return redirect(redirection.as_get_url, 303)


# -- the provider's answers ----------------------------------------------------------------


def confirmation_email(card_request):
    """Queued inside the paying transaction, so it exists once per request."""
    attestation_url = url_for(
        "payment.attestation_page", number=card_request.number, _external=True
    )
    context = {
        "card_request": card_request,
        "lines": card_request.lines_with_cards(),
        "payment": payments.accepted_payment(card_request),
        "attestation_url": attestation_url,
        "valid_until": card_requests.attestation_valid_until(card_request),
        "to_paris": to_paris,
    }
    kind = "duplicata" if card_request.kind == DUPLICATE else "second exemplaire"
    return queue(
        card_request.account.email,
        f"Votre demande de {kind} n° {card_request.number} est enregistrée",
        render_template("payment/email.txt", **context),
        render_template("payment/email.html", **context),
    )


def on_paid(card_request):
    card_requests.make_new_cards(card_request)
    return confirmation_email(card_request)


def apply_provider_answer():
    data = request.values.get("Data", "")
    given = request.values.get("Seal", "")
    outcome = payments.apply_response(data, given, current_app.config["PAYMENT_SECRET"], on_paid)
    if outcome.newly_paid:
        current_app.extensions["mailer"].deliver(outcome.after_paid)
    return outcome


@bp.route("/paiement/retour", methods=["GET", "POST"])
def browser_return():
    """The browser comes back from the provider (no session needed: the seal vouches)."""
    try:
        outcome = apply_provider_answer()
    except payments.InvalidResponse as error:
        log.warning("Payment response refused: %s", error)
        return render_page(
            "pages/error.html",
            status=400,
            heading="La réponse du service de paiement n'a pas pu être vérifiée",
            paragraphs=[
                "Aucun paiement n'a été enregistré à partir de cette réponse, et rien n'a été "
                "modifié dans votre demande.",
                "Revenez à l'étape « Paiement » de votre demande pour voir où elle en est.",
            ],
            retry_url=url_for("wizard.payment"),
        )
    card_request = outcome.payment.request
    if card_request.state == card_requests.PAID:
        return redirect(url_for("payment.summary", number=card_request.number), 303)
    result = {"refusée": "refuse", "annulée": "annule"}.get(outcome.payment.state, "")
    return redirect(url_for("wizard.payment", resultat=result or None), 303)


@bp.route("/paiement/notification", methods=["POST"])
def notification():
    """The provider's server-to-server answer."""
    try:
        apply_provider_answer()
    except payments.InvalidResponse as error:
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
    if card_request.state != card_requests.PAID:
        abort(404)
    return card_request


@bp.route("/demandes/<int:number>")
@login_required
def summary(number: int):
    """« Récapitulatif »: the last step, and the request's page in « Mes données » later."""
    card_request = owned(number)
    if card_request.state != card_requests.PAID:
        return redirect(url_for("wizard.start"), 303)
    return render_page(
        "payment/summary.html",
        card_request=card_request,
        lines=card_request.lines_with_cards(),
        payment=payments.accepted_payment(card_request),
        refunds=payments.refunds_due(card_request),
        attestation_label=attestation_label(card_request),
        step=BY_KEY["recapitulatif"],
        indicator=INDICATOR,
        nav="request",
        title=page_title(
            f"Étape 5 sur 5 : Récapitulatif de la demande n° {card_request.number}",
            request_label(card_request),
        ),
    )


def attestation(card_request):
    config = current_app.config
    return attestation_for(
        card_request, config["ORGANISATION_NAME"], config["ORGANISATION_ADDRESS"]
    )


def attestation_label(card_request) -> str:
    """« PDF, 2 Ko »: what a link to the attestation says about the file."""
    return size_label(attestation_pdf(attestation(card_request)))


@bp.route("/demandes/<int:number>/attestation.pdf")
@login_required
def attestation_download(number: int):
    card_request = owned_paid(number)
    return pdf_response(
        attestation_pdf(attestation(card_request)),
        f"attestation-demande-{card_request.number}.pdf",
        cacheable=False,
    )


@bp.route("/demandes/<int:number>/attestation")
@login_required
def attestation_page(number: int):
    card_request = owned_paid(number)
    content = attestation(card_request)
    return render_page(
        "payment/attestation.html",
        card_request=card_request,
        attestation=content,
        pdf_label=size_label(attestation_pdf(content)),
    )
