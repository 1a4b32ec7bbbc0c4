"""Browser tests: Debian's Chromium driven by Playwright, against the service.

By default the service runs in this process on a free port, with a fresh
copy of the demo data for each test. ``--base-url https://...`` runs the
accessibility states against a running instance (``make qa``); with
``--qa-secret`` (the instance's ``QA_SECRET``) each test process works there
in a sandbox of its own (``views/demo/qa.py``): each test starts from fresh
demo personas, its e-mails can be read, and the run removes the sandbox when
it ends.

Either way the service's clock starts on a fixed day (``RUN_STARTS_AT``) and
runs on from there, whatever the real day: the pages say the same words at
every run (the days left before the old cards' end), so the committed
snapshots hold on any day CI runs, before and after 31/12/2026.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import threading
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from playwright.sync_api import Browser, Page, sync_playwright
from werkzeug.serving import make_server

from app import create_app
from models.demo.data import reset_demo_database
from models.shared.clock import clock
from tests.helpers import TEST_HASH
from views.demo.qa import HEADER, RUN_STARTS_AT, SANDBOX_HEADER, sent_emails

from . import html_check
from .a11y import Accessibility
from .report import Report, note_test, publish, report_dir, run_dir

CHROMIUM_CANDIDATES = [os.environ.get("CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"]


def pytest_addoption(parser):
    parser.addoption(
        "--base-url",
        default=None,
        help="run the accessibility states against this running instance",
    )
    parser.addoption(
        "--qa-secret",
        default=os.environ.get("QA_SECRET"),
        help="the instance's QA_SECRET: fresh demo personas for each test (default $QA_SECRET)",
    )


@dataclass(frozen=True)
class Variant:
    """One way of using the service: screen size and JavaScript."""

    name: str
    phone: bool
    javascript: bool


VARIANTS = [
    Variant("desktop-js", phone=False, javascript=True),
    Variant("desktop-nojs", phone=False, javascript=False),
    Variant("phone-js", phone=True, javascript=True),
    Variant("phone-nojs", phone=True, javascript=False),
]


def chromium_path() -> str:
    for candidate in CHROMIUM_CANDIDATES:
        if candidate and Path(candidate).exists():
            return candidate
    found = shutil.which("chromium")
    if found:
        return found
    message = "Chromium not found: install Debian's package 'chromium' (see README)"
    if os.environ.get("CI"):
        pytest.fail(message + "; under CI a missing browser fails the run", pytrace=False)
    pytest.skip(message)


class InProcessService:
    """The app served by werkzeug in a thread, on a SQLite file of its own, its clock
    started at ``RUN_STARTS_AT``: its requests, the work they leave to its background
    thread, and a test's own reads and writes of its database (``fresh_service``)."""

    def __init__(self, folder: Path) -> None:
        self.app = create_app(
            {
                "DATABASE_URL": f"sqlite:///{folder / 'e2e.sqlite3'}",
                "DEMO": True,
                "PASSWORD_HASH_METHOD": TEST_HASH,
                "OUTBOX_FOLDER": folder / "outbox",
            }
        )
        self.shift = clock.shift_to(RUN_STARTS_AT)
        served = self.app.wsgi_app

        def on_the_service_clock(environ, start_response):
            with clock.shifted(self.shift):
                return served(environ, start_response)

        self.app.wsgi_app = on_the_service_clock
        with clock.shifted(self.shift):
            self.reset()
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.base_url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    can_reset = True
    # Its database is this process's: a test may set a state up or read it there.
    local = True

    def reset(self) -> None:
        reset_demo_database()

    def outbox(self) -> list:
        return sent_emails(self.app)

    @contextmanager
    def on(self, instant: datetime):
        """The service's clock (and the test's) moved to ``instant`` (naive UTC) while the
        block runs: a state of another day, such as the old cards' end gone by."""
        kept = self.shift
        self.shift = clock.shift_to(instant)
        try:
            with clock.shifted(self.shift):
                yield
        finally:
            self.shift = kept

    def stop(self) -> None:
        self.server.shutdown()


