"""A request for duplicates or second copies: its record, its lines and what reads them.

A request moves forward only: draft -> recorded (the user confirmed: cards
revoked, lines written, number given) -> paid; or -> cancelled. The moves
themselves are in ``ordering`` (the citizen's answers) and ``payments``.
"""

from __future__ import annotations

import calendar
import json
from datetime import date, timedelta
from enum import StrEnum

from peewee import (
    JOIN,
    BigIntegerField,
    BooleanField,
    CharField,
    DateField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    TextField,
)

from .cards import DUPLICATE, Card
from .people import Account, Address, Beneficiary
from .shared.clock import clock, to_paris
from .shared.db import BaseModel, write_transaction
from .shared.mail import OutboxEmail
from .shared.prepared import Prepared


class RequestState(StrEnum):
    DRAFT = "brouillon"
    RECORDED = "enregistrée"
    PAID = "payée"
    IN_PRODUCTION = "en fabrication"  # sent to the card factory
    SHIPPED = "expédiée"  # every card of it posted
    RETURNED = "retournée"  # a card came back to the factory
    CANCELLED = "annulée"


DRAFT = RequestState.DRAFT
RECORDED = RequestState.RECORDED
PAID = RequestState.PAID
IN_PRODUCTION = RequestState.IN_PRODUCTION
SHIPPED = RequestState.SHIPPED
RETURNED = RequestState.RETURNED
CANCELLED = RequestState.CANCELLED
OPEN_STATES = (DRAFT, RECORDED)
# Paid, whatever the factory has done since.
PAID_STATES = (PAID, IN_PRODUCTION, SHIPPED, RETURNED)

FIRST_REQUEST_NUMBER = 10000
FIRST_NEW_CARD_NUMBER = 1_000_000_000_000_001
ATTESTATION_VALIDITY_MONTHS = 3


class CardRequest(BaseModel):
    account = ForeignKeyField(Account, backref="requests", on_delete="CASCADE")
    state = CharField(default=DRAFT, index=True)
    kind = CharField(null=True)  # DUPLICATE or SECOND_COPY, chosen at « Choix de la demande »
    number = IntegerField(null=True, unique=True)
    terms_accepted_at = DateTimeField(null=True)
    # Answers of the selection page kept until confirmed: {"<card number>": "<reason>"}
    selection_json = TextField(default="{}")
    honour_declared = BooleanField(default=False)
    recorded_at = DateTimeField(null=True)
    delivery_address = ForeignKeyField(Address, null=True)
    delivery_checked_at = DateTimeField(null=True)
    paid_at = DateTimeField(null=True)
    # The confirmation email, queued once the request is paid (exactly once).
    confirmation_email = ForeignKeyField(OutboxEmail, null=True)
    # Bytes of the attestation PDF, known once built, so that a list of requests
    # can say each file's size without building every PDF again.
    attestation_size = IntegerField(null=True)
    created_at = DateTimeField(default=clock.now)
    updated_at = DateTimeField(default=clock.now)

    _prefetched_lines: list[RequestLine] | None = None

    @property
    def selection(self) -> dict[str, str]:
        return json.loads(self.selection_json or "{}")

    @property
    def is_editable(self) -> bool:
        """Answers before the confirmation may change only while a draft."""
        return self.state == DRAFT

    @property
    def is_recorded(self) -> bool:
        """Confirmed, waiting for its payment."""
        return self.state == RECORDED

    @property
    def is_paid(self) -> bool:
        return self.state in PAID_STATES

    @property
    def is_duplicate(self) -> bool:
        return self.kind == DUPLICATE

    def lines_with_cards(self) -> list[RequestLine]:
        """The request's lines with their cards and holders (one query, or none if prefetched)."""
        if self._prefetched_lines is not None:
            return self._prefetched_lines
        return _LINES_OF_REQUEST.all(self.id)


class RequestLine(BaseModel):
    """One card of a recorded request; ``active`` until the request is cancelled."""

    request = ForeignKeyField(CardRequest, backref="lines", on_delete="CASCADE")
    card = ForeignKeyField(Card, backref="request_lines")
    kind = CharField()
    reason = CharField(null=True)  # the revocation reason of a duplicate
    active = BooleanField(default=True)
    new_card = ForeignKeyField(Card, null=True)  # made once the request is paid
    # The card factory: the batch the new card was ordered in, then what the factory
    # said of it (the newest status wins; ``status_on`` is its date).
    batch = CharField(null=True, index=True)
    exported_at = DateTimeField(null=True)
    made_on = DateField(null=True)
    shipped_on = DateField(null=True)
    tracking_number = CharField(null=True)
    returned_on = DateField(null=True)
    status_on = DateField(null=True)
    # The SHA-256 of the holder's photo when the card went to the factory (see photos).
    photo = CharField(null=True)
    # The e-mails that say so, each sent once.
    shipped_email = ForeignKeyField(OutboxEmail, null=True)
    returned_email = ForeignKeyField(OutboxEmail, null=True)


# A card is in at most one live request of each kind (one duplicate request, one
# second copy), whoever asks: two parents acting for one child, two tabs.
RequestLine.add_index(
    RequestLine.index(RequestLine.card, RequestLine.kind, unique=True).where(
        RequestLine.active == True  # noqa: E712 (peewee expression)
    )
)


