"""Leaving the flow and coming back: reload, sign out and in, the back button, a narrow screen.

The draft request lives on the server: a reload or a new session resumes at the
same step with the answers given so far, and the back button only ever asks
for pages (GET), never sends a form again. Each test runs four times: desktop
and phone (Pixel 5), JavaScript on and off, with the accessibility checks on
every state it reaches.
"""

from __future__ import annotations

import re

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, expect

import models
from models.demo.data import DEMO_PASSWORDS
from models.shared.clock import clock

from .test_flows import choose_reason, go_to_provider, heading, reason, submit
from .test_foundation import sign_in

ALFRED_CARD = "0000 0000 0000 0001"
ALFRED_PARKING_CARD = "0000 0000 0000 0002"
HONOUR = "Je déclare sur l'honneur que les informations fournies"
SELECTION_TITLE = "Étape 2 sur 5 : Sélection des cartes - Demande de duplicata - CMI"
DELIVERY_TITLE = "Étape 3 sur 5 : Livraison - Demande de duplicata - CMI"
PAYMENT_TITLE = "Étape 4 sur 5 : Paiement - Demande de duplicata - CMI"
TERMS = "J'accepte les Conditions Générales d'Utilisation et de Délivrance"


# -- getting there -------------------------------------------------------------------------


def open_selection(page: Page, kind: str) -> None:
    """From the header menu to the selection table, with no detour."""
    page.get_by_role("navigation", name="Menu principal").get_by_role(
        "link", name="Demande", exact=True
    ).click()
    page.get_by_label(TERMS).check()
    submit(page, "Suivant")
    page.get_by_label(kind, exact=True).check()
    submit(page, "Suivant")
    expected = "Duplicata" if kind == "Duplicata" else "Second exemplaire"
    expect(heading(page, expected)).to_be_visible()


def choose_alfreds_card(page: Page) -> None:
    choose_reason(page, ALFRED_CARD)
    page.get_by_label(f"Sélectionner la carte n° {ALFRED_CARD}").check()
    page.get_by_label(HONOUR).check()
    submit(page, "Valider")


def say_yes(page: Page, javascript: bool) -> None:
    """« Oui » in the confirmation dialog (JavaScript) or page (without)."""
    if javascript:
        dialog = page.get_by_role("dialog", name="Validation de la demande de duplicata")
        dialog.get_by_role("button", name="Oui", exact=True).click()
    else:
        expect(heading(page, "Validation de la demande de duplicata")).to_be_visible()
        submit(page, "Oui")
    expect(heading(page, "Adresse de livraison")).to_be_visible()


def reach_delivery(page: Page, javascript: bool) -> None:
    sign_in(page, "alfred.depot")
    open_selection(page, "Duplicata")
    choose_alfreds_card(page)
    say_yes(page, javascript)


def expect_alfreds_answers_kept(page: Page) -> None:
    expect(reason(page, ALFRED_CARD).get_by_role("radio", name="Carte perdue")).to_be_checked()
    expect(page.get_by_label(f"Sélectionner la carte n° {ALFRED_CARD}")).to_be_checked()
    expect(page.get_by_label(f"Sélectionner la carte n° {ALFRED_PARKING_CARD}")).not_to_be_checked()
    expect(page.get_by_label(HONOUR)).to_be_checked()


def reload_and_expect(page: Page, path: str, title: str, h1: str) -> None:
    page.reload()
    expect(page).to_have_url(re.compile(re.escape(path) + "$"))
    expect(page).to_have_title(title)
    expect(heading(page, h1)).to_be_visible()


# -- the back button -------------------------------------------------------------------------


def go_back_without_resubmitting(page: Page) -> None:
    """Press the back button: only GET requests, ending on a page with its h1.

    Without JavaScript the browser loads the previous entry; with it, htmx (whose
    history cache is off) reloads that entry's address. Either way a page loads.
    """
    sent = []

    def record(request) -> None:
        if request.resource_type == "document" or request.method != "GET":
            sent.append(f"{request.method} {request.url}")

    page.on("request", record)
    try:
        with page.expect_event("load"):
            page.go_back()
    except PlaywrightError as error:
        first_line = str(error).splitlines()[0]
        raise AssertionError(
            f"the back button sent {sent} and failed with « {first_line} »: the previous "
            "page was the answer to a form post, so the browser asks to send the form again "
            "(« Confirm Form Resubmission »); the page should have been reached by "
            "POST, redirect, GET"
        ) from None
    finally:
        page.remove_listener("request", record)
    resubmitted = [line for line in sent if not line.startswith("GET ")]
    assert not resubmitted, f"the back button sent a form again: {resubmitted}"
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page).to_have_title(re.compile(r"^(?!Erreur).* - CMI$"))


