"""The duplicata flow in English, from the language link to the attestation, with the
accessibility checks (axe and ARIA snapshots) on every state, JavaScript on and off.

The browser asks for French (``locale="fr-FR"``): English is the reader's own choice,
made once with the link on the page, and it holds through signing in and paying.
"""

from __future__ import annotations

import io
import re

import pytest
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from models.demo.data import DEMO_PASSWORDS

from .conftest import VARIANTS, Variant
from .test_flows import heading, submit

CARD = "0000 0000 0000 0001"
# With JavaScript and without, on desktop (where the ARIA snapshots are taken).
ENGLISH_VARIANTS = [v for v in VARIANTS if not v.phone]


@pytest.fixture(params=ENGLISH_VARIANTS, ids=[v.name for v in ENGLISH_VARIANTS])
def variant(request) -> Variant:
    return request.param


def expect_errors(page: Page, *messages: str) -> None:
    expect(page).to_have_title(re.compile("^Error: "))
    summary = page.locator("#error-summary")
    expect(summary.get_by_role("heading", name="There is a problem")).to_be_visible()
    for message in messages:
        expect(summary.get_by_role("link", name=re.compile(re.escape(message)))).to_be_visible()


def test_a_reader_of_english_orders_a_replacement_card(page: Page, a11y, variant, fresh_service):
    page.goto("/connexion")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    switch = page.get_by_role("link", name="English", exact=True)
    expect(switch).to_have_attribute("hreflang", "en")
    expect(switch).to_have_attribute("lang", "en")
    switch.click()

    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page).to_have_title("Sign in - CMI")
    back = page.get_by_role("link", name="Français", exact=True)
    expect(back).to_have_attribute("lang", "fr")
    a11y.check(page, "Connexion (anglais) : vide")
    submit(page, "Sign in")
    expect_errors(page, "Enter your username", "Enter your password")
    a11y.check(page, "Connexion (anglais) : champs vides")
    page.get_by_label("Username").fill("alfred.depot")
    page.get_by_label("Password").fill(DEMO_PASSWORDS["alfred.depot"])
    submit(page, "Sign in")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    expect(heading(page, "My details")).to_be_visible()
    a11y.check(page, "Mes données (anglais) : alfred.depot")

    page.get_by_role("navigation", name="Main menu").get_by_role("link", name="Request").click()
    expect(heading(page, "Before you start")).to_be_visible()
    expect(page).to_have_title(re.compile(r"^Step 1 of 5: Commitment - .* - CMI$"))
    expect(
        page.get_by_role("link", name=re.compile(r"Terms of use and issue.*PDF, \d+ KB"))
    ).to_be_visible()
    a11y.check(page, "Engagement (anglais) : vide")
    submit(page, "Continue")
    expect_errors(page, "You must accept")
    a11y.check(page, "Engagement (anglais) : erreur")
    page.get_by_label("I accept the Terms of use and issue").check()
    submit(page, "Continue")

    expect(heading(page, "What would you like to request?")).to_be_visible()
    a11y.check(page, "Choix de la demande (anglais) : vide")
    page.get_by_label("Replacement card", exact=True).check()
    submit(page, "Continue")

    expect(page).to_have_title(re.compile(r"^Step 2 of 5: Select your cards - "))
    submit(page, "Confirm")
    expect_errors(page, "Select at least one card", "You must declare on your honour")
    a11y.check(page, "Sélection duplicata (anglais) : erreurs")
    page.get_by_label(f"Select card no. {CARD}").check()
    page.get_by_role("group", name=f"Reason for card no. {CARD}").get_by_role(
        "radio", name="Lost card"
    ).check()
    page.get_by_label("I declare on my honour").check()
    submit(page, "Confirm")

    if variant.javascript:
        dialog = page.get_by_role("dialog", name="Confirm your request for a replacement card")
        expect(dialog).to_be_visible()
        a11y.check(page, "Confirmation duplicata (anglais) : dialogue ouvert")
        dialog.get_by_role("button", name="Yes").click()
    else:
        expect(heading(page, "Confirm your request for a replacement card")).to_be_visible()
        a11y.check(page, "Confirmation duplicata (anglais) : page")
        submit(page, "Yes")

    expect(heading(page, "Delivery address")).to_be_visible()
    a11y.check(page, "Livraison (anglais) : adresse affichée")
    page.get_by_label("No", exact=True).check()
    if not variant.javascript:
        submit(page, "Confirm")
    page.get_by_label("Postcode").fill("590")
    submit(page, "Confirm")
    expect_errors(page, "A French postcode must have 5 digits")
    expect(page.get_by_label("Postcode")).to_have_value("590")
    a11y.check(page, "Livraison (anglais) : erreurs d'adresse")
    page.get_by_label("Postcode").fill("59800")
    submit(page, "Confirm")
    expect(heading(page, "Your delivery address has been changed")).to_be_visible()
    page.get_by_role("link", name="Continue to payment").click()

    expect(heading(page, "Payment")).to_be_visible()
    expect(page.get_by_text("€9.02").first).to_be_visible()
    a11y.check(page, "Paiement (anglais) : montant")
    submit(page, "Pay €9.02")
    if not variant.javascript:
        submit(page, "Continue to secure payment")
    expect(heading(page, "Enter your card details")).to_be_visible()
    a11y.check(page, "Prestataire (anglais) : saisie de la carte")
    page.get_by_label("Card number").fill("4100 0000 0000 0001")
    page.get_by_label("Expiry date").fill("12/29")
    page.get_by_label("Security code").fill("123")
    submit(page, "Confirm")
    expect(page.get_by_text("Your payment has been accepted.")).to_be_visible()
    page.get_by_role("link", name="Continue").click()

    expect(heading(page, "Your request has been recorded")).to_be_visible()
    expect(page.get_by_text("Your request number is 10000")).to_be_visible()
    expect(page.get_by_role("cell", name="Disability (needs a companion)")).to_be_visible()
    a11y.check(page, "Récapitulatif (anglais) : duplicata payé")

    page.get_by_role("link", name="Read the request certificate as a web page").click()
    expect(heading(page, "Request certificate")).to_be_visible()
    a11y.check(page, "Attestation (anglais) : page web")
    pdf = PdfReader(io.BytesIO(page.request.get("/demandes/10000/attestation.pdf").body()))
    assert pdf.trailer["/Root"]["/Lang"] == "en-GB"
    assert pdf.metadata.title == "Request certificate no. 10000"
    text = " ".join(pdf.pages[0].extract_text().split())
    assert "Box ticked: Replacement for my mobility inclusion card Disability" in text
    assert "Amount paid: €9.02" in text

    if fresh_service.can_reset:
        (email,) = [e for e in fresh_service.outbox() if "10000" in e.subject]
        assert "€9.02" in email.text and "request certificate" in email.text
        assert 'lang="en"' in email.html
