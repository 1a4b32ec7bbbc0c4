"""What the citizen's pages say and how: the language link of the page shown, success
messages focused, forms that are not landmarks, headers of the price table."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from models.demo.data import DEMO_PASSWORDS

from .helpers import csrf_token, sign_in
from .pages import Page
from .test_wizard import ACCEPT_TERMS, HTMX, start, submit, to_delivery

ROOT = Path(__file__).resolve().parent.parent
PARTIALS = ROOT / "partials"


def language_link(html: str) -> str:
    return Page(html).root.find(id="language-switch").find("a").attrs["href"]


def test_an_htmx_sign_in_gives_the_language_link_of_the_page_shown(client):
    page = client.get("/connexion?next=/demande")
    response = client.post(
        "/connexion?next=/demande",
        data={
            "csrf_token": csrf_token(page.text),
            "username": "alfred.depot",
            "password": DEMO_PASSWORDS["alfred.depot"],
        },
        headers={"HX-Request": "true", "HX-Target": "body", "HX-Source": "form"},
    )
    assert response.headers["HX-Push-Url"] == "/demande/engagement"
    assert language_link(response.text) == "/demande/engagement?lang=en"


def test_each_htmx_step_brings_the_language_link_of_its_page(client):
    sign_in(client, "alfred.depot")
    response = submit(client, "/demande/engagement", "Suivant", {ACCEPT_TERMS: True}, headers=HTMX)
    # Answered at the address of the form posted, shown at the next step's.
    assert response.headers["HX-Push-Url"] == "/demande/choix"
    switch = Page(response.text).root.find(id="language-switch")
    assert switch.attrs["data-hx-swap-oob"] == "true"
    assert language_link(response.text) == "/demande/choix?lang=en"


def templates() -> list[Path]:
    return sorted(PARTIALS.glob("citizen/**/*.html")) + sorted(PARTIALS.glob("shared/**/*.html"))


def test_every_message_before_a_heading_takes_the_focus():
    """A message shown above the page's heading (« La photo est enregistrée ») is heard
    only if focus goes to it: a live region inserted with its text is never announced."""
    for template in templates():
        text = template.read_text()
        assert 'role="status"' not in text or template.name == "layout.html", template
        heading = text.find("<h1")
        for notice in re.finditer(r'<div class="notice[^"]*"[^>]*>', text):
            if heading != -1 and notice.start() < heading:
                assert "autofocus" in notice.group(0), f"{template}: {notice.group(0)}"


def test_no_form_is_named_so_none_is_a_landmark():
    """A named <form> becomes a landmark: each step would list two or three « form »
    landmarks (the step's, the sign-out's, the session's). None carries a name."""
    for template in [*templates(), *sorted(PARTIALS.glob("demo/**/*.html"))]:
        for form in re.finditer(r"<form\b[^>]*>", template.read_text()):
            assert not re.search(r"aria-label|aria-labelledby|title=", form.group(0)), (
                f"{template}: {form.group(0)}"
            )


@pytest.mark.parametrize("path", ["/demande/paiement"])
def test_the_price_table_heads_each_row_and_each_column(client, path):
    to_delivery(client)
    submit(client, "/demande/livraison", "Valider", {"Oui": True})
    table = Page(client.get(path).text).root.find("table")
    for row in table.find("tbody").find_all("tr"):
        assert row.find_all("th")[0].attrs["scope"] == "row"  # the card
    assert all(th.attrs["scope"] == "col" for th in table.find("thead").find_all("th"))
    assert table.find("tfoot").find("th").attrs["scope"] == "row"


def test_the_choice_and_delivery_questions_are_whole_questions(client):
    start(client)
    choice = Page(client.get("/demande/choix").text)
    assert choice.h1 == "Quelle demande voulez-vous faire ?"
