"""Sign-in, « Mes données », forgotten identifier and password, public pages: in a browser."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from playwright.sync_api import Page, expect

from models.cards import Card
from models.demo.data import DEMO_PASSWORDS
from models.shared.db import database


def sign_in(page: Page, username: str, password: str | None = None) -> None:
    page.goto("/connexion")
    page.get_by_label("Identifiant").fill(username)
    page.get_by_label("Mot de passe").fill(password or DEMO_PASSWORDS[username])
    page.get_by_role("button", name="Se connecter").click()
    # Signed in once the header offers to sign out (with htmx, the body is swapped).
    expect(page.get_by_role("button", name="Se déconnecter")).to_be_visible()


def test_sign_in_page_empty_errors_and_success(page: Page, a11y):
    page.goto("/connexion")
    expect(page).to_have_title("Connexion - CMI")
    a11y.check(page, "Connexion : vide")

    page.get_by_role("button", name="Se connecter").click()
    expect(page).to_have_title("Erreur : Connexion - CMI")
    summary = page.get_by_role("heading", name="Il y a un problème")
    expect(summary).to_be_visible()
    expect(page.locator("#error-summary")).to_be_focused()
    a11y.check(page, "Connexion : champs vides")

    # Each summary link takes the user to the field.
    page.get_by_role("link", name=re.compile("Saisissez votre identifiant")).click()
    expect(page.get_by_label("Identifiant")).to_be_focused()

    page.get_by_label("Identifiant").fill("alfred.depot")
    page.get_by_label("Mot de passe").fill("pas-le-bon")
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_text("L'identifiant ou le mot de passe est incorrect").first).to_be_visible()
    expect(page.get_by_label("Identifiant")).to_have_value("alfred.depot")
    expect(page.get_by_label("Mot de passe")).to_have_attribute("aria-invalid", "true")

    page.get_by_label("Mot de passe").fill(DEMO_PASSWORDS["alfred.depot"])
    page.get_by_role("button", name="Se connecter").click()
    expect(page).to_have_title("Mes données - CMI")
    expect(page.get_by_role("heading", level=1, name="Mes données")).to_be_visible()
    nav = page.get_by_role("navigation", name="Menu principal")
    expect(nav.get_by_role("link", name="Mes données")).to_have_attribute("aria-current", "page")
    # With htmx only <main> changes: the menu still says which page is the current one.
    nav.get_by_role("link", name="Demande", exact=True).click()
    expect(page.get_by_role("heading", level=1, name="Avant de commencer")).to_be_visible()
    expect(nav.get_by_role("link", name="Demande", exact=True)).to_have_attribute(
        "aria-current", "page"
    )
    expect(nav.get_by_role("link", name="Mes données")).not_to_have_attribute(
        "aria-current", "page"
    )


def test_lockout_message_after_five_failures(page: Page, a11y):
    page.goto("/connexion")
    for _ in range(5):
        page.get_by_label("Identifiant").fill("joseph.quinn")
        page.get_by_label("Mot de passe").fill("mauvais")
        page.get_by_role("button", name="Se connecter").click()
        # The page comes back with the password field emptied: wait for it.
        expect(page.get_by_label("Mot de passe")).to_have_value("")
    expect(page.get_by_text("cet identifiant est bloqué pendant 15 minutes")).to_be_visible()
    a11y.check(page, "Connexion : identifiant bloqué")


def test_my_data_of_camille_shows_both_children(page: Page, a11y):
    sign_in(page, "camille.martin")
    for child, cards in [("Léo MARTIN", ["0040", "0041"]), ("Inès MARTIN", ["0042"])]:
        section = page.get_by_role("region", name=child)
        expect(section.get_by_role("heading", name=child)).to_be_visible()
        table = section.get_by_role("table", name=f"Cartes : {child}")
        for card in cards:
            expect(table.get_by_role("cell", name=f"0000 0000 0000 {card}")).to_be_visible()
    expect(page.get_by_role("cell", name="Révoquée le 02/03/2026 (Carte perdue)")).to_be_visible()
    a11y.check(page, "Mes données : camille.martin")


def test_my_data_reflows_at_320_px(page: Page, variant):
    page.set_viewport_size({"width": 320, "height": 640})
    sign_in(page, "camille.martin")
    expect(page.get_by_role("heading", level=1)).to_have_text("Mes données")
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0


def test_marie_sees_the_mdph_guidance(page: Page, a11y):
    sign_in(page, "marie.durand")
    # The service's day is the run's (22/11/2026), whatever the real one.
    expect(page.get_by_text("Il reste 39 jours avant cette date")).to_be_visible()
    expect(page.get_by_role("cell", name="Valide (ancien format)")).to_be_visible()
    a11y.check(page, "Mes données : marie.durand (ancien format)")


def test_after_the_old_cards_end_marie_is_told_her_card_is_no_longer_valid(
    page: Page, a11y, fresh_service
):
    """On 05/01/2027, an old card the extract gave no end date (« à titre définitif »)."""
    if not fresh_service.local:
        pytest.skip(
            "le jour du service n'est déplacé qu'avec le service lancé par la suite (make test)"
        )
    with database.connection_context():
        Card.update(valid_until=None).where(Card.old_format).execute()
    with fresh_service.on(datetime(2027, 1, 5, 9)):
        sign_in(page, "marie.durand")
        expect(
            page.get_by_text(
                "Votre carte de l'ancien format n'est plus valable depuis le 31/12/2026"
            )
        ).to_be_visible()
        expect(
            page.get_by_role("cell", name="N'est plus valable depuis le 31/12/2026")
        ).to_be_visible()
        expect(page.get_by_text("À titre définitif", exact=True)).to_have_count(0)
        a11y.check(page, "Mes données : marie.durand (ancien format, après le 31/12/2026)")
        page.goto("/j-ai-perdu-ma-carte?carte=ancienne")
        expect(page.get_by_text("ne sont plus valables depuis le 31 décembre 2026")).to_be_visible()
        a11y.check(page, "Perte : carte de l'ancien format, après le 31/12/2026")


def test_forgotten_password_sets_a_new_password(page: Page, a11y, fresh_service):
    page.goto("/connexion")
    page.get_by_role("link", name="Mot de passe oublié").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mot de passe oublié")
    a11y.check(page, "Mot de passe oublié : vide")
    page.get_by_role("button", name="Recevoir un lien").click()
    expect(page).to_have_title(re.compile("^Erreur : "))
    a11y.check(page, "Mot de passe oublié : erreur")
    page.get_by_label("Identifiant").fill("alfred.depot")
    page.get_by_role("button", name="Recevoir un lien").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Vérifiez vos courriels")
    a11y.check(page, "Courriel envoyé : mot de passe")

    link = re.search(r"https?://\S+/mot-de-passe/\S+", fresh_service.outbox()[-1].text).group(0)
    page.goto(link)
    page.get_by_label("Nouveau mot de passe", exact=True).fill("Trois-mots-ici")
    page.get_by_label("Confirmez le nouveau mot de passe").fill("Autre-chose-ici")
    page.get_by_role("button", name="Enregistrer le mot de passe").click()
    expect(page.get_by_text("Les deux mots de passe ne sont pas identiques").first).to_be_visible()
    a11y.check(page, "Nouveau mot de passe : erreur")
    page.get_by_label("Nouveau mot de passe", exact=True).fill("Trois-mots-ici")
    page.get_by_label("Confirmez le nouveau mot de passe").fill("Trois-mots-ici")
    page.get_by_role("button", name="Enregistrer le mot de passe").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Votre mot de passe est modifié")

    sign_in(page, "alfred.depot", "Trois-mots-ici")
    expect(page).to_have_title("Mes données - CMI")


def test_forgotten_identifier(page: Page, a11y):
    page.goto("/connexion")
    page.get_by_role("link", name="Identifiant oublié").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Identifiant oublié")
    a11y.check(page, "Identifiant oublié : vide")
    page.get_by_label("Adresse électronique").fill("pas une adresse")
    page.get_by_role("button", name="Recevoir mon identifiant").click()
    expect(page.get_by_label("Adresse électronique")).to_have_value("pas une adresse")
    a11y.check(page, "Identifiant oublié : erreur")
    page.get_by_label("Adresse électronique").fill("camille.martin@example.org")
    page.get_by_role("button", name="Recevoir mon identifiant").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Vérifiez vos courriels")


def test_home_and_footer_pages(page: Page, a11y):
    page.goto("/")
    a11y.check(page, "Accueil")
    for link, heading in [
        ("Accessibilité : non conforme", "Déclaration d'accessibilité"),
        ("Mentions légales", "Mentions légales"),
        ("Contact", "Contact"),
    ]:
        page.get_by_role("contentinfo").get_by_role("link", name=link).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        a11y.check(page, heading)
    page.goto("/documents/conditions-generales")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Conditions Générales d'Utilisation et de Délivrance"
    )
    a11y.check(page, "Conditions générales : page web")


def test_skip_link_moves_focus_to_main(page: Page):
    page.goto("/connexion")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Aller au contenu")
    expect(skip).to_be_focused()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.closest('main') !== null")
    assert focused
