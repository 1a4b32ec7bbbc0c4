"""What agents look for: requests and people, and a request's whole history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from peewee import JOIN, fn

from ..cards import Card
from ..payments import REFUND_DUE, Payment
from ..people import Account, Beneficiary, Mandate
from ..requests import CardRequest, RequestLine, RequestState
from ..shared.clock import to_paris
from ..shared.mail import OutboxEmail
from .agents import AuditEntry

PER_PAGE = 20
TO_REFUND = "à rembourser"
# The states an agent filters by: a request's own, and « à rembourser » (a payment's).
STATE_FILTERS = [state.value for state in RequestState if state.value != "annulée"] + [
    "annulée",
    TO_REFUND,
]


@dataclass
class Criteria:
    text: str = ""
    state: str = ""
    since: date | None = None
    until: date | None = None
    page: int = 1


def _matching_requests(criteria: Criteria):
    query = CardRequest.select(CardRequest.id).join(Account)
    text = criteria.text.strip()
    if text:
        digits = text.replace(" ", "")
        conditions = (fn.LOWER(Account.username) == text.lower()) | (
            fn.LOWER(Account.email) == text.lower()
        )
        if digits.isascii() and digits.isdigit():
            if len(digits) < 12:
                conditions |= CardRequest.number == int(digits)
            lines = (
                RequestLine.select(RequestLine.request)
                .join(Card, on=(RequestLine.card == Card.id))
                .where(Card.number == digits)
            )
            made = (
                RequestLine.select(RequestLine.request)
                .join(Card, on=(RequestLine.new_card == Card.id))
                .where(Card.number == digits)
            )
            conditions |= CardRequest.id.in_(lines) | CardRequest.id.in_(made)
        else:
            holders = (
                Mandate.select(Mandate.account)
                .join(Beneficiary)
                .where(
                    fn.LOWER(Beneficiary.last_name).contains(text.lower())
                    | fn.LOWER(Beneficiary.first_name).contains(text.lower())
                )
            )
            conditions |= fn.LOWER(Account.display_name).contains(text.lower())
            conditions |= Account.id.in_(holders)
        query = query.where(conditions)
    if criteria.state == TO_REFUND:
        query = query.where(
            CardRequest.id.in_(Payment.select(Payment.request).where(Payment.state == REFUND_DUE))
        )
    elif criteria.state:
        query = query.where(CardRequest.state == criteria.state)
    if criteria.since:
        query = query.where(CardRequest.created_at >= datetime.combine(criteria.since, time()))
    if criteria.until:
        end = datetime.combine(criteria.until + timedelta(days=1), time())
        query = query.where(CardRequest.created_at < end)
    return query


def find_requests(criteria: Criteria, per_page: int | None = PER_PAGE):
    """The requests that match, newest first, one page of them; and how many in all."""
    ids = _matching_requests(criteria)
    total = ids.count()
    query = (
        CardRequest.select(CardRequest, Account)
        .join(Account)
        .where(CardRequest.id.in_(ids))
        .order_by(CardRequest.created_at.desc(), CardRequest.id.desc())
    )
    if per_page:
        query = query.paginate(max(1, criteria.page), per_page)
    return list(query), total


def find_accounts(text: str, limit: int = 20) -> list[Account]:
    """People: by identifiant, e-mail or name (an account may have no request)."""
    text = text.strip().lower()
    if not text:
        return []
    holders = (
        Mandate.select(Mandate.account)
        .join(Beneficiary)
        .where(
            fn.LOWER(Beneficiary.last_name).contains(text)
            | fn.LOWER(Beneficiary.first_name).contains(text)
        )
    )
    return list(
        Account.select()
        .where(
            (fn.LOWER(Account.username) == text)
            | (fn.LOWER(Account.email) == text)
            | fn.LOWER(Account.display_name).contains(text)
            | Account.id.in_(holders)
        )
        .order_by(Account.display_name)
        .limit(limit)
    )


# -- a request's history ------------------------------------------------------------------

# « Paiement accepté »: the payment's state said of the payment (masculine).
PAYMENT_WORDS = {
    "en attente": "en attente",
    "acceptée": "accepté",
    "refusée": "refusé",
    "annulée": "annulé",
    "remplacée": "remplacé",
    "à rembourser": "accepté, à rembourser",
}


@dataclass(frozen=True)
class Entry:
    at: datetime
    what: str
    detail: str = ""


def history(request: CardRequest) -> list[Entry]:
    """Everything that happened to a request, in time order."""
    entries = [Entry(request.created_at, "Demande commencée")]
    if request.recorded_at:
        entries.append(
            Entry(request.recorded_at, "Demande validée (« Oui »)", f"n° {request.number}")
        )
    for payment in Payment.select().where(Payment.request == request).order_by(Payment.id):
        detail = f"{payment.amount / 100:.2f} €, référence {payment.transaction_reference}".replace(
            ".", ",", 1
        )
        entries.append(Entry(payment.created_at, "Paiement commencé", detail))
        if payment.completed_at:
            # One phrase, never a parenthesis inside another: « référence 1000001, code de
            # réponse 05 ».
            detail = f"référence {payment.transaction_reference}"
            if payment.response_code:
                detail += f", code de réponse {payment.response_code}"
            entries.append(
                Entry(
                    payment.completed_at,
                    f"Paiement {PAYMENT_WORDS.get(payment.state, payment.state)}",
                    detail,
                )
            )
    emails = [request.confirmation_email_id]
    lines = list(
        RequestLine.select(RequestLine, Card)
        .join(Card, on=(RequestLine.new_card == Card.id), join_type=JOIN.LEFT_OUTER)
        .where(RequestLine.request == request)
    )
    for line in lines:
        card = f"carte n° {line.new_card.spaced_number}" if line.new_card_id else ""
        if line.exported_at:
            entries.append(
                Entry(line.exported_at, "Envoyée à la fabrication", f"lot {line.batch}, {card}")
            )
        for day, what in (
            (line.made_on, "Fabriquée"),
            (line.shipped_on, f"Expédiée (suivi n° {line.tracking_number})"),
            (line.returned_on, "Retournée à l'expéditeur"),
        ):
            if day:
                entries.append(Entry(datetime.combine(day, time()), what, card))
        emails += [line.shipped_email_id, line.returned_email_id]
    for email in OutboxEmail.select().where(OutboxEmail.id.in_([e for e in emails if e])):
        status = (
            "envoyé"
            if email.sent_at
            else (f"en attente : {email.error}" if email.error else "en attente")
        )
        entries.append(Entry(email.created_at, f"Courriel « {email.subject} »", status))
    for entry in AuditEntry.select().where(
        AuditEntry.subject.in_([f"request:{request.id}", f"account:{request.account_id}"])
    ):
        entries.append(Entry(entry.at, entry.action, entry.actor))
    return sorted(entries, key=lambda e: e.at)


def local(at: datetime) -> str:
    return to_paris(at).strftime("%d/%m/%Y %H:%M")
