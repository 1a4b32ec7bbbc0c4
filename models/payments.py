"""Card payment through a hosted payment page of the Worldline Sips kind.

The service never sees a card number. It sends the browser to the provider
with the order (``Data``) and an HMAC-SHA256 ``Seal`` of it; the provider
answers twice, through the browser and server to server, with a sealed
response. Whichever answer arrives first moves the payment, and the request,
forward; the other, a replay or a forgery changes nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from peewee import CharField, DateTimeField, ForeignKeyField, IntegerField

from .clock import clock
from .db import BaseModel, write_transaction
from .pricing import price
from .requests import PAID, RECORDED, CardRequest

log = logging.getLogger(__name__)

PENDING = "en attente"
ACCEPTED = "acceptée"
REFUSED = "refusée"
CANCELLED = "annulée"
# An attempt whose amount no longer applies (the delivery changed after « Payer »):
# the provider may still answer it, so it is not cancelled on our side.
SUPERSEDED = "remplacée"
# Money taken that does not pay the request (superseded amount, or the request was
# already paid by another attempt): kept and logged so that it is refunded.
REFUND_DUE = "à rembourser"

# Sips response codes: 00 accepted, 05 refused by the bank, 17 cancelled by the user.
RESPONSE_ACCEPTED = "00"
RESPONSE_REFUSED = "05"
RESPONSE_CANCELLED = "17"
OUTCOMES = {RESPONSE_ACCEPTED: ACCEPTED, RESPONSE_REFUSED: REFUSED, RESPONSE_CANCELLED: CANCELLED}
CURRENCY_EURO = "978"


class Payment(BaseModel):
    """One attempt at paying a request; a request may need several (refused, cancelled)."""

    request = ForeignKeyField(CardRequest, backref="payments", on_delete="CASCADE")
    transaction_reference = CharField(unique=True)
    amount = IntegerField()  # cents
    state = CharField(default=PENDING)
    masked_card = CharField(null=True)  # « 4100 #### #### ##01 »: never the full number
    authorisation_number = CharField(null=True)
    response_code = CharField(null=True)
    created_at = DateTimeField(default=clock.now)
    completed_at = DateTimeField(null=True)


def seal(data: str, secret: str) -> str:
    return hmac.new(secret.encode(), data.encode(), hashlib.sha256).hexdigest()


def seal_is_valid(data: str, given: str, secret: str) -> bool:
    """Constant-time comparison: the time taken says nothing about the right seal."""
    return hmac.compare_digest(seal(data, secret), given or "")


def encode_data(fields: dict[str, str]) -> str:
    """Sips' ``Data``: key=value pairs joined by « | » (values never contain « | »)."""
    return "|".join(f"{key}={value}" for key, value in fields.items())


def decode_data(data: str) -> dict[str, str]:
    fields = {}
    for pair in data.split("|"):
        key, sep, value = pair.partition("=")
        if sep:
            fields[key] = value
    return fields


@dataclass(frozen=True)
class Redirection:
    """Where to send the browser, and with what, to pay."""

    url: str
    fields: dict[str, str]

    @property
    def as_get_url(self) -> str:
        return f"{self.url}?{urlencode(self.fields)}"


@dataclass(frozen=True)
class HostedPaymentPage:
    """The provider as configured: its card page address, our merchant id and the shared key.

    A real Sips account plugs in here by configuration (URL, merchant id,
    secret, key version); the built-in provider speaks the same protocol.
    """

    url: str
    merchant_id: str
    secret: str
    key_version: str = "1"

    def redirection(self, payment: Payment, return_url: str, notify_url: str) -> Redirection:
        data = encode_data(
            {
                "amount": str(payment.amount),
                "currencyCode": CURRENCY_EURO,
                "merchantId": self.merchant_id,
                "transactionReference": payment.transaction_reference,
                "orderId": str(payment.request.number),
                "normalReturnUrl": return_url,
                "automaticResponseUrl": notify_url,
                "keyVersion": self.key_version,
            }
        )
        return Redirection(
            self.url,
            {"Data": data, "Seal": seal(data, self.secret), "InterfaceVersion": "HP_2.0"},
        )


# -- the service's side ------------------------------------------------------------------


def amount_due(request: CardRequest) -> int:
    """What the request costs now, in cents: its cards and its delivery address."""
    return price(len(request.lines_with_cards()), request.delivery_address.country).total