class DeployedService:
    """A running instance: with its QA secret, this test process works in a sandbox of
    its own there, made fresh through the QA routes (``views/demo/qa.py``); without,
    the instance's data is taken as it is, and the tests that need fresh data or
    e-mails are skipped."""

    local = False

    def __init__(self, base_url: str, secret: str | None) -> None:
        self.base_url = base_url.rstrip("/")
        self.secret = secret
        self.can_reset = bool(secret)
        self.sandbox = secrets.token_hex(16) if secret else None
        if self.sandbox:
            # Every browser context of this process names the sandbox (context_options).
            EXTRA_HEADERS[SANDBOX_HEADER] = self.sandbox

    def _ask(self, method: str, path: str) -> bytes:
        url = self.base_url + path
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"--base-url must be an http(s) address, not {self.base_url}")
        headers = {HEADER: self.secret, SANDBOX_HEADER: self.sandbox}
        request = urllib.request.Request(url, method=method, headers=headers)  # noqa: S310
        with urllib.request.urlopen(request, timeout=60) as answer:  # noqa: S310
            return answer.read()

    def reset(self) -> None:
        if self.can_reset:
            self._ask("POST", "/qa/donnees")

    def outbox(self) -> list:
        if not self.can_reset:
            pytest.skip(
                "les courriels de l'instance ne se lisent qu'avec son secret QA (QA_SECRET)"
            )
        return [SimpleNamespace(**e) for e in json.loads(self._ask("GET", "/qa/courriels"))]

    def remove_data(self) -> None:
        if self.can_reset:
            self._ask("DELETE", "/qa/donnees")


@pytest.fixture(scope="session")
def service(pytestconfig, tmp_path_factory):
    base_url = pytestconfig.getoption("base_url")
    if base_url:
        deployed = DeployedService(base_url, pytestconfig.getoption("qa_secret"))
        yield deployed
        deployed.remove_data()  # the sandbox: the run's personas, and whatever they did
        return
    running = InProcessService(tmp_path_factory.mktemp("e2e"))
    yield running
    running.stop()


@pytest.fixture(scope="session")
def browser() -> Browser:
    executable = chromium_path()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=executable,
            args=[
                "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1 , EXCLUDE localhost",
                "--disable-background-networking",
                "--disable-component-update",
            ],
        )
        DEVICES.update(playwright.devices)
        yield launched
        launched.close()


DEVICES: dict[str, dict] = {}
# Headers every browser context sends (a QA run's sandbox on a running instance).
EXTRA_HEADERS: dict[str, str] = {}


def context_options(variant: Variant, **extra) -> dict:
    options = (
        dict(DEVICES["Pixel 5"]) if variant.phone else {"viewport": {"width": 1280, "height": 900}}
    )
    options.pop("default_browser_type", None)
    options.update(java_script_enabled=variant.javascript, locale="fr-FR", **extra)
    if EXTRA_HEADERS:
        options["extra_http_headers"] = {**EXTRA_HEADERS, **options.get("extra_http_headers", {})}
    return options


@pytest.fixture(params=VARIANTS, ids=[v.name for v in VARIANTS])
def variant(request) -> Variant:
    return request.param


@pytest.fixture
def fresh_service(service):
    """The service with the demo data as the README describes it; a test in this process
    reads and writes its database on its clock."""
    if not service.local:
        service.reset()
        yield service
        return
    with clock.shifted(service.shift):
        service.reset()
        yield service


@pytest.fixture
def page(browser, fresh_service, variant) -> Page:
    context = browser.new_context(base_url=fresh_service.base_url, **context_options(variant))
    context.set_default_timeout(10_000)
    opened = html_check.watch(context.new_page())
    yield opened
    context.close()


