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
from .factory import FactoryBatch
from .letters import CredentialsLetter, LetterFile
from .operator.agents import Agent, AgentSession, AuditEntry
from .operator.results import ActionResult
from .payments import Payment
from .people import Account, Address, Beneficiary, Mandate
from .photos import Photo, PhotoUpload
from .requests import CardRequest, Counter, RequestLine
from .shared import migrations, rights
from .shared.db import database, open_database
from .shared.kept_answers import KeptAnswers
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
    FactoryBatch,
    LetterFile,
    CredentialsLetter,
    Photo,
    PhotoUpload,
    Agent,
    AgentSession,
    AuditEntry,
    KeptAnswers,
    ActionResult,
    migrations.SchemaVersion,
]


def create_tables() -> None:
    """A new database gets every table at the current schema version; an existing
    one is left alone (nothing is created: the application's role needs no right to),
    and refused if its schema is not the code's, or if the role connected lacks a right
    the service needs (``migrations.SchemaOutOfDate``, whose message names the command
    to run)."""
    with database.connection_context():
        if migrations.version() is None:
            migrations.create(ALL_MODELS)
            return
        migrations.check()
        lacking = rights.missing()
        if lacking:
            raise migrations.SchemaOutOfDate(
                f"The database role lacks {', '.join(lacking)}: run « {migrations.COMMAND} "
                "--app-role ROLE » as the tables' owner (README, « Running it »)."
            )


__all__ = [
    "ALL_MODELS",
    "Account",
    "ActionResult",
    "Address",
    "Agent",
    "AgentSession",
    "AuditEntry",
    "Beneficiary",
    "Card",
    "CardRequest",
    "Counter",
    "CredentialRequest",
    "CredentialsLetter",
    "FactoryBatch",
    "KeptAnswers",
    "LetterFile",
    "LoginFailure",
    "Mandate",
    "OutboxEmail",
    "PasswordReset",
    "Payment",
    "Photo",
    "PhotoUpload",
    "ProviderTransaction",
    "RequestLine",
    "UserSession",
    "create_tables",
    "database",
    "migrations",
    "open_database",
]
