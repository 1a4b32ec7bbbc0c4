"""Helpers for tests that drive the app through the Flask test client."""

from __future__ import annotations

import logging
import re
import threading
from contextlib import contextmanager
from urllib.parse import urlsplit

import pytest

CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')
# The one-time token of a console action's confirmation (models/operator/results.py).
ACTION_TOKEN_INPUT = re.compile(
    r'name="action_token" type="hidden" value="([^"]+)"|name="action_token" value="([^"]+)"'
)

# scrypt at a thirty-second of the servers' cost (n=1024 instead of 32768): the same
# code checks every password, but a thousand sign-ins no longer take minutes.
TEST_HASH = "scrypt:1024:8:1"


# What an operator sets before running the commands that write to citizens (letters,
# e-mails): the service's address and its own secret key (README, « Commands »).
OPERATOR_ENVIRONMENT = {
    "PUBLIC_URL": "https://cmi.example.org",
    "SECRET_KEY": "operators-own-secret-key-for-the-test-suite",
}


@contextmanager
def operator_environment():
    """The operator's environment, for the commands run inside the block only."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in OPERATOR_ENVIRONMENT.items():
            patch.setenv(name, value)
        yield OPERATOR_ENVIRONMENT


def csrf_token(html: str) -> str:
    match = CSRF_INPUT.search(html)
    assert match, "the page has no CSRF token"
    return match.group(1)


def post_form(client, url: str, data: dict, **kwargs):
    """Post a form the way a browser does: the token comes from the page itself."""
    page = client.get(url)
    hidden = {"csrf_token": csrf_token(page.text)}
    action = ACTION_TOKEN_INPUT.search(page.text)
    if action:
        hidden["action_token"] = action.group(1) or action.group(2)
    response = client.post(url, data={**hidden, **data}, **kwargs)
    return follow_retry(client, response)


def follow_retry(client, response):
    """A refused form comes back by a redirect to its own page (POST, redirect, GET):
    follow it, as a browser would, and mark the page so that tests can say so."""
    location = response.headers.get("Location", "")
    if response.status_code == 303 and urlsplit(location).path == response.request.path:
        page = client.get(location)
        page.shown_again = True
        return page
    return response


def assert_shown_again_with_errors(response):
    """Without JavaScript, errors come back on a GET of the same page, never a POST."""
    assert getattr(response, "shown_again", False), response.status_code
    assert response.status_code == 200
    assert "<title>Erreur : " in response.text


def sign_in(client, username: str, password: str | None = None):
    from models.demo.data import DEMO_PASSWORDS

    response = post_form(
        client,
        "/connexion",
        {"username": username, "password": password or DEMO_PASSWORDS[username]},
    )
    assert response.status_code == 303, response.text
    return response


class QueryLog(logging.Handler):
    """Every SQL statement peewee sends from this thread while the block runs (peewee
    logs each one; the Flask test client runs the app in the test's thread, and work
    the service leaves to its background thread is not the request's)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.statements: list[str] = []
        self.thread = threading.get_ident()

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread != self.thread or record.name != "peewee":
            return  # another thread's, or the connection pool's own notes
        message = record.msg
        self.statements.append(message[0] if isinstance(message, tuple) else str(message))

    def __enter__(self) -> QueryLog:
        logger = logging.getLogger("peewee")
        self._level = logger.level
        logger.setLevel(logging.DEBUG)
        logger.addHandler(self)
        return self

    def __exit__(self, *_exc) -> None:
        logger = logging.getLogger("peewee")
        logger.removeHandler(self)
        logger.setLevel(self._level)

    def __len__(self) -> int:
        return len(self.statements)

    def touching(self, table: str) -> list[str]:
        return [sql for sql in self.statements if f'"{table}"' in sql]
