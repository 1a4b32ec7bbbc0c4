"""The « attestation de demande »: one content, written as a PDF and as an HTML page."""

from __future__ import annotations

from dataclasses import dataclass

from .cards import DUPLICATE
from .payments import accepted_payment
from .people import Beneficiary, Mandate, of
from .pricing import euros
from .requests import ATTESTATION_VALIDITY_MONTHS, CardRequest, attestation_valid_until
from .shared.clock import to_paris
from .shared.pdf import Block, build_pdf

MONTHS = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)  # fmt: skip


def french_date(day) -> str:
    """« 1er décembre 2026 », « 22 novembre 2026 »."""
    number = "1er" if day.day == 1 else str(day.day)
    return f"{number} {MONTHS[day.month - 1]} {day.year}"


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
        return f"Attestation de demande n° {self.reference}"


def _statement(account, beneficiary: Beneficiary, organisation: str) -> tuple[str, bool]:
    address = beneficiary.address.one_line()
    aupres = (
        f"atteste sur l'honneur avoir effectué auprès de l'organisme {organisation} "
        "une demande de :"
    )
    if not beneficiary.is_natural_person:
        return (
            f"Je soussigné(e), représentant(e) {of(beneficiary.last_name)}, personne morale dont "
            f"le siège est situé {address}, {aupres}",
            False,
        )
    born = beneficiary.birth_date.strftime("%d/%m/%Y")
    role = (
        Mandate.select(Mandate.role)
        .where((Mandate.account == account) & (Mandate.beneficiary == beneficiary))
        .scalar()
    )
    if role == Mandate.LEGAL_REPRESENTATIVE:
        return (
            f"Je soussigné(e) {account.display_name}, représentant(e) légal(e) "
            f"{of(beneficiary.display_name)}, né(e) le {born} et demeurant {address}, {aupres}",
            False,
        )
    return (
        f"Je soussigné(e) {beneficiary.display_name}, né(e) le {born} et demeurant "
        f"{address}, {aupres}",
        True,
    )


def attestation_for(request: CardRequest, organisation: str, address: list[str]) -> Attestation:
    by_beneficiary: dict[int, tuple[Beneficiary, list]] = {}
    for line in request.lines_with_cards():
        person = line.card.beneficiary
        by_beneficiary.setdefault(person.id, (person, []))[1].append(line.card)
    declarations = []
    for person, cards in by_beneficiary.values():
        statement, own = _statement(request.account, person, organisation)
        titles = " et ".join(card.title for card in cards)
        if len(cards) == 1:
            whose = "ma carte" if own else "la carte"
        else:
            whose = "mes cartes" if own else "les cartes"
        suffix = "" if own else f" {of(person.display_name)}"
        declarations.append(
            Declaration(
                statement=statement,
                duplicate=request.kind == DUPLICATE,
                duplicate_label=f"Duplicata de {whose} mobilité inclusion {titles}{suffix}",
                second_copy_label=(
                    f"Second exemplaire de {whose} mobilité inclusion {titles}{suffix}"
                ),
            )
        )
    recorded = to_paris(request.paid_at or request.recorded_at).date()
    until = attestation_valid_until(request)
    payment = accepted_payment(request)
    # Beyond the paper form: the request number and the day the validity ends.
    return Attestation(
        organisation=[organisation, *address],
        dated=f"Le {french_date(recorded)}",
        title="ATTESTATION DE DEMANDE",
        validity=(
            f"Valable pour une durée de {ATTESTATION_VALIDITY_MONTHS} mois, "
            f"jusqu'au {until.strftime('%d/%m/%Y')} inclus"
        ),
        declarations=declarations,
        closing="Pour faire valoir ce que de droit,",
        reference=str(request.number),
        paid=f"Montant payé : {euros(payment.amount)}" if payment else "",
    )


def ticked(label: str, checked: bool) -> str:
    """Both options say whether their box is ticked, in words, as the web page does:
    a box drawn empty is read as nothing at all."""
    return f"{'Case cochée' if checked else 'Case non cochée'} : {label}"


def attestation_pdf(attestation: Attestation) -> bytes:
    blocks = [
        Block(line, "bold" if i == 0 else "regular", 10, space_before=0)
        for i, line in enumerate(attestation.organisation)
    ]
    blocks += [
        Block(attestation.dated, align="right", space_before=24),
        Block(attestation.title, "bold", 16, "center", space_before=36),
        Block(attestation.validity, "regular", 11, "center", space_before=4),
        Block(f"Demande n° {attestation.reference}", "bold", 11, "center", space_before=4),
    ]
    if attestation.paid:
        blocks.append(Block(attestation.paid, "regular", 11, "center", space_before=4))
    for declaration in attestation.declarations:
        blocks += [
            Block(declaration.statement, space_before=28),
            Block(
                ticked(declaration.duplicate_label, declaration.duplicate),
                box=declaration.duplicate,
                space_before=14,
            ),
            Block(
                ticked(declaration.second_copy_label, not declaration.duplicate),
                box=not declaration.duplicate,
                space_before=8,
            ),
        ]
    blocks.append(Block(attestation.closing, space_before=28))
    return build_pdf(attestation.document_title, blocks, attestation.organisation[0])