@pytest.fixture(scope="session")
def report(worker_id) -> Report:
    made = Report(run_dir(), worker_id)
    yield made
    # The states this test process holds last: checked now, their failures the run's.
    failed = made.check_html()
    failures = [r for r in failed if r["checks"][html_check.KEY]["outcome"] == "failed"]
    if failures:
        pytest.fail(
            "\n\n".join(
                f"{r['state']} [{r['variant']}] valid HTML\n"
                + r["checks"][html_check.KEY]["message"]
                for r in failures
            ),
            pytrace=False,
        )


@pytest.fixture
def a11y(browser, variant, subtests, report) -> Accessibility:
    return Accessibility(browser, variant, subtests, report)


ONLY_IN_PROCESS = (
    "ne vérifie aucun état de page : s'exécute avec le service lancé par la suite "
    "(make test), pas contre une instance"
)


def pytest_collection_modifyitems(config, items):
    """Against a running instance, only the accessibility states run (what ``make qa``
    is for): the tests that check no state need this process's own service."""
    if not config.getoption("base_url"):
        return
    kept = [item for item in items if "a11y" in getattr(item, "fixturenames", ())]
    left = [item for item in items if item not in kept]
    for item in left:
        item.stash[NOT_RUN_REASON] = ONLY_IN_PROCESS
    config.hook.pytest_deselected(items=left)
    items[:] = kept


NOT_RUN_REASON = pytest.StashKey[str]()


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def pytest_deselected(items):
    """The report says what this run left out (``make qa``'s deselection, ``-k``, ``-m``)."""
    for item in items:
        reason = item.stash.get(NOT_RUN_REASON, "non sélectionné pour cette exécution (-k, -m)")
        note_test(
            run_dir(), _worker(), {"test": item.nodeid, "outcome": "deselected", "reason": reason}
        )


def pytest_runtest_logreport(report):
    """Skipped tests (with their reason) and tests failed outside their checks, for the
    report: written by the test process that ran them."""
    if hasattr(report, "context"):  # a check of a state (a subtest): in the records
        return
    entry = None
    if report.skipped and isinstance(report.longrepr, tuple):
        reason = str(report.longrepr[2]).removeprefix("Skipped: ")
        entry = {"test": report.nodeid, "outcome": "skipped", "reason": reason}
    elif report.failed:
        crash = getattr(report.longrepr, "reprcrash", None)
        message = crash.message if crash else str(report.longrepr)
        # A test whose only failures are its checks' says so: those are listed already.
        if not message.startswith("contains ") or "failed subtest" not in message:
            step = {"setup": "préparation", "call": "exécution", "teardown": "fin"}[report.when]
            reason = f"{step} : {message}"[:2000]
            entry = {"test": report.nodeid, "outcome": "failed", "reason": reason}
    if entry:
        note_test(run_dir(), _worker(), entry)


def pytest_configure(config):
    if not hasattr(config, "workerinput"):  # the main process: name this run's folder
        run_dir()
        config._qa_started = time.monotonic()


@pytest.hookimpl(trylast=True)  # after the JUnit file is written, to put it in the report
def pytest_sessionfinish(session):
    config = session.config
    if not hasattr(config, "workerinput"):
        junit = config.option.xmlpath
        config._qa_summary = publish(
            run_dir(),
            seconds=time.monotonic() - config._qa_started,
            junit=Path(junit) if junit else None,
        )


def pytest_terminal_summary(terminalreporter, config):
    summary = getattr(config, "_qa_summary", None)
    if summary:
        terminalreporter.write_sep("-", "accessibility report")
        terminalreporter.write_line(
            f"{summary['states']} states, {summary['state_visits']} state visits, "
            f"{summary['checks']} checks: {summary['passed']} passed, {summary['failed']} failed"
        )
        timing = summary.get("html_checker") or {}
        if timing.get("batches"):
            terminalreporter.write_line(
                f"Nu HTML Checker: {timing['batches']} batches, {timing['seconds']} s in all"
            )
        terminalreporter.write_line(f"report: {report_dir() / 'index.html'}")
