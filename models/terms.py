"""The Conditions Générales d'Utilisation et de Délivrance: one text, two forms (PDF, HTML)."""

from __future__ import annotations

from datetime import date

from .citizen import auth
from .pricing import VAT_RATE_PERCENT, euros, price
from .requests import ATTESTATION_VALIDITY_MONTHS
from .shared.i18n import _, long_date

VERSION_DATE = date(2026, 11, 1)


def terms_title() -> str:
    return _("Conditions Générales d'Utilisation et de Délivrance")


def terms_version() -> str:
    return _("Version du %(day)s", day=long_date(VERSION_DATE))


Sections = tuple[tuple[str, tuple[str, ...]], ...]


def sections() -> Sections:
    """The text, with its figures read from the rules they state."""
    france = price(1, "France")
    idle_minutes = int(auth.SESSION_IDLE_LIMIT.total_seconds() // 60)
    text = [
        (
            _("1. Objet du service"),
            [
                _(
                    "Ce service permet au titulaire d'une carte mobilité inclusion (CMI), ou à "
                    "son représentant légal, de commander en ligne un duplicata de sa carte après "
                    "une perte, un vol ou une destruction, ou un second exemplaire d'une carte "
                    "mobilité inclusion portant la mention « Stationnement »."
                ),
            ],
        ),
        (
            _("2. Accès au service"),
            [
                _(
                    "Le service est accessible avec l'identifiant et le mot de passe indiqués sur "
                    "le courrier de demande de photo. Ils sont personnels : ne les communiquez à "
                    "personne."
                ),
                _(
                    "Après %(minutes)s minutes sans activité, la session se termine. La demande "
                    "en cours est conservée et reprend à la même étape à la connexion suivante.",
                    minutes=idle_minutes,
                ),
            ],
        ),
        (
            _("3. Cartes concernées"),
            [
                _(
                    "Seules les cartes mobilité inclusion peuvent faire l'objet d'une demande. "
                    "Les cartes de l'ancien format (carte d'invalidité, carte de priorité, carte "
                    "européenne de stationnement) ne sont pas concernées : leurs titulaires "
                    "s'adressent à la maison départementale des personnes handicapées (MDPH) de "
                    "leur département."
                ),
                _(
                    "Un duplicata peut être demandé pour une carte valide, ou pour une carte "
                    "révoquée pour laquelle aucun duplicata n'a été demandé depuis. Il ouvre les "
                    "mêmes droits et a la même durée de validité que la carte qu'il remplace, avec "
                    "un nouveau numéro."
                ),
                _(
                    "Le second exemplaire concerne uniquement les cartes mobilité inclusion "
                    "stationnement destinées aux personnes physiques. Une carte ne peut avoir "
                    "qu'un seul second exemplaire. La carte d'origine reste valable."
                ),
            ],
        ),
        (
            _("4. Révocation de la carte d'origine"),
            [
                _(
                    "Chaque carte mobilité inclusion faisant l'objet d'une demande de duplicata "
                    "est révoquée à la date de la demande, dès sa validation. Cette révocation est "
                    "définitive : une carte retrouvée ensuite ne peut plus être utilisée."
                ),
            ],
        ),
        (
            _("5. Prix et paiement"),
            [
                _(
                    "Le prix est de %(price)s par carte, auxquels s'ajoutent la TVA (%(vat)s %%) "
                    "et l'acheminement postal (%(postage)s pour un envoi en France), soit "
                    "%(total)s par carte pour un envoi en France. Le détail du prix est affiché "
                    "avant le paiement.",
                    price=euros(france.price_per_card),
                    vat=VAT_RATE_PERCENT,
                    postage=euros(france.postage_per_card),
                    total=euros(france.per_card),
                ),
                _(
                    "Le paiement se fait par carte bancaire sur la page sécurisée du prestataire "
                    "de paiement. Le service ne reçoit ni ne conserve le numéro de votre carte "
                    "bancaire. Une demande n'est jamais payée deux fois."
                ),
            ],
        ),
        (
            _("6. Fabrication et livraison"),
            [
                _(
                    "La carte est fabriquée par l'Imprimerie Nationale dès réception et "
                    "validation du paiement, puis envoyée par courrier à l'adresse de livraison du "
                    "bénéficiaire ou de son représentant légal. Vérifiez cette adresse avant de "
                    "payer."
                ),
            ],
        ),
        (
            _("7. Attestation de demande"),
            [
                _(
                    "À la fin de la demande, une attestation de demande est disponible. Elle est "
                    "valable %(months)s mois et permet de justifier de la demande en attendant la "
                    "nouvelle carte.",
                    months=ATTESTATION_VALIDITY_MONTHS,
                ),
            ],
        ),
        (
            _("8. Données personnelles"),
            [
                _(
                    "Les données de la demande servent uniquement à fabriquer et à envoyer la "
                    "carte, et à répondre à vos questions. Vous pouvez y accéder et les faire "
                    "rectifier en écrivant à l'adresse de contact du service."
                ),
            ],
        ),
    ]
    return tuple((heading, tuple(paragraphs)) for heading, paragraphs in text)
