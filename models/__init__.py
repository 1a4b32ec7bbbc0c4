"""The service's data and the rules that belong to it.

The domain both citizens and agents work on is at this level (people, cards,
eligibility, requests, ordering, pricing, payments and their protocol,
documents); ``shared`` holds what any part relies on, ``citizen`` what only
citizens use, ``demo`` what exists only for demonstrations and tests.
"""

from .cards import Card
from .citizen.auth import LoginFailure, PasswordReset, UserSession
from .citizen.credentials import CredentialRequest
from .demo.provider import ProviderTransaction
from .payments import Payment
from .people import Account, Address, Beneficiary, Mandate
from .requests import CardRequest, Counter, RequestLine
from .shared.db import database, open_database
from .shared.mail import OutboxEmail

ALL_MODELS = [
    Address,
    Beneficiary,
    Account,
    Mandate,
    Card,
    LoginFailure,
    PasswordReset,
    UserSession,
    OutboxEmail,
    CredentialRequest,
    CardRequest,
    RequestLine,
    Counter,
    Payment,
    ProviderTransaction,
]


def create_tables() -> None:
    """Create what is missing; existing tables and rows are left alone."""
    with database.connection_context():
        database.create_tables(ALL_MODELS, safe=True)


__all__ = [
    "ALL_MODELS",
    "Account",
    "Address",
    "Beneficiary",
    "Card",
    "CardRequest",
    "Counter",
    "CredentialRequest",
    "LoginFailure",
    "Mandate",
    "OutboxEmail",
    "PasswordReset",
    "Payment",
    "ProviderTransaction",
    "RequestLine",
    "UserSession",
    "create_tables",
    "database",
    "open_database",
]
