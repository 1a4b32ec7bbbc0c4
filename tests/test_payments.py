"""Payment: seals, the exactly-once paid transition, numbering, attestation, access control."""

from __future__ import annotations

import io
import re
import threading
import urllib.parse
import urllib.request
from datetime import date

import pytest
from pypdf import PdfReader
from werkzeug.serving import make_server

from models import ordering, payments, sips
from models import requests as card_requests
from models.cards import DUPLICATE, SECOND_COPY, Card
from models.demo import provider
from models.eligibility import account_cards, may_get_duplicate, may_get_second_copy
from models.people import Account
from models.pricing import euros, price, vat_on
from models.shared import security
from models.shared.mail import OutboxEmail

from .helpers import csrf_token, post_form, sign_in
from .pages import Page

SECRET = "demo-only-payment-secret"
TODAY = date(2026, 11, 22)


def recorded_request(username="alfred.depot", kind=DUPLICATE, selection=None):
    """A request taken through the wizard's rules up to « Oui » (recorded, unpaid)."""
    account = Account.get(Account.username == username)
    request = ordering.start_or_resume(account)
    ordering.accept_terms(request)
    ordering.choose_kind(request, kind)
    ordering.save_selection(request, selection or {"0000000000000001": "Titre perdu"}, honour=True)
    assert ordering.record(request, TODAY)
    return card_requests.CardRequest.get_by_id(request.id)


def provider_answer(payment, code=sips.RESPONSE_ACCEPTED, **overrides):
    """What the provider would send back for ``payment``, sealed unless overridden."""
    fields = {
        "amount": str(payment.amount),
        "currencyCode": sips.CURRENCY_EURO,
        "merchantId": "002001000000001",
        "transactionReference": payment.transaction_reference,
        "orderId": str(payment.request.number),
        "responseCode": code,
        "maskedPan": "4100 #### #### ##01",
        "authorisationId": "123456",
    }
    fields.update(overrides)
    data = sips.encode_data(fields)
    return data, sips.seal(data, SECRET)


def apply(data, seal):
    """The provider's answer, read as the service reads it, then applied."""
    return payments.apply_response(sips.read_response(data, seal, SECRET))


# -- prices ------------------------------------------------------------------------------


def test_one_duplicate_in_france_costs_nine_euros_two():
    breakdown = price(1, "France")
    assert (breakdown.net, breakdown.vat, breakdown.postage) == (710, 142, 50)
    assert breakdown.total == 902
    assert euros(breakdown.total) == "9,02\u00a0€"


def test_several_cards_and_abroad():
    assert price(3, "france").total == 3 * 902
    assert price(2, "Belgique").postage_per_card > price(2, "France").postage_per_card
    assert price(1, "Canada").destination == "Reste du monde"
    assert price(1, "Canada").total == 710 + 142 + 210


def test_vat_rounds_half_up_to_the_cent():
    assert vat_on(710) == 142
    assert vat_on(1) == 0 and vat_on(3) == 1 and vat_on(5) == 1


def test_a_request_has_at_least_one_card():
    with pytest.raises(ValueError):
        price(0, "France")


# -- seals -------------------------------------------------------------------------------


def test_a_good_seal_pays_the_request_once(db):
    request = recorded_request()
    payment = payments.start_payment(request, 902)
    outcome = apply(*provider_answer(payment))
    assert outcome.newly_paid
    assert outcome.payment.state == payments.ACCEPTED
    assert outcome.payment.masked_card == "4100 #### #### ##01"
    assert card_requests.CardRequest.get_by_id(request.id).state == card_requests.PAID


@pytest.mark.parametrize(
    "tamper",
    [
        lambda data, seal: (data.replace("amount=902", "amount=1"), seal),
        lambda data, seal: (data, seal[:-1] + ("0" if seal[-1] != "0" else "1")),
        lambda data, seal: (data, ""),
        lambda data, seal: (data, sips.seal(data, "another secret")),
    ],
    ids=["amount changed", "seal changed", "no seal", "other key"],
)
def test_a_tampered_response_changes_nothing(db, tamper):
    request = recorded_request()
    payment = payments.start_payment(request, 902)
    with pytest.raises(payments.InvalidResponse):
        apply(*tamper(*provider_answer(payment)))
    assert payments.Payment.get_by_id(payment.id).state == payments.PENDING
    assert card_requests.CardRequest.get_by_id(request.id).state == card_requests.RECORDED


