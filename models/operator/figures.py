"""The figures of the day for agents: requests by day and week and by kind, payments,
refunds pending, e-mails waiting, cards not yet ordered, time from payment to dispatch."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import date, timedelta

from ..cards import DUPLICATE, SECOND_COPY
from ..factory import waiting_lines
from ..letters import owed_count
from ..payments import ACCEPTED, REFUND_DUE, REFUSED, Payment
from ..requests import CardRequest, RequestLine
from ..shared.clock import clock, to_paris
from ..shared.mail import OutboxEmail

DAYS = 14
WEEKS = 8


@dataclass
class Row:
    label: str
    duplicates: int = 0
    second_copies: int = 0

    @property
    def total(self) -> int:
        return self.duplicates + self.second_copies


@dataclass
class Figures:
    days: list[Row] = field(default_factory=list)
    weeks: list[Row] = field(default_factory=list)
    payments: dict[str, tuple[int, int]] = field(default_factory=dict)  # label -> (n, cents)
    refunds_pending: tuple[int, int] = (0, 0)
    emails_waiting: int = 0
    letters_owed: int = 0
    not_exported: int = 0
    median_days_to_dispatch: float | None = None
    dispatched: int = 0


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def figures() -> Figures:
    today = clock.today()
    result = Figures()
    first_day = today - timedelta(days=DAYS - 1)
    first_week = _monday(today) - timedelta(weeks=WEEKS - 1)
    days = {first_day + timedelta(days=i): Row(label="") for i in range(DAYS)}
    weeks = {first_week + timedelta(weeks=i): Row(label="") for i in range(WEEKS)}
    since = min(first_day, first_week)
    recorded = CardRequest.select(CardRequest.recorded_at, CardRequest.kind).where(
        CardRequest.recorded_at >= since - timedelta(days=1)
    )
    for at, kind in recorded.tuples():
        day = to_paris(at).date()
        for book, key in ((days, day), (weeks, _monday(day))):
            row = book.get(key)
            if row is None:
                continue
            if kind == DUPLICATE:
                row.duplicates += 1
            elif kind == SECOND_COPY:
                row.second_copies += 1
    for day, row in days.items():
        row.label = day.strftime("%d/%m/%Y")
    for monday, row in weeks.items():
        row.label = f"Semaine du {monday:%d/%m/%Y}"
    result.days = list(reversed(days.values()))
    result.weeks = list(reversed(weeks.values()))

    month_ago = clock.now() - timedelta(days=30)
    for label, state in (("Acceptés", ACCEPTED), ("Refusés", REFUSED)):
        rows = list(
            Payment.select(Payment.amount)
            .where((Payment.state == state) & (Payment.completed_at >= month_ago))
            .tuples()
        )
        result.payments[label] = (len(rows), sum(amount for (amount,) in rows))
    due = list(Payment.select(Payment.amount).where(Payment.state == REFUND_DUE).tuples())
    result.refunds_pending = (len(due), sum(amount for (amount,) in due))
    result.emails_waiting = OutboxEmail.select().where(OutboxEmail.sent_at.is_null()).count()
    result.letters_owed = owed_count()[0]
    result.not_exported = waiting_lines().count()
    delays = [
        (shipped - to_paris(paid).date()).days
        for shipped, paid in RequestLine.select(RequestLine.shipped_on, CardRequest.paid_at)
        .join(CardRequest)
        .where(RequestLine.shipped_on.is_null(False) & (RequestLine.shipped_on >= month_ago.date()))
        .tuples()
    ]
    result.dispatched = len(delays)
    result.median_days_to_dispatch = statistics.median(delays) if delays else None
    return result
