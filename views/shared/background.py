"""Work done after an answer has left, on a thread of the server process.

What the user must not wait for, and must not be able to time (the email
of a forgotten identifier is written only when the account exists), runs
here, a moment after it is submitted: the answer, the end of the connection
and the next request on it never wait for it. A process that stops with work
queued loses it; the work is recorded in the database first, so that
``python app.py --send-outbox`` does it.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections.abc import Callable

from models.shared.clock import clock
from models.shared.db import bound_database, bound_to

log = logging.getLogger(__name__)


class Background:
    def __init__(self) -> None:
        self.queue: queue.Queue = queue.Queue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid: int | None = None

    def submit(self, work: Callable, *args, delay: float = 0.0) -> None:
        """Run ``work(*args)`` on the thread, ``delay`` seconds from now at the earliest."""
        # The work uses the database and the clock its request used (a QA run's own, if any).
        self.queue.put((time.monotonic() + delay, work, args, bound_database(), clock.shift()))
        with self._lock:
            # One thread per process: gunicorn's workers are forked after start-up.
            if self._thread is None or self._pid != os.getpid() or not self._thread.is_alive():
                self._pid = os.getpid()
                self._thread = threading.Thread(target=self._run, daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            due, work, args, db, shift = self.queue.get()
            try:
                time.sleep(max(0.0, due - time.monotonic()))
                with bound_to(db), clock.shifted(shift):
                    work(*args)
            except Exception:
                log.exception("Background work %s failed", getattr(work, "__name__", work))
            finally:
                self.queue.task_done()

    def drain(self) -> None:
        """Wait until everything submitted so far is done (tests, the command line)."""
        self.queue.join()