def test_a_sealed_response_with_the_wrong_amount_is_refused(db):
    request = recorded_request()
    payment = payments.start_payment(request, 902)
    data, seal = provider_answer(payment, amount="1")
    with pytest.raises(payments.InvalidResponse, match="amount"):
        apply(data, seal)
    assert card_requests.CardRequest.get_by_id(request.id).state == card_requests.RECORDED


def test_a_replayed_response_is_a_no_op(db):
    request = recorded_request()
    payment = payments.start_payment(request, 902)
    answer = provider_answer(payment)
    first = apply(*answer)
    again = apply(*answer)
    assert first.newly_paid and not again.newly_paid
    # The new card is made once, by the answer that paid.
    assert Card.select().where(Card.replaces.is_null(False)).count() == 1


def test_an_accepted_answer_after_a_refusal_of_the_same_attempt_changes_nothing(db):
    request = recorded_request()
    payment = payments.start_payment(request, 902)
    apply(*provider_answer(payment, sips.RESPONSE_REFUSED))
    outcome = apply(*provider_answer(payment))
    assert outcome.payment.state == payments.REFUSED
    assert card_requests.CardRequest.get_by_id(request.id).state == card_requests.RECORDED


def test_seal_comparison_is_constant_time(monkeypatch):
    compared = []
    monkeypatch.setattr(security.hmac, "compare_digest", lambda a, b: compared.append(1) or a == b)
    assert sips.seal_is_valid("x", sips.seal("x", SECRET), SECRET)
    assert compared


# -- attempts and numbers ------------------------------------------------------------------


def test_an_unfinished_attempt_is_reused_so_two_tabs_pay_once(db):
    request = recorded_request()
    first = payments.start_payment(request, 902)
    second = payments.start_payment(request, 902)
    assert first.id == second.id
    assert first.transaction_reference == f"{request.number}01"


def test_a_new_attempt_after_a_refusal(db):
    request = recorded_request()
    first = payments.start_payment(request, 902)
    apply(*provider_answer(first, sips.RESPONSE_REFUSED))
    second = payments.start_payment(request, 902)
    assert second.transaction_reference == f"{request.number}02"


def deliver_to(request, country: str, postcode: str):
    address = request.delivery_address.as_dict() | {"country": country, "postcode": postcode}
    assert ordering.change_delivery(request, address, remember=False)
    return card_requests.CardRequest.get_by_id(request.id)


def test_an_attempt_for_an_amount_no_longer_due_pays_nothing_and_is_kept_for_refund(db):
    """« Payer », then back to Livraison to send the card abroad: the first page may
    still be paid in another tab, but 9,02 € no longer pays the request."""
    request = recorded_request()
    first = payments.start_payment(request, payments.amount_due(request))
    request = deliver_to(request, "Canada", "H2X 1Y4")
    assert payments.amount_due(request) == 1062
    second = payments.start_payment(request, payments.amount_due(request))
    assert payments.Payment.get_by_id(first.id).state == payments.SUPERSEDED

    late = apply(*provider_answer(first))
    assert not late.newly_paid
    assert late.payment.state == payments.REFUND_DUE
    assert card_requests.CardRequest.get_by_id(request.id).state == card_requests.RECORDED
    assert [p.id for p in payments.refunds_due(request)] == [first.id]

    paid = apply(*provider_answer(second))
    assert paid.newly_paid
    assert payments.accepted_payment(request).id == second.id


def test_a_superseded_attempt_still_pays_when_its_amount_is_due_again(db):
    request = recorded_request()
    first = payments.start_payment(request, 902)
    request = deliver_to(request, "Canada", "H2X 1Y4")
    payments.start_payment(request, payments.amount_due(request))
    request = deliver_to(request, "France", "59000")
    third = payments.start_payment(request, payments.amount_due(request))

    outcome = apply(*provider_answer(first))
    assert outcome.newly_paid and outcome.payment.state == payments.ACCEPTED
    # The other page, paid too: the request is charged once, the second sum is refunded.
    twice = apply(*provider_answer(third))
    assert not twice.newly_paid
    assert twice.payment.state == payments.REFUND_DUE
    assert payments.accepted_payment(request).id == first.id


