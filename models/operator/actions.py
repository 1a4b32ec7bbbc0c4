"""What agents do to requests and accounts: each action checks its rule, changes what it
changes and writes the audit log (who, when, what, before and after) in one transaction.
The e-mails an action calls for are composed by the caller, which has the templates."""

from __future__ import annotations

from datetime import date

from .. import letters
from ..citizen.auth import UserSession
from ..payments import REFUND_DUE, REFUNDED, Payment
from ..people import Account
from ..requests import CANCELLED, RECORDED, CardRequest, RequestLine
from ..shared.db import write_transaction
from .agents import Agent, record


class NotAllowed(Exception):
    """The action does not apply any more (the page was stale): the message says why."""


def record_refund(agent: Agent, payment: Payment, amount: int, reference: str, day: date) -> None:
    """A refund made in the provider's back office: the payment leaves « à rembourser »."""
    with write_transaction():
        current = Payment.get_by_id(payment.id)
        changed = (
            Payment.update(
                state=REFUNDED, refund_amount=amount, refund_reference=reference, refunded_on=day
            )
            .where((Payment.id == payment.id) & (Payment.state == REFUND_DUE))
            .execute()
        )
        if changed != 1:  # another agent was quicker, or the page was stale
            raise NotAllowed("Ce paiement n'est pas à rembourser (ou l'est déjà).")
        record(
            agent,
            "Remboursement enregistré",
            f"request:{current.request_id}",
            {"paiement": current.transaction_reference, "état": str(current.state)},
            {
                "paiement": current.transaction_reference,
                "état": str(REFUNDED),
                "montant": amount,
                "référence": reference,
                "date": day.isoformat(),
            },
        )


def change_email(agent: Agent, account: Account, new: str) -> str:
    """The account's new address; returns the old one (both get a notice)."""
    with write_transaction():
        old = Account.get_by_id(account.id).email
        Account.update(email=new).where(Account.id == account.id).execute()
        record(
            agent,
            "Adresse électronique changée",
            f"account:{account.id}",
            {"courriel": old},
            {"courriel": new},
        )
    return old


def cancel_request(agent: Agent, request: CardRequest) -> None:
    """A request recorded but not paid: cancelled, its cards free to be asked for again.
    A card revoked by « Oui » stays revoked."""
    with write_transaction():
        current = CardRequest.get_by_id(request.id)
        # Conditional: a payment confirmed meanwhile wins, and nothing is cancelled.
        changed = (
            CardRequest.update(state=CANCELLED)
            .where((CardRequest.id == request.id) & (CardRequest.state == RECORDED))
            .execute()
        )
        if changed != 1:
            raise NotAllowed("Seule une demande validée et pas encore payée peut être annulée.")
        RequestLine.update(active=False).where(RequestLine.request == request.id).execute()
        record(
            agent,
            "Demande annulée",
            f"request:{request.id}",
            {"état": str(current.state)},
            {"état": str(CANCELLED)},
        )


def new_credentials(agent: Agent, account: Account, key: str) -> letters.CredentialsLetter:
    """A new activation code for a new letter: the old code, a letter still owed and the
    password stop working, and every session of the account ends. Returns the letter, whose
    code comes from its seed (kept only while the agent may download it)."""
    with write_transaction():
        letter = letters.letter_by_agent(account, key)
        Account.update(password_hash="").where(Account.id == account.id).execute()
        UserSession.delete().where(UserSession.account == account.id).execute()
        record(
            agent,
            "Nouveau courrier de connexion",
            f"account:{account.id}",
            {},
            {"code d'activation": "nouveau (l'ancien et le mot de passe ne servent plus)"},
        )
    return letter


def note_resent(agent: Agent, what: str, subject: str, recipient: str) -> None:
    with write_transaction():
        record(agent, what, subject, {}, {"envoyé à": recipient})
