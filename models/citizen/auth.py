"""Signing in: password hashes, the lock after repeated failures, reset links, sessions.

Everything that must hold across server processes (failure counts, sessions,
reset links) lives in the database, not in process memory.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from peewee import CharField, DateTimeField, ForeignKeyField

from ..people import Account
from ..shared.clock import clock
from ..shared.db import BaseModel, write_transaction
from ..shared.prepared import Prepared
from ..shared.security import activation_digest, hash_password, password_matches, same_text
from ..shared.security import token_digest as _digest

# Failed sign-ins are counted per identifier and client address together: five from one
# client lock the identifier for that client only, so that someone elsewhere who knows
# (or guesses) an identifier cannot lock its holder out. A ceiling across all clients
# still stops a guess spread over many addresses: four clients' worth of failures lock
# the identifier everywhere (at most 20 guesses a quarter of an hour, 1,920 a day).
MAX_FAILURES = 5  # from one client
MAX_FAILURES_EVERYWHERE = 20  # from all clients together
FAILURE_WINDOW = timedelta(minutes=15)
LOCK_DURATION = timedelta(minutes=15)
RESET_LINK_LIFETIME = timedelta(hours=1)
# How long a signed-in session lasts without activity; one setting for the server,
# the warning the page shows before the end and the texts that state it.
SESSION_IDLE_LIMIT = timedelta(minutes=30)
# The warning comes this long before the end (half the limit, if shorter).
SESSION_WARNING = timedelta(minutes=2)
MIN_PASSWORD_LENGTH = 12


def normalise_username(username: str) -> str:
    return username.strip().lower()


class LoginFailure(BaseModel):
    username = CharField(index=True)  # as typed, normalised (agents': « agent: » before it)
    at = DateTimeField(index=True)
    client = CharField(default="")  # the client's address, as the service sees it


@dataclass(frozen=True)
class Lock:
    until: datetime
    everywhere: bool  # the ceiling across all clients, not only this client's failures


def lock_of(key: str, client: str | None) -> Lock | None:
    """The lock on ``key`` for ``client`` (None: for any client, as an agent's page
    shows it), or None if it may be tried now."""
    now = clock.now()
    recent = list(
        LoginFailure.select(LoginFailure.at, LoginFailure.client)
        .where((LoginFailure.username == key) & (LoginFailure.at > now - FAILURE_WINDOW))
        .order_by(LoginFailure.at.desc())
    )
    locks = []
    if len(recent) >= MAX_FAILURES_EVERYWHERE:
        locks.append(Lock(recent[0].at + LOCK_DURATION, everywhere=True))
    by_client: dict[str, list[datetime]] = {}
    for failure in recent:
        if client is None or failure.client == client:
            by_client.setdefault(failure.client, []).append(failure.at)
    locks += [
        Lock(times[0] + LOCK_DURATION, everywhere=False)
        for times in by_client.values()
        if len(times) >= MAX_FAILURES
    ]
    locks = [lock for lock in locks if lock.until > now]
    return max(locks, key=lambda lock: lock.until) if locks else None


def count_failure(key: str, client: str) -> Lock | None:
    """One more failed sign-in of ``key`` from ``client``; the lock it leads to."""
    LoginFailure.create(username=key, client=client, at=clock.now())
    return lock_of(key, client)


def forget_failures(key: str, client: str | None = None) -> int:
    """A success forgets its own client's failures (not those from elsewhere, which
    still count towards the ceiling and keep their client locked); an unlock or a new
    password forgets them all (``client`` None). How many were forgotten."""
    which = LoginFailure.username == key
    if client is not None:
        which &= LoginFailure.client == client
    return LoginFailure.delete().where(which).execute()


@dataclass(frozen=True)
class SignInResult:
    account: Account | None = None
    lock: Lock | None = None
    # An imported account signed in with its letter's activation code: it must
    # choose its password before anything else.
    to_activate: Account | None = None


def locked_until(username: str, client: str | None = None) -> datetime | None:
    """When the identifier may be tried again from ``client`` (None: from every
    client), or None if it is not locked."""
    lock = lock_of(normalise_username(username), client)
    return lock.until if lock else None


def sign_in(username: str, password: str, client: str) -> SignInResult:
    """Check credentials, counting failures per identifier (known or not) and client."""
    key = normalise_username(username)
    lock = lock_of(key, client)
    if lock is not None:
        return SignInResult(lock=lock)
    account = Account.get_or_none(Account.username == key)
    if account is not None and not account.password_hash and account.activation_digest:
        password_matches(None, password)  # the same time as a password checked
        if same_text(account.activation_digest, activation_digest(password)):
            forget_failures(key, client)
            return SignInResult(to_activate=account)
    elif password_matches(account.password_hash if account else None, password):
        forget_failures(key, client)
        return SignInResult(account=account)
    return SignInResult(lock=count_failure(key, client))


class PasswordReset(BaseModel):
    """A single-use, time-limited link; only the token's digest is stored."""

    account = ForeignKeyField(Account, on_delete="CASCADE")
    token_digest = CharField(unique=True)
    expires_at = DateTimeField()
    used_at = DateTimeField(null=True)


