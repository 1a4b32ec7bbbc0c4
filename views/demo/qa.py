"""QA runs against a running instance: data of their own, on only when ``QA_SECRET`` is set.

An accessibility run against a deployment must start from the data its
snapshots were taken on, whatever an earlier run left (a draft changes a
persona's pages), and two runs (or a run's two browsers) must not see each
other's drafts. So each browser of a run works in a sandbox (« bac à sable »):
a database of its own, a SQLite file in the instance folder, holding fresh
demo personas. The instance's own data is never read or changed by a run.

A request carrying ``X-QA-Bac: <name>`` (32 hexadecimal digits the run drew)
uses that sandbox's database; an unknown name is answered 404. With the
secret in ``X-QA-Secret``, the run asks:

- ``POST /qa/donnees``: the sandbox made, or emptied and filled again with the
  demo personas as the README describes them (before each test);
- ``GET /qa/courriels``: the e-mails the sandbox sent, as JSON (a test follows
  a link in one);
- ``DELETE /qa/donnees``: the sandbox removed, personas and all (the run's end).

A sandbox has its own clock too: it starts at ``RUN_STARTS_AT`` when the
sandbox is made, and runs on from there. A run's pages then say the same
things whatever the real day (the days left before the old cards' end, or the
words after it), and compare with the same snapshots before and after
31/12/2026.

Without ``QA_SECRET``, none of this exists; with it, only in demo mode (the
app refuses to start otherwise). Without the secret, or with another one, the
``/qa/`` addresses answer 404.
"""

from __future__ import annotations

import hmac
import os
import re
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

from flask import Blueprint, abort, current_app, jsonify, request
from werkzeug.exceptions import NotFound

from models import CredentialRequest, OutboxEmail
from models.demo.data import reset_demo_database
from models.shared.clock import clock
from models.shared.db import bound_to, database, make_database

from ..shared.web import private

bp = Blueprint("qa", __name__, url_prefix="/qa")

HEADER = "X-QA-Secret"
SANDBOX_HEADER = "X-QA-Bac"
SANDBOX_NAME = re.compile(r"[0-9a-f]{32}")
# Long enough not to be guessed by trying.
SECRET_MIN_LENGTH = 24
# Where a browser run's clock starts (naive UTC: 10:30 in Paris), whatever the real day:
# a QA run's sandbox, and the service `make test` runs in its own process. The unit
# tests' day too (tests/conftest.py), before the old cards' end (31/12/2026).
RUN_STARTS_AT = datetime(2026, 11, 22, 9, 30)


class Sandboxes:
    """The sandboxes' databases, one SQLite file each in ``folder``: the files are the
    list, so every worker process of the instance sees the same sandboxes. Beside
    each, the real instant its clock started at ``RUN_STARTS_AT``: every worker
    reads the same time there."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._open: dict = {}
        self._shifts: dict[str, timedelta] = {}
        self._lock = threading.Lock()

    def path(self, name: str) -> Path:
        return self.folder / f"{name}.sqlite3"

    def started_path(self, name: str) -> Path:
        return self.folder / f"{name}.debut"

    def shift(self, name: str) -> timedelta:
        """How far the sandbox's clock runs from the wall's: it showed ``RUN_STARTS_AT``
        when the sandbox was made (the first worker to get there writes the instant)."""
        with self._lock:
            known = self._shifts.get(name)
        if known is not None:
            return known
        path = self.started_path(name)
        if not path.exists():
            # Written whole, then linked in place: a worker reads the instant or nothing.
            draft = path.with_name(f"{path.name}.{os.getpid()}-{threading.get_ident()}")
            draft.write_text(clock.wall().isoformat(), encoding="ascii")
            try:
                os.link(draft, path)
            except FileExistsError:
                pass  # another worker was first: its instant holds
            finally:
                draft.unlink()
        shift = RUN_STARTS_AT - datetime.fromisoformat(path.read_text(encoding="ascii"))
        with self._lock:
            return self._shifts.setdefault(name, shift)

    def get(self, name: str, create: bool = False):
        """The sandbox's database; None if the name is not one, or no such sandbox."""
        if not SANDBOX_NAME.fullmatch(name or ""):
            return None
        path = self.path(name)
        if not path.exists():
            # Removed by another worker: this one's pool lets go of the deleted files.
            with self._lock:
                stale = self._open.pop(name, None)
                self._shifts.pop(name, None)
            if stale is not None:
                stale.close_all()
            if not create:
                return None
        with self._lock:
            if name not in self._open:
                self.folder.mkdir(parents=True, exist_ok=True)
                self._open[name] = make_database(f"sqlite:///{path}")
            return self._open[name]

    def remove(self, name: str) -> None:
        with self._lock:
            db = self._open.pop(name, None)
            self._shifts.pop(name, None)
        if db is not None:
            db.close_all()  # the connections its pool keeps, before the files go
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.path(name)}{suffix}").unlink(missing_ok=True)
        self.started_path(name).unlink(missing_ok=True)


