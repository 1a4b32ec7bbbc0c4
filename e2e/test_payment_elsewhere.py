"""A payment provider on another site, as a real one is: the hand-off must reach it.

The service runs at 127.0.0.1 with ``PAYMENT_URL`` naming the built-in provider
served by a second server at ``localhost`` (another origin, another site: no
cookie is shared). « Payer » must take the browser there (the page's
form-action policy allows it), the card is paid there, and the provider's
answers come back to the service.
"""

from __future__ import annotations

import re
import threading

import pytest
from playwright.sync_api import expect
from werkzeug.serving import make_server

import models
from app import create_app
from models.shared.db import database

from .conftest import VARIANTS, context_options
from .test_flows import choose_reason, go_to_provider, heading, pay, submit
from .test_foundation import sign_in

ALFRED_CARD = "0000 0000 0000 0001"


class Served:
    def __init__(self, app, host: str) -> None:
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.base_url = f"http://{host}:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def shop_and_provider(service):
    """The service and a provider on two sites, on the test service's database."""
    if not service.local:
        pytest.skip("a besoin du service lancé par la suite (make test)")
    url = service.app.config["DATABASE_URL"]
    provider = Served(create_app({"DATABASE_URL": url, "TESTING": True}), "localhost")
    shop = Served(
        create_app(
            {
                "DATABASE_URL": url,
                "TESTING": True,
                "PAYMENT_URL": f"{provider.base_url}/paiement-securise",
            }
        ),
        "127.0.0.1",
    )
    service.reset()
    yield shop, provider
    shop.stop()
    provider.stop()


@pytest.mark.parametrize("variant", VARIANTS[:2], ids=[v.name for v in VARIANTS[:2]])
def test_a_duplicata_is_paid_at_a_provider_on_another_site(browser, shop_and_provider, variant):
    shop, provider = shop_and_provider
    context = browser.new_context(base_url=shop.base_url, **context_options(variant))
    context.set_default_timeout(10_000)
    page = context.new_page()
    refused = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security" in m.text else None)
    try:
        sign_in(page, "alfred.depot")
        page.goto("/demande")
        page.get_by_label(
            "J'accepte les Conditions Générales d'Utilisation et de Délivrance"
        ).check()
        submit(page, "Suivant")
        page.get_by_label("Duplicata", exact=True).check()
        submit(page, "Suivant")
        choose_reason(page, ALFRED_CARD)
        page.get_by_label(f"Sélectionner la carte n° {ALFRED_CARD}").check()
        page.get_by_label("Je déclare sur l'honneur que les informations fournies").check()
        submit(page, "Valider")
        if variant.javascript:
            page.get_by_role("dialog").get_by_role("button", name="Oui").click()
        else:
            submit(page, "Oui")
        page.get_by_label("Oui", exact=True).check()
        submit(page, "Valider")
        expect(heading(page, "Paiement")).to_be_visible()

        go_to_provider(page, variant)
        expect(page).to_have_url(re.compile(rf"^{re.escape(provider.base_url)}/paiement-securise"))
        pay(page, "4100 0000 0000 0001")
        expect(page.get_by_text("Votre paiement a été accepté.")).to_be_visible()
        page.get_by_role("link", name="Continuer").click()

        expect(page).to_have_url(re.compile(rf"^{re.escape(shop.base_url)}/demandes/10000$"))
        expect(heading(page, "Votre demande est enregistrée")).to_be_visible()
    finally:
        context.close()
    assert not refused, refused
    with database.connection_context():
        request = models.CardRequest.get(models.CardRequest.number == 10000)
        assert request.state == "payée"
        assert (
            models.OutboxEmail.select()
            .where(models.OutboxEmail.recipient.contains("alfred"))
            .count()
            == 1
        )
