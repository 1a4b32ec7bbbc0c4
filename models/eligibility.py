"""Which cards an account may order a duplicate or a second copy of, and why none.

The rules of the source documents, in one place:
- a duplicate: a valid CMI, or a revoked one for which no duplicate was made
  or asked for since, within its validity (a duplicate keeps it);
- a second copy: a valid Stationnement CMI of a natural person, copied at
  most once, never a copy of a copy;
- an old-format card, never: its holder asks the MDPH for a CMI, and is told
  how long the old card stays valid (``old_cards``).

Everything the rules need is read once per account (``account_cards``: two
queries), then every card is judged in memory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from .cards import DUPLICATE, SECOND_COPY, STATIONNEMENT, Card, CardState, OldCards, old_cards
from .people import Beneficiary, Mandate
from .requests import RequestLine
from .shared.prepared import Prepared


@dataclass(frozen=True)
class AccountCards:
    """The cards of every beneficiary an account acts for, and what is ordered for them."""

    cards: list[Card]
    # (card id, kind) of every live request line on these cards.
    live_lines: frozenset[tuple[int, str]] = frozenset()
    _replaced: set[int] = field(init=False, repr=False, default_factory=set)
    _copied: set[int] = field(init=False, repr=False, default_factory=set)

    def __post_init__(self) -> None:
        # A duplicate or a second copy is made for the same beneficiary: it is in ``cards``.
        self._replaced.update(card.replaces_id for card in self.cards if card.replaces_id)
        self._copied.update(card.copy_of_id for card in self.cards if card.copy_of_id)

    def has_duplicate(self, card: Card) -> bool:
        """A duplicate was made, or a live request for one exists."""
        return card.id in self._replaced or (card.id, DUPLICATE) in self.live_lines

    def has_second_copy(self, card: Card) -> bool:
        """A second copy was made, or a live request for one exists."""
        return card.id in self._copied or (card.id, SECOND_COPY) in self.live_lines

    def of(self, beneficiary: Beneficiary) -> list[Card]:
        return [card for card in self.cards if card.beneficiary_id == beneficiary.id]


_CARDS_OF_ACCOUNT = Prepared(
    lambda account: (
        Card.select(Card, Beneficiary)
        .join(Beneficiary)
        .join(Mandate, on=(Mandate.beneficiary == Beneficiary.id))
        .where(Mandate.account == account)
        .order_by(Beneficiary.number, Card.number)
    ),
    int,
)
# (card id, kind) of every live request line naming one of the account's cards.
_LIVE_LINES_OF_ACCOUNT = Prepared(
    lambda account: (
        RequestLine.select(RequestLine.card, RequestLine.kind)
        .join(Card, on=(RequestLine.card == Card.id))
        .join(Mandate, on=(Mandate.beneficiary == Card.beneficiary))
        .where(RequestLine.active & (Mandate.account == account))
        .tuples()
    ),
    int,
)


def account_cards(account) -> AccountCards:
    """Every card of every beneficiary ``account`` acts for, in table order."""
    cards = _CARDS_OF_ACCOUNT.all(account.id)
    if not cards:
        return AccountCards([])
    return AccountCards(cards, frozenset(_LIVE_LINES_OF_ACCOUNT.rows(account.id)))


def may_get_duplicate(card: Card, held: AccountCards, day: date) -> bool:
    """A valid CMI, or a revoked one whose duplicate was never ordered.

    A revoked card stays eligible until a duplicate replaces it, so that a
    user who revoked a card and then abandoned the payment can come back and
    finish. A duplicate keeps the validity of the card it replaces, so a card
    past its end date gets none.
    """
    if not card.is_cmi or not card.within_validity(day):
        return False
    state = card.state_on(day)
    if state is CardState.VALID:
        return True
    return state is CardState.REVOKED and not held.has_duplicate(card)


def may_get_second_copy(card: Card, held: AccountCards, day: date) -> bool:
    """Only a valid Stationnement CMI of a natural person, copied at most once."""
    return (
        card.is_cmi
        and card.mention == STATIONNEMENT
        and card.beneficiary.is_natural_person
        and card.copy_of_id is None
        and card.state_on(day) is CardState.VALID
        and not held.has_second_copy(card)
    )


# Why a table would be empty, most specific first; the views word each one.
NO_CARD = "no_card"
ONLY_OLD_FORMAT = "only_old_format"
ONLY_EXPIRED = "only_expired"
LEGAL_PERSON_ONLY = "legal_person_only"
NO_PARKING_CARD = "no_parking_card"
ALREADY_COPIED = "already_copied"
NOTHING_ELIGIBLE = "nothing_eligible"


@dataclass(frozen=True)
class Eligibility:
    """The cards an account may order for, or why there are none; and where its
    old-format cards stand (None: it holds none), which are never ordered here."""

    cards: list[Card]
    reason_if_none: str | None
    old_cards: OldCards | None = None

    def __bool__(self) -> bool:
        return bool(self.cards)

    def by_number(self) -> dict[str, Card]:
        return {card.number: card for card in self.cards}


RULES = {DUPLICATE: may_get_duplicate, SECOND_COPY: may_get_second_copy}


def eligible(held: AccountCards, kind: str, day: date) -> Eligibility:
    """The cards of ``held`` that may get a ``kind`` on ``day``."""
    if kind not in RULES:
        raise ValueError(f"unknown request kind {kind!r}")
    chosen = [card for card in held.cards if RULES[kind](card, held, day)]
    old = old_cards(held.cards, day)
    if chosen:
        return Eligibility(chosen, None, old)
    return Eligibility([], _why_none(held, kind, day), old)


def eligible_cards(account, kind: str, day: date) -> Eligibility:
    """The cards ``account`` may order a duplicate (or a second copy) of on ``day``."""
    return eligible(account_cards(account), kind, day)


def _why_none(held: AccountCards, kind: str, day: date) -> str:
    if not held.cards:
        return NO_CARD
    cmis = [card for card in held.cards if card.is_cmi]
    if not cmis:
        return ONLY_OLD_FORMAT
    if kind == SECOND_COPY:
        parking = [card for card in cmis if card.mention == STATIONNEMENT]
        if not parking:
            return NO_PARKING_CARD
        if not any(card.beneficiary.is_natural_person for card in parking):
            return LEGAL_PERSON_ONLY
        if any(held.has_second_copy(card) or card.copy_of_id for card in parking):
            return ALREADY_COPIED
    if all(card.state_on(day) is CardState.EXPIRED for card in cmis):
        return ONLY_EXPIRED
    return NOTHING_ELIGIBLE
