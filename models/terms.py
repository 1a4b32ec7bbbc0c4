"""The Conditions Générales d'Utilisation et de Délivrance: one text, two forms (PDF, HTML)."""

from __future__ import annotations

from functools import cache

from .citizen import auth
from .pricing import VAT_RATE_PERCENT, euros, price
from .requests import ATTESTATION_VALIDITY_MONTHS
from .shared.pdf import Block, build_pdf

TITLE = "Conditions Générales d'Utilisation et de Délivrance"
VERSION = "Version du 1er novembre 2026"

Sections = tuple[tuple[str, tuple[str, ...]], ...]


def sections() -> Sections:
    """The text, with its figures read from the rules they state."""
    france = price(1, "France")
    idle_minutes = int(auth.SESSION_IDLE_LIMIT.total_seconds() // 60)
    text = [
        (
            "1. Objet du service",
            [
                "Ce service permet au titulaire d'une carte mobilité inclusion (CMI), ou à son "
                "représentant légal, de commander en ligne un duplicata de sa carte après une "
                "perte, un vol ou une destruction, ou un second exemplaire d'une carte mobilité "
                "inclusion portant la mention « Stationnement ».",
            ],
        ),
        (
            "2. Accès au service",
            [
                "Le service est accessible avec l'identifiant et le mot de passe indiqués sur le "
                "courrier de demande de photo. Ils sont personnels : ne les communiquez à "
                "personne.",
                f"Après {idle_minutes} minutes sans activité, la session se termine. La demande en "
                "cours est conservée et reprend à la même étape à la connexion suivante.",
            ],
        ),
        (
            "3. Cartes concernées",
            [
                "Seules les cartes mobilité inclusion peuvent faire l'objet d'une demande. Les "
                "cartes de l'ancien format (carte d'invalidité, carte de priorité, carte "
                "européenne de stationnement) ne sont pas concernées : leurs titulaires "
                "s'adressent à la maison départementale des personnes handicapées (MDPH) de leur "
                "département.",
                "Un duplicata peut être demandé pour une carte valide, ou pour une carte révoquée "
                "pour laquelle aucun duplicata n'a été demandé depuis. Il ouvre les mêmes droits "
                "et a la même durée de validité que la carte qu'il remplace, avec un nouveau "
                "numéro.",
                "Le second exemplaire concerne uniquement les cartes mobilité inclusion "
                "stationnement destinées aux personnes physiques. Une carte ne peut avoir qu'un "
                "seul second exemplaire. La carte d'origine reste valable.",
            ],
        ),
        (
            "4. Révocation de la carte d'origine",
            [
                "Chaque carte mobilité inclusion faisant l'objet d'une demande de duplicata est "
                "révoquée à la date de la demande, dès sa validation. Cette révocation est "
                "définitive : une carte retrouvée ensuite ne peut plus être utilisée.",
            ],
        ),
        (
            "5. Prix et paiement",
            [
                f"Le prix est de {euros(france.price_per_card)} par carte, auxquels s'ajoutent la "
                f"TVA ({VAT_RATE_PERCENT} %) et l'acheminement postal "
                f"({euros(france.postage_per_card)} pour un envoi en France), soit "
                f"{euros(france.per_card)} par carte pour un envoi en France. Le détail du prix "
                "est affiché avant le paiement.",
                "Le paiement se fait par carte bancaire sur la page sécurisée du prestataire de "
                "paiement. Le service ne reçoit ni ne conserve le numéro de votre carte bancaire. "
                "Une demande n'est jamais payée deux fois.",
            ],
        ),
        (
            "6. Fabrication et livraison",
            [
                "La carte est fabriquée par l'Imprimerie Nationale dès réception et validation du "
                "paiement, puis envoyée par courrier à l'adresse de livraison du bénéficiaire ou "
                "de son représentant légal. Vérifiez cette adresse avant de payer.",
            ],
        ),
        (
            "7. Attestation de demande",
            [
                "À la fin de la demande, une attestation de demande est disponible. Elle est "
                f"valable {ATTESTATION_VALIDITY_MONTHS} mois et permet de justifier de la demande "
                "en attendant la nouvelle carte.",
            ],
        ),
        (
            "8. Données personnelles",
            [
                "Les données de la demande servent uniquement à fabriquer et à envoyer la carte, "
                "et à répondre à vos questions. Vous pouvez y accéder et les faire rectifier en "
                "écrivant à l'adresse de contact du service.",
            ],
        ),
    ]
    return tuple((heading, tuple(paragraphs)) for heading, paragraphs in text)


def terms_pdf(organisation: str, contact: str) -> bytes:
    return _terms_pdf(organisation, contact, sections())


@cache
def _terms_pdf(organisation: str, contact: str, text: Sections) -> bytes:
    """Built once per text: the file changes only when its words do."""
    blocks = [
        Block(organisation, "bold", 10, space_before=0),
        Block(TITLE, "bold", 16, "center", space_before=24),
        Block(VERSION, "regular", 10, "center", space_before=2),
    ]
    for heading, paragraphs in text:
        blocks.append(Block(heading, "bold", 12, space_before=16, keep_with_next=True))
        blocks.extend(Block(paragraph, space_before=6) for paragraph in paragraphs)
    blocks.append(Block(f"Contact : {contact}", space_before=16))
    return build_pdf(TITLE, blocks, organisation)
