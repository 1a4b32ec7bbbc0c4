"""Cards as manufactured: what each one is and its state on a given day.

Which cards may be ordered again is decided in ``eligibility``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from peewee import BooleanField, CharField, DateField, ForeignKeyField

from .people import Beneficiary
from .shared.db import BaseModel
from .shared.i18n import _, lazy_gettext, short_date

# The mentions as the CMI database records them (data: the factory's file says them
# so too); the pages name them in the reader's language (MENTION_LABELS).
INVALIDITE = "Invalidité"
PRIORITE = "Priorité"
STATIONNEMENT = "Stationnement"
MENTIONS = (INVALIDITE, PRIORITE, STATIONNEMENT)
MENTION_LABELS = {
    INVALIDITE: lazy_gettext("Invalidité"),
    PRIORITE: lazy_gettext("Priorité"),
    STATIONNEMENT: lazy_gettext("Stationnement"),
}
# The sub-mentions, likewise: the database's words, and the pages' words.
NEEDS_COMPANION = "besoin d'accompagnement"
BLINDNESS = "cécité"
SUB_MENTION_LABELS = {
    NEEDS_COMPANION: lazy_gettext("besoin d'accompagnement"),
    BLINDNESS: lazy_gettext("cécité"),
}

# The three revocation reasons a duplicate may be asked for, as the CMI database
# records them (the keys: data, also the values the forms send), and as the pages
# say them (« carte », the plain word, not « titre »), translated when shown.
REASON_LABELS = {
    "Titre perdu": lazy_gettext("Carte perdue"),
    "Titre volé": lazy_gettext("Carte volée"),
    "Titre détruit ou détérioré": lazy_gettext("Carte détruite ou détériorée"),
}
REVOCATION_REASONS = tuple(REASON_LABELS)


def reason_label(reason: str | None) -> str:
    return str(REASON_LABELS.get(reason or "", reason or ""))


# What an old-format card (not a CMI) is called, by the right it carries.
OLD_FORMAT_NAMES = {
    INVALIDITE: lazy_gettext("Carte d'invalidité (ancien format)"),
    PRIORITE: lazy_gettext("Carte de priorité (ancien format)"),
    STATIONNEMENT: lazy_gettext("Carte européenne de stationnement (ancien format)"),
}

# The old-format cards (orange, mauve, blue) are valid until their own end date, and
# never after this day, whatever the CMI database says (no end date: « à titre
# définitif », or a later one): from the day after, only the CMI is.
OLD_CARDS_VALID_UNTIL = date(2026, 12, 31)


def last_valid_day(valid_until: date | None, old_format: bool) -> date | None:
    """The last day a card is valid: its end date, never after ``OLD_CARDS_VALID_UNTIL``
    for an old-format card. None: a CMI « à titre définitif ». (A row of the CMI
    database's extract can be judged with it, before any card is made of it.)"""
    if not old_format:
        return valid_until
    if valid_until is None:
        return OLD_CARDS_VALID_UNTIL
    return min(valid_until, OLD_CARDS_VALID_UNTIL)


def old_cards_days_left(today: date) -> int | None:
    """Days from ``today`` to the old cards' last day (0: today is that day); None once
    it has gone by."""
    left = (OLD_CARDS_VALID_UNTIL - today).days
    return left if left >= 0 else None


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
    def last_valid_day(self) -> date | None:
        """Its end date, an old-format card's cut at ``OLD_CARDS_VALID_UNTIL`` (None:
        « à titre définitif », a CMI only)."""
        return last_valid_day(self.valid_until, self.old_format)

    @property
    def is_permanent(self) -> bool:
        return self.last_valid_day is None

    @property
    def sub_mentions(self) -> list[str]:
        """As the database says them (data, for the factory): never translated."""
        subs = []
        if self.needs_companion:
            subs.append(NEEDS_COMPANION)
        if self.blindness:
            subs.append(BLINDNESS)
        return subs

    @property
    def title(self) -> str:
        """ "Type de titre" as shown to the user, in the reader's language."""
        if self.old_format:
            return str(OLD_FORMAT_NAMES[self.mention])
        mention = str(MENTION_LABELS[self.mention])
        if self.sub_mentions:
            subs = ", ".join(str(SUB_MENTION_LABELS[sub]) for sub in self.sub_mentions)
            return f"{mention} ({subs})"
        return mention

    @property
    def valid_until_label(self) -> str:
        """« Date de fin de validité » as shown: a date, or « À titre définitif » (never
        for an old-format card: 31/12/2026 at the latest)."""
        last = self.last_valid_day
        return short_date(last) if last else _("À titre définitif")

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
        last = self.last_valid_day
        if last is not None and day > last:
            return CardState.EXPIRED
        return CardState.VALID

    def within_validity(self, day: date) -> bool:
        last = self.last_valid_day
        return self.valid_from <= day and (last is None or day <= last)

    def state_label(self, day: date) -> str:
        """The state in words, with its date where it has one."""
        state = self.state_on(day)
        if state is CardState.REVOKED:
            revoked_on = short_date(self.revoked_on)
            if self.revocation_reason:
                return _(
                    "Révoquée le %(date)s (%(reason)s)",
                    date=revoked_on,
                    reason=reason_label(self.revocation_reason),
                )
            return _("Révoquée le %(date)s", date=revoked_on)
        if state is CardState.EXPIRED:
            if self.old_format:
                return _(
                    "N'est plus valable depuis le %(date)s", date=short_date(self.last_valid_day)
                )
            return _("Expirée le %(date)s", date=short_date(self.last_valid_day))
        if state is CardState.NOT_YET_VALID:
            return _("Valide à partir du %(date)s", date=short_date(self.valid_from))
        if state is CardState.IN_PRODUCTION:
            return _("En fabrication")
        if self.old_format:
            return _("Valide (ancien format)")
        return _("Valide")


@dataclass(frozen=True)
class OldCards:
    """Where the old-format cards among some cards stand on a day: what the pages say of
    them (their end, the days left to ask for a CMI before it), built from the rule."""

    count: int  # the old-format cards
    # While one of them is valid: the soonest last day among the valid ones. Once none
    # is: the last day the last of them was valid.
    until: date
    # Days from the day to ``until`` while one is valid (0: the last day); None after.
    days_left: int | None
    # What is said of ``until`` is said of every one of them (all valid and ending then,
    # or all ended): « vos cartes », rather than « une de vos cartes ».
    together: bool

    @property
    def still_valid(self) -> bool:
        return self.days_left is not None

    @property
    def cut_by_the_old_cards_end(self) -> bool:
        """``until`` is the old cards' end (31/12/2026), not a date of the cards' own."""
        return self.until == OLD_CARDS_VALID_UNTIL


def old_cards(cards: list[Card], day: date) -> OldCards | None:
    """The old-format cards among ``cards`` on ``day``; None if there are none."""
    old = [card for card in cards if card.old_format]
    if not old:
        return None
    ended = {CardState.EXPIRED, CardState.REVOKED}
    valid = [card for card in old if card.state_on(day) not in ended]
    if valid:
        until = min(card.last_valid_day for card in valid)
        together = len(valid) == len(old) and all(c.last_valid_day == until for c in valid)
        return OldCards(len(old), until, (until - day).days, together)
    return OldCards(len(old), max(_ended_on(card, day) for card in old), None, True)


def _ended_on(card: Card, day: date) -> date:
    """The last day an old-format card was valid (the eve of its revocation, or its own
    last day): the pages say it « n'est plus valable depuis » that day."""
    if card.state_on(day) is CardState.REVOKED:
        return card.revoked_on - timedelta(days=1)
    return card.last_valid_day
