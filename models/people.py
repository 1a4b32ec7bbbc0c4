"""Who the service knows: beneficiaries, their addresses, the accounts that act for them."""

from __future__ import annotations

from peewee import (
    CharField,
    DateField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
)

from .shared.clock import clock
from .shared.db import BaseModel
from .shared.prepared import Prepared

# AFNOR NF Z10-011: a postal address line holds at most 38 characters.
ADDRESS_LINE_MAX = 38

NATURAL_PERSON = "physique"
LEGAL_PERSON = "morale"


class Address(BaseModel):
    """A postal address in the order of AFNOR NF Z10-011."""

    name = CharField(max_length=ADDRESS_LINE_MAX)
    apartment = CharField(max_length=ADDRESS_LINE_MAX, default="")
    building = CharField(max_length=ADDRESS_LINE_MAX, default="")
    street = CharField(max_length=ADDRESS_LINE_MAX, default="")
    locality = CharField(max_length=ADDRESS_LINE_MAX, default="")
    postcode = CharField(max_length=ADDRESS_LINE_MAX, default="")  # abroad: up to a line
    city = CharField(max_length=ADDRESS_LINE_MAX)
    country = CharField(max_length=ADDRESS_LINE_MAX, default="France")

    FIELDS = (
        "name",
        "apartment",
        "building",
        "street",
        "locality",
        "postcode",
        "city",
        "country",
    )

    def lines(self) -> list[str]:
        """The address as printed on an envelope, empty lines left out."""
        town = " ".join(part for part in (self.postcode, self.city) if part)
        candidates = [
            self.name,
            self.apartment,
            self.building,
            self.street,
            self.locality,
            town,
            self.country,
        ]
        return [line for line in candidates if line]

    def one_line(self) -> str:
        return ", ".join(self.lines()[1:])

    def as_dict(self) -> dict[str, str]:
        return {field: getattr(self, field) for field in self.FIELDS}

    def copy(self) -> Address:
        return Address.create(**self.as_dict())


class Beneficiary(BaseModel):
    """The holder of one or more cards: a natural person or a legal person."""

    number = IntegerField(unique=True)  # "Numéro identifiant"
    kind = CharField(default=NATURAL_PERSON)
    last_name = CharField()  # for a legal person, its name
    first_name = CharField(default="")
    birth_date = DateField(null=True)
    email = CharField(default="")
    address = ForeignKeyField(Address)
    delivery_address = ForeignKeyField(Address)

    @property
    def is_natural_person(self) -> bool:
        return self.kind == NATURAL_PERSON

    @property
    def display_name(self) -> str:
        if self.is_natural_person:
            return f"{self.first_name} {self.last_name.upper()}"
        return self.last_name


class Account(BaseModel):
    """Credentials that sign in; the account may act for several beneficiaries."""

    username = CharField(unique=True)
    password_hash = CharField()  # "" until the holder chooses one (imported accounts)
    email = CharField()
    display_name = CharField()  # as written on letters: "Camille MARTIN"
    created_at = DateTimeField(default=clock.now)
    # Imported from the CMI database: the holder's key there (« B:<numéro identifiant> »
    # for a beneficiary acting for themself, « R:<identifiant> » for a representative),
    # and the digest of the activation code printed on the credentials letter, until used.
    external_key = CharField(null=True, unique=True)
    activation_digest = CharField(null=True)
    # « fr » or « en »: what its holder last read the service in (its e-mails follow).
    language = CharField(max_length=5, default="")

    def beneficiaries(self):
        """The beneficiaries this account may act for, in a stable order."""
        return (
            Beneficiary.select()
            .join(Mandate)
            .where(Mandate.account == self)
            .order_by(Beneficiary.number)
        )


class Mandate(BaseModel):
    """Links an account to a beneficiary it acts for."""

    HOLDER = "titulaire"
    LEGAL_REPRESENTATIVE = "représentant légal"

    account = ForeignKeyField(Account, backref="mandates", on_delete="CASCADE")
    beneficiary = ForeignKeyField(Beneficiary, backref="mandates", on_delete="CASCADE")
    role = CharField(default=HOLDER)

    class Meta:
        indexes = ((("account", "beneficiary"), True),)


def _beneficiaries_with_addresses(account):
    postal, delivery = Address.alias(), Address.alias()
    return (
        Beneficiary.select(Beneficiary, postal, delivery)
        .join(Mandate)
        .switch(Beneficiary)
        .join(postal, on=(Beneficiary.address == postal.id))
        .switch(Beneficiary)
        .join(delivery, on=(Beneficiary.delivery_address == delivery.id))
        .where(Mandate.account == account)
        .order_by(Beneficiary.number)
    )


_BENEFICIARIES_WITH_ADDRESSES = Prepared(_beneficiaries_with_addresses, int)


def beneficiaries_with_addresses(account: Account) -> list[Beneficiary]:
    """The beneficiaries ``account`` acts for, with both their addresses, in one query."""
    return _BENEFICIARIES_WITH_ADDRESSES.all(account.id)
