"""« J'ai perdu ma carte » and the easy-to-read pages (guidance, Engagement, the
confirmation before « Oui »), on every screen size, JavaScript on and off."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from .test_flows import ALFRED_CARD, choose_reason, heading, submit
from .test_foundation import sign_in

EASY_READ = "Lire cette page en version facile à lire et à comprendre"


def test_the_guidance_in_easy_to_read_words(page: Page, a11y):
    page.goto("/connexion")
    page.get_by_role("link", name="J'ai perdu ma carte ou mes codes : que faire ?").click()
    page.get_by_role(
        "link", name="Lire cette page en version facile à lire et à comprendre"
    ).click()
    expect(heading(page, "Quelle carte avez-vous perdue ?")).to_be_visible()
    a11y.check(page, "Perte (facile à lire) : quelle carte")
    page.get_by_label("Une carte mobilité inclusion", exact=True).check()
    submit(page, "Continuer")
    page.get_by_label("On m'a volé ma carte").check()
    submit(page, "Continuer")
    page.get_by_label("Oui, je les ai").check()
    submit(page, "Continuer")
    expect(heading(page, "Vous pouvez demander une nouvelle carte sur ce site")).to_be_visible()
    expect(page.get_by_text("une nouvelle carte sans porter plainte")).to_be_visible()
    a11y.check(page, "Perte (facile à lire) : nouvelle carte")
    page.get_by_role("link", name="Revenir au texte habituel").click()
    expect(heading(page, "Vous pouvez commander un duplicata en ligne")).to_be_visible()


def test_engagement_and_the_confirmation_in_easy_to_read_words(page: Page, a11y, variant):
    sign_in(page, "alfred.depot")
    page.get_by_role("navigation", name="Menu principal").get_by_role(
        "link", name="Demande"
    ).click()
    expect(heading(page, "Avant de commencer")).to_be_visible()
    page.get_by_role(
        "link", name="Lire cette page en version facile à lire et à comprendre"
    ).click()
    expect(page.get_by_role("heading", name="Ce que fait ce service")).to_be_visible()
    expect(page.get_by_text("Une nouvelle carte coûte 9,02")).to_be_visible()
    a11y.check(page, "Engagement (facile à lire)")
    page.get_by_label("J'accepte les Conditions Générales d'Utilisation et de Délivrance").check()
    submit(page, "Suivant")
    page.get_by_label("Duplicata", exact=True).check()
    submit(page, "Suivant")
    page.get_by_label(f"Sélectionner la carte n° {ALFRED_CARD}").check()
    choose_reason(page, ALFRED_CARD)
    page.get_by_label("Je déclare sur l'honneur que les informations fournies").check()
    submit(page, "Valider")
    warning = "chaque carte de cette liste est annulée tout de suite"
    if variant.javascript:
        dialog = page.get_by_role("dialog", name="Validation de la demande de duplicata")
        expect(dialog.get_by_text(warning)).to_be_visible()
        a11y.check(page, "Confirmation duplicata (facile à lire) : dialogue ouvert")
        dialog.get_by_role("button", name="Oui").click()
    else:
        expect(page.get_by_text(warning)).to_be_visible()
        a11y.check(page, "Confirmation duplicata (facile à lire) : page")
        submit(page, "Oui")
    expect(heading(page, "Adresse de livraison")).to_be_visible()
