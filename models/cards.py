"""Cards as manufactured: what each one is and its state on a given day.

Which cards may be ordered again is decided in ``eligibility``."""

from __future__ import annotations

import re
from datetime import date
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
        """« Date de fin de validité » as shown: a date, or « À titre définitif »."""
        return short_date(self.valid_until) if self.valid_until else _("À titre définitif")

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
            return _("Expirée le %(date)s", date=short_date(self.valid_until))
        if state is CardState.NOT_YET_VALID:
            return _("Valide à partir du %(date)s", date=short_date(self.valid_from))
        if state is CardState.IN_PRODUCTION:
            return _("En fabrication")
        if self.old_format:
            return _("Valide (ancien format)")
        return _("Valide")
