"""Agents of the issuing organisation: accounts apart from citizens', two roles, a second
factor (TOTP) at every sign-in, a shorter idle limit, and an audit log nobody edits."""

from __future__ import annotations

import calendar
import json
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pyotp
from peewee import BooleanField, CharField, DateTimeField, ForeignKeyField, IntegerField, TextField

from ..citizen.auth import Lock, count_failure, forget_failures, lock_of
from ..people import Account
from ..shared.clock import clock
from ..shared.db import BaseModel, lock_names, write_transaction
from ..shared.security import password_matches
from ..shared.security import token_digest as _digest

AGENT = "agent"  # search, read, resend, unlock
SUPERVISOR = "superviseur"  # also refunds, e-mail changes, cancellations, agent accounts
ROLES = (AGENT, SUPERVISOR)
ROLE_LABELS = {AGENT: "Agent", SUPERVISOR: "Superviseur"}

AGENT_IDLE_LIMIT = timedelta(minutes=15)
# Failed agent sign-ins are counted apart from citizens' identifiers, by the same rule
# (``models.citizen.auth``: per identifier and client, with a ceiling across clients).
FAILURE_PREFIX = "agent:"


class Agent(BaseModel):
    username = CharField(unique=True)
    display_name = CharField()
    role = CharField(default=AGENT)
    password_hash = CharField()
    totp_secret = CharField()  # base32, shown once at enrolment (as text and QR code)
    active = BooleanField(default=True)
    created_at = DateTimeField(default=clock.now)
    # A new agent enrols through a one-time link sent by e-mail: password and second factor.
    email = CharField(default="")
    enrolment_digest = CharField(null=True)
    enrolment_expires = DateTimeField(null=True)
    # The time step of the last code accepted: a code works once.
    totp_last_step = IntegerField(null=True)

    @property
    def is_supervisor(self) -> bool:
        return self.role == SUPERVISOR

    @property
    def role_label(self) -> str:
        return ROLE_LABELS[self.role]


class AgentSession(BaseModel):
    token_digest = CharField(unique=True)
    agent = ForeignKeyField(Agent, on_delete="CASCADE")
    created_at = DateTimeField()
    last_seen = DateTimeField()


class AuditEntry(BaseModel):
    """Who did what, when, to what, with the state before and after. Written once: the
    code has no way to change or delete an entry, triggers refuse it (and TRUNCATE), and
    under the README's two roles the application's cannot set them aside."""

    at = DateTimeField(default=clock.now, index=True)
    agent = ForeignKeyField(Agent, null=True)  # None: an operator, by a command (create-agent)
    action = CharField()
    subject = CharField(index=True)  # « request:10000 », « account:12 »
    before = TextField(default="{}")
    after = TextField(default="{}")

    @property
    def actor(self) -> str:
        """« par Agnès GUICHET », as the history says who did it."""
        if self.agent_id is None:
            return "par un opérateur (commande create-agent)"
        return f"par {self.agent.display_name}"

    @property
    def before_data(self) -> dict:
        return json.loads(self.before)

    @property
    def after_data(self) -> dict:
        return json.loads(self.after)


def record(agent: Agent | None, action: str, subject: str, before: dict, after: dict) -> AuditEntry:
    return AuditEntry.create(
        agent=agent,
        action=action,
        subject=subject,
        before=json.dumps(before, ensure_ascii=False, sort_keys=True, default=str),
        after=json.dumps(after, ensure_ascii=False, sort_keys=True, default=str),
    )


def new_totp_secret() -> str:
    return pyotp.random_base32()


def _epoch() -> int:
    return calendar.timegm(clock.now().timetuple())  # naive UTC


def totp_now(secret: str) -> str:
    """The current code (what the agent's app shows; the suite computes it too)."""
    return pyotp.TOTP(secret).at(_epoch())


@dataclass(frozen=True)
class AgentSignIn:
    agent: Agent | None = None
    lock: Lock | None = None


def _failure_key(username: str) -> str:
    return FAILURE_PREFIX + username.strip().lower()


def lock_of_agent(agent: Agent) -> Lock | None:
    """Whether ``agent`` is locked out from some client (or from all), as their
    supervisor sees it."""
    return lock_of(_failure_key(agent.username), None)


def accepted_step(agent: Agent, code: str) -> int | None:
    """The time step whose code this is (one step of drift either way: a code typed as
    the half-minute turns still works), if it was not used before: a code works once."""
    code = "".join(code.split())
    if not (code.isascii() and code.isdigit() and len(code) == 6):
        return None
    totp, now = pyotp.TOTP(agent.totp_secret), _epoch()
    for drift in (0, -1, 1):
        at = now + drift * totp.interval
        if pyotp.utils.strings_equal(totp.at(at), code):
            step = totp.timecode(datetime.fromtimestamp(at, UTC))
            return step if step > (agent.totp_last_step or 0) else None
    return None


def sign_in(username: str, password: str, code: str, client: str) -> AgentSignIn:
    """Password and the authenticator's code, both right; failures counted per identifier
    and client (call inside a write transaction: two servers count the same identifier in
    turn)."""
    key = _failure_key(username)
    lock_names(key)
    lock = lock_of(key, client)
    if lock is not None:
        return AgentSignIn(lock=lock)
    agent = Agent.get_or_none((Agent.username == username.strip().lower()) & Agent.active)
    password_ok = password_matches(agent.password_hash if agent else None, password)
    step = accepted_step(agent, code) if agent is not None else None
    if password_ok and step is not None:
        claimed = (
            Agent.update(totp_last_step=step)
            .where(
                (Agent.id == agent.id)
                & ((Agent.totp_last_step.is_null()) | (Agent.totp_last_step < step))
            )
            .execute()
        )
        if claimed == 1:
            forget_failures(key, client)
            return AgentSignIn(agent=agent)
    return AgentSignIn(lock=count_failure(key, client))


