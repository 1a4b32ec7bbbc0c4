"""« Identifiant oublié » and « Mot de passe oublié »: asked for, limited, answered later.

The page answers the same way, in the same time, whether or not an account
exists: it only records what was asked (``ask``), and the email, if there is
an account to write to, is prepared once the answer has left (``take``). What
is recorded is also what limits the requests, in the database so that every
server process counts the same ones:
- per identifier or address typed, and per client, a few requests an hour,
  refused with a message that says when to try again (the same whether or not
  the account exists);
- per recipient, a few emails an hour, whatever was typed to reach them (the
  extra requests are answered as usual, and send nothing).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from peewee import CharField, DateTimeField, TextField, fn

from ..people import Account
from ..shared.clock import clock
from ..shared.db import BaseModel, lock_names, write_transaction

USERNAME_REMINDER = "identifiant"
RESET_LINK = "mot-de-passe"

WINDOW = timedelta(hours=1)
PER_KEY = 3  # requests an hour for one identifier or one address
PER_CLIENT = 10  # requests an hour from one client address
PER_RECIPIENT = 3  # emails an hour to one address


class CredentialRequest(BaseModel):
    kind = CharField()  # USERNAME_REMINDER or RESET_LINK
    key = CharField(index=True)  # the identifier or the address as typed, normalised
    client = CharField(index=True)  # where the request came from
    base_url = TextField()  # the service's address, for the links of the email
    created_at = DateTimeField(index=True)
    taken_at = DateTimeField(null=True)  # prepared (email queued, or nothing to send)
    recipient = CharField(null=True, index=True)  # who was written to, if anyone
    language = CharField(max_length=5, default="")  # the asker's: the e-mail is written in it


@dataclass(frozen=True)
class Admission:
    request: CredentialRequest | None = None
    retry_at: datetime | None = None  # when refused: from when to try again

    @property
    def accepted(self) -> bool:
        return self.request is not None


def normalise_key(typed: str) -> str:
    return typed.strip().lower()


def _retry_at(query, limit: int, now: datetime) -> datetime | None:
    recent = list(
        query.where(CredentialRequest.created_at > now - WINDOW)
        .order_by(CredentialRequest.created_at.desc())
        .limit(limit)
    )
    if len(recent) < limit:
        return None
    return recent[-1].created_at + WINDOW


def ask(kind: str, typed: str, client: str, base_url: str, language: str = "") -> Admission:
    """Record a request, or refuse it if its identifier or its client asked too often."""
    key = normalise_key(typed)
    now = clock.now()
    with write_transaction():
        # Two servers counting at once must not both see room for one more.
        lock_names(f"credential key {kind} {key}", f"credential client {client}")
        same_key = CredentialRequest.select().where(
            (CredentialRequest.kind == kind) & (CredentialRequest.key == key)
        )
        same_client = CredentialRequest.select().where(CredentialRequest.client == client)
        limits = [_retry_at(same_key, PER_KEY, now), _retry_at(same_client, PER_CLIENT, now)]
        refused = [moment for moment in limits if moment is not None]
        if refused:
            return Admission(retry_at=max(refused))
        return Admission(
            CredentialRequest.create(
                kind=kind,
                key=key,
                client=client,
                base_url=base_url,
                language=language,
                created_at=now,
            )
        )


def take(request_id: int) -> CredentialRequest | None:
    """Claim a recorded request to prepare its email, once (None if already taken)."""
    claimed = (
        CredentialRequest.update(taken_at=clock.now())
        .where((CredentialRequest.id == request_id) & CredentialRequest.taken_at.is_null())
        .execute()
    )
    return CredentialRequest.get_by_id(request_id) if claimed == 1 else None


def waiting(older_than: timedelta = timedelta(minutes=1)) -> list[int]:
    """Requests recorded but never prepared (the server stopped right after answering)."""
    return [
        row.id
        for row in CredentialRequest.select(CredentialRequest.id)
        .where(
            CredentialRequest.taken_at.is_null()
            & (CredentialRequest.created_at < clock.now() - older_than)
        )
        .order_by(CredentialRequest.id)
    ]


def accounts_for(request: CredentialRequest) -> list[Account]:
    """Who the request reaches: the account of an identifier, the accounts of an address."""
    if request.kind == RESET_LINK:
        return list(Account.select().where(Account.username == request.key))
    by_address = fn.LOWER(Account.email) == request.key
    return list(Account.select().where(by_address).order_by(Account.id))


def reserve_recipient(request: CredentialRequest, recipient: str) -> bool:
    """Count this email against its recipient's hourly limit, or refuse it (call inside the
    write transaction that queues the email)."""
    recipient = recipient.lower()
    lock_names(f"credential recipient {recipient}")
    sent = (
        CredentialRequest.select()
        .where(
            (CredentialRequest.recipient == recipient)
            & (CredentialRequest.taken_at > clock.now() - WINDOW)
        )
        .count()
    )
    if sent >= PER_RECIPIENT:
        return False
    CredentialRequest.update(recipient=recipient).where(
        CredentialRequest.id == request.id
    ).execute()
    return True
