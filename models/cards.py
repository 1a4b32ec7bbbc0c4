"""Cards as manufactured: what each one is and its state on a given day.

Which cards may be ordered again is decided in ``eligibility``."""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum

from peewee import BooleanField, CharField, DateField, ForeignKeyField

from .people import Beneficiary
from .shared.db import BaseModel

INVALIDITE = "Invalidité"
PRIORITE = "Priorité"
STATIONNEMENT = "Stationnement"
MENTIONS = (INVALIDITE, PRIORITE, STATIONNEMENT)

# The three revocation reasons a duplicate may be asked for, as the CMI database
# records them, and as the pages say them (« carte », the plain word, not « titre »).
REASON_LABELS = {
    "Titre perdu": "Carte perdue",
    "Titre volé": "Carte volée",
    "Titre détruit ou détérioré": "Carte détruite ou détériorée",
}
REVOCATION_REASONS = tuple(REASON_LABELS)


def reason_label(reason: str | None) -> str:
    return REASON_LABELS.get(reason or "", reason or "")


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

    def state_label(self, day: date) -> str:
        """The state in words, with its date where it has one."""
        state = self.state_on(day)
        if state is CardState.REVOKED:
            label = f"Révoquée le {self.revoked_on:%d/%m/%Y}"
            if self.revocation_reason:
                label += f" ({reason_label(self.revocation_reason)})"
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