def test_request_numbers_are_sequential_from_10000(db):
    first = recorded_request("alfred.depot")
    second = recorded_request("joseph.quinn", selection={"0000000000000030": "Titre volé"})
    third = recorded_request("camille.martin", kind=SECOND_COPY, selection={"0000000000000040": ""})
    assert [first.number, second.number, third.number] == [10000, 10001, 10002]


def test_once_paid_the_new_card_is_made_and_the_original_stays_revoked(db):
    request = recorded_request()
    payment = payments.start_payment(request, 902)
    apply(*provider_answer(payment))
    original = Card.get(Card.number == "0000000000000001")
    duplicate = Card.get(Card.replaces == original)
    assert original.revoked_on == TODAY and original.revocation_reason == "Titre perdu"
    assert duplicate.in_production and duplicate.number != original.number
    assert (duplicate.mention, duplicate.needs_companion, duplicate.valid_until) == (
        original.mention,
        original.needs_companion,
        original.valid_until,
    )
    assert not may_get_duplicate(original, account_cards(request.account), TODAY)


def test_a_paid_second_copy_does_not_revoke_the_original(db):
    request = recorded_request("camille.martin", SECOND_COPY, {"0000000000000040": ""})
    payment = payments.start_payment(request, 902)
    apply(*provider_answer(payment))
    original = Card.get(Card.number == "0000000000000040")
    assert original.revoked_on is None
    assert Card.get(Card.copy_of == original).in_production
    assert not may_get_second_copy(original, account_cards(request.account), TODAY)


def test_the_card_number_is_never_stored(db):
    request = recorded_request()
    payment = payments.start_payment(request, 902)
    apply(*provider_answer(payment))
    for model in (payments.Payment, provider.ProviderTransaction):
        for row in model.select().dicts():
            assert "4100000000000001" not in str(row)


# -- the built-in provider's rules ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "expiry", "code", "field"),
    [
        ("4100 0000 0000 0002", "12/29", "123", "number"),  # Luhn fails
        ("", "12/29", "123", "number"),
        ("4100 0000 0000 0001", "10/26", "123", "expiry"),  # past (today is 22/11/2026)
        ("4100 0000 0000 0001", "13/29", "123", "expiry"),
        ("4100 0000 0000 0001", "1229", "123", "expiry"),
        ("4100 0000 0000 0001", "12/29", "12", "security_code"),
        ("4100 0000 0000 0001", "12/29", "abc", "security_code"),
    ],
)
def test_card_checks(number, expiry, code, field):
    assert field in provider.check_card(number, expiry, code, TODAY).errors


def test_the_test_cards_pass_the_checks():
    for card in (provider.ACCEPTED_TEST_CARD, provider.REFUSED_TEST_CARD):
        assert provider.check_card(card, "11/26", "000", TODAY).errors == {}


def test_masked_number_keeps_four_first_and_two_last_digits():
    assert provider.mask_card_number("4100 0000 0000 0001") == "4100 #### #### ##01"


# -- return and notification racing against each other, through a real server -----------------


def test_return_and_notification_at_once_pay_exactly_once(app, db):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        request = recorded_request()
        payment = payments.start_payment(request, 902)
        data, seal = provider_answer(payment)
        body = urllib.parse.urlencode({"Data": data, "Seal": seal}).encode()
        base = f"http://127.0.0.1:{server.server_port}"
        statuses = []

        def post(path):
            req = urllib.request.Request(base + path, data=body)
            try:
                with urllib.request.urlopen(req, timeout=20) as response:
                    statuses.append(response.status)
            except urllib.error.HTTPError as error:
                statuses.append(error.code)

        threads = [
            threading.Thread(target=post, args=(path,))
            for path in ["/paiement/retour", "/paiement/notification"] * 4
        ]
        for each in threads:
            each.start()
        for each in threads:
            each.join()
    finally:
        server.shutdown()
    assert all(status < 500 for status in statuses), statuses
    assert card_requests.CardRequest.get_by_id(request.id).state == card_requests.PAID
    assert Card.select().where(Card.replaces.is_null(False)).count() == 1
    assert OutboxEmail.select().where(OutboxEmail.subject.contains("10000")).count() == 1


# -- access control and documents through the app --------------------------------------------


def handoff_form(html: str) -> tuple[str, dict]:
    """The form « Payer » leads to: where it posts, and the sealed order it carries."""
    form = Page(html).root.find("form", data_auto_submit="")
    fields = {node.attrs["name"]: node.attrs["value"] for node in form.find_all("input")}
    return form.attrs["action"], fields


