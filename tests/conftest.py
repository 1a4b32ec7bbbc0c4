"""Fixtures: a fresh database per test, on SQLite and on the local PostgreSQL."""

from __future__ import annotations

import os
import weakref
from collections import Counter
from datetime import datetime

import pytest
from flask.testing import FlaskClient

import models
from app import create_app
from models.demo.data import load_demo_data
from models.shared.clock import clock
from models.shared.db import database
from views.shared.background import Background

from .helpers import TEST_HASH, operator_environment
from .postgres import ADMIN_URL, drop_database, fresh_database

# The day the unit tests live in: after Inès's card was revoked (02/03/2026).
TODAY = datetime(2026, 11, 22, 9, 30)


@pytest.fixture(scope="session")
def postgres_url(worker_id):
    name = f"cmi_test_{worker_id}_{os.getpid()}"  # runs side by side never collide
    url = fresh_database(name)
    if url is None:
        message = f"PostgreSQL not reachable at {ADMIN_URL}"
        if os.environ.get("CI"):
            pytest.fail(message + " (required under CI)")
        pytest.skip(message)
    yield url
    if not database.is_closed():
        database.close()
    drop_database(name)


# Every background thread a unit test made (one per app), to check that no test leaves
# work on one: it would run in the next test, racing the emptying of its tables. The
# e2e suite's service, which may share a worker with them, has its own and is not one.
BACKGROUNDS: weakref.WeakSet = weakref.WeakSet()
LAST_TEST = {"id": None, "running": False}


@pytest.fixture(scope="session", autouse=True)
def track_backgrounds():
    made = Background.__init__

    def tracked(self, *args, **kwargs):
        made(self, *args, **kwargs)
        if LAST_TEST["running"]:
            BACKGROUNDS.add(self)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Background, "__init__", tracked)
        yield


@pytest.fixture(autouse=True)
def unit_test_running(request):
    LAST_TEST["running"] = True
    yield
    LAST_TEST["running"] = False
    LAST_TEST["id"] = request.node.nodeid


def no_work_left_by_an_earlier_test() -> None:
    left = sum(each.queue.unfinished_tasks for each in list(BACKGROUNDS))
    if left:
        for each in list(BACKGROUNDS):
            each.drain()
        pytest.fail(
            f"an earlier test left {left} piece(s) of work on an app's background thread "
            f"(the last test here was {LAST_TEST['id']}): build apps with the make_app "
            "fixture, which waits for their work"
        )


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request, tmp_path):
    no_work_left_by_an_earlier_test()
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.sqlite3'}"
    url = request.getfixturevalue("postgres_url")
    # Same database for the whole session: empty it before each test.
    from models.shared.db import open_database

    open_database(url)
    with database.connection_context():
        existing = set(database.get_tables())
        # The schema's version stays: the tables are the code's, only their rows go.
        tables = [
            m._meta.table_name
            for m in models.ALL_MODELS
            if m is not models.migrations.SchemaVersion
        ]
        present = ", ".join(f'"{t}"' for t in tables if t in existing)
        if present:
            # The audit log refuses TRUNCATE (a trigger): the test database's superuser
            # sets the triggers aside for this one transaction.
            with database.atomic():
                database.execute_sql("SET LOCAL session_replication_role = replica")
                database.execute_sql(f"TRUNCATE {present} RESTART IDENTITY CASCADE")
    return url


@pytest.fixture
def operator_env():
    """The test runs the commands with the operator's environment (``helpers``)."""
    with operator_environment() as environment:
        yield environment


@pytest.fixture
def frozen_clock():
    clock.freeze(TODAY)
    yield clock
    clock.unfreeze()


class ClosingClient(FlaskClient):
    """Reads each answer whole and closes it, as a server does, then waits for the
    work the service does after answering: it is done when the call returns."""

    def open(self, *args, buffered=True, **kwargs):
        response = super().open(*args, buffered=buffered, **kwargs)
        if buffered:
            self.application.extensions["background"].drain()
        return response


@pytest.fixture
def make_app(frozen_clock):
    """Builds the test's apps, each on the database it is given; a test that needs
    a configuration of its own builds its app here, never with ``create_app`` alone.

    Work a test left on an app's background thread (an email after an answer not
    read through the test client) ends with the test, not in the next test's
    database set-up, where it would race the emptying of the tables.
    """
    made = []

    def make(database_url: str, **config):
        application = create_app(
            {
                "DATABASE_URL": database_url,
                "TESTING": True,
                "PASSWORD_HASH_METHOD": TEST_HASH,
                **config,
            }
        )
        application.test_client_class = ClosingClient
        made.append(application)
        return application

    yield make
    for application in made:
        application.extensions["background"].drain()
    if not database.is_closed():
        database.close()


@pytest.fixture
def app(database_url, make_app):
    application = make_app(database_url)
    models.create_tables()
    load_demo_data()
    return application


@pytest.fixture
def db(app):
    """A connection for tests that call the models directly."""
    with database.connection_context():
        yield database


@pytest.fixture
def client(app):
    return app.test_client()


# -- the fuzzer's counts, gathered from every test process ----------------------------------

FUZZ_TOTALS: Counter = Counter()


def pytest_sessionfinish(session):
    from .test_fuzz import COUNTS

    if hasattr(session.config, "workeroutput"):
        session.config.workeroutput["fuzz_counts"] = dict(COUNTS)
    else:
        FUZZ_TOTALS.update(COUNTS)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    FUZZ_TOTALS.update(getattr(node, "workeroutput", {}).get("fuzz_counts", {}))


def pytest_terminal_summary(terminalreporter):
    if FUZZ_TOTALS:
        terminalreporter.write_sep("-", "fuzzing: examples per route (SQLite and PostgreSQL)")
        for route, count in sorted(FUZZ_TOTALS.items()):
            terminalreporter.write_line(f"{count:6d}  {route}")
        terminalreporter.write_line(f"{sum(FUZZ_TOTALS.values()):6d}  in all")
