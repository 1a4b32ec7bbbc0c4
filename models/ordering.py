"""The moves of a request: the citizen's answers, « Oui », the delivery, the new cards.

Each move is a conditional UPDATE checked by its row count, so a double click,
a second tab or a second server process can never apply it twice.
"""

from __future__ import annotations

import json
from datetime import date

from peewee import IntegrityError

from .cards import DUPLICATE, REVOCATION_REASONS, SECOND_COPY, Card
from .eligibility import eligible_cards
from .people import Account, Address
from .requests import (
    DRAFT,
    FIRST_NEW_CARD_NUMBER,
    FIRST_REQUEST_NUMBER,
    RECORDED,
    CardRequest,
    RequestLine,
    next_number,
    open_request,
)
from .shared.clock import clock
from .shared.db import database, write_transaction

# -- the wizard's draft ------------------------------------------------------------------


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
        allowed = eligible_cards(request.account, request.kind, today).by_number()
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
    """« L'adresse de livraison est-elle correcte ? Oui »."""
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