def _lines_query():
    # Each holder's postal address too: the delivery step shows it.
    return (
        RequestLine.select(RequestLine, Card, Beneficiary, Address)
        .join(Card, on=(RequestLine.card == Card.id))
        .join(Beneficiary)
        .join(Address, on=(Beneficiary.address == Address.id))
        .order_by(Card.number)
    )


_LINES_OF_REQUEST = Prepared(
    lambda request: _lines_query().where(RequestLine.request == request), int
)


def prefetch_lines(requests: list[CardRequest]) -> list[CardRequest]:
    """Load the lines of every request in one query (a list of requests shows them all)."""
    by_id: dict[int, list[RequestLine]] = {request.id: [] for request in requests}
    if by_id:
        for line in _lines_query().where(RequestLine.request.in_(list(by_id))):
            by_id[line.request_id].append(line)
    for request in requests:
        request._prefetched_lines = by_id[request.id]
    return requests


class Counter(BaseModel):
    """Named sequences that stay gap-free per increment and safe across processes."""

    name = CharField(primary_key=True)
    value = BigIntegerField()


def next_number(name: str, first: int) -> int:
    """Take the next value of a counter; call inside a write transaction."""
    Counter.insert(name=name, value=first - 1).on_conflict_ignore().execute()
    Counter.update(value=Counter.value + 1).where(Counter.name == name).execute()
    return Counter.get_by_id(name).value


# -- reading requests ----------------------------------------------------------------------


# With its delivery address, once chosen: the last steps show it.
_OPEN_REQUEST = Prepared(
    lambda account: (
        CardRequest.select(CardRequest, Address)
        .join(Address, JOIN.LEFT_OUTER, on=(CardRequest.delivery_address == Address.id))
        .where((CardRequest.account == account) & CardRequest.state.in_(OPEN_STATES))
        .order_by(CardRequest.id.desc())
        .limit(1)
    ),
    int,
)


def open_request(account: Account) -> CardRequest | None:
    """The request the wizard is working on, if any (at most one per account)."""
    return _OPEN_REQUEST.first(account.id)


_REQUESTS_OF = Prepared(
    lambda account: (
        CardRequest.select()
        .where((CardRequest.account == account) & CardRequest.number.is_null(False))
        .order_by(CardRequest.number.desc())
    ),
    int,
)


def requests_of(account: Account) -> list[CardRequest]:
    """The account's requests that went beyond the draft, newest first, with their lines."""
    return prefetch_lines(_REQUESTS_OF.all(account.id))


_OWNED_REQUEST = Prepared(
    lambda account, number: (
        CardRequest.select(CardRequest, Address)
        .join(Address, JOIN.LEFT_OUTER, on=(CardRequest.delivery_address == Address.id))
        .where((CardRequest.account == account) & (CardRequest.number == number))
        .limit(1)
    ),
    int,
    int,
)


def owned_request(account: Account, number: int) -> CardRequest | None:
    """A request by its number, only if it belongs to ``account``."""
    return _OWNED_REQUEST.first(account.id, number)


def recently_paid(account: Account, within_minutes: int = 60) -> CardRequest | None:
    """The request this account paid in the last hour, if any."""
    since = clock.now() - timedelta(minutes=within_minutes)
    return (
        CardRequest.select()
        .where(
            (CardRequest.account == account)
            & CardRequest.state.in_(PAID_STATES)
            & (CardRequest.paid_at >= since)
        )
        .order_by(CardRequest.paid_at.desc())
        .first()
    )


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, or the month's last day (31/08 + 3 months = 30/11)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return day.replace(
        year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1])
    )


def attestation_valid_until(request: CardRequest) -> date:
    return add_months(to_paris(request.paid_at).date(), ATTESTATION_VALIDITY_MONTHS)


# -- after payment: what the citizen receives ----------------------------------------------


def confirmation_missing(request: CardRequest) -> bool:
    """Paid, and its confirmation email not queued yet."""
    return request.is_paid and request.confirmation_email_id is None


def attach_confirmation(
    request: CardRequest, recipient: str, subject: str, text: str, html: str | None
) -> OutboxEmail | None:
    """Queue the confirmation of a paid request once, however many callers race for it.

    The provider's browser return and its notification may both arrive, and a
    server may die between paying and queueing: whoever comes next queues it.
    Returns the email to deliver, or None when it was already queued.
    """
    with write_transaction() as transaction:
        email = OutboxEmail.create(recipient=recipient, subject=subject, text=text, html=html)
        claimed = (
            CardRequest.update(confirmation_email=email)
            .where(
                (CardRequest.id == request.id)
                & CardRequest.state.in_(PAID_STATES)
                & CardRequest.confirmation_email.is_null()
            )
            .execute()
        )
        if claimed != 1:
            transaction.rollback()
            return None
    request.confirmation_email = email
    return email


def record_attestation_size(request: CardRequest, size: int) -> None:
    if request.attestation_size != size:
        CardRequest.update(attestation_size=size).where(CardRequest.id == request.id).execute()
        request.attestation_size = size
