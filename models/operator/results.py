"""What each confirmed action of the console did, kept so that the same confirmation sent
again (a double click, the back button then « Oui » again, the same form replayed) does
nothing more and lands on the same result.

Each confirmation page carries a one-time token. The first submission of a token runs the
action and records its result in the same transaction; any later submission of it finds
that result instead. A token is bound to its agent and to what it acts on: the same token
sent for another account is another action."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from peewee import BooleanField, CharField, DateTimeField, ForeignKeyField, IntegerField, TextField

from ..letters import CredentialsLetter
from ..shared.clock import clock
from ..shared.db import BaseModel, lock_names, write_transaction
from ..shared.security import token_digest
from .agents import Agent

# Longer than any agent's session (a form from an older session fails its CSRF check).
KEPT_FOR = timedelta(days=7)
# A confirmation page shown again this soon after its action (the back button reloads it,
# since console pages are never stored) carries the same token: « Oui » again lands on the
# same result. Later, the page is a new confirmation.
SHOWN_AGAIN_WITHIN = timedelta(minutes=2)
_TOKEN = re.compile(r"[A-Za-z0-9_-]{20,64}")


class ActionResult(BaseModel):
    token_digest = CharField(unique=True)
    agent = ForeignKeyField(Agent, on_delete="CASCADE")
    at = DateTimeField()
    subject = CharField()  # what the action was on: « account:12 », « request:3 », « agents »
    done = BooleanField()  # False: the action did not apply (the text says why)
    heading = CharField()
    text = TextField(default="")
    letter = ForeignKeyField(CredentialsLetter, null=True, on_delete="SET NULL")
    letter_size = IntegerField(null=True)  # the letter's PDF, in bytes, once printed
    page = CharField(default="")  # the confirmation's address
    token = CharField(default="")  # bound to its agent (see run_once): useless to another


@dataclass(frozen=True)
class Outcome:
    """What an action did, in the agent's words: the heading and what follows."""

    done: bool
    heading: str
    text: str = ""
    letter_id: int | None = None


def new_token() -> str:
    return secrets.token_urlsafe(16)


def recent_result(agent: Agent, page: str) -> ActionResult | None:
    """The result of this agent's confirmation on ``page`` if it came moments ago."""
    return (
        ActionResult.select()
        .where(
            (ActionResult.agent == agent)
            & (ActionResult.page == page)
            & (ActionResult.at >= clock.now() - SHOWN_AGAIN_WITHIN)
        )
        .order_by(ActionResult.at.desc())
        .first()
    )


def token_of(recent: ActionResult | None) -> str:
    """The token of a confirmation shown again: that of the action confirmed there moments
    ago (``recent_result``: the back button then « Oui » does nothing more), or a new one."""
    return recent.token if recent is not None and recent.token else new_token()


def token_for(agent: Agent, page: str) -> str:
    """The token of the confirmation shown on ``page`` (see ``token_of``)."""
    return token_of(recent_result(agent, page))


def valid_token(token: str) -> bool:
    return bool(_TOKEN.fullmatch(token or ""))


def run_once(
    agent: Agent, token: str, subject: str, action: Callable[[], Outcome], page: str = ""
) -> tuple[ActionResult, bool]:
    """The result of this confirmation, and whether this submission made it: ``action``
    runs for the token's first submission only, in the transaction that records its
    result (two submissions at once queue on the token)."""
    digest = token_digest(f"console-action:{agent.id}:{subject}:{token}")
    with write_transaction():
        lock_names(digest)
        found = ActionResult.get_or_none(ActionResult.token_digest == digest)
        if found is not None:
            return found, False
        outcome = action()
        result = ActionResult.create(
            token_digest=digest,
            agent=agent.id,
            at=clock.now(),
            subject=subject,
            done=outcome.done,
            heading=outcome.heading,
            text=outcome.text,
            letter=outcome.letter_id,
            page=page,
            token=token,
        )
    return result, True


def result_of(agent: Agent, result_id: int) -> ActionResult | None:
    """A result, for the agent whose action it is only."""
    return ActionResult.get_or_none((ActionResult.id == result_id) & (ActionResult.agent == agent))


def note_letter_size(result: ActionResult, size: int) -> None:
    ActionResult.update(letter_size=size).where(ActionResult.id == result.id).execute()
    result.letter_size = size


def forget_old() -> int:
    """Results past their keeping time (``retention.purge``); how many."""
    return ActionResult.delete().where(ActionResult.at < clock.now() - KEPT_FOR).execute()
