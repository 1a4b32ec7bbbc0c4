"""A request for duplicates or second copies: the draft the wizard fills, then its record.

A request moves forward only: draft -> recorded (the user confirmed: cards
revoked, lines written, number given) -> paid; or -> cancelled. Each move is a
conditional UPDATE checked by its row count, so a double click, a second tab
or a second server process can never apply it twice.
"""

from __future__ import annotations

import calendar
import json
from datetime import date, timedelta

from peewee import (
    BigIntegerField,
    BooleanField,
    CharField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    IntegrityError,
    TextField,
)

from .cards import DUPLICATE, REVOCATION_REASONS, SECOND_COPY, Card, eligible_cards
from .clock import clock, to_paris
from .db import BaseModel, database, write_transaction
from .people import Account, Address

DRAFT = "brouillon"
RECORDED = "enregistrée"
PAID = "payée"
CANCELLED = "annulée"
OPEN_STATES = (DRAFT, RECORDED)

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
    created_at = DateTimeField(default=clock.now)
    updated_at = DateTimeField(default=clock.now)

    @property
    def selection(self) -> dict[str, str]:
        return json.loads(self.selection_json or "{}")

    @property
    def is_editable(self) -> bool:
        """Answers before the confirmation may change only while a draft."""
        return self.state == DRAFT

    @property
    def is_duplicate(self) -> bool:
        return self.kind == DUPLICATE

    @property
    def is_paid(self) -> bool:
        return self.state == PAID

    def lines_with_cards(self) -> list[RequestLine]:
        return list(
            RequestLine.select(RequestLine, Card)
            .join(Card, on=(RequestLine.card == Card.id))
            .where(RequestLine.request == self)
            .order_by(Card.number)
        )


class RequestLine(BaseModel):
    """One card of a recorded request; ``active`` until the request is cancelled."""

    request = ForeignKeyField(CardRequest, backref="lines", on_delete="CASCADE")
    card = ForeignKeyField(Card, backref="request_lines")
    kind = CharField()
    reason = CharField(null=True)  # the revocation reason of a duplicate
    active = BooleanField(default=True)
    new_card = ForeignKeyField(Card, null=True)  # made once the request is paid


# A card is in at most one live request of each kind (one duplicate request, one
# second copy), whoever asks: two parents acting for one child, two tabs.
RequestLine.add_index(
    RequestLine.index(RequestLine.card, RequestLine.kind, unique=True).where(
        RequestLine.active == True  # noqa: E712 (peewee expression)
    )
)


class Counter(BaseModel):
    """Named sequences that stay gap-free per increment and safe across processes."""

    name = CharField(primary_key=True)
    value = BigIntegerField()


def next_number(name: str, first: int) -> int:
    """Take the next value of a counter; call inside a write transaction."""
    Counter.insert(name=name, value=first - 1).on_conflict_ignore().execute()
    Counter.update(value=Counter.value + 1).where(Counter.name == name).execute()
    return Counter.get_by_id(name).value


# -- the wizard's draft ------------------------------------------------------------------


def open_request(account: Account) -> CardRequest | None:
    """The request the wizard is working on, if any (at most one per account)."""
    return (
        CardRequest.select()
        .where((CardRequest.account == account) & CardRequest.state.in_(OPEN_STATES))
        .order_by(CardRequest.id.desc())
        .first()
    )


def start_or_resume(account: Account) -> CardRequest:
    with write_transaction():
        found = open_request(account)
        if found is not None:
            return found
        return CardRequest.create(account=account)


def _update_draft(request: CardRequest, **changes) -> bool:
    """Change answers of a draft; False if it is no longer a draft."""
    changes["updated_at"] = clock.now()
    updated = (
        CardRequest.update(**changes)
        .where((CardRequest.id == request.id) & (CardRequest.state == DRAFT))
        .execute()
    )
    if updated == 1:
        for field, value in changes.items():
            setattr(request, field, value)
    return updated == 1


def accept_terms(request: CardRequest) -> bool:
    return _update_draft(request, terms_accepted_at=clock.now())


def choose_kind(request: CardRequest, kind: str) -> bool:
    if kind not in (DUPLICATE, SECOND_COPY):
        raise ValueError(kind)
    changes = {"kind": kind}
    if kind != request.kind:
        # A different kind lists different cards: the earlier selection no longer applies.
        changes.update(selection_json="{}", honour_declared=False)
    return _update_draft(request, **changes)


def save_selection(request: CardRequest, selection: dict[str, str], honour: bool) -> bool:
    return _update_draft(
        request,
        selection_json=json.dumps(selection, sort_keys=True),
        honour_declared=honour,
    )


class SelectionError(Exception):
    """The selection cannot be recorded any more (a card changed meanwhile)."""


