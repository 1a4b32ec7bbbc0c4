"""The selection table's form: one checkbox (and, for a duplicate, one reason) per card."""

from __future__ import annotations

from typing import ClassVar

from wtforms import BooleanField

from models.cards import DUPLICATE, REVOCATION_REASONS, Card

from ..shared.forms import Form, TextField

NOTHING_SELECTED = (
    "Sélectionnez au moins une carte en cochant sa case dans la colonne « Sélection »"
)
MISSING_REASON = (
    "choisissez dans la liste « Motif » pourquoi vous la remplacez : perdue, volée, ou "
    "détruite ou détériorée"
)
REASON_WITHOUT_CARD = (
    "vous avez choisi un motif sans cocher la carte. Cochez-la pour demander son "
    "duplicata, ou remettez « Choisir un motif » pour ne pas la remplacer"
)
UNKNOWN_REASON = "choisissez un des trois motifs de la liste « Motif »"
HONOUR = (
    "Vous devez déclarer sur l'honneur que les informations fournies sont exactes : "
    "cochez la case pour continuer."
)


class SelectionFormBase(Form):
    cards: ClassVar[list[Card]] = []
    kind: ClassVar[str] = DUPLICATE

    def select_field(self, card: Card):
        return self[f"select_{card.number}"]

    def reason_field(self, card: Card):
        return self[f"reason_{card.number}"] if self.kind == DUPLICATE else None

    def chosen(self) -> dict[str, str]:
        """The selected cards and their reasons, as stored in the draft."""
        chosen = {}
        for card in self.cards:
            if self.select_field(card).data:
                reason = self.reason_field(card)
                value = reason.data if reason is not None else ""
                chosen[card.number] = value if value in REVOCATION_REASONS else ""
        return chosen

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        selected = 0
        for card in self.cards:
            checkbox = self.select_field(card)
            reason = self.reason_field(card)
            # Each message says which card it is about, even when there is one.
            prefix = f"Carte n° {card.spaced_number} : "
            if checkbox.data:
                selected += 1
            if reason is None:
                continue
            if reason.data and reason.data not in REVOCATION_REASONS:
                reason.errors.append(prefix + UNKNOWN_REASON)
            elif checkbox.data and not reason.data:
                reason.errors.append(prefix + MISSING_REASON)
            elif reason.data and not checkbox.data:
                checkbox.errors.append(prefix + REASON_WITHOUT_CARD)
        if not selected and not any(self.select_field(c).errors for c in self.cards):
            self.select_field(self.cards[0]).errors.append(NOTHING_SELECTED)
        if not self.honour.data:
            self.honour.errors.append(HONOUR)
        return valid and not self.errors


def selection_form(cards: list[Card], kind: str, **kwargs) -> SelectionFormBase:
    """A form class with one row of fields per eligible card, then an instance of it."""

    class SelectionForm(SelectionFormBase):
        pass

    SelectionForm.cards = cards
    SelectionForm.kind = kind
    for card in cards:
        setattr(SelectionForm, f"select_{card.number}", BooleanField("Sélectionner"))
        if kind == DUPLICATE:
            # Options come from REVOCATION_REASONS in the template; validate() checks them.
            setattr(SelectionForm, f"reason_{card.number}", TextField("Motif"))
    # Added last so that errors are listed in the order of the page.
    SelectionForm.honour = BooleanField(
        "Je déclare sur l'honneur que les informations fournies ci-dessus sont exactes."
    )
    return SelectionForm(**kwargs)


def initial_data(selection: dict[str, str], honour: bool) -> dict:
    data = {"honour": honour}
    for number, reason in selection.items():
        data[f"select_{number}"] = True
        data[f"reason_{number}"] = reason
    return data
