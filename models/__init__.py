"""The service's data and the rules that belong to it."""

from .auth import LoginFailure, PasswordReset, UserSession
from .cards import Card
from .db import database, open_database
from .mail import OutboxEmail
from .payments import Payment
from .people import Account, Address, Beneficiary, Mandate
from .provider import ProviderTransaction
from .requests import CardRequest, Counter, RequestLine

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