class SandboxRouter:
    """WSGI middleware: a request naming a sandbox runs on the sandbox's database, and
    on its clock."""

    def __init__(self, wsgi_app, sandboxes: Sandboxes) -> None:
        self.wsgi_app = wsgi_app
        self.sandboxes = sandboxes

    def __call__(self, environ, start_response):
        name = environ.get("HTTP_X_QA_BAC")
        if name is None:
            return self.wsgi_app(environ, start_response)
        db = self.sandboxes.get(name)
        if db is None and not environ.get("PATH_INFO", "").startswith("/qa/"):
            return NotFound()(environ, start_response)
        if db is None:
            return self.wsgi_app(environ, start_response)
        with bound_to(db), clock.shifted(self.sandboxes.shift(name)):
            return self.wsgi_app(environ, start_response)


def init_qa(app) -> None:
    """Called only when ``QA_SECRET`` is set (``create_app``)."""
    sandboxes = Sandboxes(Path(app.instance_path) / "qa-bacs")
    app.extensions["qa_sandboxes"] = sandboxes
    app.wsgi_app = SandboxRouter(app.wsgi_app, sandboxes)
    app.register_blueprint(bp)


@bp.before_request
def only_with_the_secret() -> None:
    given = request.headers.get(HEADER, "")
    if not hmac.compare_digest(given.encode(), current_app.config["QA_SECRET"].encode()):
        abort(404)
    if not SANDBOX_NAME.fullmatch(request.headers.get(SANDBOX_HEADER, "")):
        abort(400, f"{SANDBOX_HEADER}: 32 hexadecimal digits expected")


def sandbox_name() -> str:
    return request.headers[SANDBOX_HEADER]


@bp.route("/donnees", methods=["POST"])
def fresh_data():
    sandboxes = current_app.extensions["qa_sandboxes"]
    current_app.extensions["background"].drain()
    db = sandboxes.get(sandbox_name(), create=True)
    with bound_to(db), clock.shifted(sandboxes.shift(sandbox_name())):
        reset_demo_database()
    return "", 204


@bp.route("/donnees", methods=["DELETE"])
def remove_data():
    current_app.extensions["background"].drain()
    current_app.extensions["qa_sandboxes"].remove(sandbox_name())
    return "", 204


@bp.route("/courriels")
@private  # the e-mails' texts, their links and codes
def emails():
    if current_app.extensions["qa_sandboxes"].get(sandbox_name()) is None:
        abort(404)
    return jsonify(
        [
            {"recipient": e.recipient, "subject": e.subject, "text": e.text, "html": e.html}
            for e in sent_emails(current_app)
        ]
    )


def sent_emails(app, wait_seconds: float = 10) -> list[OutboxEmail]:
    """The e-mails written so far, those still being written included: a forgotten
    password's is written once its page has gone, so wait for it (at most a while)."""
    deadline = time.monotonic() + wait_seconds
    while True:
        app.extensions["background"].drain()
        with database.connection_context():
            pending = CredentialRequest.select().where(CredentialRequest.taken_at.is_null())
            if not pending.exists() or time.monotonic() > deadline:
                return list(OutboxEmail.select().order_by(OutboxEmail.id))
        time.sleep(0.05)
