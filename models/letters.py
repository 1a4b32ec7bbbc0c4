"""The credentials letter: one A4 page per new account, posted in a window envelope.

The address sits where a French window envelope shows it (window on the right,
about 100 × 45 mm, its top 50 mm below the top of the page); the text says,
in plain words, what the identifiant and the activation code are for and how
to sign in the first time.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from .cmi_import import Letter
from .shared.pdf import Block, build_pdf

MM = 72 / 25.4
ADDRESS_LEFT = 110 * MM
ADDRESS_TOP = 52 * MM


def letter_blocks(
    letter: Letter, day: date, public_url: str, organisation: str, contact: str
) -> list[Block]:
    blocks = [
        Block(organisation, style="bold", new_page=True, space_before=0),
        Block("Service Carte mobilité inclusion en ligne", space_before=2),
    ]
    for i, line in enumerate(letter.address):
        blocks.append(
            Block(
                line,
                size=11,
                left=ADDRESS_LEFT,
                top=ADDRESS_TOP if i == 0 else None,
                space_before=0,
            )
        )
    blocks += [
        Block(f"Le {day:%d/%m/%Y}", align="right", top=105 * MM, space_before=0),
        Block(
            "Vos codes pour commander une carte mobilité inclusion en ligne",
            style="bold",
            size=13,
            space_before=18,
        ),
        Block("Bonjour,", space_before=14),
        Block(
            "Avec ces codes, vous pouvez commander en ligne une nouvelle carte mobilité "
            "inclusion (CMI) si la vôtre est perdue, volée ou abîmée, ou une deuxième carte "
            "de stationnement.",
        ),
        Block(f"Votre identifiant : {letter.username}", style="bold", size=12, space_before=14),
        Block(f"Votre code d'activation : {letter.code}", style="bold", size=12),
        Block("La première fois que vous vous connectez :", space_before=14),
        Block(f"1. Allez sur {public_url}", space_before=4),
        Block("2. Écrivez votre identifiant.", space_before=4),
        Block("3. Écrivez le code d'activation à la place du mot de passe.", space_before=4),
        Block(
            "4. Choisissez votre mot de passe. Ensuite, le code d'activation ne sert plus.",
            space_before=4,
        ),
        Block(
            "Gardez ce courrier. Ne donnez jamais votre code ni votre mot de passe. "
            "Personne ne vous les demandera, ni par téléphone ni par courriel.",
            space_before=14,
        ),
        Block(f"Une question ? Écrivez-nous : {contact}", space_before=14),
    ]
    return blocks


def credentials_letters(
    letters: Iterable[Letter], day: date, public_url: str, organisation: str, contact: str
) -> bytes:
    """One PDF for a whole import run, one page per letter."""
    blocks: list[Block] = []
    for letter in letters:
        blocks += letter_blocks(letter, day, public_url, organisation, contact)
    return build_pdf("Vos codes de connexion - Carte mobilité inclusion", blocks, organisation)
