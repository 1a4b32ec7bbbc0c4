"""Keyboard-only flows: what a user who cannot use a mouse does, key by key.

Once the sign-in page is open, the tests press keys only (Tab, Shift+Tab,
Space, Enter, Escape, arrow keys, and typing into the focused field): no
click, no fill, no check. Controls are found by role and accessible name, as a
screen reader announces them. At every focus stop the focus must be visible;
after every htmx swap and every dialog close the focus must still be on an
element of the page, never dropped on <body> or on a removed element.

Desktop only (a phone has no Tab key), JavaScript on and off.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Locator, Page, expect

from models.demo.data import DEMO_PASSWORDS

from .conftest import VARIANTS, Variant

DESKTOP = [v for v in VARIANTS if not v.phone]
MAX_TAB_PRESSES = 40
ALFRED_CARD = "0000 0000 0000 0001"
LEO_PARKING_CARD = "0000 0000 0000 0040"
HONOUR = "Je déclare sur l'honneur que les informations fournies ci-dessus sont exactes."
TERMS = "J'accepte les Conditions Générales d'Utilisation et de Délivrance"

# What has the focus, how it looks, and whether it is still in the page.
FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body || el === document.documentElement)
    return {onBody: true, connected: true, label: '<body>'};
  const text = s => (s || '').replace(/\\s+/g, ' ').trim();
  const labelled = el.getAttribute('aria-labelledby');
  const name = text(el.getAttribute('aria-label'))
    || (labelled ? text(labelled.split(' ').map(id => {
          const part = document.getElementById(id);
          return part ? part.textContent : '';
        }).join(' ')) : '')
    || (el.labels && el.labels.length ? text([...el.labels].map(l => l.textContent).join(' ')) : '')
    || text(el.textContent) || text(el.value) || el.id;
  const style = getComputedStyle(el);
  const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2;
  const shadow = style.boxShadow !== 'none' && style.boxShadow !== '';
  return {
    onBody: false,
    connected: el.isConnected,
    label: el.tagName.toLowerCase() + (el.type ? '[' + el.type + ']' : '') + ' « '
           + name.slice(0, 70) + ' »',
    visible: outline || shadow,
    style: 'outline ' + style.outlineStyle + ' ' + style.outlineWidth
           + ', box-shadow ' + style.boxShadow,
  };
}"""

FOCUS_KEPT = """() => {
  const el = document.activeElement;
  return !!el && el !== document.body && el !== document.documentElement && el.isConnected;
}"""


@pytest.fixture(params=DESKTOP, ids=[v.name for v in DESKTOP])
def variant(request) -> Variant:
    """Overrides the suite's four variants: keyboard flows run on desktop only."""
    return request.param