def start_payment(request: CardRequest, amount: int) -> Payment:
    """The attempt to send the browser with; an unfinished attempt is reused.

    Reusing the pending attempt (same transaction reference) is what makes two
    tabs or the back button unable to charge twice: the provider accepts one
    payment per transaction reference.
    """
    with write_transaction():
        pending = (
            Payment.select()
            .where((Payment.request == request) & (Payment.state == PENDING))
            .order_by(Payment.id.desc())
            .first()
        )
        if pending is not None and pending.amount == amount:
            return pending
        if pending is not None:
            Payment.update(state=SUPERSEDED).where(
                (Payment.id == pending.id) & (Payment.state == PENDING)
            ).execute()
        attempt = Payment.select().where(Payment.request == request).count() + 1
        return Payment.create(
            request=request,
            transaction_reference=f"{request.number}{attempt:02d}",
            amount=amount,
        )


class InvalidResponse(Exception):
    """A response whose seal, amount or reference does not hold: nothing was changed."""


@dataclass(frozen=True)
class Outcome:
    payment: Payment
    newly_paid: bool  # True only for the one call that moved the request to paid
    after_paid: object = None  # what ``on_paid`` returned, for that call only


def apply_response(data: str, given_seal: str, secret: str, on_paid) -> Outcome:
    """Check a provider response and apply it, exactly once.

    ``on_paid(request)`` runs inside the same transaction, once per request,
    right after the request becomes paid (new cards, confirmation email).
    """
    if not seal_is_valid(data, given_seal, secret):
        raise InvalidResponse("bad seal")
    fields = decode_data(data)
    payment = Payment.get_or_none(
        Payment.transaction_reference == fields.get("transactionReference", "")
    )
    if payment is None:
        raise InvalidResponse("unknown transaction reference")
    if fields.get("amount") != str(payment.amount) or fields.get("currencyCode") != CURRENCY_EURO:
        raise InvalidResponse("amount does not match the order")
    outcome = OUTCOMES.get(fields.get("responseCode", ""))
    if outcome is None:
        raise InvalidResponse("unknown response code")
    with write_transaction():
        moved = (
            Payment.update(
                state=outcome,
                response_code=fields["responseCode"],
                masked_card=fields.get("maskedPan") or None,
                authorisation_number=fields.get("authorisationId") or None,
                completed_at=clock.now(),
            )
            .where((Payment.id == payment.id) & Payment.state.in_([PENDING, SUPERSEDED]))
            .execute()
        )
        newly_paid, after_paid = False, None
        if moved == 1 and outcome == ACCEPTED:
            paid = 0
            if payment.amount == amount_due(CardRequest.get_by_id(payment.request_id)):
                paid = (
                    CardRequest.update(state=PAID, paid_at=clock.now(), updated_at=clock.now())
                    .where((CardRequest.id == payment.request_id) & (CardRequest.state == RECORDED))
                    .execute()
                )
            if paid == 1:
                newly_paid = True
                after_paid = on_paid(CardRequest.get_by_id(payment.request_id))
            else:
                # Taken, but it pays nothing: the request was already paid, or its
                # amount changed since this attempt began.
                Payment.update(state=REFUND_DUE).where(Payment.id == payment.id).execute()
                log.error(
                    "Payment %s of %s cents accepted for request %s but not applied: "
                    "to be refunded",
                    payment.transaction_reference,
                    payment.amount,
                    payment.request_id,
                )
    return Outcome(Payment.get_by_id(payment.id), newly_paid, after_paid)


def latest_payment(request: CardRequest) -> Payment | None:
    return Payment.select().where(Payment.request == request).order_by(Payment.id.desc()).first()


def accepted_payment(request: CardRequest) -> Payment | None:
    return (
        Payment.select().where((Payment.request == request) & (Payment.state == ACCEPTED)).first()
    )


def refunds_due(request: CardRequest) -> list[Payment]:
    """Accepted payments that paid nothing and are to be refunded."""
    return list(
        Payment.select()
        .where((Payment.request == request) & (Payment.state == REFUND_DUE))
        .order_by(Payment.id)
    )


def mask_card_number(number: str) -> str:
    """« 4100 #### #### ##01 »: the first four and the last two digits only."""
    digits = "".join(c for c in number if c.isdigit())
    hidden = digits[:4] + "#" * (len(digits) - 6) + digits[-2:]
    return " ".join(hidden[i : i + 4] for i in range(0, len(hidden), 4))


def transaction_date(payment: Payment) -> datetime:
    return payment.completed_at or payment.created_at