def pay_through_the_app(client, request=None):
    """Alfred's duplicata, recorded with the models, paid through the provider's pages."""
    if request is None:
        request = recorded_request()
        ordering.check_delivery(request)
    response = post_form(client, "/demande/paiement", {"action": "payer"})
    assert response.headers["Location"] == "/demande/paiement/envoi"
    action, fields = handoff_form(client.get("/demande/paiement/envoi").text)
    assert action == "http://localhost/paiement-securise"
    page = client.post(action, data=fields)
    reference = re.search(r'action="/paiement-securise/(\d+)"', page.text).group(1)
    response = client.post(
        f"/paiement-securise/{reference}",
        data={
            "csrf_token": csrf_token(page.text),
            "action": "valider",
            "number": "4100 0000 0000 0001",
            "expiry": "12/29",
            "security_code": "123",
        },
    )
    # The provider's redirect shows nothing: no policy, as the service's own.
    assert "Content-Security-Policy" not in response.headers
    result = client.get(response.headers["Location"])
    assert "Content-Security-Policy" in result.headers
    back = re.search(r'href="(http://localhost/paiement/retour\?[^"]+)"', result.text).group(1)
    response = client.get(back.replace("&amp;", "&"))
    assert response.headers["Location"] == f"/demandes/{request.number}"
    return request.number, reference


def test_with_htmx_payer_answers_the_handoff_form_itself_in_one_round_trip(client, db):
    sign_in(client, "alfred.depot")
    request = recorded_request()
    ordering.check_delivery(request)
    response = post_form(
        client,
        "/demande/paiement",
        {"action": "payer"},
        headers={"HX-Request": "true", "HX-Target": "main#main", "HX-Source": "form"},
    )
    assert response.status_code == 200  # no redirect, then a whole page
    assert response.headers["HX-Push-Url"] == "/demande/paiement/envoi"
    # This answer alone tells the page to send the form (static/js/site.js).
    assert response.headers["HX-Trigger"] == "send-to-provider"
    assert "<html" not in response.text  # the part htmx swaps in
    action, fields = handoff_form(response.text)
    assert action == "http://localhost/paiement-securise"
    # The same sealed order as the page the redirect leads to without htmx.
    again = client.get("/demande/paiement/envoi", headers={"HX-Request": "true"})
    assert handoff_form(again.text) == (action, fields)
    assert "HX-Trigger" not in again.headers
    assert payments.latest_payment(request).state == payments.PENDING


FILE_LINK = re.compile(r'<a [^>]*href="[^"]*\.(?:pdf|csv)(?:\?[^"]*)?"[^>]*>')


@pytest.mark.parametrize("htmx", [False, True])
def test_every_link_to_a_file_is_left_to_the_browser(client, db, htmx):
    # A boosted link's answer is swapped into the page as text: a PDF must be opened
    # by the browser itself, so that it shows or saves it.
    sign_in(client, "alfred.depot")
    number, _ = pay_through_the_app(client)
    headers = {"HX-Request": "true", "HX-Target": "main#main", "HX-Source": "form"} if htmx else {}
    pages = [f"/demandes/{number}", f"/demandes/{number}/attestation", "/mes-donnees"]
    links = []
    for address in pages:
        links += FILE_LINK.findall(client.get(address, headers=headers).text)
    engagement = client.get("/demande/engagement", headers=headers).text
    links += FILE_LINK.findall(engagement)
    assert len(links) >= 4  # summary, attestation page, Mes données, the terms
    for link in links:
        assert ' data-hx-boost="false"' in link or " download" in link, link


@pytest.mark.parametrize("root", ["", "/cmi"])
def test_a_file_asked_for_by_htmx_is_opened_by_the_browser_instead(client, db, root):
    sign_in(client, "alfred.depot")
    number, _ = pay_through_the_app(client)
    response = client.get(
        f"/demandes/{number}/attestation.pdf?x=1",
        headers={"HX-Request": "true", "HX-Target": "main#main", "HX-Source": "form"},
        environ_overrides={"SCRIPT_NAME": root},
    )
    assert response.status_code == 204 and not response.data
    assert response.headers["HX-Redirect"] == f"{root}/demandes/{number}/attestation.pdf?x=1"
    # Without htmx, the file itself.
    assert client.get(f"/demandes/{number}/attestation.pdf").mimetype == "application/pdf"
    # A file the browser may keep is kept apart from htmx's answer for the same
    # address, which must reach the server to be told to open it.
    terms = client.get("/documents/conditions-generales.pdf")
    assert "max-age" in terms.headers["Cache-Control"]
    assert "HX-Request" in terms.headers["Vary"]