def create_password_reset(account: Account) -> str:
    """A new link; the links sent before it stop working (only the newest email counts)."""
    token = secrets.token_urlsafe(32)
    PasswordReset.update(used_at=clock.now()).where(
        (PasswordReset.account == account) & PasswordReset.used_at.is_null()
    ).execute()
    PasswordReset.create(
        account=account,
        token_digest=_digest(token),
        expires_at=clock.now() + RESET_LINK_LIFETIME,
    )
    return token


def find_password_reset(token: str) -> PasswordReset | None:
    """The reset a link names, if it is still usable."""
    reset = PasswordReset.get_or_none(PasswordReset.token_digest == _digest(token))
    if reset is None or reset.used_at is not None or reset.expires_at <= clock.now():
        return None
    return reset


def use_password_reset(token: str, new_password: str) -> Account | None:
    """Set the new password if the link is still good; a link works once."""
    with write_transaction():
        reset = find_password_reset(token)
        if reset is None:
            return None
        claimed = (
            PasswordReset.update(used_at=clock.now())
            .where((PasswordReset.id == reset.id) & PasswordReset.used_at.is_null())
            .execute()
        )
        if claimed != 1:
            return None
        account = reset.account
        account.password_hash = hash_password(new_password)
        account.activation_digest = None  # the letter's code has done its work
        account.save()
        forget_failures(account.username)
        # Whoever was signed in with the old password is signed out everywhere.
        UserSession.delete().where(UserSession.account == account).execute()
        return account


class UserSession(BaseModel):
    """A signed-in session; the browser holds only a random token for it."""

    token_digest = CharField(unique=True)
    account = ForeignKeyField(Account, on_delete="CASCADE")
    created_at = DateTimeField()
    last_seen = DateTimeField()

    @property
    def expires_at(self) -> datetime:
        return self.last_seen + SESSION_IDLE_LIMIT


def set_session_idle_limit(limit: timedelta) -> None:
    """Set the idle limit for this process (``SESSION_IDLE_MINUTES``: QA may run with 3)."""
    global SESSION_IDLE_LIMIT
    SESSION_IDLE_LIMIT = limit


def session_warning() -> timedelta:
    return min(SESSION_WARNING, SESSION_IDLE_LIMIT / 2)


def open_session(account: Account) -> str:
    # 128 random bits: the browser sends it with every request, on every htmx step.
    token = secrets.token_urlsafe(16)
    now = clock.now()
    UserSession.create(token_digest=_digest(token), account=account, created_at=now, last_seen=now)
    return token


@dataclass(frozen=True)
class SessionLookup:
    account: Account | None = None
    expired: bool = False
    expires_at: datetime | None = None
    ended_account_id: int | None = None  # whose session this request found ended


# The account in the same query: every signed-in page needs it.
_SESSION_BY_DIGEST = Prepared(
    lambda digest: (
        UserSession.select(UserSession, Account)
        .join(Account)
        .where(UserSession.token_digest == digest)
        .limit(1)
    ),
    str,
)


def touch_session(token: str) -> SessionLookup:
    """Find the session for ``token`` and record the activity; end it if idle too long."""
    found = _SESSION_BY_DIGEST.first(_digest(token))
    if found is None:
        return SessionLookup()
    now = clock.now()
    if now >= found.expires_at:
        found.delete_instance()
        return SessionLookup(expired=True, ended_account_id=found.account_id)
    # Writing on every request would make every page a write; a minute is fine.
    if now - found.last_seen >= timedelta(seconds=60):
        UserSession.update(last_seen=now).where(UserSession.id == found.id).execute()
        found.last_seen = now
    return SessionLookup(account=found.account, expires_at=found.expires_at)


def keep_session_alive(token: str) -> None:
    """« Rester connecté(e) »: restart the idle period now."""
    UserSession.update(last_seen=clock.now()).where(
        UserSession.token_digest == _digest(token)
    ).execute()


def close_session(token: str) -> None:
    UserSession.delete().where(UserSession.token_digest == _digest(token)).execute()


def set_account_language(account: Account, language: str) -> None:
    """Record the language the account's holder reads (its e-mails are written in it)."""
    Account.update(language=language).where(Account.id == account.id).execute()
    account.language = language
