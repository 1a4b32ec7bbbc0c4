"""What is kept, and for how long (the legal notice says the same, from these figures).

- A request not finished (a draft, or recorded and never paid) untouched for
  ``ABANDONED_AFTER`` is closed: a draft is deleted; a recorded request is
  cancelled and its lines released, so that its cards may be asked for again
  (a card revoked by « Oui » stays revoked, and may get a duplicate).
- Sessions past their idle limit, reset links past their lifetime or used,
  answers kept after a session ended (``shared.kept_answers``), sign-in failures,
  forgotten-credential requests and photo uploads past the windows that count them:
  deleted. The results of agents' actions after ``results.KEPT_FOR``: deleted; the
  seed of a letter an agent prepared, once its download time is past: erased.
- A paid request, ``keep_months`` after its payment (``RETENTION_MONTHS``,
  default 24): its delivery address is blanked, its payments' masked card
  numbers removed; every e-mail sent before then keeps its subject and dates,
  not its recipient or text. Its number, kind, dates and amounts stay, for the
  accounts. The people and cards themselves
  come from the CMI database and follow its own rules.
- A photo replaced by a newer one and kept only because a batch sent to the
  factory named it: deleted ``keep_months`` after it was replaced (that batch
  can no longer be written again with it). The current photo stays.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from . import letters
from .citizen import auth
from .citizen.auth import (
    FAILURE_WINDOW,
    LOCK_DURATION,
    LoginFailure,
    PasswordReset,
    UserSession,
)
from .citizen.credentials import WINDOW, CredentialRequest
from .operator import results
from .operator.agents import AGENT_IDLE_LIMIT, AgentSession
from .payments import Payment
from .people import Address
from .photos import UPLOAD_WINDOW, Photo, PhotoUpload
from .requests import (
    CANCELLED,
    DRAFT,
    PAID_STATES,
    RECORDED,
    CardRequest,
    RequestLine,
    add_months,
)
from .shared.clock import clock
from .shared.db import write_transaction
from .shared.kept_answers import forget_older as forget_kept_answers
from .shared.mail import OutboxEmail

ABANDONED_AFTER = timedelta(days=30)
DEFAULT_KEEP_MONTHS = 24
ANONYMISED = "(effacé)"


@dataclass
class Purge:
    counts: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        done = ", ".join(f"{n} {what}" for what, n in self.counts.items() if n)
        return f"Purged: {done or 'nothing'}"


def purge(keep_months: int = DEFAULT_KEEP_MONTHS) -> Purge:
    now = clock.now()
    result = Purge()
    abandoned = now - ABANDONED_AFTER
    with write_transaction():
        result.counts["drafts deleted"] = (
            CardRequest.delete()
            .where((CardRequest.state == DRAFT) & (CardRequest.updated_at < abandoned))
            .execute()
        )
        stale = [
            r.id
            for r in CardRequest.select(CardRequest.id).where(
                (CardRequest.state == RECORDED) & (CardRequest.updated_at < abandoned)
            )
        ]
        if stale:
            RequestLine.update(active=False).where(RequestLine.request.in_(stale)).execute()
            CardRequest.update(state=CANCELLED, updated_at=now).where(
                CardRequest.id.in_(stale)
            ).execute()
        result.counts["unpaid requests cancelled"] = len(stale)

    with write_transaction():
        result.counts["sessions"] = (
            UserSession.delete()
            .where(UserSession.last_seen < now - auth.SESSION_IDLE_LIMIT)
            .execute()
        ) + (AgentSession.delete().where(AgentSession.last_seen < now - AGENT_IDLE_LIMIT).execute())
        result.counts["reset links"] = (
            PasswordReset.delete()
            .where((PasswordReset.expires_at < now) | PasswordReset.used_at.is_null(False))
            .execute()
        )
        result.counts["sign-in failures"] = (
            LoginFailure.delete()
            .where(LoginFailure.at < now - max(FAILURE_WINDOW, LOCK_DURATION))
            .execute()
        )
        result.counts["forgotten-credential requests"] = (
            CredentialRequest.delete()
            .where(
                (CredentialRequest.created_at < now - WINDOW)
                & CredentialRequest.taken_at.is_null(False)
            )
            .execute()
        )
        result.counts["answers kept after a session ended"] = forget_kept_answers(now)
        result.counts["photo uploads counted"] = (
            PhotoUpload.delete().where(PhotoUpload.created_at < now - UPLOAD_WINDOW).execute()
        )
        result.counts["console results"] = results.forget_old()
        result.counts["agents' letter seeds"] = letters.forget_agent_seeds()

    # Paid requests past the retention period, not yet anonymised.
    cutoff = add_months(now.date(), -keep_months)
    old = list(
        CardRequest.select(CardRequest.id, CardRequest.delivery_address)
        .join(Address, on=(CardRequest.delivery_address == Address.id))
        .where(
            CardRequest.state.in_(PAID_STATES)
            & (CardRequest.paid_at < cutoff)
            & (Address.city != ANONYMISED)
        )
    )
    with write_transaction():
        for request in old:
            Address.update(
                name=ANONYMISED,
                apartment="",
                building="",
                street="",
                locality="",
                postcode="",
                city=ANONYMISED,
                country="",
            ).where(Address.id == request.delivery_address_id).execute()
            Payment.update(masked_card=None).where(Payment.request == request.id).execute()
        result.counts["paid requests anonymised"] = len(old)
        # E-mails sent before the cutoff: the fact stays (subject, dates), not the text.
        result.counts["e-mails blanked"] = (
            OutboxEmail.update(recipient=ANONYMISED, text=ANONYMISED, html=None)
            .where(
                OutboxEmail.sent_at.is_null(False)
                & (OutboxEmail.sent_at < cutoff)
                & (OutboxEmail.recipient != ANONYMISED)
            )
            .execute()
        )
        result.counts["replaced photos"] = (
            Photo.delete()
            .where(Photo.replaced_at.is_null(False) & (Photo.replaced_at < cutoff))
            .execute()
        )
    return result
