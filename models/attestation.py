"""The « attestation de demande »: one content, written as a PDF and as an HTML page
(both from the template ``citizen/payment/_attestation.html``)."""

from __future__ import annotations

from dataclasses import dataclass

from .cards import DUPLICATE
from .payments import accepted_payment
from .people import Beneficiary, Mandate
from .pricing import euros
from .requests import ATTESTATION_VALIDITY_MONTHS, CardRequest, attestation_valid_until
from .shared.clock import to_paris
from .shared.i18n import _, long_date, of, short_date


@dataclass(frozen=True)
class Declaration:
    """What one signatory attests, for one beneficiary."""

    statement: str
    duplicate: bool
    duplicate_label: str
    second_copy_label: str


@dataclass(frozen=True)
class Attestation:
    organisation: list[str]
    dated: str
    title: str
    validity: str
    declarations: list[Declaration]
    closing: str
    reference: str
    paid: str

    @property
    def document_title(self) -> str:
        return _("Attestation de demande n° %(number)s", number=self.reference)


def _statement(account, beneficiary: Beneficiary, organisation: str) -> tuple[str, bool]:
    address = beneficiary.address.one_line()
    declares = _(
        "atteste sur l'honneur avoir effectué auprès de l'organisme %(organisation)s "
        "une demande de :",
        organisation=organisation,
    )
    if not beneficiary.is_natural_person:
        return (
            _(
                "Je soussigné(e), représentant(e) %(of_name)s, personne morale dont le siège "
                "est situé %(address)s, %(declares)s",
                of_name=of(beneficiary.last_name),
                address=address,
                declares=declares,
            ),
            False,
        )
    born = short_date(beneficiary.birth_date)
    role = (
        Mandate.select(Mandate.role)
        .where((Mandate.account == account) & (Mandate.beneficiary == beneficiary))
        .scalar()
    )
    if role == Mandate.LEGAL_REPRESENTATIVE:
        return (
            _(
                "Je soussigné(e) %(name)s, représentant(e) légal(e) %(of_name)s, né(e) le "
                "%(born)s et demeurant %(address)s, %(declares)s",
                name=account.display_name,
                of_name=of(beneficiary.display_name),
                born=born,
                address=address,
                declares=declares,
            ),
            False,
        )
    return (
        _(
            "Je soussigné(e) %(name)s, né(e) le %(born)s et demeurant %(address)s, %(declares)s",
            name=beneficiary.display_name,
            born=born,
            address=address,
            declares=declares,
        ),
        True,
    )


def _labels(cards: list, own: bool, holder: str) -> tuple[str, str]:
    """What the two options say: « Duplicata de ma carte mobilité inclusion
    Invalidité », « Second exemplaire des cartes … de Léo MARTIN »."""
    titles = _(" et ").join(card.title for card in cards)
    several = len(cards) > 1
    if own and several:
        return (
            _("Duplicata de mes cartes mobilité inclusion %(titles)s", titles=titles),
            _("Second exemplaire de mes cartes mobilité inclusion %(titles)s", titles=titles),
        )
    if own:
        return (
            _("Duplicata de ma carte mobilité inclusion %(titles)s", titles=titles),
            _("Second exemplaire de ma carte mobilité inclusion %(titles)s", titles=titles),
        )
    whose = of(holder)
    if several:
        return (
            _(
                "Duplicata des cartes mobilité inclusion %(titles)s %(of_name)s",
                titles=titles,
                of_name=whose,
            ),
            _(
                "Second exemplaire des cartes mobilité inclusion %(titles)s %(of_name)s",
                titles=titles,
                of_name=whose,
            ),
        )
    return (
        _(
            "Duplicata de la carte mobilité inclusion %(titles)s %(of_name)s",
            titles=titles,
            of_name=whose,
        ),
        _(
            "Second exemplaire de la carte mobilité inclusion %(titles)s %(of_name)s",
            titles=titles,
            of_name=whose,
        ),
    )


def attestation_for(request: CardRequest, organisation: str, address: list[str]) -> Attestation:
    by_beneficiary: dict[int, tuple[Beneficiary, list]] = {}
    for line in request.lines_with_cards():
        person = line.card.beneficiary
        by_beneficiary.setdefault(person.id, (person, []))[1].append(line.card)
    declarations = []
    for person, cards in by_beneficiary.values():
        statement, own = _statement(request.account, person, organisation)
        duplicate_label, second_copy_label = _labels(cards, own, person.display_name)
        declarations.append(
            Declaration(
                statement=statement,
                duplicate=request.kind == DUPLICATE,
                duplicate_label=duplicate_label,
                second_copy_label=second_copy_label,
            )
        )
    recorded = to_paris(request.paid_at or request.recorded_at).date()
    until = attestation_valid_until(request)
    payment = accepted_payment(request)
    # Beyond the paper form: the request number and the day the validity ends.
    return Attestation(
        organisation=[organisation, *address],
        dated=_("Le %(day)s", day=long_date(recorded)),
        title=_("Attestation de demande"),
        validity=_(
            "Valable pour une durée de %(months)s mois, jusqu'au %(day)s inclus",
            months=ATTESTATION_VALIDITY_MONTHS,
            day=short_date(until),
        ),
        declarations=declarations,
        closing=_("Pour faire valoir ce que de droit,"),
        reference=str(request.number),
        paid=_("Montant payé : %(amount)s", amount=euros(payment.amount)) if payment else "",
    )


def ticked(checked: bool) -> str:
    """Each option says whether its box is ticked, in words, as the web page does:
    a box drawn empty is read as nothing at all."""
    return _("Case cochée") if checked else _("Case non cochée")