def test_the_attestation_pdf_says_who_what_and_until_when(client, db):
    sign_in(client, "alfred.depot")
    number, _ = pay_through_the_app(client)
    response = client.get(f"/demandes/{number}/attestation.pdf")
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == (
        f'inline; filename="attestation-demande-{number}.pdf"'
    )
    reader = PdfReader(io.BytesIO(response.data))
    assert len(reader.pages) == 1
    assert reader.metadata.title == f"Attestation de demande n° {number}"
    assert reader.trailer["/Root"]["/Lang"] == "fr-FR"
    text = " ".join(reader.pages[0].extract_text().split())  # lines joined
    for expected in [
        "Je soussigné(e) Alfred DEPOT, né(e) le 16/09/1977 et demeurant App 22, "
        "Résidence des Tilleuls, 25 route de la Libertine, Hameau, 59000 LILLE, France",
        "Attestation de demande",
        "Valable pour une durée de 3 mois, jusqu'au 22/02/2027 inclus",
        f"Demande n° {number}",
        # Both options say whether their box is ticked (an empty box reads as nothing).
        "Case cochée : Duplicata de ma carte mobilité inclusion Invalidité (besoin "
        "d'accompagnement)",
        "Case non cochée : Second exemplaire de ma carte mobilité inclusion Invalidité",
        "Pour faire valoir ce que de droit,",
        "Le 22 novembre 2026",
    ]:
        assert expected in text, expected
    assert "M/Mme" not in text


def test_the_confirmation_email_is_sent_once_with_what_was_ordered(client, db):
    sign_in(client, "alfred.depot")
    number, _ = pay_through_the_app(client)
    emails = [e for e in OutboxEmail.select() if str(number) in e.subject]
    assert len(emails) == 1
    email = emails[0]
    assert email.recipient == "alfred.depot@example.org"
    for expected in [
        f"n° {number}",
        "0000 0000 0000 0001",
        "Carte perdue",
        "9,02",
        f"http://localhost/demandes/{number}/attestation",
        "révoquée",
    ]:
        assert expected in email.text, expected
    # One line per card, and a blank line between the parts of the message.
    assert re.search(r"^- .*0000 0000 0000 0001, .*\(motif : Carte perdue\)$", email.text, re.M)
    for part in ["Montant payé : 9,02", "La carte d'origine a été révoquée", "Votre attestation"]:
        assert f"\n\n{part}" in email.text, part
    assert email.html and '<html lang="fr">' in email.html


def test_another_account_gets_404_for_documents_and_receipt(app, db):
    owner = app.test_client()
    sign_in(owner, "alfred.depot")
    number, reference = pay_through_the_app(owner)
    assert owner.get(f"/paiement-securise/{reference}/recu").status_code == 200
    other = app.test_client()
    sign_in(other, "joseph.quinn")
    for url in [
        f"/demandes/{number}",
        f"/demandes/{number}/attestation",
        f"/demandes/{number}/attestation.pdf",
        f"/paiement-securise/{reference}/recu",
        f"/paiement-securise/{reference}/resultat",
    ]:
        assert other.get(url).status_code == 404, url
    anonymous = app.test_client()
    assert anonymous.get(f"/demandes/{number}/attestation.pdf").status_code == 303


def test_the_terms_pdf_is_real_text_with_a_title_and_language(client):
    response = client.get("/documents/conditions-generales.pdf")
    reader = PdfReader(io.BytesIO(response.data))
    assert reader.metadata.title == "Conditions Générales d'Utilisation et de Délivrance"
    assert reader.trailer["/Root"]["/Lang"] == "fr-FR"
    text = " ".join(" ".join(page.extract_text() for page in reader.pages).split())
    assert "révoquée à la date de la demande" in text
    label = f"(PDF, {max(1, round(len(response.data) / 1024))} Ko)"
    assert label in client.get("/documents/conditions-generales").text


