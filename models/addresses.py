"""Rules for a postal address (AFNOR NF Z10-011) as the user types it."""

from __future__ import annotations

import re
import unicodedata

from .people import ADDRESS_LINE_MAX
from .shared.i18n import _, lazy_gettext, lazy_pgettext

FRENCH_POSTCODE = re.compile(r"[0-9]{5}")  # not \d, which takes any script's digits
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")  # C0 and C1 controls

# Each field's label (the keys are the fields' names: data), translated when shown.
LABELS = {
    "name": lazy_pgettext("adresse", "Nom"),  # « Name » (not a surname)
    "apartment": lazy_gettext("N° Appartement ou boîte aux lettres, étage, couloir, escalier"),
    "building": lazy_gettext("Entrée, bâtiment, immeuble, résidence"),
    "street": lazy_gettext("Numéro, libellé de la voie (RUE, AVENUE, ...)"),
    "locality": lazy_gettext("Boîte postale, lieu-dit"),
    "postcode": lazy_gettext("Code postal"),
    "city": lazy_gettext("Ville"),
    "country": lazy_gettext("Pays"),
}


def fold(text: str) -> str:
    """Compare names whatever their case and accents: « Grèce » is « GRECE »."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold().strip()


def is_france(country: str) -> bool:
    return fold(country) in {"france", "france metropolitaine", "fr"}


def clean_address(raw: dict[str, str]) -> dict[str, str]:
    """Trim and collapse spaces; a French postcode loses its inner spaces (« 59 000 »)."""
    cleaned = {field: " ".join((raw.get(field) or "").split()) for field in LABELS}
    if is_france(cleaned["country"]):
        cleaned["postcode"] = cleaned["postcode"].replace(" ", "")
        cleaned["country"] = "France"
    return cleaned


def address_errors(address: dict[str, str], example_name: str = "Marie DUPONT") -> dict[str, str]:
    """What is wrong with a cleaned address, field by field, in the reader's language.

    ``example_name``: the name an example gives (the user's own, not someone else's).
    """
    errors: dict[str, str] = {}
    for field, value in address.items():
        if CONTROL_CHARACTERS.search(value):
            errors[field] = _(
                "« %(label)s » contient un caractère non autorisé", label=LABELS[field]
            )
        elif len(value) > ADDRESS_LINE_MAX:
            errors[field] = _(
                "« %(label)s » doit contenir au plus %(max)d caractères "
                "(actuellement %(length)d) : abrégez, par exemple « BD » pour boulevard",
                label=LABELS[field],
                max=ADDRESS_LINE_MAX,
                length=len(value),
            )
    if not address["name"]:
        errors.setdefault(
            "name", _("Saisissez le nom du destinataire, par exemple %(name)s", name=example_name)
        )
    if not address["street"] and not address["locality"]:
        errors.setdefault(
            "street",
            _(
                "Saisissez le numéro et le libellé de la voie, ou une boîte postale ou un "
                "lieu-dit, par exemple 12 rue de la Gare"
            ),
        )
    if not address["city"]:
        errors.setdefault("city", _("Saisissez la ville, par exemple LILLE"))
    if not address["country"]:
        errors.setdefault("country", _("Saisissez le pays, par exemple France"))
    if is_france(address["country"]) and "postcode" not in errors:
        if not address["postcode"]:
            errors["postcode"] = _("Saisissez le code postal, par exemple 59000")
        elif not FRENCH_POSTCODE.fullmatch(address["postcode"]):
            errors["postcode"] = _("Le code postal doit comporter 5 chiffres, par exemple 59000")
    return errors