class KeyboardUser:
    """Presses keys, checks the focus at every stop, and reports where it was lost."""

    def __init__(self, page: Page, variant: Variant, subtests) -> None:
        self.page = page
        self.variant = variant
        self.subtests = subtests

    def press(self, key: str) -> None:
        self.page.keyboard.press(key)

    def type(self, text: str) -> None:
        self.page.keyboard.type(text)

    def focused(self) -> dict:
        return self.page.evaluate(FOCUSED)

    def has_focus(self, target: Locator) -> bool:
        return target.evaluate_all("els => els.includes(document.activeElement)")

    def expect_focus_on(self, target: Locator, timeout: float = 5_000) -> None:
        """``target`` is document.activeElement (whether the window has the focus or not)."""
        expect(target).to_have_count(1)
        try:
            self.page.wait_for_function(
                "el => el === document.activeElement",
                arg=target.element_handle(),
                polling=100,
                timeout=timeout,
            )
        except PlaywrightError:
            raise AssertionError(
                f"{target} should have the focus at {self.page.url}; "
                f"it is on {self.focused()['label']}"
            ) from None

    def tab_to(self, target: Locator, *, backwards: bool = False) -> None:
        """Press Tab (or Shift+Tab) until ``target`` has the focus, at most MAX_TAB_PRESSES times.

        Every stop on the way must show a visible focus indicator.
        """
        expect(target).to_have_count(1)
        if self.has_focus(target):
            return
        key = "Shift+Tab" if backwards else "Tab"
        visited = []
        for _ in range(MAX_TAB_PRESSES):
            self.press(key)
            stop = self.focused()
            visited.append(stop["label"])
            if stop["onBody"]:
                continue  # out of the document (browser UI): the next press comes back in
            assert stop["visible"], (
                f"focus is not visible on {stop['label']} at {self.page.url}: {stop['style']}"
            )
            if self.has_focus(target):
                return
        raise AssertionError(
            f"{MAX_TAB_PRESSES} presses of {key} did not reach {target} at {self.page.url}; "
            f"focus went through: {' > '.join(visited)}"
        )

    def activate(self, target: Locator, key: str = "Enter", *, backwards: bool = False) -> None:
        """Tab to a control, then press ``key`` on it (Enter for buttons and links)."""
        self.tab_to(target, backwards=backwards)
        self.press(key)

    def expect_focus_kept(self, after: str, on: Locator | None = None) -> None:
        """After an htmx swap or a dialog close: focus on a live element (JavaScript only).

        Without JavaScript each step is a new page, whose focus starts at the top of
        the document, as screen readers expect. A failure is reported as its own
        subtest and the flow goes on, so one run lists every place focus is lost.
        """
        if not self.variant.javascript:
            return
        with self.subtests.test(msg=f"focus kept after {after} [{self.variant.name}]"):
            try:
                self.page.wait_for_function(FOCUS_KEPT, timeout=3_000)
            except PlaywrightError:
                stop = self.focused()
                raise AssertionError(
                    f"focus lost after {after} at {self.page.url}: document.activeElement is "
                    f"{stop['label']} (connected: {stop['connected']}); it should be on the "
                    "new h1, the error summary or the control that opened the change"
                ) from None
            if on is not None:
                self.expect_focus_on(on)

    def expect_focus_stays(self, after: str, on: Locator, settle_ms: float = 1_000) -> None:
        """After a swap elsewhere on the page: the focus stays on ``on``.

        The caller first waits for what the swap shows; the focus must then stay put
        for ``settle_ms`` (htmx settles, then the page's script runs). Without
        JavaScript nothing is swapped: the focus is simply where the keys left it.
        """
        if not self.variant.javascript:
            self.expect_focus_on(on)
            return
        with self.subtests.test(msg=f"focus kept after {after} [{self.variant.name}]"):
            moved = not self.has_focus(on)
            if not moved:
                try:
                    self.page.wait_for_function(
                        "el => el !== document.activeElement",
                        arg=on.element_handle(),
                        polling=50,
                        timeout=settle_ms,
                    )
                    moved = True
                except PlaywrightError:
                    pass  # still there
            assert not moved, (
                f"after {after} at {self.page.url}, focus jumped from {on} to "
                f"{self.focused()['label']}: it should stay on the control the user is on"
            )


@pytest.fixture
def keys(page: Page, variant: Variant, subtests) -> KeyboardUser:
    return KeyboardUser(page, variant, subtests)


def h1(page: Page, name: str) -> Locator:
    return page.get_by_role("heading", level=1, name=name, exact=True)