def record(request: CardRequest, today: date) -> bool:
    """« Oui »: revoke the selected cards (duplicata), write the lines, give a number.

    All in one transaction, and exactly once: the draft -> recorded move is a
    conditional update; a second call (double click, other tab) changes
    nothing and returns False. Raises SelectionError, changing nothing, when a
    selected card may no longer be ordered (e.g. another account ordered it).
    """
    with write_transaction():
        moved = (
            CardRequest.update(state=RECORDED, recorded_at=clock.now(), updated_at=clock.now())
            .where(
                (CardRequest.id == request.id)
                & (CardRequest.state == DRAFT)
                & CardRequest.terms_accepted_at.is_null(False)
                & CardRequest.kind.is_null(False)
                & (CardRequest.honour_declared == True)  # noqa: E712
            )
            .execute()
        )
        if moved != 1:
            return False
        request = CardRequest.get_by_id(request.id)
        selection = request.selection
        allowed = {
            card.number: card for card in eligible_cards(request.account, request.kind, today).cards
        }
        if not selection or not set(selection) <= set(allowed):
            raise SelectionError("a selected card may no longer be ordered")
        for number, reason in sorted(selection.items()):
            card = allowed[number]
            if request.kind == DUPLICATE:
                if reason not in REVOCATION_REASONS:
                    raise SelectionError("missing revocation reason")
                # A card revoked earlier (lost, then payment abandoned) keeps its first
                # revocation; a valid one is revoked today, once.
                Card.update(revoked_on=today, revocation_reason=reason).where(
                    (Card.id == card.id) & Card.revoked_on.is_null()
                ).execute()
            try:
                with database.atomic():
                    RequestLine.create(
                        request=request,
                        card=card,
                        kind=request.kind,
                        reason=reason if request.kind == DUPLICATE else None,
                    )
            except IntegrityError as error:
                # Someone else's live request holds this card (two parents at once).
                raise SelectionError("the card is already in another request") from error
        delivery = request.delivery_address
        if delivery is None:
            first_card = allowed[min(selection)]
            delivery = first_card.beneficiary.delivery_address.copy()
        CardRequest.update(
            number=next_number("request", FIRST_REQUEST_NUMBER),
            delivery_address=delivery,
        ).where(CardRequest.id == request.id).execute()
        return True


# -- delivery (the request is recorded; its address may still change until paid) -------


def check_delivery(request: CardRequest) -> bool:
    """« L'adresse de livraison est correcte : Oui »."""
    return (
        CardRequest.update(delivery_checked_at=clock.now(), updated_at=clock.now())
        .where((CardRequest.id == request.id) & (CardRequest.state == RECORDED))
        .execute()
        == 1
    )


def change_delivery(request: CardRequest, address: dict[str, str], remember: bool) -> bool:
    """Store the corrected address on the request; on the beneficiaries only if asked."""
    with write_transaction():
        if not check_delivery(request):
            return False
        Address.update(**address).where(Address.id == request.delivery_address_id).execute()
        if remember:
            for line in request.lines_with_cards():
                Address.update(**address).where(
                    Address.id == line.card.beneficiary.delivery_address_id
                ).execute()
        return True


# -- after payment ---------------------------------------------------------------------


def make_new_cards(request: CardRequest) -> list[Card]:
    """The cards to manufacture, recorded « en fabrication » (call once, when paid).

    A duplicate keeps the mention, sub-mentions and validity of the card it
    replaces, with a new number; a second copy is the same card, new number.
    """
    made = []
    for line in request.lines_with_cards():
        original = line.card
        number = next_number("card", FIRST_NEW_CARD_NUMBER)
        card = Card.create(
            number=f"{number:016d}",
            beneficiary=original.beneficiary_id,
            mention=original.mention,
            needs_companion=original.needs_companion,
            blindness=original.blindness,
            valid_from=original.valid_from,
            valid_until=original.valid_until,
            replaces=original if line.kind == DUPLICATE else None,
            copy_of=original if line.kind == SECOND_COPY else None,
            in_production=True,
        )
        RequestLine.update(new_card=card).where(RequestLine.id == line.id).execute()
        made.append(card)
    return made


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, or the month's last day (31/08 + 3 months = 30/11)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return day.replace(
        year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1])
    )


def attestation_valid_until(request: CardRequest) -> date:
    return add_months(to_paris(request.paid_at).date(), ATTESTATION_VALIDITY_MONTHS)


def requests_of(account: Account) -> list[CardRequest]:
    """The account's requests that went beyond the draft, newest first."""
    return list(
        CardRequest.select()
        .where((CardRequest.account == account) & CardRequest.number.is_null(False))
        .order_by(CardRequest.number.desc())
    )


def owned_request(account: Account, number: int) -> CardRequest | None:
    """A request by its number, only if it belongs to ``account``."""
    return CardRequest.get_or_none(
        (CardRequest.account == account) & (CardRequest.number == number)
    )


def recently_paid(account: Account, within_minutes: int = 60) -> CardRequest | None:
    """The request this account paid in the last hour, if any."""
    since = clock.now() - timedelta(minutes=within_minutes)
    return (
        CardRequest.select()
        .where(
            (CardRequest.account == account)
            & (CardRequest.state == PAID)
            & (CardRequest.paid_at >= since)
        )
        .order_by(CardRequest.paid_at.desc())
        .first()
    )
