"""The whole duplicata and second-copy flows in a browser, with axe on every state.

Each test runs four times: desktop and phone (Pixel 5), JavaScript on and off.
"""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from pypdf import PdfReader

from .test_foundation import sign_in

ALFRED_CARD = "0000 0000 0000 0001"


def heading(page: Page, name: str):
    return page.get_by_role("heading", level=1, name=name)


def submit(page: Page, name: str) -> None:
    page.get_by_role("button", name=name, exact=True).click()


def reason(page: Page, card: str):
    """A card's reasons: a row of radios named after its card (« Motif pour la carte n° »)."""
    return page.get_by_role("group", name=f"Motif pour la carte n° {card}")


def choose_reason(page: Page, card: str, text: str = "Carte perdue") -> None:
    reason(page, card).get_by_role("radio", name=text, exact=True).check()


def expect_errors(page: Page, *messages: str) -> None:
    expect(page).to_have_title(re.compile("^Erreur : "))
    summary = page.locator("#error-summary")
    expect(summary).to_be_visible()
    for message in messages:
        expect(summary.get_by_role("link", name=re.compile(re.escape(message)))).to_be_visible()


def start_request(page: Page, a11y, kind: str, check: bool = True) -> None:
    """From « Mes données » to the selection page, through every error on the way."""
    page.get_by_role("navigation", name="Menu principal").get_by_role(
        "link", name="Demande"
    ).click()
    expect(heading(page, "Avant de commencer")).to_be_visible()
    expect(page).to_have_title(
        "Étape 1 sur 5 : Engagement - Demande de duplicata ou de second exemplaire - CMI"
    )
    terms = page.get_by_role("link", name=re.compile(r"Conditions Générales .*\(PDF, \d+ Ko\)"))
    expect(terms).to_be_visible()
    if check:
        a11y.check(page, "Engagement : vide")
    submit(page, "Suivant")
    expect_errors(
        page, "Vous devez accepter les conditions générales d'utilisation et de délivrance"
    )
    if check:
        a11y.check(page, "Engagement : erreur")
    page.get_by_label("J'accepte les Conditions Générales d'Utilisation et de Délivrance").check()
    submit(page, "Suivant")

    expect(heading(page, "Quelle demande voulez-vous faire ?")).to_be_visible()
    current = page.get_by_role("listitem").filter(has_text="Choix de la demande")
    expect(current).to_have_attribute("aria-current", "step")
    if check:
        a11y.check(page, "Choix de la demande : vide")
    submit(page, "Suivant")
    expect_errors(page, "Choisissez le type de demande")
    if check:
        a11y.check(page, "Choix de la demande : erreur")
    page.get_by_label(kind, exact=True).check()
    submit(page, "Suivant")


def choose_address_then_pay(page: Page, a11y, variant, edit: bool, who: str) -> None:
    expect(heading(page, "Adresse de livraison")).to_be_visible()
    a11y.check(page, f"Livraison : adresse affichée ({who})")
    if edit:
        page.get_by_label("Non", exact=True).check()
        if not variant.javascript:
            submit(page, "Valider")
        postcode = page.get_by_label("Code postal")
        expect(postcode).to_be_visible()
        expect(page.get_by_label("Nom", exact=True)).to_have_attribute(
            "autocomplete", "shipping name"
        )
        a11y.check(
            page,
            f"Livraison : champs ouverts ({who})",
            announced="Adresse de livraison modifiable" if variant.javascript else None,
        )
        postcode.fill("590")
        page.get_by_label("Ville").fill("")
        submit(page, "Valider")
        expect_errors(
            page,
            "Le code postal doit comporter 5 chiffres",
            "Saisissez la ville",
        )
        expect(page.get_by_label("Code postal")).to_have_value("590")
        a11y.check(page, f"Livraison : erreurs d'adresse ({who})")
        if variant.javascript:
            # « Oui » after the errors: the fields go, and their errors with them.
            page.get_by_label("Oui", exact=True).check()
            expect(page.get_by_label("Code postal")).to_have_count(0)
            expect(page.locator("#error-summary")).to_have_count(0)
            expect(page).not_to_have_title(re.compile("^Erreur"))
            a11y.check(
                page,
                f"Livraison : « Oui » après des erreurs ({who})",
                announced="Adresse de livraison affichée",
            )
            page.get_by_label("Non", exact=True).check()
            expect(page.get_by_label("Code postal")).to_be_visible()
        page.get_by_label("Code postal").fill("59800")
        page.get_by_label("Ville").fill("LILLE")
        submit(page, "Valider")
        expect(heading(page, "Votre adresse de livraison a été modifiée")).to_be_visible()
        expect(page.get_by_text("59800 LILLE")).to_be_visible()
        a11y.check(page, f"Livraison : adresse modifiée ({who})")
        page.get_by_role("link", name="Continuer vers le paiement").click()
    else:
        page.get_by_label("Oui", exact=True).check()
        submit(page, "Valider")
    expect(heading(page, "Paiement")).to_be_visible()
    expect(page.get_by_text("Montant à payer : 9,02")).to_be_visible()
    a11y.check(page, f"Paiement : montant ({who})")