def database_state(number: str = "0000000000000001") -> dict:
    """What the back button must not change: the card's revocation, the request's lines.

    Read in this process, from the in-process service's database (not on --base-url).
    """
    with models.database.connection_context():
        card = models.Card.get(models.Card.number == number)
        return {
            "revoked_on": card.revoked_on,
            "reason": card.revocation_reason,
            "lines": models.RequestLine.select().where(models.RequestLine.card == card).count(),
            "recorded_requests": models.CardRequest.select()
            .where(models.CardRequest.number.is_null(False))
            .count(),
            "payments": models.Payment.select().count(),
        }


# -- (a) reload -------------------------------------------------------------------------------


def test_a_reload_stays_on_the_step_with_the_answers(page: Page, a11y, variant):
    sign_in(page, "alfred.depot")
    open_selection(page, "Duplicata")
    reload_and_expect(page, "/demande/selection", SELECTION_TITLE, "Duplicata")
    a11y.check(page, "Sélection duplicata : vide, après rechargement")

    choose_alfreds_card(page)
    if variant.javascript:
        # The confirmation dialog is open over the selection page, whose address stays.
        dialog = page.get_by_role("dialog", name="Validation de la demande de duplicata")
        expect(dialog).to_be_visible()
        reload_and_expect(page, "/demande/selection", SELECTION_TITLE, "Duplicata")
        expect(page.get_by_role("dialog")).to_have_count(0)
    else:
        # The POST, its redirect and the new page first: a reload in mid-navigation
        # would reload nothing.
        expect(heading(page, "Validation de la demande de duplicata")).to_be_visible()
        reload_and_expect(
            page,
            "/demande/confirmation",
            "Étape 2 sur 5 : Validation de la demande - Demande de duplicata - CMI",
            "Validation de la demande de duplicata",
        )
        expect(
            page.get_by_role("listitem").filter(has_text=f"Carte n° {ALFRED_CARD}")
        ).to_contain_text("Carte perdue")
        a11y.check(page, "Confirmation duplicata : page")
        page.get_by_role("link", name="Non", exact=True).click()
        expect(heading(page, "Duplicata")).to_be_visible()
    expect_alfreds_answers_kept(page)
    a11y.check(page, "Sélection duplicata : réponses conservées")

    submit(page, "Valider")
    say_yes(page, variant.javascript)
    reload_and_expect(page, "/demande/livraison", DELIVERY_TITLE, "Adresse de livraison")
    a11y.check(page, "Livraison : adresse affichée après rechargement (alfred.depot)")

    page.get_by_label("Oui", exact=True).check()
    submit(page, "Valider")
    expect(heading(page, "Paiement")).to_be_visible()
    reload_and_expect(page, "/demande/paiement", PAYMENT_TITLE, "Paiement")
    expect(page.get_by_text("Montant à payer : 9,02")).to_be_visible()
    a11y.check(page, "Paiement : montant après rechargement (alfred.depot)")


def test_a_reload_of_an_earlier_step_keeps_its_answer(page: Page, a11y, variant):
    """« Précédent » shows the answers given; a reload of that page must show them too."""
    sign_in(page, "alfred.depot")
    open_selection(page, "Duplicata")

    submit(page, "Précédent")
    expect(heading(page, "Quelle demande voulez-vous faire ?")).to_be_visible()
    duplicate = page.get_by_label("Duplicata", exact=True)
    expect(duplicate, "« Précédent » from the selection: Duplicata is chosen").to_be_checked()
    reload_and_expect(
        page,
        "/demande/choix",
        "Étape 2 sur 5 : Choix de la demande - Demande de duplicata - CMI",
        "Quelle demande voulez-vous faire ?",
    )
    expect(duplicate, "after a reload of Choix de la demande: Duplicata is chosen").to_be_checked()
    a11y.check(page, "Choix de la demande : duplicata choisi")

    submit(page, "Précédent")
    expect(heading(page, "Avant de commencer")).to_be_visible()
    accept = page.get_by_label(TERMS)
    expect(accept, "« Précédent » from Choix de la demande: the terms are accepted").to_be_checked()
    reload_and_expect(
        page,
        "/demande/engagement",
        "Étape 1 sur 5 : Engagement - Demande de duplicata - CMI",
        "Avant de commencer",
    )
    expect(accept, "after a reload of Engagement: the terms are accepted").to_be_checked()
    a11y.check(page, "Engagement : conditions acceptées")