def open_session(agent: Agent) -> str:
    token = secrets.token_urlsafe(32)
    now = clock.now()
    AgentSession.create(token_digest=_digest(token), agent=agent, created_at=now, last_seen=now)
    return token


def touch_session(token: str) -> tuple[Agent | None, int | None]:
    """The agent of ``token``, or (None, the id of the agent whose session just ended;
    None: no session at all)."""
    found = AgentSession.get_or_none(AgentSession.token_digest == _digest(token))
    if found is None:
        return None, None
    now = clock.now()
    if now >= found.last_seen + AGENT_IDLE_LIMIT or not found.agent.active:
        found.delete_instance()
        return None, found.agent_id
    if now - found.last_seen >= timedelta(seconds=30):
        AgentSession.update(last_seen=now).where(AgentSession.id == found.id).execute()
    return found.agent, None


def close_session(token: str) -> None:
    AgentSession.delete().where(AgentSession.token_digest == _digest(token)).execute()


class NotAllowed(Exception):
    """An action on agents' accounts the rules refuse: the message says why."""


def unlock_agent(by: Agent, agent: Agent) -> int:
    """A supervisor forgets another agent's failed sign-ins (from every client), in the
    audit log; how many. Nobody unlocks themselves."""
    if not by.is_supervisor:
        raise NotAllowed("Seul un superviseur peut débloquer un agent.")
    if by.id == agent.id:
        raise NotAllowed("Vous ne pouvez pas débloquer votre propre identifiant.")
    with write_transaction():
        failures = forget_failures(_failure_key(agent.username))
        if failures:
            record(
                by,
                "Agent débloqué",
                f"agent:{agent.id}",
                {"essais échoués": failures},
                {"essais échoués": 0},
            )
    return failures


def unlock(agent: Agent, account: Account) -> int:
    """Forget the failed sign-ins of a citizen's identifier, in the audit log; how many."""
    with write_transaction():
        failures = forget_failures(account.username)
        if failures:
            record(
                agent,
                "Compte déverrouillé",
                f"account:{account.id}",
                {"essais échoués": failures},
                {"essais échoués": 0},
            )
    return failures


ENROLMENT_LIFETIME = timedelta(hours=48)
ISSUER = "CMI gestion"


# An agent's identifiant: lower-case letters without accents, digits, dots and dashes.
USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]*")
USERNAME_MAX = 60


def valid_username(username: str) -> bool:
    return len(username) <= USERNAME_MAX and USERNAME.fullmatch(username) is not None


def create_agent(
    by: Agent | None, username: str, name: str, email: str, role: str
) -> tuple[Agent | None, str | None]:
    """A new agent, not enrolled yet, and the enrolment token (for the link); (None, None)
    when the identifiant is taken. ``by``: the supervisor who adds them, or None for an
    operator's command (the first agent of a new installation)."""
    token = secrets.token_urlsafe(32)
    with write_transaction():
        lock_names("agent:" + username)
        if Agent.select().where(Agent.username == username).exists():
            return None, None
        agent = Agent.create(
            username=username,
            display_name=name,
            email=email,
            role=role,
            password_hash="",
            totp_secret=new_totp_secret(),
            enrolment_digest=_digest(token),
            enrolment_expires=clock.now() + ENROLMENT_LIFETIME,
        )
        record(
            by,
            "Agent ajouté",
            f"agent:{agent.id}",
            {},
            {"identifiant": username, "nom": name, "rôle": role, "courriel": email},
        )
    return agent, token


def enrolling(token: str) -> Agent | None:
    agent = Agent.get_or_none(Agent.enrolment_digest == _digest(token))
    if agent is None or agent.enrolment_expires <= clock.now() or not agent.active:
        return None
    return agent


def provisioning_uri(agent: Agent) -> str:
    return pyotp.TOTP(agent.totp_secret).provisioning_uri(name=agent.username, issuer_name=ISSUER)


def enrol(token: str, password: str, code: str) -> Agent | None:
    """Set the password once the authenticator's code proves the secret was taken."""
    from ..shared.security import hash_password

    with write_transaction():
        agent = enrolling(token)
        if agent is None:
            return None
        step = accepted_step(agent, code)
        if step is None:
            return None
        Agent.update(
            password_hash=hash_password(password),
            enrolment_digest=None,
            enrolment_expires=None,
            totp_last_step=step,
        ).where(Agent.id == agent.id).execute()
        return agent


def deactivate(by: Agent, agent: Agent) -> bool:
    """The agent's access ends, with their sessions; False when it had ended already
    (nothing is recorded twice)."""
    with write_transaction():
        changed = Agent.update(active=False).where((Agent.id == agent.id) & Agent.active).execute()
        if changed != 1:
            return False
        AgentSession.delete().where(AgentSession.agent == agent.id).execute()
        record(by, "Agent désactivé", f"agent:{agent.id}", {"actif": True}, {"actif": False})
    return True
