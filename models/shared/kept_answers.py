"""Answers a form carried when it came after its session had ended (WCAG 2.2.5).

A citizen or an agent who types, waits past the idle limit and sends the form is
signed out; what they typed is kept here, under a random token, until they sign in
again (then the same form shows it, not yet sent) or for ``LIFETIME`` at most.

Kept in the database rather than in the browser: the browser holds only the token
(in the sign-in page's address), never the answers, so the next person at a shared
computer reads nothing of them; they go back only to the same holder (the account or
agent whose session ended, and only after signing in); every app server finds them;
and no cookie size limits them. Secrets never come here (``SECRET_NAMES``)."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import timedelta

from peewee import CharField, DateTimeField, TextField

from .clock import clock
from .db import BaseModel
from .security import token_digest

# Long enough to sign in again (a forgotten password's e-mail included), short enough
# that typed answers do not linger.
LIFETIME = timedelta(minutes=30)
# Never kept, whatever the form: the form's token, passwords, second-factor and
# activation codes, a payment card's details.
SECRET_NAMES = {
    "csrf_token",
    "password",
    "confirmation",
    "code",
    "number",
    "security_code",
    "expiry",
}
SECRET_PARTS = ("password", "passe", "csrf", "totp", "secret", "token")
# What the button pressed says (« Précédent », « Oui, … »), not an answer: given back,
# it would be a confirmation replayed.
BUTTON_NAMES = {"action", "confirm"}
# A form of ours carries a few short answers (an address: 8 lines of 38 characters).
# Given back, they wait in the session's cookie for one page, as a refused form's do
# (``views.shared.render``): the same bounds.
MAX_FIELDS = 100
MAX_VALUE = 200
MAX_TOTAL = 1500


class KeptAnswers(BaseModel):
    token_digest = CharField(unique=True)
    holder = CharField()  # « citizen:<account id> » or « agent:<agent id> »
    page = CharField(max_length=2000)  # the address to come back to
    answers = TextField()  # JSON: [[name, value], ...]
    created_at = DateTimeField(index=True)


@dataclass(frozen=True)
class Kept:
    page: str
    answers: list[tuple[str, str]]


def holder_of(kind: str, identifier: int) -> str:
    return f"{kind}:{identifier}"


def is_secret(name: str) -> bool:
    lowered = name.lower()
    return lowered in SECRET_NAMES or any(part in lowered for part in SECRET_PARTS)


def worth_keeping(fields) -> list[tuple[str, str]]:
    """The (name, value) pairs of ``fields`` that may be kept: no secret, bounded."""
    kept, budget = [], MAX_TOTAL
    for name, value in fields:
        if len(kept) >= MAX_FIELDS or budget <= 0:
            break
        if is_secret(name) or name in BUTTON_NAMES or len(name) > 100:
            continue
        value = value[: min(MAX_VALUE, budget)]
        budget -= len(name) + len(value)
        kept.append((name, value))
    return kept


def keep(holder: str, page: str, answers: list[tuple[str, str]]) -> str | None:
    """Keep ``answers`` for ``holder``, to show again at ``page``: the token to sign in
    with (None: nothing worth keeping). Answers kept too long go at the same time."""
    now = clock.now()
    KeptAnswers.delete().where(KeptAnswers.created_at < now - LIFETIME).execute()
    if not answers:
        return None
    token = secrets.token_urlsafe(16)
    KeptAnswers.create(
        token_digest=token_digest(token),
        holder=holder,
        page=page[:2000],
        answers=json.dumps(answers),
        created_at=now,
    )
    return token


def _live(token: str | None):
    if not token or len(token) > 100:
        return None
    return KeptAnswers.get_or_none(
        (KeptAnswers.token_digest == token_digest(token))
        & (KeptAnswers.created_at >= clock.now() - LIFETIME)
    )


def waiting(token: str | None) -> bool:
    """Whether answers wait under ``token`` (the sign-in page says so)."""
    return _live(token) is not None


def take(token: str | None, holder: str) -> Kept | None:
    """The answers kept under ``token`` for ``holder``, once: they are deleted. Another
    holder gets nothing, and the answers stay for their own."""
    found = _live(token)
    if found is None or found.holder != holder:
        return None
    if KeptAnswers.delete().where(KeptAnswers.id == found.id).execute() != 1:
        return None  # taken by another request at the same moment
    return Kept(page=found.page, answers=[tuple(pair) for pair in json.loads(found.answers)])


def forget_older(now=None) -> int:
    """Delete the answers past their lifetime (``retention.purge``)."""
    now = now or clock.now()
    return KeptAnswers.delete().where(KeptAnswers.created_at < now - LIFETIME).execute()