# -- (b) sign out, sign in --------------------------------------------------------------------


def test_signing_out_at_livraison_then_in_again_resumes_at_livraison(page: Page, a11y, variant):
    reach_delivery(page, variant.javascript)
    a11y.check(page, "Livraison : adresse affichée (alfred.depot)")

    page.get_by_role("banner").get_by_role("button", name="Se déconnecter").click()
    expect(heading(page, "Vous êtes déconnecté(e)")).to_be_visible()
    expect(page.get_by_role("button", name="Se déconnecter")).to_have_count(0)
    a11y.check(page, "Déconnexion")

    page.get_by_role("link", name="Se connecter à nouveau").click()
    expect(heading(page, "Connexion")).to_be_visible()
    page.get_by_label("Identifiant").fill("alfred.depot")
    page.get_by_label("Mot de passe").fill(DEMO_PASSWORDS["alfred.depot"])
    page.get_by_role("button", name="Se connecter").click()

    expect(page).to_have_url(re.compile(r"/demande/livraison$"))
    expect(heading(page, "Adresse de livraison")).to_be_visible()
    expect(page).to_have_title(DELIVERY_TITLE)
    expect(page.get_by_role("listitem").filter(has_text="Livraison")).to_have_attribute(
        "aria-current", "step"
    )
    a11y.check(page, "Livraison : adresse affichée à la reconnexion (alfred.depot)")


# -- (c) the back button ----------------------------------------------------------------------


def test_back_after_yes_shows_the_validated_request_and_revokes_once(
    page: Page, a11y, variant, fresh_service
):
    sign_in(page, "alfred.depot")
    open_selection(page, "Duplicata")
    a11y.check(page, "Sélection duplicata : vide")
    choose_alfreds_card(page)
    say_yes(page, variant.javascript)
    recorded = database_state() if fresh_service.local else None
    if recorded is not None:
        assert recorded["revoked_on"] == clock.today()
        assert recorded["reason"] == "Titre perdu"
        assert recorded["lines"] == 1
        assert recorded["recorded_requests"] == 1

    go_back_without_resubmitting(page)
    if recorded is not None:
        assert database_state() == recorded, "the back button changed the request"
    # Back from Livraison: the step before it, the selection, now read-only.
    expect(page, "the back button from Livraison should show the validated selection").to_have_url(
        re.compile(r"/demande/selection$")
    )
    expect(heading(page, "Duplicata : demande validée")).to_be_visible()
    expect(page.get_by_role("cell", name=ALFRED_CARD)).to_be_visible()
    expect(page.get_by_role("checkbox")).to_have_count(0)
    a11y.check(page, "Sélection duplicata : demande validée")

    page.get_by_role("link", name="Suivant").click()
    expect(heading(page, "Adresse de livraison")).to_be_visible()
    if recorded is not None:
        assert database_state() == recorded


def test_back_after_a_corrected_error_does_not_resend_the_form(page: Page, a11y, fresh_service):
    sign_in(page, "alfred.depot")
    page.get_by_role("navigation", name="Menu principal").get_by_role(
        "link", name="Demande", exact=True
    ).click()
    submit(page, "Suivant")
    expect(page).to_have_title(re.compile("^Erreur : "))
    page.get_by_label(TERMS).check()
    submit(page, "Suivant")
    expect(heading(page, "Quelle demande voulez-vous faire ?")).to_be_visible()

    go_back_without_resubmitting(page)
    expect(heading(page, "Avant de commencer")).to_be_visible()
    if fresh_service.local:
        with models.database.connection_context():
            alfred = models.Account.get(models.Account.username == "alfred.depot")
            draft = models.CardRequest.get(models.CardRequest.account == alfred)
        assert draft.terms_accepted_at is not None and draft.kind is None, "the draft changed"
    expect(page.get_by_label(TERMS), "the terms accepted before are shown ticked").to_be_checked()
    a11y.check(page, "Engagement : conditions acceptées")


