"""The built-in payment provider: a hosted card page that speaks the protocol of ``sips``.

It stands in for the bank in demo mode and in tests. It keeps its own record
of each transaction (never the card number: only its masked form) and
accepts one payment per transaction reference.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import date

from peewee import CharField, DateTimeField, IntegerField, IntegrityError, TextField

from ..shared.clock import clock
from ..shared.db import BaseModel, write_transaction
from ..shared.i18n import _
from ..sips import (
    RESPONSE_ACCEPTED,
    RESPONSE_CANCELLED,
    RESPONSE_REFUSED,
    decode_data,
    encode_data,
    seal,
    seal_is_valid,
)

# Test cards (README): the first is accepted, the second refused by the bank.
ACCEPTED_TEST_CARD = "4100000000000001"
REFUSED_TEST_CARD = "4000000000000002"

STARTED = "started"
FINISHED = "finished"

EXPIRY = re.compile(r"(\d{2})\s*/\s*(\d{2}|\d{4})")


class ProviderTransaction(BaseModel):
    reference = CharField(unique=True)
    merchant_id = CharField()
    order_id = CharField()
    amount = IntegerField()
    currency = CharField()
    return_url = TextField()
    notify_url = TextField()
    state = CharField(default=STARTED)
    response_code = CharField(null=True)
    masked_pan = CharField(null=True)
    authorisation_id = CharField(null=True)
    created_at = DateTimeField(default=clock.now)
    completed_at = DateTimeField(null=True)

    @property
    def accepted(self) -> bool:
        return self.response_code == RESPONSE_ACCEPTED

    @property
    def cancelled(self) -> bool:
        return self.response_code == RESPONSE_CANCELLED

    @property
    def outcome_label(self) -> str:
        if self.accepted:
            return _("Paiement accepté")
        return _("Paiement annulé") if self.cancelled else _("Paiement refusé")


class BadOrder(Exception):
    """The merchant's order is not sealed with the shared key."""


def open_transaction(data: str, given_seal: str, secret: str) -> ProviderTransaction:
    """Check the merchant's seal and find or open the transaction it names."""
    if not seal_is_valid(data, given_seal, secret):
        raise BadOrder("bad seal")
    fields = decode_data(data)
    try:
        reference = fields["transactionReference"]
        values = {
            "merchant_id": fields["merchantId"],
            "order_id": fields["orderId"],
            "amount": int(fields["amount"]),
            "currency": fields["currencyCode"],
            "return_url": fields["normalReturnUrl"],
            "notify_url": fields["automaticResponseUrl"],
        }
    except (KeyError, ValueError) as error:
        raise BadOrder("incomplete order") from error
    found = ProviderTransaction.get_or_none(ProviderTransaction.reference == reference)
    if found is not None:
        return found
    try:
        with write_transaction():
            return ProviderTransaction.create(reference=reference, **values)
    except IntegrityError:
        # The same order posted twice at once (a double click): one row, found again.
        return ProviderTransaction.get(ProviderTransaction.reference == reference)


def mask_card_number(number: str) -> str:
    """« 4100 #### #### ##01 »: the first four and the last two digits only."""
    digits = "".join(c for c in number if c.isdigit())
    hidden = digits[:4] + "#" * (len(digits) - 6) + digits[-2:]
    return " ".join(hidden[i : i + 4] for i in range(0, len(hidden), 4))


def luhn_ok(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def card_digits(number: str) -> str:
    return re.sub(r"[\s-]", "", number or "")


@dataclass(frozen=True)
class CardCheck:
    errors: dict[str, str]
    digits: str = ""


def check_card(number: str, expiry: str, security_code: str, today: date) -> CardCheck:
    """What is wrong with the card details, field by field, in the reader's language."""
    errors = {}
    digits = card_digits(number)
    if not digits:
        errors["number"] = _("Saisissez le numéro de votre carte, par exemple 4100 0000 0000 0001")
    elif not digits.isdigit() or not 13 <= len(digits) <= 19 or not luhn_ok(digits):
        errors["number"] = _(
            "Le numéro de carte n'est pas valide : vérifiez les 16 chiffres inscrits "
            "sur votre carte"
        )
    match = EXPIRY.fullmatch((expiry or "").strip())
    if not (expiry or "").strip():
        errors["expiry"] = _("Saisissez la date d'expiration au format MM/AA, par exemple 09/28")
    elif match is None or not 1 <= int(match.group(1)) <= 12:
        errors["expiry"] = _("La date d'expiration doit être au format MM/AA, par exemple 09/28")
    else:
        month, year = int(match.group(1)), int(match.group(2)[-2:]) + 2000
        if (year, month) < (today.year, today.month):
            errors["expiry"] = _(
                "La date d'expiration est dépassée : utilisez une carte en cours de validité"
            )
    code = (security_code or "").strip()
    if not code:
        errors["security_code"] = _(
            "Saisissez le cryptogramme visuel : les 3 chiffres au dos de votre carte"
        )
    elif not re.fullmatch(r"\d{3}", code):
        errors["security_code"] = _("Le cryptogramme visuel comporte 3 chiffres, par exemple 123")
    return CardCheck(errors, digits)


def finish(transaction: ProviderTransaction, response_code: str, digits: str = "") -> bool:
    """Close the transaction once; a second submission (double click) changes nothing."""
    accepted = response_code == RESPONSE_ACCEPTED
    return (
        ProviderTransaction.update(
            state=FINISHED,
            response_code=response_code,
            masked_pan=mask_card_number(digits) if digits else None,
            authorisation_id=f"{secrets.randbelow(10**6):06d}" if accepted else None,
            completed_at=clock.now(),
        )
        .where((ProviderTransaction.id == transaction.id) & (ProviderTransaction.state == STARTED))
        .execute()
        == 1
    )


def pay(transaction: ProviderTransaction, digits: str) -> bool:
    """The bank's answer for a well-formed card: the refused test card is refused."""
    code = RESPONSE_REFUSED if digits == REFUSED_TEST_CARD else RESPONSE_ACCEPTED
    return finish(transaction, code, digits)


def cancel(transaction: ProviderTransaction) -> bool:
    return finish(transaction, RESPONSE_CANCELLED)


def sealed_response(transaction: ProviderTransaction, secret: str) -> dict[str, str]:
    """The response sent back to the merchant, through the browser and server to server."""
    data = encode_data(
        {
            "amount": str(transaction.amount),
            "currencyCode": transaction.currency,
            "merchantId": transaction.merchant_id,
            "transactionReference": transaction.reference,
            "orderId": transaction.order_id,
            "responseCode": transaction.response_code or "",
            "maskedPan": transaction.masked_pan or "",
            "authorisationId": transaction.authorisation_id or "",
            "transactionDateTime": (transaction.completed_at or clock.now()).isoformat(),
        }
    )
    return {"Data": data, "Seal": seal(data, secret)}
