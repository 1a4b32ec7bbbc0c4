"""The payment provider's protocol: Worldline Sips 2.0, hosted payment page (« Paypage »).

The service never sees a card number. It sends the browser to the provider
with the order (``Data``) and an HMAC-SHA256 ``Seal`` of it; the provider
answers twice, through the browser and server to server, with a sealed
response. This module is only the wire format: another provider is another
module with the same three things (``HostedPaymentPage``, ``read_response``,
``InvalidResponse``); what a response does to a request is in ``payments``.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from urllib.parse import urlencode

from .shared.security import same_text

INTERFACE_VERSION = "HP_2.0"
CURRENCY_EURO = "978"

# What a response says happened, whatever the provider's own codes.
ACCEPTED = "accepted"
REFUSED = "refused"
CANCELLED = "cancelled"

# Sips response codes: 00 accepted, 05 refused by the bank, 17 cancelled by the user.
RESPONSE_ACCEPTED = "00"
RESPONSE_REFUSED = "05"
RESPONSE_CANCELLED = "17"
RESULTS = {RESPONSE_ACCEPTED: ACCEPTED, RESPONSE_REFUSED: REFUSED, RESPONSE_CANCELLED: CANCELLED}


def seal(data: str, secret: str) -> str:
    message = data.encode("utf-8", "surrogatepass")
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def seal_is_valid(data: str, given: str, secret: str) -> bool:
    """Constant-time comparison: the time taken says nothing about the right seal.

    Any text may arrive here (a forged answer can carry « é » or a NUL): it is
    simply not the right seal.
    """
    return same_text(seal(data, secret), given or "")


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

    def redirection(
        self,
        transaction_reference: str,
        amount: int,
        order_id: str,
        return_url: str,
        notify_url: str,
    ) -> Redirection:
        data = encode_data(
            {
                "amount": str(amount),
                "currencyCode": CURRENCY_EURO,
                "merchantId": self.merchant_id,
                "transactionReference": transaction_reference,
                "orderId": order_id,
                "normalReturnUrl": return_url,
                "automaticResponseUrl": notify_url,
                "keyVersion": self.key_version,
            }
        )
        return Redirection(
            self.url,
            {"Data": data, "Seal": seal(data, self.secret), "InterfaceVersion": INTERFACE_VERSION},
        )


class InvalidResponse(Exception):
    """A response whose seal, fields or codes do not hold: nothing may be changed."""


@dataclass(frozen=True)
class ProviderResponse:
    """What a sealed response says, in the service's words."""

    transaction_reference: str
    amount: str  # as sent: compared with the attempt's amount, never parsed loosely
    currency: str
    result: str  # ACCEPTED, REFUSED or CANCELLED
    response_code: str
    masked_card: str | None
    authorisation_number: str | None

    @property
    def in_euros(self) -> bool:
        return self.currency == CURRENCY_EURO


def read_response(data: str, given_seal: str, secret: str) -> ProviderResponse:
    """Check the seal of a response and read it; raise InvalidResponse otherwise."""
    if not seal_is_valid(data, given_seal, secret):
        raise InvalidResponse("bad seal")
    fields = decode_data(data)
    code = fields.get("responseCode", "")
    if code not in RESULTS:
        raise InvalidResponse("unknown response code")
    reference = fields.get("transactionReference", "")
    if not reference:
        raise InvalidResponse("no transaction reference")
    return ProviderResponse(
        transaction_reference=reference,
        amount=fields.get("amount", ""),
        currency=fields.get("currencyCode", ""),
        result=RESULTS[code],
        response_code=code,
        masked_card=fields.get("maskedPan") or None,
        authorisation_number=fields.get("authorisationId") or None,
    )
