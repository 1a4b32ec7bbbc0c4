"""Browser tests: Debian's Chromium driven by Playwright, against the service.

By default the service runs in this process on a free port, with a fresh
copy of the demo data for each test. ``--base-url https://...`` runs the same
tests against a deployed instance that has the demo data instead.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright
from werkzeug.serving import make_server

import models
from app import create_app
from models.demo.data import load_demo_data
from models.shared.db import database

from .a11y import Accessibility
from .report import Report, publish, report_dir, run_dir

CHROMIUM_CANDIDATES = [os.environ.get("CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"]


def pytest_addoption(parser):
    parser.addoption(
        "--base-url",
        default=None,
        help="run the browser tests against this deployed instance (with demo data)",
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
    """The app served by werkzeug in a thread, on a SQLite file of its own."""

    def __init__(self, folder: Path) -> None:
        self.app = create_app(
            {
                "DATABASE_URL": f"sqlite:///{folder / 'e2e.sqlite3'}",
                "DEMO": True,
                "OUTBOX_FOLDER": folder / "outbox",
            }
        )
        self.reset()
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.base_url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    can_reset = True

    def reset(self) -> None:
        with database.connection_context():
            database.drop_tables(models.ALL_MODELS, safe=True)
        models.create_tables()
        load_demo_data()

    def outbox(self) -> list[models.OutboxEmail]:
        """The emails sent so far, those written after the answer included (a forgotten
        password's: the server writes it once the page has gone, so wait for it)."""
        deadline = time.monotonic() + 10
        while True:
            self.app.extensions["background"].drain()
            with database.connection_context():
                pending = models.CredentialRequest.select().where(
                    models.CredentialRequest.taken_at.is_null()
                )
                if not pending.exists() or time.monotonic() > deadline:
                    return list(models.OutboxEmail.select().order_by(models.OutboxEmail.id))
            time.sleep(0.05)

    def stop(self) -> None:
        self.server.shutdown()


class DeployedService:
    """An instance somewhere else: its data cannot be reset or read."""

    can_reset = False

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")

    def reset(self) -> None:
        pass

    def outbox(self):
        pytest.skip("the outbox of a deployed instance is not readable from here")


@pytest.fixture(scope="session")
def service(pytestconfig, tmp_path_factory):
    base_url = pytestconfig.getoption("base_url")
    if base_url:
        yield DeployedService(base_url)
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


def context_options(variant: Variant, **extra) -> dict:
    options = (
        dict(DEVICES["Pixel 5"]) if variant.phone else {"viewport": {"width": 1280, "height": 900}}
    )
    options.pop("default_browser_type", None)
    options.update(java_script_enabled=variant.javascript, locale="fr-FR", **extra)
    return options


@pytest.fixture(params=VARIANTS, ids=[v.name for v in VARIANTS])
def variant(request) -> Variant:
    return request.param


@pytest.fixture
def fresh_service(service):
    """The service with the demo data as the README describes it."""
    service.reset()
    return service


@pytest.fixture
def page(browser, fresh_service, variant) -> Page:
    context = browser.new_context(base_url=fresh_service.base_url, **context_options(variant))
    context.set_default_timeout(10_000)
    opened = context.new_page()
    yield opened
    context.close()


@pytest.fixture(scope="session")
def report(worker_id) -> Report:
    return Report(run_dir(), worker_id)


@pytest.fixture
def a11y(browser, variant, subtests, report) -> Accessibility:
    return Accessibility(browser, variant, subtests, report)


def pytest_configure(config):
    if not hasattr(config, "workerinput"):  # the main process: name this run's folder
        run_dir()


def pytest_sessionfinish(session):
    if not hasattr(session.config, "workerinput"):
        session.config._qa_summary = publish(run_dir())


def pytest_terminal_summary(terminalreporter, config):
    summary = getattr(config, "_qa_summary", None)
    if summary:
        terminalreporter.write_sep("-", "accessibility report")
        terminalreporter.write_line(
            f"{summary['states']} states, {summary['state_visits']} state visits, "
            f"{summary['checks']} checks: {summary['passed']} passed, {summary['failed']} failed"
        )
        terminalreporter.write_line(f"report: {report_dir() / 'index.html'}")
