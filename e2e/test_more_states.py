"""States not on the main flows: each persona's « Mes données », guidance, errors, time-out."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from .test_foundation import sign_in


@pytest.mark.parametrize(
    ("username", "expected"),
    [
        ("alfred.depot", "Invalidité (besoin d'accompagnement)"),
        ("joseph.quinn", "Expirée le 31/12/2024"),
        ("navette.pmr", "Navette Solidaire 59 (personne morale)"),
    ],
)
def test_my_data_of_each_persona(page: Page, a11y, username, expected):
    sign_in(page, username)
    expect(page.get_by_text(expected).first).to_be_visible()
    a11y.check(page, f"Mes données : {username}")


def test_marie_is_sent_to_her_mdph_when_she_asks_for_a_duplicate(page: Page, a11y):
    sign_in(page, "marie.durand")
    page.get_by_role("navigation", name="Menu principal").get_by_role(
        "link", name="Demande"
    ).click()
    page.get_by_label("J'accepte les Conditions Générales d'Utilisation et de Délivrance").check()
    page.get_by_role("button", name="Suivant").click()
    page.get_by_label("Duplicata", exact=True).check()
    page.get_by_role("button", name="Suivant").click()
    expect(page.get_by_text("Il reste 39 jours avant cette date")).to_be_visible()
    expect(page.get_by_role("table")).to_have_count(0)
    a11y.check(page, "Sélection duplicata : marie.durand (ancien format)")


def test_pages_for_lost_or_expired_links_and_signing_out(page: Page, a11y):
    page.goto("/cette-page-n-existe-pas")
    expect(page.get_by_role("heading", level=1)).to_have_text("Page non trouvée")
    a11y.check(page, "Page non trouvée")
    page.goto("/mot-de-passe/lien-inconnu")
    expect(page.get_by_role("heading", level=1)).to_have_text("Ce lien ne fonctionne plus")
    a11y.check(page, "Lien de mot de passe expiré")
    page.goto("/identifiant-oublie")
    page.get_by_label("Adresse électronique").fill("alfred.depot@example.org")
    page.get_by_role("button", name="Recevoir mon identifiant").click()
    expect(page.get_by_text("un courriel contenant votre identifiant")).to_be_visible()
    a11y.check(page, "Courriel envoyé : identifiant")
    sign_in(page, "alfred.depot")
    page.get_by_role("button", name="Se déconnecter").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Vous êtes déconnecté(e)")
    a11y.check(page, "Déconnexion")


def test_a_form_sent_from_an_old_page_is_refused_clearly(page: Page, a11y):
    page.goto("/connexion")
    page.context.clear_cookies()  # the session, and its form token, are gone
    page.get_by_label("Identifiant").fill("alfred.depot")
    page.get_by_label("Mot de passe").fill("Tilleuls-2026")
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("La page a expiré")
    a11y.check(page, "Formulaire expiré")


def test_session_time_out_warning(page: Page, a11y, variant):
    # The page's clock is installed first: signing in then goes the way users go
    # (with JavaScript, htmx swaps the whole <body>, the warning dialog with it).
    page.clock.install()
    sign_in(page, "alfred.depot")
    # Jump to the moment of the warning instead of waiting 28 minutes.
    page.clock.fast_forward("28:01")
    dialog = page.get_by_role("dialog", name="Votre session va bientôt expirer")
    if not variant.javascript:
        # Without JavaScript nothing pops up; the server keeps the draft either way.
        expect(dialog).to_be_hidden()
        return
    expect(dialog).to_be_visible()
    expect(dialog).to_have_accessible_description(
        "Sans action de votre part, vous serez déconnecté(e) dans 2 minutes. "
        "Votre demande en cours est conservée."
    )
    expect(dialog.get_by_role("button", name="Rester connecté(e)")).to_be_focused()
    a11y.check(page, "Session : avertissement d'expiration")
    with page.expect_response(re.compile(r"/session/prolonger$")) as kept:
        dialog.get_by_role("button", name="Rester connecté(e)").click()
    assert kept.value.status == 204
    expect(dialog).to_be_hidden()
    status = page.get_by_role("status")
    expect(status).to_have_text("Votre session est prolongée de 30 minutes.")

    # A second warning comes 28 minutes later; Escape keeps the session too.
    page.clock.fast_forward("28:01")
    expect(dialog).to_be_visible()
    with page.expect_response(re.compile(r"/session/prolonger$")) as kept:
        page.keyboard.press("Escape")
    assert kept.value.status == 204
    expect(dialog).to_be_hidden()
    expect(status).to_have_text("Votre session est prolongée de 30 minutes.")
    # And the news does not stay: the region is empty again a few seconds later.
    page.clock.fast_forward("00:09")
    expect(status).to_have_text("")
