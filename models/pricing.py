"""What a request costs, in integer euro cents."""

from __future__ import annotations

from dataclasses import dataclass

from .addresses import fold, is_france
from .shared.i18n import lazy_gettext, money

PRICE_PER_CARD = 710  # before VAT
VAT_RATE_PERCENT = 20

# Postage of one card (a letter of up to 20 g), by destination zone, in cents.
POSTAGE_TARIFFS = {
    "France": 50,
    "Union européenne et Suisse": 180,
    "Reste du monde": 210,
}
# Each zone as the pages name it (the keys above are data: never translated).
ZONE_LABELS = {
    "France": lazy_gettext("France"),
    "Union européenne et Suisse": lazy_gettext("Union européenne et Suisse"),
    "Reste du monde": lazy_gettext("Reste du monde"),
}


def zone_label(zone: str) -> str:
    """« Union européenne et Suisse », « European Union and Switzerland »."""
    return str(ZONE_LABELS.get(zone, zone))


EUROPE = {
    fold(name)
    for name in (
        "Allemagne", "Autriche", "Belgique", "Bulgarie", "Chypre", "Croatie", "Danemark",
        "Espagne", "Estonie", "Finlande", "Grèce", "Hongrie", "Irlande", "Italie", "Lettonie",
        "Lituanie", "Luxembourg", "Malte", "Pays-Bas", "Pologne", "Portugal",
        "République tchèque", "Tchéquie", "Roumanie", "Slovaquie", "Slovénie", "Suède",
        "Suisse", "Monaco", "Andorre",
    )
}  # fmt: skip


def postage_zone(country: str) -> str:
    if is_france(country):
        return "France"
    if fold(country) in EUROPE:
        return "Union européenne et Suisse"
    return "Reste du monde"


@dataclass(frozen=True)
class Breakdown:
    """Each card is made and posted on its own: 9,02 € per card within France."""

    cards: int
    price_per_card: int
    vat_per_card: int
    postage_per_card: int
    destination: str
    vat_rate_percent: int

    @property
    def destination_label(self) -> str:
        """The destination zone as the reader's language names it."""
        return zone_label(self.destination)

    @property
    def per_card(self) -> int:
        return self.price_per_card + self.vat_per_card + self.postage_per_card

    @property
    def net(self) -> int:
        return self.cards * self.price_per_card

    @property
    def vat(self) -> int:
        return self.cards * self.vat_per_card

    @property
    def postage(self) -> int:
        return self.cards * self.postage_per_card

    @property
    def total(self) -> int:
        return self.cards * self.per_card


def vat_on(cents: int) -> int:
    """VAT rounded half up to the cent."""
    return (cents * VAT_RATE_PERCENT + 50) // 100


def price(cards: int, country: str) -> Breakdown:
    if cards < 1:
        raise ValueError("a request has at least one card")
    zone = postage_zone(country)
    return Breakdown(
        cards=cards,
        price_per_card=PRICE_PER_CARD,
        vat_per_card=vat_on(PRICE_PER_CARD),
        postage_per_card=POSTAGE_TARIFFS[zone],
        destination=zone,
        vat_rate_percent=VAT_RATE_PERCENT,
    )


def euros(cents: int) -> str:
    """« 9,02 € », « €9.02 »: the amount as the reader's language writes it."""
    return money(cents)
