"""Helpers for tests that drive the app through the Flask test client."""

from __future__ import annotations

import re

CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(html: str) -> str:
    match = CSRF_INPUT.search(html)
    assert match, "the page has no CSRF token"
    return match.group(1)


def post_form(client, url: str, data: dict, **kwargs):
    """Post a form the way a browser does: the token comes from the page itself."""
    page = client.get(url)
    return client.post(url, data={"csrf_token": csrf_token(page.text), **data}, **kwargs)


def sign_in(client, username: str, password: str | None = None):
    from models.demo import DEMO_PASSWORDS

    response = post_form(
        client,
        "/connexion",
        {"username": username, "password": password or DEMO_PASSWORDS[username]},
    )
    assert response.status_code == 303, response.text
    return response
