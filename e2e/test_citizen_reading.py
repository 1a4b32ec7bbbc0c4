"""What the citizen reads and hears: every control shows its whole value, every success
message is heard, the language link points at the page shown, the confirmation dialog
opens on its title on a small screen with large text.

Each test runs on desktop (the widths it checks are set by the test), JavaScript on
and off; the phone variants would repeat the same measures.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page, expect

from models.demo.data import DEMO_PASSWORDS

from .test_flows import ALFRED_CARD, heading, submit
from .test_foundation import sign_in
from .test_photo import choose, image
from .test_resume import choose_alfreds_card, open_selection, reach_delivery

# (width, root font size): a desktop, a phone, a phone with its text at 200 %.
SCREENS = [(1280, "100%"), (320, "100%"), (320, "200%")]

# Every visible text field and list in <main> whose value is not whole on screen: a
# list narrower than its chosen option's text, a field narrower than what it holds.
CUT_VALUES = """() => {
  const canvas = document.createElement('canvas').getContext('2d');
  const cut = [];
  const fields = 'main select, main input[type=text], main input:not([type])';
  for (const el of document.querySelectorAll(fields)) {
    if (!el.getClientRects().length) continue;
    const style = getComputedStyle(el);
    const inner = el.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    let needed;
    if (el.tagName === 'SELECT') {
      canvas.font = style.font;
      // The arrow of the list takes about 1.2 em of its width.
      needed = canvas.measureText(el.options[el.selectedIndex].text).width
               + 1.2 * parseFloat(style.fontSize);
    } else {
      needed = el.scrollWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    }
    if (needed > inner + 1)
      cut.push(`${el.getAttribute('aria-label') || el.id}: `
               + `${Math.round(needed)} px in ${Math.round(inner)}`);
  }
  // A choice's label: its text wraps inside the screen, never clipped or beyond it.
  const width = document.documentElement.clientWidth;
  for (const label of document.querySelectorAll('main label')) {
    if (!label.getClientRects().length || label.closest('.visually-hidden')) continue;
    const box = label.getBoundingClientRect();
    if (label.scrollWidth > label.clientWidth + 1 || box.right > width + 1 || box.left < -1)
      cut.push(`${label.textContent.trim()}: ${Math.round(box.left)} to ${Math.round(box.right)}`
               + ` px, ${label.scrollWidth} px of text in ${label.clientWidth}`);
  }
  return cut;
}"""


def desktop_only(variant) -> None:
    if variant.phone:
        pytest.skip("le test choisit lui-même ses largeurs d'écran")


def cut_values_on_each_screen(page: Page, screens=SCREENS) -> list[str]:
    original = page.viewport_size
    found = []
    try:
        for width, size in screens:
            page.set_viewport_size({"width": width, "height": 800})
            page.evaluate("size => { document.documentElement.style.fontSize = size; }", size)
            found += [f"{width} px, text {size}: {cut}" for cut in page.evaluate(CUT_VALUES)]
    finally:
        page.evaluate("() => { document.documentElement.style.fontSize = ''; }")
        page.set_viewport_size(original)
    return found


def to_selection(page: Page) -> None:
    sign_in(page, "alfred.depot")
    open_selection(page, "Duplicata")


def test_each_reason_shows_its_whole_text_at_every_width(page: Page, variant):
    desktop_only(variant)
    to_selection(page)
    reason = page.get_by_role("group", name=f"Motif pour la carte n° {ALFRED_CARD}")
    # A list (select) cannot wrap its chosen text: at 320 px with text at 200 % no list
    # of these reasons fits. Radios wrap their labels, at every width and text size.
    expect(reason.get_by_role("combobox")).to_have_count(0)
    for text in (
        "Carte perdue",
        "Carte volée",
        "Carte détruite ou détériorée",
        "Pas de duplicata pour cette carte",
    ):
        reason.get_by_role("radio", name=text, exact=True).check()
        assert cut_values_on_each_screen(page, SCREENS) == []


def test_a_long_delivery_address_shows_whole_in_its_fields(page: Page, variant):
    desktop_only(variant)
    reach_delivery(page, variant.javascript)
    page.get_by_label("Non", exact=True).check()
    if not variant.javascript:
        submit(page, "Valider")
    longest = "M" * 38  # a line of an address holds 38 characters at most
    for label in ("Nom", "Entrée, bâtiment, immeuble, résidence (facultatif)"):
        page.get_by_label(label, exact=True).fill(longest)
    page.get_by_label("Ville", exact=True).fill("SAINT-REMY-EN-BOUZEMONT-SAINT-GENEST")
    # On a computer, each field is as wide as the longest line it may hold. A phone
    # cannot show 38 characters on one line: there each field takes the whole width.
    assert cut_values_on_each_screen(page, SCREENS[:1]) == []


def test_a_photo_saved_is_said_at_once(page: Page, variant):
    desktop_only(variant)
    sign_in(page, "alfred.depot")
    page.get_by_role("link", name="Envoyer une photo d'Alfred DEPOT").click()
    # The rules' list is named by its own introduction.
    expect(page.get_by_role("list", name="La photo doit être :")).to_be_visible()
    choose(page, "photo.jpg", image((600, 800)))
    submit(page, "Envoyer la photo")
    # Where focus lands, a page loaded whole or swapped: the message, read first.
    message = page.locator("#photo-message")
    expect(message).to_contain_text("La photo est enregistrée")
    expect(message).to_be_focused()


def language_target(page: Page) -> tuple[str, dict]:
    link = page.get_by_role("link", name="English")
    href = link.get_attribute("href")
    parts = urlsplit(href)
    return parts.path, parse_qs(parts.query)


def expect_link_to_this_page(page: Page) -> None:
    path, query = language_target(page)
    assert path == urlsplit(page.url).path, (path, page.url)
    assert query.get("lang") == ["en"]


def test_the_language_link_points_at_the_page_shown(page: Page, variant):
    desktop_only(variant)
    page.goto("/connexion?next=/demande")
    page.get_by_label("Identifiant").fill("alfred.depot")
    page.get_by_label("Mot de passe").fill(DEMO_PASSWORDS["alfred.depot"])
    page.get_by_role("button", name="Se connecter").click()
    expect(heading(page, "Avant de commencer")).to_be_visible()
    expect_link_to_this_page(page)
    page.get_by_label("J'accepte les Conditions Générales d'Utilisation et de Délivrance").check()
    submit(page, "Suivant")
    expect(heading(page, "Quelle demande voulez-vous faire ?")).to_be_visible()
    expect_link_to_this_page(page)
    submit(page, "Suivant")  # an error: the same page, at the same address
    expect(page).to_have_title(re.compile("^Erreur : "))
    expect_link_to_this_page(page)
    page.get_by_label("Duplicata").check()
    submit(page, "Suivant")
    expect(heading(page, "Duplicata")).to_be_visible()
    expect_link_to_this_page(page)
    page.get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert urlsplit(page.url).path == "/demande/selection"


def test_the_dialog_opens_on_its_title_with_large_text_on_a_phone(page: Page, variant):
    desktop_only(variant)
    if not variant.javascript:
        pytest.skip("sans JavaScript, la confirmation est une page à part")
    to_selection(page)
    page.set_viewport_size({"width": 320, "height": 640})
    page.evaluate("() => { document.documentElement.style.fontSize = '200%'; }")
    choose_alfreds_card(page)
    dialog = page.get_by_role("dialog", name="Validation de la demande de duplicata")
    expect(dialog).to_be_visible()
    title = dialog.get_by_role("heading", name="Validation de la demande de duplicata")
    expect(title).to_be_focused()
    expect(title).to_be_in_viewport()
    # Opened at its top: what follows the title is read on from there.
    assert dialog.evaluate("d => d.scrollTop") == 0
    # No word is cut in two where it could wrap whole.
    assert dialog.evaluate("d => getComputedStyle(d.querySelector('p')).overflowWrap") != (
        "anywhere"
    )
    # A dialog that fits the screen keeps its focus on « Non », the safe answer.
    dialog.get_by_role("button", name="Non").click()
    page.evaluate("() => { document.documentElement.style.fontSize = ''; }")
    page.set_viewport_size({"width": 1280, "height": 900})
    submit(page, "Valider")
    expect(dialog.get_by_role("button", name="Non")).to_be_focused()
