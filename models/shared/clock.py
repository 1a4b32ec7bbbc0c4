"""One clock for the whole service, so that tests can move time.

Timestamps are stored as naive UTC; calendar dates (validity, revocation,
"today") are dates in France.

The wall's time is the real one, or the one a test froze. A thread may also
run its clock at a distance from the wall's (``shifted``): a browser run's
service starts on a fixed day and runs on from there, whatever the real day, so
that the words a page says about today (the days left before the old cards'
end) are the same at every run.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")


class Clock:
    def __init__(self) -> None:
        self._frozen: datetime | None = None
        self._threads = threading.local()

    def wall(self) -> datetime:
        """The real instant as naive UTC, or the one a test froze."""
        if self._frozen is not None:
            return self._frozen
        return datetime.now(UTC).replace(tzinfo=None)

    def now(self) -> datetime:
        """Current instant as naive UTC (what the database stores)."""
        shift = self.shift()
        return self.wall() + shift if shift is not None else self.wall()

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
        self._frozen = self.wall() + delta

    def unfreeze(self) -> None:
        self._frozen = None

    # -- a thread's clock at a distance from the wall's ----------------------------------

    def shift(self) -> timedelta | None:
        """How far this thread's clock runs from the wall's (None: it is the wall's)."""
        return getattr(self._threads, "shift", None)

    def shift_to(self, instant: datetime) -> timedelta:
        """The shift that puts this instant (naive UTC) at the wall's present."""
        return instant - self.wall()

    @contextmanager
    def shifted(self, shift: timedelta | None) -> Iterator[None]:
        """This thread's clock runs ``shift`` from the wall's until the block ends (None:
        the wall's); work handed to another thread takes it along (``Background``)."""
        previous = self.shift()
        self._threads.shift = shift
        try:
            yield
        finally:
            self._threads.shift = previous


def to_paris(instant: datetime) -> datetime:
    return instant.replace(tzinfo=UTC).astimezone(PARIS)


clock = Clock()
