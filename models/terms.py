"""The Conditions Générales d'Utilisation et de Délivrance: one text, two forms (PDF, HTML)."""

from __future__ import annotations

from functools import cache

from .documents import Block, build_pdf

TITLE = "Conditions Générales d'Utilisation et de Délivrance"
VERSION = "Version du 1er novembre 2026"

SECTIONS: list[tuple[str, list[str]]] = [
    (
        "1. Objet du service",
        [
            "Ce service permet au titulaire d'une carte mobilité inclusion (CMI), ou à son "
            "représentant légal, de commander en ligne un duplicata de sa carte après une perte, "
            "un vol ou une destruction, ou un second exemplaire d'une carte mobilité inclusion "
            "portant la mention « Stationnement ».",
        ],
    ),
    (
        "2. Accès au service",
        [
            "Le service est accessible avec l'identifiant et le mot de passe indiqués sur le "
            "courrier de demande de photo. Ils sont personnels : ne les communiquez à personne.",
            "Après 30 minutes sans activité, la session se termine. La demande en cours est "
            "conservée et reprend à la même étape à la connexion suivante.",
        ],
    ),
    (
        "3. Cartes concernées",
        [
            "Seules les cartes mobilité inclusion peuvent faire l'objet d'une demande. Les "
            "cartes de l'ancien format (carte d'invalidité, carte de priorité, carte européenne "
            "de stationnement) ne sont pas concernées : leurs titulaires s'adressent à la maison "
            "départementale des personnes handicapées (MDPH) de leur département.",
            "Un duplicata peut être demandé pour une carte valide, ou pour une carte révoquée "
            "pour laquelle aucun duplicata n'a été demandé depuis. Il ouvre les mêmes droits et a "
            "la même durée de validité que la carte qu'il remplace, avec un nouveau numéro.",
            "Le second exemplaire concerne uniquement les cartes mobilité inclusion "
            "stationnement destinées aux personnes physiques. Une carte ne peut avoir qu'un seul "
            "second exemplaire. La carte d'origine reste valable.",
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
            "Le prix est de 7,10 € par carte, auxquels s'ajoutent la TVA (20 %) et "
            "l'acheminement postal (0,50 € pour un envoi en France), soit 9,02 € par carte pour "
            "un envoi en France. Le détail du prix est affiché avant le paiement.",
            "Le paiement se fait par carte bancaire sur la page sécurisée du prestataire de "
            "paiement. Le service ne reçoit ni ne conserve le numéro de votre carte bancaire. "
            "Une demande n'est jamais payée deux fois.",
        ],
    ),
    (
        "6. Fabrication et livraison",
        [
            "La carte est fabriquée par l'Imprimerie Nationale dès réception et validation du "
            "paiement, puis envoyée par courrier à l'adresse de livraison du bénéficiaire ou de "
            "son représentant légal. Vérifiez cette adresse avant de payer.",
        ],
    ),
    (
        "7. Attestation de demande",
        [
            "À la fin de la demande, une attestation de demande est disponible. Elle est "
            "valable 3 mois et permet de justifier de la demande en attendant la nouvelle carte.",
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


@cache
def terms_pdf(organisation: str, contact: str) -> bytes:
    blocks = [
        Block(organisation, "bold", 10, space_before=0),
        Block(TITLE, "bold", 16, "center", space_before=24),
        Block(VERSION, "regular", 10, "center", space_before=2),
    ]
    for heading, paragraphs in SECTIONS:
        blocks.append(Block(heading, "bold", 12, space_before=16, keep_with_next=True))
        blocks.extend(Block(text, space_before=6) for text in paragraphs)
    blocks.append(Block(f"Contact : {contact}", space_before=16))
    return build_pdf(TITLE, blocks, organisation)
