"""The payment of a request: its attempts and what a provider's answer does to them.

Whichever answer arrives first (the browser's return or the provider's
notification) moves the attempt, and the request, forward; the other, a
replay or a forgery changes nothing. The wire format is in ``sips``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum

from peewee import CharField, DateField, DateTimeField, ForeignKeyField, IntegerField

from . import sips
from .ordering import make_new_cards
from .pricing import price
from .requests import PAID, RECORDED, CardRequest
from .shared.clock import clock
from .shared.db import BaseModel, write_transaction
from .shared.prepared import Prepared

log = logging.getLogger(__name__)


class PaymentState(StrEnum):
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
    # Refunded by an agent, who recorded the provider's reference (audit log).
    REFUNDED = "remboursé"


PENDING = PaymentState.PENDING
ACCEPTED = PaymentState.ACCEPTED
REFUSED = PaymentState.REFUSED
CANCELLED = PaymentState.CANCELLED
SUPERSEDED = PaymentState.SUPERSEDED
REFUND_DUE = PaymentState.REFUND_DUE
REFUNDED = PaymentState.REFUNDED

STATE_OF_RESULT = {sips.ACCEPTED: ACCEPTED, sips.REFUSED: REFUSED, sips.CANCELLED: CANCELLED}


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
    # A refund made through the provider's back office, as an agent recorded it.
    refund_amount = IntegerField(null=True)  # cents
    refund_reference = CharField(null=True)
    refunded_on = DateField(null=True)


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


# A response whose seal, amount or reference does not hold: nothing was changed.
InvalidResponse = sips.InvalidResponse


@dataclass(frozen=True)
class Outcome:
    """What an answer did: the attempt as it now stands, and whether it paid the request."""

    payment: Payment
    newly_paid: bool  # True only for the one call that moved the request to paid

    @property
    def request(self) -> CardRequest:
        return CardRequest.get_by_id(self.payment.request_id)


def apply_response(response: sips.ProviderResponse) -> Outcome:
    """Apply a provider's (already sealed and read) answer, exactly once.

    When it pays the request, the new cards are recorded in the same
    transaction. What follows (the confirmation email) is the caller's.
    """
    payment = Payment.get_or_none(Payment.transaction_reference == response.transaction_reference)
    if payment is None:
        raise InvalidResponse("unknown transaction reference")
    if response.amount != str(payment.amount) or not response.in_euros:
        raise InvalidResponse("amount does not match the order")
    state = STATE_OF_RESULT[response.result]
    with write_transaction():
        moved = (
            Payment.update(
                state=state,
                response_code=response.response_code,
                masked_card=response.masked_card,
                authorisation_number=response.authorisation_number,
                completed_at=clock.now(),
            )
            .where((Payment.id == payment.id) & Payment.state.in_([PENDING, SUPERSEDED]))
            .execute()
        )
        newly_paid = False
        if moved == 1 and state == ACCEPTED:
            paid = 0
            if payment.amount == amount_due(CardRequest.get_by_id(payment.request_id)):
                paid = (
                    CardRequest.update(state=PAID, paid_at=clock.now(), updated_at=clock.now())
                    .where((CardRequest.id == payment.request_id) & (CardRequest.state == RECORDED))
                    .execute()
                )
            if paid == 1:
                newly_paid = True
                make_new_cards(CardRequest.get_by_id(payment.request_id))
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
    return Outcome(Payment.get_by_id(payment.id), newly_paid)


_LATEST_PAYMENT = Prepared(
    lambda request: (
        Payment.select().where(Payment.request == request).order_by(Payment.id.desc()).limit(1)
    ),
    int,
)
_REFUNDS_DUE = Prepared(
    lambda request: (
        Payment.select()
        .where((Payment.request == request) & Payment.state.in_([REFUND_DUE, REFUNDED]))
        .order_by(Payment.id)
    ),
    int,
)


def latest_payment(request: CardRequest) -> Payment | None:
    return _LATEST_PAYMENT.first(request.id)


_ACCEPTED_PAYMENT = Prepared(
    lambda request: (
        Payment.select().where((Payment.request == request) & (Payment.state == ACCEPTED)).limit(1)
    ),
    int,
)


def accepted_payment(request: CardRequest) -> Payment | None:
    return _ACCEPTED_PAYMENT.first(request.id)


def refunds_due(request: CardRequest) -> list[Payment]:
    """Accepted payments that paid nothing: to be refunded, or refunded since."""
    return _REFUNDS_DUE.all(request.id)
