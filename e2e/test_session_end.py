"""A session that ends is said, and what was typed is kept (WCAG 2.2.1, 2.2.5, 3.3.3).

Without JavaScript, the citizen types an address, the session ends, « Valider »: the
sign-in page says the session expired and that the answers are kept; signed in again,
the same step shows them, not yet sent. With JavaScript, the device sleeps past the
limit (its timers do not run: the page's clock jumps without firing them, as after a
sleep): the next « Valider », or the page waking, does the same instead of posting
into a dead session. The service's clock is moved past the limit too.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect

from models.demo.data import DEMO_PASSWORDS

from .test_flows import heading, submit
from .test_resume import DELIVERY_TITLE, reach_delivery

PAST_THE_LIMIT = timedelta(minutes=31)
KEPT = "vos réponses sont gardées"
GIVEN_BACK = "Vos réponses ont été gardées pendant la déconnexion, mais pas encore envoyées"


@contextmanager
def asleep(page: Page, service, javascript: bool):
    """The device sleeps past the limit: the service's clock moves on, and the page's
    jumps without firing a timer (timers do not run during sleep)."""
    if not service.local:
        pytest.skip(
            "avance l'horloge du service : seulement avec le service lancé par la suite (make test)"
        )
    kept = service.shift
    service.shift = kept + PAST_THE_LIMIT
    try:
        if javascript:
            now = datetime.fromtimestamp(page.evaluate("Date.now()") / 1000, UTC)
            page.clock.set_system_time(now + PAST_THE_LIMIT)
        yield
    finally:
        service.shift = kept


def type_an_address(page: Page, javascript: bool) -> None:
    reach_delivery(page, javascript)
    page.get_by_label("Non", exact=True).check()
    limit = page.get_by_text("la session se ferme après 30 minutes sans action")
    if not javascript:
        submit(page, "Valider")
        # Without JavaScript, the page says the limit under its buttons, once.
        expect(limit).to_have_count(1)
        expect(limit).to_be_visible()
    else:
        expect(page.get_by_label("Ville")).to_be_visible()
        expect(limit).to_be_hidden()  # the warning dialog says it, in time
    page.get_by_label("Ville").fill("DOUAI")


def sign_in_again_and_find_the_address(page: Page, a11y, check: bool = True) -> None:
    expect(heading(page, "Connexion")).to_be_visible()
    # The message before the heading takes the focus, so it is said at once.
    expect(page.locator(":focus")).to_contain_text("Votre session a expiré")
    expect(page.get_by_role("main")).to_contain_text(KEPT)
    if check:
        a11y.check(page, "Connexion : session expirée, réponses gardées")
    page.get_by_label("Identifiant").fill("alfred.depot")
    page.get_by_label("Mot de passe").fill(DEMO_PASSWORDS["alfred.depot"])
    page.get_by_role("button", name="Se connecter").click()
    expect(page).to_have_title(DELIVERY_TITLE)
    expect(page).to_have_url(re.compile(r"/demande/livraison(\?modifier=1)?$"))
    expect(page.get_by_role("status").filter(has_text=GIVEN_BACK)).to_be_visible()
    expect(page.get_by_label("Ville")).to_have_value("DOUAI")
    expect(page.locator("#error-summary")).to_have_count(0)  # filled in, not sent
    if check:
        a11y.check(page, "Livraison : réponses rendues après la reconnexion")


def test_valider_after_the_session_ended_keeps_the_address(
    page: Page, a11y, variant, fresh_service
):
    if variant.javascript:
        page.clock.install()
    type_an_address(page, variant.javascript)
    with asleep(page, fresh_service, variant.javascript):
        posted = []
        page.on("request", lambda r: posted.append(r.url) if r.method == "POST" else None)
        submit(page, "Valider")
        expect(heading(page, "Connexion")).to_be_visible()
        if variant.javascript:
            # Sent to be kept, never to the step's own address, which acts on it.
            assert not any(url.endswith("/demande/livraison") for url in posted), posted
        sign_in_again_and_find_the_address(page, a11y)


def test_a_page_waking_after_the_limit_goes_to_the_sign_in_page_with_its_answers(
    page: Page, a11y, variant, fresh_service
):
    if not variant.javascript:
        pytest.skip("sans JavaScript, il n'y a pas de minuterie")
    page.clock.install()
    type_an_address(page, javascript=True)
    with asleep(page, fresh_service, javascript=True):
        # The device wakes: the page becomes visible again, nothing pressed.
        page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
        sign_in_again_and_find_the_address(page, a11y, check=False)
