"""Demo data: the accounts QA and the acceptance tests rely on (see README)."""

from __future__ import annotations

from datetime import date
from functools import cache

from ..cards import INVALIDITE, PRIORITE, STATIONNEMENT, Card
from ..people import LEGAL_PERSON, Account, Address, Beneficiary, Mandate
from ..shared.db import database
from ..shared.security import hash_password

DEMO_PASSWORDS = {
    "alfred.depot": "Tilleuls-2026",
    "joseph.quinn": "Liberte-2026",
    "camille.martin": "Enfants-2026",
    "navette.pmr": "Navette-2026",
    "marie.durand": "Ancienne-2026",
}


def _beneficiary(number, last_name, first_name, birth_date, address, email, **extra):
    postal = Address.create(**address)
    return Beneficiary.create(
        number=number,
        last_name=last_name,
        first_name=first_name,
        birth_date=birth_date,
        email=email,
        address=postal,
        delivery_address=postal.copy(),
        **extra,
    )


@cache
def demo_password_hash(username: str) -> str:
    """Hashed once per process: scrypt is slow on purpose, and tests reload the demo often."""
    return hash_password(DEMO_PASSWORDS[username])


def _account(username, email, display_name, *beneficiaries, role=Mandate.HOLDER):
    account = Account.create(
        username=username,
        password_hash=demo_password_hash(username),
        email=email,
        display_name=display_name,
    )
    for beneficiary in beneficiaries:
        Mandate.create(account=account, beneficiary=beneficiary, role=role)
    return account


def _card(number, beneficiary, mention, start, end, **extra):
    return Card.create(
        number=number,
        beneficiary=beneficiary,
        mention=mention,
        valid_from=start,
        valid_until=end,
        **extra,
    )


def load_demo_data() -> bool:
    """Load the demo accounts unless they are already there. Returns True if loaded."""
    with database.connection_context(), database.atomic():
        if Account.select().where(Account.username == "alfred.depot").exists():
            return False

        alfred = _beneficiary(
            1,
            "DEPOT",
            "Alfred",
            date(1977, 9, 16),
            {
                "name": "Alfred DEPOT",
                "apartment": "App 22",
                "building": "Résidence des Tilleuls",
                "street": "25 route de la Libertine",
                "locality": "Hameau",
                "postcode": "59000",
                "city": "LILLE",
                "country": "France",
            },
            "alfred.depot@example.org",
        )
        _account("alfred.depot", "alfred.depot@example.org", "Alfred DEPOT", alfred)
        _card(
            "0000000000000001",
            alfred,
            INVALIDITE,
            date(2024, 1, 1),
            date(2033, 12, 31),
            needs_companion=True,
        )
        _card("0000000000000002", alfred, STATIONNEMENT, date(2024, 1, 1), date(2033, 12, 31))

        joseph = _beneficiary(
            30,
            "QUINN",
            "Joseph",
            date(1955, 9, 22),
            {
                "name": "Joseph QUINN",
                "street": "8 rue Nationale",
                "postcode": "59000",
                "city": "LILLE",
            },
            "joseph.quinn@example.org",
        )
        _account("joseph.quinn", "joseph.quinn@example.org", "Joseph QUINN", joseph)
        _card("0000000000000030", joseph, STATIONNEMENT, date(2018, 1, 1), None)
        _card("0000000000000031", joseph, PRIORITE, date(2015, 1, 1), date(2024, 12, 31))

        family = {
            "apartment": "Chez Camille MARTIN",
            "street": "14 avenue de la République",
            "postcode": "59110",
            "city": "LA MADELEINE",
        }
        leo = _beneficiary(
            40,
            "MARTIN",
            "Léo",
            date(2014, 5, 3),
            {"name": "Léo MARTIN", **family},
            "camille.martin@example.org",
        )
        ines = _beneficiary(
            42,
            "MARTIN",
            "Inès",
            date(2017, 11, 12),
            {"name": "Inès MARTIN", **family},
            "camille.martin@example.org",
        )
        _account(
            "camille.martin",
            "camille.martin@example.org",
            "Camille MARTIN",
            leo,
            ines,
            role=Mandate.LEGAL_REPRESENTATIVE,
        )
        _card("0000000000000040", leo, STATIONNEMENT, date(2021, 1, 1), date(2030, 12, 31))
        _card(
            "0000000000000041",
            leo,
            INVALIDITE,
            date(2021, 1, 1),
            date(2030, 12, 31),
            blindness=True,
        )
        _card(
            "0000000000000042",
            ines,
            INVALIDITE,
            date(2022, 1, 1),
            date(2031, 12, 31),
            revoked_on=date(2026, 3, 2),
            revocation_reason="Titre perdu",
        )

        navette = _beneficiary(
            50,
            "Navette Solidaire 59",
            "",
            None,
            {
                "name": "Navette Solidaire 59",
                "building": "Bâtiment B",
                "street": "12 rue des Transporteurs",
                "postcode": "59260",
                "city": "LEZENNES",
            },
            "contact@navette-solidaire.example.org",
            kind=LEGAL_PERSON,
        )
        _account(
            "navette.pmr", "contact@navette-solidaire.example.org", "Navette Solidaire 59", navette
        )
        _card("0000000000000050", navette, STATIONNEMENT, date(2019, 1, 1), date(2028, 12, 31))

        marie = _beneficiary(
            60,
            "DURAND",
            "Marie",
            date(1948, 8, 8),
            {
                "name": "Marie DURAND",
                "street": "3 place du Marché",
                "postcode": "59100",
                "city": "ROUBAIX",
            },
            "marie.durand@example.org",
        )
        _account("marie.durand", "marie.durand@example.org", "Marie DURAND", marie)
        # Old permanent cards stay valid until 31/12/2026 (décret n° 2016-1849).
        _card(
            "CES-59-2009-004512",
            marie,
            STATIONNEMENT,
            date(2009, 6, 1),
            date(2026, 12, 31),
            old_format=True,
        )
        return True
