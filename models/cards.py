"""Cards and the rules that decide what may be ordered for each of them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from peewee import BooleanField, CharField, DateField, ForeignKeyField

from .db import BaseModel
from .people import Beneficiary

INVALIDITE = "Invalidité"
PRIORITE = "Priorité"
STATIONNEMENT = "Stationnement"
MENTIONS = (INVALIDITE, PRIORITE, STATIONNEMENT)

# The three revocation reasons a duplicate may be asked for.
REVOCATION_REASONS = ("Titre perdu", "Titre volé", "Titre détruit ou détérioré")

# What an old-format card (not a CMI) is called, by the right it carries.
OLD_FORMAT_NAMES = {
    INVALIDITE: "Carte d'invalidité (ancien format)",
    PRIORITE: "Carte de priorité (ancien format)",
    STATIONNEMENT: "Carte européenne de stationnement (ancien format)",
}

CMI_NUMBER = re.compile(r"\d{16}")

# The two kinds of request.
DUPLICATE = "duplicata"
SECOND_COPY = "second_exemplaire"


class CardState(StrEnum):
    VALID = "valide"
    NOT_YET_VALID = "pas encore valide"
    EXPIRED = "expirée"
    REVOKED = "révoquée"
    IN_PRODUCTION = "en fabrication"


class Card(BaseModel):
    """A card as manufactured: a CMI (16-digit number) or an old-format card."""

    number = CharField(unique=True)
    beneficiary = ForeignKeyField(Beneficiary, backref="cards", on_delete="CASCADE")
    mention = CharField()
    needs_companion = BooleanField(default=False)  # "besoin d'accompagnement"
    blindness = BooleanField(default=False)  # "cécité"
    valid_from = DateField()
    valid_until = DateField(null=True)  # None: "à titre définitif"
    old_format = BooleanField(default=False)
    revoked_on = DateField(null=True)
    revocation_reason = CharField(null=True)
    replaces = ForeignKeyField("self", null=True, backref="duplicates")
    copy_of = ForeignKeyField("self", null=True, backref="second_copies")
    in_production = BooleanField(default=False)

    def save(self, *args, **kwargs):
        if self.mention not in MENTIONS:
            raise ValueError(f"unknown mention {self.mention!r}")
        if not self.old_format and not CMI_NUMBER.fullmatch(self.number):
            raise ValueError("a CMI number has 16 digits")
        return super().save(*args, **kwargs)

    # -- what the card is -------------------------------------------------

    @property
    def is_cmi(self) -> bool:
        return not self.old_format

    @property
    def is_permanent(self) -> bool:
        return self.valid_until is None

    @property
    def sub_mentions(self) -> list[str]:
        subs = []
        if self.needs_companion:
            subs.append("besoin d'accompagnement")
        if self.blindness:
            subs.append("cécité")
        return subs

    @property
    def title(self) -> str:
        """ "Type de titre" as shown to the user."""
        if self.old_format:
            return OLD_FORMAT_NAMES[self.mention]
        if self.sub_mentions:
            return f"{self.mention} ({', '.join(self.sub_mentions)})"
        return self.mention

    @property
    def valid_until_label(self) -> str:
        """« Date de fin de validité » as shown: a date, or « À titre définitif »."""
        return self.valid_until.strftime("%d/%m/%Y") if self.valid_until else "À titre définitif"

    @property
    def spaced_number(self) -> str:
        """The number in groups of four, easier to read and to hear."""
        if self.old_format:
            return self.number
        return " ".join(self.number[i : i + 4] for i in range(0, 16, 4))

    # -- the rules --------------------------------------------------------

    def state_on(self, day: date) -> CardState:
        if self.in_production:
            return CardState.IN_PRODUCTION
        if self.revoked_on is not None and self.revoked_on <= day:
            return CardState.REVOKED
        if day < self.valid_from:
            return CardState.NOT_YET_VALID
        if self.valid_until is not None and day > self.valid_until:
            return CardState.EXPIRED
        return CardState.VALID

    def within_validity(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_until is None or day <= self.valid_until)

    def _live_request_line(self, kind: str) -> bool:
        from .requests import RequestLine  # requests build on cards

        return (
            RequestLine.select()
            .where((RequestLine.card == self) & (RequestLine.kind == kind) & RequestLine.active)
            .exists()
        )

    def has_duplicate(self) -> bool:
        """A duplicate was made, or a live request for one exists."""
        return Card.select().where(Card.replaces == self).exists() or self._live_request_line(
            DUPLICATE
        )

    def has_second_copy(self) -> bool:
        """A second copy was made, or a live request for one exists."""
        return Card.select().where(Card.copy_of == self).exists() or self._live_request_line(
            SECOND_COPY
        )

    def may_get_duplicate(self, day: date) -> bool:
        """A valid CMI, or a revoked one whose duplicate was never ordered.

        A revoked card stays eligible until a duplicate replaces it, so that a
        user who revoked a card and then abandoned the payment can come back
        and finish. A duplicate keeps the validity of the card it replaces, so
        a card past its end date gets none.
        """
        if not self.is_cmi or not self.within_validity(day):
            return False
        state = self.state_on(day)
        if state is CardState.VALID:
            return True
        return state is CardState.REVOKED and not self.has_duplicate()

    def may_get_second_copy(self, day: date) -> bool:
        """Only a valid Stationnement CMI of a natural person, copied at most once."""
        return (
            self.is_cmi
            and self.mention == STATIONNEMENT
            and self.beneficiary.is_natural_person
            and self.copy_of_id is None
            and self.state_on(day) is CardState.VALID
            and not self.has_second_copy()
        )

    def state_label(self, day: date) -> str:
        """The state in words, with its date where it has one."""
        state = self.state_on(day)
        if state is CardState.REVOKED:
            label = f"Révoquée le {self.revoked_on:%d/%m/%Y}"
            if self.revocation_reason:
                label += f" ({self.revocation_reason})"
            return label
        if state is CardState.EXPIRED:
            return f"Expirée le {self.valid_until:%d/%m/%Y}"
        if state is CardState.NOT_YET_VALID:
            return f"Valide à partir du {self.valid_from:%d/%m/%Y}"
        if state is CardState.IN_PRODUCTION:
            return "En fabrication"
        if self.old_format:
            return "Valide (ancien format)"
        return "Valide"


@dataclass(frozen=True)
class Eligibility:
    """The cards an account may order for, or why there are none."""

    cards: list[Card]
    reason_if_none: str | None

    def __bool__(self) -> bool:
        return bool(self.cards)


# Why a table would be empty, most specific first; the views word each one.
NO_CARD = "no_card"
ONLY_OLD_FORMAT = "only_old_format"
ONLY_EXPIRED = "only_expired"
LEGAL_PERSON_ONLY = "legal_person_only"
NO_PARKING_CARD = "no_parking_card"
ALREADY_COPIED = "already_copied"
NOTHING_ELIGIBLE = "nothing_eligible"


def cards_of(account) -> list[Card]:
    """Every card of every beneficiary the account acts for, in table order."""
    beneficiaries = list(account.beneficiaries())
    if not beneficiaries:
        return []
    return list(
        Card.select(Card, Beneficiary)
        .join(Beneficiary)
        .where(Card.beneficiary.in_(beneficiaries))
        .order_by(Beneficiary.number, Card.number)
    )


def eligible_cards(account, kind: str, day: date, cards: list[Card] | None = None) -> Eligibility:
    """The cards ``account`` may order a duplicate (or a second copy) of on ``day``.

    ``cards``: the account's cards when the caller already has them.
    """
    cards = cards_of(account) if cards is None else cards
    if kind == DUPLICATE:
        chosen = [card for card in cards if card.may_get_duplicate(day)]
    elif kind == SECOND_COPY:
        chosen = [card for card in cards if card.may_get_second_copy(day)]
    else:
        raise ValueError(f"unknown request kind {kind!r}")
    if chosen:
        return Eligibility(chosen, None)
    return Eligibility([], _why_none(cards, kind, day))


def _why_none(cards: list[Card], kind: str, day: date) -> str:
    if not cards:
        return NO_CARD
    cmis = [card for card in cards if card.is_cmi]
    if not cmis:
        return ONLY_OLD_FORMAT
    if kind == SECOND_COPY:
        parking = [card for card in cmis if card.mention == STATIONNEMENT]
        if not parking:
            return NO_PARKING_CARD
        if not any(card.beneficiary.is_natural_person for card in parking):
            return LEGAL_PERSON_ONLY
        if any(card.has_second_copy() or card.copy_of_id for card in parking):
            return ALREADY_COPIED
    if all(card.state_on(day) is CardState.EXPIRED for card in cmis):
        return ONLY_EXPIRED
    return NOTHING_ELIGIBLE