def go_to_provider(page: Page, variant, a11y=None) -> None:
    """« Payer »: the page that posts the order to the provider sends itself with
    JavaScript; without, the user presses « Continuer vers le paiement sécurisé ».
    Either way the sealed order goes to the provider once."""
    orders = []
    page.on(
        "request",
        lambda request: (
            orders.append(request.url)
            if request.method == "POST" and request.url.endswith("/paiement-securise")
            else None
        ),
    )
    submit(page, "Payer 9,02\u00a0€")
    if not variant.javascript:
        expect(heading(page, "Paiement sécurisé")).to_be_visible()
        if a11y is not None:
            a11y.check(page, "Paiement : vers le paiement sécurisé")
        submit(page, "Continuer vers le paiement sécurisé")
    expect(heading(page, "Saisie de la carte bancaire")).to_be_visible()
    assert len(orders) == 1, orders


def pay(page: Page, card: str) -> None:
    page.get_by_label("Numéro de carte").fill(card)
    page.get_by_label("Date d'expiration").fill("12/29")
    page.get_by_label("Cryptogramme visuel").fill("123")
    submit(page, "Valider")


def test_alfred_orders_a_duplicate_and_pays_it(page: Page, a11y, variant, fresh_service):
    sign_in(page, "alfred.depot")
    start_request(page, a11y, "Duplicata")

    expect(heading(page, "Duplicata")).to_be_visible()
    expect(page).to_have_title("Étape 2 sur 5 : Sélection des cartes - Demande de duplicata - CMI")
    a11y.check(page, "Sélection duplicata : vide")
    submit(page, "Valider")
    expect_errors(
        page,
        "Sélectionnez au moins une carte",
        "Vous devez déclarer sur l'honneur que les informations fournies sont exactes",
    )
    a11y.check(page, "Sélection duplicata : erreurs")
    page.get_by_label(f"Sélectionner la carte n° {ALFRED_CARD}").check()
    submit(page, "Valider")
    expect_errors(
        page,
        "choisissez dans la colonne « Motif » pourquoi vous la remplacez",
    )
    # The summary link takes the user to the reason of the right card.
    page.locator("#error-summary").get_by_role(
        "link", name=re.compile("pourquoi vous la remplacez")
    ).click()
    expect(reason(page, ALFRED_CARD).get_by_role("radio", name="Carte perdue")).to_be_focused()
    a11y.check(page, "Sélection duplicata : motif manquant")
    choose_reason(page, ALFRED_CARD)
    page.get_by_label("Je déclare sur l'honneur que les informations fournies").check()
    submit(page, "Valider")

    if variant.javascript:
        dialog = page.get_by_role("dialog", name="Validation de la demande de duplicata")
        expect(dialog).to_be_visible()
        expect(
            dialog.get_by_text("Attention : une fois la demande de duplicata validée")
        ).to_be_visible()
        a11y.check(page, "Confirmation duplicata : dialogue ouvert")
        dialog.get_by_role("button", name="Non").click()
        expect(dialog).to_be_hidden()
        expect(page.get_by_role("button", name="Valider", exact=True)).to_be_focused()
        # The answers are still there.
        expect(reason(page, ALFRED_CARD).get_by_role("radio", name="Carte perdue")).to_be_checked()
        submit(page, "Valider")
        expect(dialog).to_be_visible()
        dialog.get_by_role("button", name="Oui").click()
    else:
        expect(heading(page, "Validation de la demande de duplicata")).to_be_visible()
        expect(
            page.get_by_text("Attention : une fois la demande de duplicata validée")
        ).to_be_visible()
        a11y.check(page, "Confirmation duplicata : page")
        page.get_by_role("link", name="Non", exact=True).click()
        expect(page.get_by_label(f"Sélectionner la carte n° {ALFRED_CARD}")).to_be_checked()
        submit(page, "Valider")
        submit(page, "Oui")

    choose_address_then_pay(page, a11y, variant, edit=True, who="alfred.depot")

    # A refused card, then a cancellation, then the accepted card.
    go_to_provider(page, variant, a11y)
    a11y.check(page, "Prestataire : saisie de la carte")
    submit(page, "Valider")
    expect_errors(page, "Saisissez le numéro de votre carte")
    a11y.check(page, "Prestataire : erreurs de carte")
    pay(page, "4000 0000 0000 0002")
    expect(heading(page, "Paiement refusé")).to_be_visible()
    a11y.check(page, "Prestataire : paiement refusé")
    page.get_by_role("link", name="Continuer").click()
    expect(page.get_by_text("Votre paiement a été refusé par votre banque")).to_be_visible()
    a11y.check(page, "Paiement : paiement refusé")

    go_to_provider(page, variant)
    submit(page, "Annuler")
    expect(page.get_by_text("Vous avez annulé le paiement")).to_be_visible()

    go_to_provider(page, variant)
    pay(page, "4100 0000 0000 0001")
    expect(page.get_by_text("Votre paiement a été accepté.")).to_be_visible()
    expect(page.get_by_text("4100 #### #### ##01")).to_be_visible()
    a11y.check(page, "Prestataire : paiement accepté")
    page.get_by_role("link", name="Imprimer le reçu du paiement").click()
    expect(heading(page, "Reçu du paiement")).to_be_visible()
    a11y.check(page, "Prestataire : reçu")
    page.go_back()
    page.get_by_role("link", name="Continuer").click()

    expect(heading(page, "Votre demande est enregistrée")).to_be_visible()
    expect(page.get_by_text("Votre demande est enregistrée sous le numéro 10000")).to_be_visible()
    expect(page.get_by_role("cell", name="Invalidité (besoin d'accompagnement)")).to_be_visible()
    a11y.check(page, "Récapitulatif : duplicata payé")

    # The back button shows the paid request, never a second payment.
    page.go_back()
    expect(page.get_by_text("Votre paiement a été accepté.")).to_be_visible()
    page.goto("/demande/paiement")
    expect(heading(page, "Votre demande est enregistrée")).to_be_visible()

    page.get_by_role("link", name="Lire l'attestation en page web").click()
    expect(heading(page, "Attestation de demande")).to_be_visible()
    a11y.check(page, "Attestation : page web")
    response = page.request.get("/demandes/10000/attestation.pdf")
    assert response.headers["content-type"] == "application/pdf"
    assert 'filename="attestation-demande-10000.pdf"' in response.headers["content-disposition"]
    text = _pdf_text(response.body())
    for expected in (
        "Alfred DEPOT",
        "16/09/1977",
        "25 route de la Libertine",
        "59000 LILLE",
        "Duplicata de ma carte mobilité inclusion Invalidité",
        "Demande n° 10000",
        "Attestation de demande",
    ):
        assert expected in text, expected

    page.get_by_role("navigation", name="Menu principal").get_by_role(
        "link", name="Mes données"
    ).click()
    expect(page.get_by_role("cell", name="Révoquée le", exact=False).first).to_be_visible()
    expect(page.get_by_role("cell", name="En fabrication").first).to_be_visible()
    a11y.check(page, "Mes données : alfred.depot après paiement")

    # A link to the attestation opens the file in the browser, JavaScript on or off:
    # htmx must not take it and swap the PDF's bytes into the page as text.
    with page.expect_response(re.compile(r"/demandes/10000/attestation\.pdf$")) as answer:
        page.get_by_role("link", name=re.compile("^Attestation de la demande 10000")).click()
    assert answer.value.request.is_navigation_request()
    assert answer.value.headers["content-type"] == "application/pdf"
    expect(page.get_by_text("%PDF")).to_have_count(0)

    if fresh_service.can_reset:
        emails = [e for e in fresh_service.outbox() if "n° 10000" in e.subject]
        assert len(emails) == 1
        assert "9,02" in emails[0].text and "attestation" in emails[0].text