def test_a_name_with_any_latin_letter_prints_as_written(app):
    from models.attestation import Attestation, Declaration
    from views.shared.documents import attestation_pdf

    name = "Ștefan Łukasz Ørsted Ñúñez POPESCU"
    attestation = Attestation(
        organisation=["CMI"],
        dated="Le 1er décembre 2026",
        title="Attestation de demande",
        validity="",
        declarations=[Declaration(f"Je soussigné(e) {name}", True, "Duplicata", "Second")],
        closing="",
        reference="1",
        paid="",
    )
    with app.test_request_context("/"):
        content = attestation_pdf(attestation)
    text = PdfReader(io.BytesIO(content)).pages[0].extract_text()
    assert f"Je soussigné(e) {name}" in text


def test_two_cards_of_one_person_read_in_the_plural_on_the_attestation(db):
    from models.attestation import attestation_for

    request = recorded_request(
        selection={"0000000000000001": "Titre perdu", "0000000000000002": "Titre volé"}
    )
    payment = payments.start_payment(request, payments.amount_due(request))
    assert apply(*provider_answer(payment)).newly_paid
    request = card_requests.CardRequest.get_by_id(request.id)
    (declaration,) = attestation_for(request, "Imprimerie Nationale", []).declarations
    assert declaration.duplicate_label == (
        "Duplicata de mes cartes mobilité inclusion "
        "Invalidité (besoin d'accompagnement) et Stationnement"
    )


def test_a_cancelled_payment_is_not_called_refused_by_the_bank(client, db):
    sign_in(client, "alfred.depot")
    ordering.check_delivery(recorded_request())
    post_form(client, "/demande/paiement", {"action": "payer"})
    action, fields = handoff_form(client.get("/demande/paiement/envoi").text)
    page = client.post(action, data=fields)
    reference = re.search(r'action="/paiement-securise/(\d+)"', page.text).group(1)
    client.post(
        f"/paiement-securise/{reference}",
        data={"csrf_token": csrf_token(page.text), "action": "annuler"},
    )
    result = client.get(f"/paiement-securise/{reference}/resultat")
    assert '<h1 tabindex="-1" aria-describedby="step-count">Paiement annulé</h1>' in result.text
    assert "Vous avez annulé le paiement." in result.text
    assert "refusé" not in result.text


def test_the_payment_page_says_which_sum_will_be_refunded(client, db):
    sign_in(client, "alfred.depot")
    request = recorded_request()
    ordering.check_delivery(request)
    first = payments.start_payment(request, payments.amount_due(request))
    request = deliver_to(request, "Belgique", "1000")
    payments.start_payment(request, payments.amount_due(request))
    apply(*provider_answer(first))
    page = client.get("/demande/paiement").text
    assert f"Le paiement de 9,02\u00a0€ (transaction {first.transaction_reference})" in page
    assert "son montant avait changé depuis. Il vous sera remboursé" in page
    assert "Montant à payer : <strong>10,32\u00a0€</strong>" in page


def test_a_new_price_is_read_everywhere_the_price_is_stated(client, db, monkeypatch):
    """Change the rule in ``models.pricing`` only: every text that states it follows."""
    from models import pricing

    monkeypatch.setattr(pricing, "PRICE_PER_CARD", 800)
    monkeypatch.setitem(pricing.POSTAGE_TARIFFS, "France", 60)
    per_card = 800 + 160 + 60
    terms = client.get("/documents/conditions-generales").text
    assert f"Le prix est de {euros(800)} par carte" in terms
    assert f"({euros(60)} pour un envoi en France), soit {euros(per_card)} par carte" in terms
    pdf = PdfReader(io.BytesIO(client.get("/documents/conditions-generales.pdf").data))
    pdf_text = " ".join(page.extract_text() for page in pdf.pages).replace("\n", " ")
    assert "Le prix est de 8,00" in pdf_text and "soit 10,20" in pdf_text
    assert euros(per_card) in client.get("/").text

    sign_in(client, "alfred.depot")
    assert euros(per_card) in client.get("/demande/engagement").text
    request = recorded_request()
    ordering.check_delivery(request)
    payment_page = client.get("/demande/paiement").text
    assert f"Payer {euros(per_card)}" in payment_page
    assert euros(902) not in payment_page

    number, _ = pay_through_the_app(client, request)
    attestation = PdfReader(io.BytesIO(client.get(f"/demandes/{number}/attestation.pdf").data))
    assert "Montant payé : 10,20" in attestation.pages[0].extract_text()
    email = OutboxEmail.get(OutboxEmail.subject.contains(str(number)))
    assert "Montant payé : 10,20" in email.text