def sign_in_with_keys(page: Page, keys: KeyboardUser, username: str) -> None:
    page.goto("/connexion")
    keys.tab_to(page.get_by_role("textbox", name="Identifiant"))
    keys.type(username)
    keys.tab_to(page.get_by_label("Mot de passe"))
    keys.type(DEMO_PASSWORDS[username])
    keys.activate(page.get_by_role("button", name="Se connecter"))
    expect(page.get_by_role("button", name="Se déconnecter")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    keys.expect_focus_kept("signing in")


def open_request(page: Page, keys: KeyboardUser) -> None:
    """From the header menu to « Avant de commencer »."""
    menu = page.get_by_role("navigation", name="Menu principal")
    keys.activate(menu.get_by_role("link", name="Demande", exact=True))
    expect(h1(page, "Avant de commencer")).to_be_visible()
    keys.expect_focus_kept("the menu link « Demande »", on=h1(page, "Avant de commencer"))


def confirm_in_dialog_or_page(page: Page, keys: KeyboardUser, what: str) -> None:
    """« Oui » in the modal dialog (JavaScript) or on the confirmation page (without)."""
    title = f"Validation de la demande de {what}"
    if keys.variant.javascript:
        dialog = page.get_by_role("dialog", name=title)
        keys.activate(dialog.get_by_role("button", name="Oui", exact=True), backwards=True)
    else:
        expect(h1(page, title)).to_be_visible()
        keys.activate(page.get_by_role("button", name="Oui", exact=True))


def answer_delivery_yes(page: Page, keys: KeyboardUser) -> None:
    expect(h1(page, "Adresse de livraison")).to_be_visible()
    keys.expect_focus_kept("« Oui » on the confirmation", on=h1(page, "Adresse de livraison"))
    yes = page.get_by_role("radio", name="Oui", exact=True)
    keys.tab_to(yes)
    keys.press("Space")
    expect(yes).to_be_checked()
    if keys.variant.javascript:
        # The choice swaps the address block (announced politely): focus stays on the radio.
        expect(page.get_by_role("status")).to_have_text("Adresse de livraison affichée")
    keys.expect_focus_stays("choosing « Oui » (address block swapped)", on=yes)
    keys.activate(page.get_by_role("button", name="Valider", exact=True))
    expect(h1(page, "Paiement")).to_be_visible()
    keys.expect_focus_kept("« Valider » on Livraison", on=h1(page, "Paiement"))
    expect(page.get_by_text("Montant à payer : 9,02")).to_be_visible()


def test_alfred_orders_a_duplicate_with_the_keyboard_only(page: Page, keys: KeyboardUser):
    sign_in_with_keys(page, keys, "alfred.depot")
    open_request(page, keys)

    accept = page.get_by_role("checkbox", name=TERMS)
    keys.tab_to(accept)
    keys.press("Space")
    expect(accept).to_be_checked()
    keys.activate(page.get_by_role("button", name="Suivant"))

    question = h1(page, "Quelle demande voulez-vous faire ?")
    expect(question).to_be_visible()
    keys.expect_focus_kept("« Suivant » on Engagement", on=question)
    duplicate = page.get_by_role("radio", name="Duplicata", exact=True)
    keys.tab_to(duplicate)  # nothing chosen yet: Tab enters the group on its first radio
    keys.press("Space")
    expect(duplicate).to_be_checked()
    # The explanation of each option is its description, shown under it.
    expect(duplicate).to_have_accessible_description(re.compile("^Une nouvelle carte, après"))
    keys.expect_focus_stays("choosing « Duplicata »", on=duplicate)
    keys.activate(page.get_by_role("button", name="Suivant"))

    expect(h1(page, "Duplicata")).to_be_visible()
    keys.expect_focus_kept("« Suivant » on Choix de la demande", on=h1(page, "Duplicata"))
    reason = page.get_by_role("group", name=f"Motif pour la carte n° {ALFRED_CARD}")
    # Tab reaches the group's ticked radio (none yet: « Pas de duplicata pour cette
    # carte », the last); the arrow goes round to the first reason and ticks it.
    keys.tab_to(reason.get_by_role("radio", name="Pas de duplicata pour cette carte"))
    keys.press("ArrowDown")
    expect(reason.get_by_role("radio", name="Carte perdue")).to_be_checked()
    card = page.get_by_role("checkbox", name=f"Sélectionner la carte n° {ALFRED_CARD}")
    keys.tab_to(card)
    keys.press("Space")
    expect(card).to_be_checked()
    honour = page.get_by_role("checkbox", name=HONOUR)
    keys.tab_to(honour)
    keys.press("Space")
    expect(honour).to_be_checked()
    validate = page.get_by_role("button", name="Valider", exact=True)
    keys.activate(validate)

    if keys.variant.javascript:
        dialog = page.get_by_role("dialog", name="Validation de la demande de duplicata")
        expect(dialog).to_be_visible()
        keys.expect_focus_on(dialog.get_by_role("button", name="Non", exact=True))
        # Modal: Tab and Shift+Tab never reach the page behind the dialog.
        for key in ["Tab"] * 4 + ["Shift+Tab"] * 4:
            keys.press(key)
            stop = keys.focused()
            assert stop["onBody"] or dialog.evaluate("d => d.contains(document.activeElement)"), (
                f"{key} left the modal dialog for {stop['label']}"
            )
        keys.press("Escape")
        expect(dialog).to_be_hidden()
        keys.expect_focus_kept("Escape in the confirmation dialog", on=validate)
        # Closing the dialog changed nothing: the answers are still there.
        expect(reason.get_by_role("radio", name="Carte perdue")).to_be_checked()
        expect(card).to_be_checked()
        expect(honour).to_be_checked()
        keys.tab_to(validate)
        keys.press("Enter")
        expect(dialog).to_be_visible()
        expect(dialog.get_by_text("Attention : une fois la demande de duplicata")).to_be_visible()
    else:
        expect(page.get_by_text("Attention : une fois la demande de duplicata")).to_be_visible()
    confirm_in_dialog_or_page(page, keys, "duplicata")

    answer_delivery_yes(page, keys)
    keys.activate(page.get_by_role("button", name=re.compile(r"^Payer 9,02")))
    if not keys.variant.javascript:
        # Without JavaScript the order to the provider waits for a second button.
        expect(h1(page, "Paiement sécurisé")).to_be_visible()
        keys.activate(page.get_by_role("button", name="Continuer vers le paiement sécurisé"))

    expect(h1(page, "Saisie de la carte bancaire")).to_be_visible()
    keys.tab_to(page.get_by_role("textbox", name="Numéro de carte"))
    keys.type("4100 0000 0000 0001")
    keys.tab_to(page.get_by_role("textbox", name="Date d'expiration"))
    keys.type("12/29")
    keys.tab_to(page.get_by_role("textbox", name="Cryptogramme visuel"))
    keys.type("123")
    keys.activate(page.get_by_role("button", name="Valider", exact=True))

    expect(h1(page, "Paiement accepté")).to_be_visible()
    expect(page.get_by_text("Votre paiement a été accepté.")).to_be_visible()
    keys.activate(page.get_by_role("link", name="Continuer"))
    expect(h1(page, "Votre demande est enregistrée")).to_be_visible()
    expect(page.get_by_text("Votre demande est enregistrée sous le numéro 10000")).to_be_visible()


def test_camille_orders_a_second_copy_for_leo_with_the_keyboard_only(
    page: Page, keys: KeyboardUser
):
    sign_in_with_keys(page, keys, "camille.martin")
    open_request(page, keys)

    # A forgotten checkbox: the error summary takes the focus, its link leads to the field.
    keys.activate(page.get_by_role("button", name="Suivant"))
    summary_link = page.get_by_role("link", name=re.compile("Vous devez accepter les conditions"))
    expect(summary_link).to_be_visible()
    expect(page).to_have_title(re.compile("^Erreur : "))
    summary = page.get_by_role("heading", name="Il y a un problème")
    expect(summary).to_be_visible()
    with keys.subtests.test(msg=f"error summary focused [{keys.variant.name}]"):
        focus = keys.focused()
        assert not focus["onBody"] and "Il y a un problème" in focus["label"], (
            f"after « Suivant » with an error, focus is on {focus['label']}, "
            "not on the error summary"
        )
    keys.activate(summary_link)
    accept = page.get_by_role("checkbox", name=TERMS)
    keys.expect_focus_on(accept)
    keys.press("Space")
    expect(accept).to_be_checked()
    keys.activate(page.get_by_role("button", name="Suivant"))

    question = h1(page, "Quelle demande voulez-vous faire ?")
    expect(question).to_be_visible()
    keys.expect_focus_kept("« Suivant » on Engagement", on=question)
    keys.tab_to(page.get_by_role("radio", name="Duplicata", exact=True))
    keys.press("ArrowDown")  # arrow keys move through the group and choose
    second_copy = page.get_by_role("radio", name="Second exemplaire", exact=True)
    expect(second_copy).to_be_checked()
    expect(second_copy).to_have_accessible_description(re.compile("^Une deuxième carte"))
    keys.expect_focus_stays("choosing « Second exemplaire »", on=second_copy)
    keys.activate(page.get_by_role("button", name="Suivant"))

    expect(h1(page, "Second exemplaire")).to_be_visible()
    keys.expect_focus_kept("« Suivant » on Choix de la demande", on=h1(page, "Second exemplaire"))
    card = page.get_by_role("checkbox", name=f"Sélectionner la carte n° {LEO_PARKING_CARD}")
    keys.tab_to(card)
    keys.press("Space")
    expect(card).to_be_checked()
    honour = page.get_by_role("checkbox", name=HONOUR)
    keys.tab_to(honour)
    keys.press("Space")
    keys.activate(page.get_by_role("button", name="Valider", exact=True))
    if keys.variant.javascript:
        dialog = page.get_by_role("dialog", name="Validation de la demande de second exemplaire")
        expect(dialog).to_be_visible()
        keys.expect_focus_on(dialog.get_by_role("button", name="Non", exact=True))
    confirm_in_dialog_or_page(page, keys, "second exemplaire")

    answer_delivery_yes(page, keys)
    expect(page.get_by_role("rowheader", name=re.compile(LEO_PARKING_CARD))).to_be_visible()
    keys.tab_to(page.get_by_role("button", name=re.compile(r"^Payer 9,02")))


# -- « J'ai perdu ma carte »: every end point, an answer changed on the way ---------------

LOST_CARD_START = "Quelle carte avez-vous perdue, ou vous a-t-on volée ?"


def choose_by_keyboard(page: Page, user: KeyboardUser, label: str) -> None:
    """Tab into the question's radios, then arrow down to ``label`` (the arrow checks it)."""
    radios = page.get_by_role("radio")
    expect(radios.first).to_be_visible()  # the question's page, not the one before it
    checked = page.locator("input[type=radio]:checked")
    user.tab_to(checked if checked.count() else radios.first)
    target = page.get_by_role("radio", name=label, exact=True)
    for _ in range(radios.count()):
        if target.is_checked():
            break
        user.press("ArrowDown")
    expect(target).to_be_checked()
    user.activate(page.get_by_role("button", name="Continuer"))


def change(page: Page, user: KeyboardUser, question: str) -> None:
    user.activate(page.get_by_role("link", name=f"Modifier ma réponse : {question}"))


def end_point(page: Page, user: KeyboardUser, title: str, next_step: str) -> None:
    """An end page: its heading has the focus (JavaScript) and one clear next step."""
    expect(h1(page, title)).to_be_visible()
    user.expect_focus_kept(f"the answer leading to « {title} »")
    expect(page.get_by_role("link", name=re.compile(re.escape(next_step)))).to_be_visible()


def test_the_guidance_reaches_each_end_point_by_keyboard(page: Page, a11y, keys: KeyboardUser):
    page.goto("/")
    keys.activate(page.get_by_role("link", name="J'ai perdu ma carte : que faire ?"))
    expect(h1(page, LOST_CARD_START)).to_be_visible()
    a11y.check(page, "Perte : quelle carte")

    keys.activate(page.get_by_role("button", name="Continuer"))
    expect(page).to_have_title(re.compile("^Erreur : "))
    keys.expect_focus_kept("a question sent without an answer", page.locator("#error-summary"))
    a11y.check(page, "Perte : quelle carte, sans réponse")

    choose_by_keyboard(page, keys, "Une carte mobilité inclusion (CMI)")
    expect(h1(page, "Que s'est-il passé ?")).to_be_visible()
    a11y.check(page, "Perte : ce qui s'est passé")
    choose_by_keyboard(page, keys, "On me l'a volée")
    expect(h1(page, "Avez-vous votre identifiant et votre mot de passe ?")).to_be_visible()
    a11y.check(page, "Perte : identifiant et mot de passe")
    choose_by_keyboard(page, keys, "Oui, je les ai")
    end_point(
        page,
        keys,
        "Vous pouvez commander un duplicata en ligne",
        "Se connecter pour commander le duplicata",
    )
    expect(
        page.get_by_role("heading", name="Carte volée : faut-il porter plainte ?")
    ).to_be_visible()
    a11y.check(page, "Perte : duplicata après un vol")

    # An answer changed: the same question comes back with its answer checked, and
    # the answer after it still applies.
    change(page, keys, "ce qui s'est passé")
    expect(page.get_by_role("radio", name="On me l'a volée")).to_be_checked()
    choose_by_keyboard(page, keys, "Je l'ai perdue")
    end_point(
        page, keys, "Vous pouvez commander un duplicata en ligne", "Se connecter pour commander"
    )
    expect(page.get_by_text("faut-il porter plainte")).to_have_count(0)

    for answer, title, next_step, state in [
        (
            "Non, mais je reçois toujours les courriels à l'adresse électronique donnée au service",
            "Recevez votre identifiant par courriel, puis choisissez un nouveau mot de passe",
            "Identifiant oublié",
            "Perte : codes par courriel",
        ),
        (
            "Non, et je n'ai plus accès à cette adresse électronique, ou je n'en ai jamais donné",
            "Faites enregistrer une nouvelle adresse électronique",
            "Écrire au service",
            "Perte : sans adresse électronique",
        ),
        (
            "Je n'ai jamais reçu d'identifiant",
            "Demandez vos codes d'accès",
            "Écrire au service",
            "Perte : jamais reçu de codes",
        ),
    ]:
        change(page, keys, "identifiant et mot de passe")
        choose_by_keyboard(page, keys, answer)
        end_point(page, keys, title, next_step)
        a11y.check(page, state)

    change(page, keys, "ce qui s'est passé")
    choose_by_keyboard(page, keys, "Je l'ai retrouvée après avoir demandé un duplicata")
    end_point(
        page, keys, "La carte retrouvée reste révoquée", "Se connecter pour suivre la demande"
    )
    a11y.check(page, "Perte : carte retrouvée")

    for answer, title, next_step, state in [
        (
            "Une carte de l'ancien format : carte d'invalidité orange, carte de priorité mauve "
            "ou carte européenne de stationnement bleue",
            "Demandez une carte mobilité inclusion à votre maison départementale des "
            "personnes handicapées",
            "Trouver la MDPH de mon département",
            "Perte : carte de l'ancien format",
        ),
        (
            "Une carte nationale d'identité ou un passeport",
            "Une carte d'identité ou un passeport se demande en mairie",
            "Trouver une mairie",
            "Perte : carte d'identité",
        ),
        ("Je ne sais pas", "Reconnaître votre carte", "Choisir le type de carte", None),
    ]:
        change(page, keys, "carte")
        choose_by_keyboard(page, keys, answer)
        end_point(page, keys, title, next_step)
        if state:
            a11y.check(page, state)
    # « Je ne sais pas » leads back to the first question, with nothing checked.
    keys.activate(page.get_by_role("link", name="Choisir le type de carte"))
    expect(h1(page, LOST_CARD_START)).to_be_visible()
    expect(page.locator("input[type=radio]:checked")).to_have_count(0)