def _pdf_text(content: bytes) -> str:
    import io

    # Lines joined: where a line breaks depends on the name's length.
    return " ".join(PdfReader(io.BytesIO(content)).pages[0].extract_text().split())


def test_camille_orders_a_second_copy_of_leos_parking_card(page: Page, a11y, variant):
    sign_in(page, "camille.martin")
    start_request(page, a11y, "Second exemplaire", check=False)
    expect(heading(page, "Second exemplaire")).to_be_visible()
    table = page.get_by_role("table", name="Cartes pouvant faire l'objet d'un second exemplaire")
    expect(table.get_by_role("row")).to_have_count(2)  # header and Léo's parking card
    expect(page.get_by_role("group", name=re.compile("^Motif pour"))).to_have_count(0)
    a11y.check(page, "Sélection second exemplaire : vide")
    page.get_by_label("Sélectionner la carte n° 0000 0000 0000 0040").check()
    submit(page, "Valider")
    expect_errors(page, "Vous devez déclarer sur l'honneur que les informations fournies")
    page.get_by_label("Je déclare sur l'honneur que les informations fournies").check()
    submit(page, "Valider")
    if variant.javascript:
        dialog = page.get_by_role("dialog", name="Validation de la demande de second exemplaire")
        expect(dialog).to_be_visible()
        expect(dialog.get_by_text("Attention")).to_have_count(0)
        a11y.check(page, "Confirmation second exemplaire : dialogue ouvert")
        dialog.get_by_role("button", name="Oui").click()
    else:
        expect(heading(page, "Validation de la demande de second exemplaire")).to_be_visible()
        expect(page.get_by_text("Attention")).to_have_count(0)
        submit(page, "Oui")
    choose_address_then_pay(page, a11y, variant, edit=False, who="camille.martin")
    go_to_provider(page, variant)
    pay(page, "4100 0000 0000 0001")
    page.get_by_role("link", name="Continuer").click()
    expect(heading(page, "Votre demande est enregistrée")).to_be_visible()
    expect(page.get_by_role("cell", name="Léo")).to_be_visible()
    response = page.request.get("/demandes/10000/attestation.pdf")
    text = _pdf_text(response.body())
    assert "représentant(e) légal(e) de Léo MARTIN" in text
    assert "Second exemplaire de la carte mobilité inclusion Stationnement de Léo MARTIN" in text


def test_navette_is_told_why_there_is_no_second_copy(page: Page, a11y):
    sign_in(page, "navette.pmr")
    start_request(page, a11y, "Second exemplaire", check=False)
    expect(
        page.get_by_text(
            "uniquement les cartes mobilité inclusion stationnement destinées aux "
            "personnes physiques"
        ).last
    ).to_be_visible()
    expect(page.get_by_role("table")).to_have_count(0)
    a11y.check(page, "Sélection second exemplaire : navette.pmr (personne morale)")


def test_another_account_cannot_read_an_attestation(page: Page, browser, variant):
    sign_in(page, "joseph.quinn")
    for url in (
        "/demandes/10000",
        "/demandes/10000/attestation",
        "/demandes/10000/attestation.pdf",
        "/paiement-securise/1000001/recu",
    ):
        assert page.request.get(url).status == 404, url
