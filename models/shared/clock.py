"""One clock for the whole service, so that tests can move time.

Timestamps are stored as naive UTC; calendar dates (validity, revocation,
"today") are dates in France.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")


class Clock:
    def __init__(self) -> None:
        self._frozen: datetime | None = None

    def now(self) -> datetime:
        """Current instant as naive UTC (what the database stores)."""
        if self._frozen is not None:
            return self._frozen
        return datetime.now(UTC).replace(tzinfo=None)

    def today(self) -> date:
        """Today's date in France."""
        return to_paris(self.now()).date()

    def freeze(self, instant: datetime) -> None:
        """Stop the clock at ``instant`` (naive UTC or aware)."""
        if instant.tzinfo is not None:
            instant = instant.astimezone(UTC).replace(tzinfo=None)
        self._frozen = instant

    def advance(self, delta: timedelta) -> None:
        """Move a frozen clock forward (tests of time-outs and locks)."""
        self._frozen = self.now() + delta

    def unfreeze(self) -> None:
        self._frozen = None


def to_paris(instant: datetime) -> datetime:
    return instant.replace(tzinfo=UTC).astimezone(PARIS)


clock = Clock()