def test_back_after_changing_the_delivery_address_does_not_resend_the_form(
    page: Page, a11y, variant
):
    reach_delivery(page, variant.javascript)
    page.get_by_label("Non", exact=True).check()
    if not variant.javascript:
        submit(page, "Valider")
    page.get_by_label("Code postal").fill("59800")
    submit(page, "Valider")
    expect(heading(page, "Votre adresse de livraison a été modifiée")).to_be_visible()

    go_back_without_resubmitting(page)
    expect(heading(page, "Adresse de livraison")).to_be_visible()
    if variant.javascript:
        # The swap pushed no URL of its own: back shows the address read-only.
        expect(page).to_have_url(re.compile(r"/demande/livraison$"))
        delivery = page.get_by_role("definition").filter(has_text="59800")
        expect(delivery).to_have_count(1)
    else:
        # Without JavaScript « Non » was a page of its own (fields open):
        # back returns to it, the fields now holding the address just saved.
        expect(page).to_have_url(re.compile(r"/demande/livraison\?modifier=1$"))
        expect(page.get_by_label("Code postal")).to_have_value("59800")
    a11y.check(page, "Livraison : adresse de livraison changée (alfred.depot)")


def test_back_from_the_payment_page_of_the_provider_does_not_pay_twice(
    page: Page, a11y, variant, fresh_service
):
    reach_delivery(page, variant.javascript)
    page.get_by_label("Oui", exact=True).check()
    submit(page, "Valider")
    go_to_provider(page, variant)
    started = database_state() if fresh_service.local else None

    go_back_without_resubmitting(page)
    page.wait_for_load_state()
    # With JavaScript the page that sent the order usually sends itself before it has
    # loaded, so the provider's page takes its place in the history; on a busy machine
    # it may finish loading first and stay there. Either way, it does not send itself
    # again: it offers to go on, or back to « Paiement ».
    if not variant.javascript or page.url.endswith("/demande/paiement/envoi"):
        expect(page).to_have_url(re.compile(r"/demande/paiement/envoi$"))
        expect(heading(page, "Paiement sécurisé")).to_be_visible()
        page.get_by_role("link", name="Revenir à l'étape Paiement").click()
    expect(page).to_have_url(re.compile(r"/demande/paiement$"))
    expect(heading(page, "Paiement")).to_be_visible()
    expect(page.get_by_text("Un paiement a été commencé mais n'a pas été terminé")).to_be_visible()
    if started is not None:
        assert database_state() == started, "the back button started a payment"
    a11y.check(page, "Paiement : paiement interrompu (alfred.depot)")

    # Back to it through the menu (htmx swaps with JavaScript): the message has the
    # focus, as when the page loads whole, not the heading first and then the message.
    menu = page.get_by_role("navigation", name="Menu principal")
    menu.get_by_role("link", name="Mes données").click()
    expect(heading(page, "Mes données")).to_be_visible()
    if variant.javascript:
        # What a screen reader follows: each element the focus lands on, in turn.
        page.evaluate(
            """() => { window.focusMoves = [];
                document.addEventListener("focusin", (event) =>
                    window.focusMoves.push(event.target.textContent.trim().slice(0, 30))); }"""
        )
    menu.get_by_role("link", name="Demande").click()
    message = page.get_by_text("Un paiement a été commencé mais n'a pas été terminé")
    expect(message.locator("..")).to_be_focused()
    if variant.javascript:
        moves = page.evaluate("window.focusMoves")
        assert moves[0] == "Demande"  # the link, as it is pressed
        assert moves[1:] == ["Un paiement a été commencé mai"], moves


# -- (d) a narrow screen ----------------------------------------------------------------------


def test_the_selection_table_fits_320_px(page: Page, a11y):
    usual = page.viewport_size
    page.set_viewport_size({"width": 320, "height": 640})
    sign_in(page, "camille.martin")
    open_selection(page, "Duplicata")
    table = page.get_by_role("table", name="Cartes pouvant faire l'objet d'un duplicata")
    expect(table.get_by_role("row")).to_have_count(4)  # the header and Léo's 2, Inès's 1
    for number in ("0040", "0041", "0042"):
        card = f"0000 0000 0000 {number}"
        for control in (
            page.get_by_role("group", name=f"Motif pour la carte n° {card}"),
            page.get_by_label(f"Sélectionner la carte n° {card}"),
        ):
            control.scroll_into_view_if_needed()
            box = control.bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 320, (
                f"{control} is cut off at 320 px: {box}"
            )
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the selection page scrolls {overflow} px sideways at 320 px"
    page.set_viewport_size(usual)
    a11y.check(page, "Sélection duplicata : camille.martin (3 cartes)")
