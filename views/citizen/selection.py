"""The selection table's form: one checkbox (and, for a duplicate, one reason) per card."""

from __future__ import annotations

from functools import lru_cache
from typing import ClassVar

from wtforms import BooleanField

from models.cards import DUPLICATE, REVOCATION_REASONS, Card
from models.shared.i18n import _, lazy_gettext

from ..shared.forms import Form, TextField

NOTHING_SELECTED = lazy_gettext(
    "Sélectionnez au moins une carte en cochant sa case dans la colonne « Sélection »"
)
HONOUR = lazy_gettext(
    "Vous devez déclarer sur l'honneur que les informations fournies sont exactes : "
    "cochez la case pour continuer."
)


# Each message about a row says which card it is about, even when there is one.
def missing_reason(card: Card) -> str:
    return _(
        "Carte n° %(number)s : choisissez dans la colonne « Motif » pourquoi vous la "
        "remplacez : perdue, volée, ou détruite ou détériorée",
        number=card.spaced_number,
    )


def reason_without_card(card: Card) -> str:
    return _(
        "Carte n° %(number)s : vous avez choisi un motif sans cocher la carte. Cochez-la "
        "pour demander son duplicata, ou choisissez « Pas de duplicata pour cette carte »",
        number=card.spaced_number,
    )


def unknown_reason(card: Card) -> str:
    return _(
        "Carte n° %(number)s : choisissez un des trois motifs proposés dans la colonne « Motif »",
        number=card.spaced_number,
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
            if checkbox.data:
                selected += 1
            if reason is None:
                continue
            if reason.data and reason.data not in REVOCATION_REASONS:
                reason.errors.append(unknown_reason(card))
            elif checkbox.data and not reason.data:
                reason.errors.append(missing_reason(card))
            elif reason.data and not checkbox.data:
                checkbox.errors.append(reason_without_card(card))
        if not selected and not any(self.select_field(c).errors for c in self.cards):
            self.select_field(self.cards[0]).errors.append(NOTHING_SELECTED)
        if not self.honour.data:
            self.honour.errors.append(HONOUR)
        return valid and not self.errors


def selection_form(cards: list[Card], kind: str, **kwargs) -> SelectionFormBase:
    """A form with one row of fields per eligible card."""
    form = _form_class(tuple(card.number for card in cards), kind)(**kwargs)
    form.cards = cards
    return form


@lru_cache(maxsize=512)
def _form_class(numbers: tuple[str, ...], kind: str) -> type[SelectionFormBase]:
    """The form class for these cards, made once: WTForms makes a class's fields ready
    at its first use, a tenth of the page's time if it were made for every request."""

    class SelectionForm(SelectionFormBase):
        pass

    SelectionForm.kind = kind
    for number in numbers:
        setattr(SelectionForm, f"select_{number}", BooleanField(lazy_gettext("Sélectionner")))
        if kind == DUPLICATE:
            # Options come from REVOCATION_REASONS in the template; validate() checks them.
            setattr(SelectionForm, f"reason_{number}", TextField(lazy_gettext("Motif")))
    # Added last so that errors are listed in the order of the page.
    SelectionForm.honour = BooleanField(
        lazy_gettext(
            "Je déclare sur l'honneur que les informations fournies ci-dessus sont exactes."
        )
    )
    return SelectionForm


def initial_data(selection: dict[str, str], honour: bool) -> dict:
    data = {"honour": honour}
    for number, reason in selection.items():
        data[f"select_{number}"] = True
        data[f"reason_{number}"] = reason
    return data
