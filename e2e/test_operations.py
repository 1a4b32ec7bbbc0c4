"""What the operators' commands bring to citizens, in a browser: the first sign-in with the
letter's activation code, and a request's history once the factory has posted the card."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from models import cmi_import, factory, letters
from models.shared.clock import clock
from models.shared.db import database
from tests.test_account import paid_requests

from .test_foundation import sign_in

EXTRACT = (
    ";".join(cmi_import.COLUMNS)
    + "\n"
    + "701;physique;Lefèvre;Élodie;03/02/1980;elodie@example.org;;;4 rue des Lilas;;59000;LILLE;"
    + "France;;;;;7010000000000001;Invalidité;;01/01/2024;31/12/2033;;;0\n"
)


@pytest.fixture
def operated(fresh_service):
    if not fresh_service.local:
        pytest.skip(
            "les commandes ne s'exécutent que sur la base du service lancé par la suite (make test)"
        )
    return fresh_service


def test_a_holder_from_the_extract_signs_in_with_the_letters_code(page: Page, operated, a11y):
    key = "the-operators-own-secret-key"
    with database.connection_context():
        cmi_import.write(cmi_import.read(EXTRACT))
        letters.owe_first_letters(key)
        (letter,) = letters.letters_of(letters.record_next_file("courriers"), key)
    page.goto("/connexion")
    page.get_by_label("Identifiant").fill(letter.username)
    page.get_by_label("Mot de passe").fill(letter.code)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Choisir votre mot de passe")
    expect(page).to_have_title("Choisir votre mot de passe - CMI")
    a11y.check(page, "Première connexion : choisir son mot de passe")

    page.get_by_label("Nouveau mot de passe", exact=True).fill("Lilas-fleuris-2026")
    page.get_by_label("Confirmez le nouveau mot de passe").fill("Lilas-fleuris-2026")
    page.get_by_role("button", name="Enregistrer le mot de passe").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Votre mot de passe est modifié")
    sign_in(page, letter.username, "Lilas-fleuris-2026")
    expect(page.get_by_role("heading", level=1)).to_have_text("Mes données")
    expect(page.get_by_text("Élodie LEFÈVRE").first).to_be_visible()


def test_my_data_tells_where_the_card_is(page: Page, operated, a11y):
    with database.connection_context():
        paid_requests(1)
        factory.new_batch()
        card = factory.RequestLine.get(factory.RequestLine.batch.is_null(False)).new_card.number
        today = clock.today()  # the factory answers on the day of the order
        rows = [
            (2, card, factory.MADE, today, ""),
            (3, card, factory.SHIPPED_STATUS, today, "LP123456789FR"),
        ]
        factory.apply_statuses(rows, [])
    sign_in(page, "joseph.quinn")
    page.goto("/mes-donnees")
    history = page.get_by_role("list").filter(has_text="Expédiée")
    expect(history.get_by_role("listitem")).to_have_count(5)
    expect(history.get_by_role("listitem").last).to_have_text(
        f"Expédiée (suivi n° LP123456789FR) le {today:%d/%m/%Y}"
    )
    a11y.check(page, "Mes données : carte expédiée (joseph.quinn)")
