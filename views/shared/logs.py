"""Logs as one JSON object per line, each carrying the id of the request or command
it belongs to, with timings, and no personal data.

What a line may hold: the route's pattern (``/mot-de-passe/<token>``, never the
address typed, which may carry a token), the method, the status, the time
taken, ids of records and counts. Never a name, an address, an e-mail, a card
number, an identifiant or a token: messages name records by their database id.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
import time
import uuid
from datetime import UTC, datetime

from flask import Flask, g, request

# The id of what is being done now: a request, or a command run.
CURRENT_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
# Fields a record may carry beside its message (``extra=``).
FIELDS = ("event", "method", "route", "status", "ms", "command", "summary", "exit_status")
GIVEN_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None) or CURRENT_ID.get()
        if request_id:
            entry["request_id"] = request_id
        for name in FIELDS:
            if hasattr(record, name):
                entry[name] = getattr(record, name)
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


class _Stderr(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is when a line is written (a test harness may
    swap it, and close the one it swapped out)."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


def configure(level: int = logging.INFO, stream=None) -> None:
    """Every logger of the process writes JSON lines to ``stream`` (stderr)."""
    handler = logging.StreamHandler(stream) if stream is not None else _Stderr()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Werkzeug's own request lines hold whole addresses (tokens): ours replace them.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)


def new_id(prefix: str = "") -> str:
    return prefix + uuid.uuid4().hex[:16]


def init_request_logs(app: Flask) -> None:
    access = logging.getLogger("cmi.access")

    @app.before_request
    def name_the_request() -> None:
        # A proxy's id is kept, so that its logs and ours meet; otherwise a new one.
        given = request.headers.get("X-Request-Id", "")
        g.request_id = given if GIVEN_ID.match(given) else new_id()
        g.started = time.perf_counter()
        CURRENT_ID.set(g.request_id)

    @app.after_request
    def log_the_request(response):
        request_id = g.get("request_id")
        if request_id is None:
            return response
        # Answered when a proxy gave it (its logs and ours meet) or when something went
        # wrong (a person reporting it can quote it); on every other answer it would be
        # 36 bytes for nobody: the log line has it.
        if request.headers.get("X-Request-Id") or response.status_code >= 400:
            response.headers["X-Request-Id"] = request_id
        rule = request.url_rule.rule if request.url_rule is not None else "(no route)"
        access.info(
            "%s %s %s",
            request.method,
            rule,
            response.status_code,
            extra={
                "event": "request",
                "method": request.method,
                "route": rule,
                "status": response.status_code,
                "ms": round((time.perf_counter() - g.started) * 1000, 1),
            },
        )
        return response
