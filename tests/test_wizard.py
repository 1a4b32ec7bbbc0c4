"""The request wizard through the Flask test client: guard, answers, errors, tables, htmx.

Pages are read the way a user meets them: controls are found by their label,
buttons and links by their text, and forms are sent with every value the
browser would send (hidden fields, ticked boxes, chosen options).
"""

from __future__ import annotations

import json
from datetime import date

import pytest

from models.cards import Card
from models.people import Account, Beneficiary, Mandate
from models.requests import CardRequest, Counter, RequestLine

from .helpers import (
    QueryLog,
    assert_shown_again_with_errors,
    csrf_token,
    post_form,
    sign_in,
)
from .pages import Page, submit

TODAY = date(2026, 11, 22)
HTMX = {"HX-Request": "true", "HX-Target": "main#main", "HX-Source": "form"}

DUPLICATA = "Duplicata"
SECOND_COPY = "Second exemplaire"
ACCEPT_TERMS = "J'accepte les Conditions Générales d'Utilisation et de Délivrance"
HONOUR = "Je déclare sur l'honneur que les informations fournies ci-dessus sont exactes."
REMEMBER = (
    "Enregistrer aussi cette adresse comme adresse de livraison pour mes prochaines "
    "demandes (facultatif)"
)

# The messages: each names what its control says (product.md, wording rules), the
# source's messages being only where they start from.
TERMS_REFUSED = (
    "Vous devez accepter les conditions générales d'utilisation et de délivrance : "
    "cochez la case pour continuer."
)
MISSING_REASON = (
    "choisissez dans la colonne « Motif » pourquoi vous la remplacez : perdue, volée, ou "
    "détruite ou détériorée"
)
NO_HONOUR = (
    "Vous devez déclarer sur l'honneur que les informations fournies sont exactes : "
    "cochez la case pour continuer."
)
NO_HONOUR_SECOND_COPY = NO_HONOUR
# And the ones product.md leaves to the service ("nothing selected: say so").
NOTHING_SELECTED = (
    "Sélectionnez au moins une carte en cochant sa case dans la colonne « Sélection »"
)
REASON_WITHOUT_CARD = (
    "vous avez choisi un motif sans cocher la carte. Cochez-la pour demander son "
    "duplicata, ou choisissez « Pas de duplicata pour cette carte »"
)
UNKNOWN_REASON = "choisissez un des trois motifs proposés dans la colonne « Motif »"
NO_KIND = "Choisissez le type de demande : duplicata ou second exemplaire"
CONFLICT = "Une des cartes choisies ne peut plus faire l'objet de cette demande"
WARNING = (
    "Attention : une fois la demande de duplicata validée, la carte initiale sera "
    "révoquée et ne pourra plus être utilisée."
)
DUPLICATE_EXPLANATION = (
    "Une nouvelle carte, après une perte, un vol ou une destruction. Elle donne les mêmes "
    "droits, pour la même durée, que la carte qu'elle remplace. La carte remplacée est "
    "annulée dès que vous validez la demande : elle ne pourra plus être utilisée."
)


# -- walking the wizard ------------------------------------------------------------------


def spaced(number: str) -> str:
    full = number.rjust(16, "0")
    return " ".join(full[i : i + 4] for i in range(0, 16, 4))


def select_label(number: str) -> str:
    return f"Sélectionner la carte n° {spaced(number)}"


def reason_label(number: str) -> str:
    return f"Motif pour la carte n° {spaced(number)}"


def accept_terms(client):
    response = submit(client, "/demande/engagement", "Suivant", {ACCEPT_TERMS: True})
    assert response.status_code == 303, Page(response.text).error_summary()
    assert response.headers["Location"] == "/demande/choix"


def choose(client, kind: str):
    response = submit(client, "/demande/choix", "Suivant", {kind: True})
    assert response.status_code == 303, Page(response.text).error_summary()
    assert response.headers["Location"] == "/demande/selection"


def start(client, username: str = "alfred.depot", kind: str = DUPLICATA):
    """Signed in, terms accepted, kind chosen: on the selection page."""
    sign_in(client, username)
    accept_terms(client)
    choose(client, kind)


def select(client, cards: dict[str, str | None], honour=True, button="Valider", **kwargs):
    """Tick ``cards`` ({"1": "Titre perdu"}: reason or None) on the selection page."""
    fields: dict[str, str | bool] = {}
    for number, reason in cards.items():
        fields[select_label(number)] = True
        if reason:
            fields[reason_label(number)] = reason
    fields[HONOUR] = honour
    return submit(client, "/demande/selection", button, fields, **kwargs)


def to_confirmation(client, username="alfred.depot", kind=DUPLICATA, cards=None):
    start(client, username, kind)
    response = select(client, cards or {"1": "Titre perdu"})
    assert response.status_code == 303, Page(response.text).error_summary()
    assert response.headers["Location"] == "/demande/confirmation"


def confirm(client, **kwargs):
    return submit(client, "/demande/confirmation", "Oui", **kwargs)


def to_delivery(client, username="alfred.depot", kind=DUPLICATA, cards=None):
    to_confirmation(client, username, kind, cards)
    response = confirm(client)
    assert response.status_code == 303
    assert response.headers["Location"] == "/demande/livraison"


def resume(client) -> str:
    response = client.get("/demande")
    assert response.status_code == 303
    return response.headers["Location"]


# -- the database, read back -------------------------------------------------------------


def card(number: str) -> Card:
    return Card.get(Card.number == number.rjust(16, "0"))


def request_of(username: str) -> CardRequest | None:
    return (
        CardRequest.select()
        .join(Account)
        .where(Account.username == username)
        .order_by(CardRequest.id.desc())
        .first()
    )


def beneficiary(number: int) -> Beneficiary:
    return Beneficiary.get(Beneficiary.number == number)


# -- the guard ---------------------------------------------------------------------------


def test_the_wizard_needs_a_signed_in_user(client):
    response = client.get("/demande/choix")
    assert response.status_code == 303
    assert response.headers["Location"] == "/connexion?next=/demande/choix"


@pytest.mark.parametrize(
    "url",
    [
        "/demande/selection",
        "/demande/confirmation",
        "/demande/livraison",
        "/demande/livraison/modifiee",
        "/demande/paiement",
    ],
)
def test_a_later_step_typed_in_leads_to_the_first_step_not_done(client, url):
    sign_in(client, "alfred.depot")
    accept_terms(client)
    response = client.get(url)
    assert response.status_code == 303
    assert response.headers["Location"] == "/demande/choix"


@pytest.mark.parametrize(
    "url", ["/demande/confirmation", "/demande/livraison", "/demande/paiement"]
)
def test_no_step_after_the_selection_opens_before_the_cards_are_confirmed(client, url):
    start(client)
    response = client.get(url)
    assert response.status_code == 303
    assert response.headers["Location"] == "/demande/selection"


def test_payment_waits_for_the_delivery_address_to_be_checked(client):
    to_delivery(client)
    response = client.get("/demande/paiement")
    assert response.status_code == 303
    assert response.headers["Location"] == "/demande/livraison"


def test_without_a_request_a_later_step_starts_one_at_the_engagement(client, db):
    sign_in(client, "alfred.depot")
    response = client.get("/demande/paiement")
    assert response.status_code == 303
    assert response.headers["Location"] == "/demande"
    assert resume(client) == "/demande/engagement"
    assert request_of("alfred.depot").state == "brouillon"


def test_demande_resumes_at_the_first_missing_step(client):
    sign_in(client, "alfred.depot")
    assert resume(client) == "/demande/engagement"
    accept_terms(client)
    assert resume(client) == "/demande/choix"
    choose(client, DUPLICATA)
    assert resume(client) == "/demande/selection"
    select(client, {"1": "Titre perdu"})
    # The confirmation belongs to the selection step: not done until « Oui ».
    assert resume(client) == "/demande/selection"
    confirm(client)
    assert resume(client) == "/demande/livraison"
    submit(client, "/demande/livraison", "Valider", {"Oui": True})
    assert resume(client) == "/demande/paiement"


def test_the_step_indicator_marks_the_current_step(client):
    start(client)
    page = Page(client.get("/demande/selection").text)
    current = page.root.find("li", aria_current="step")
    assert current.text == "Choix de la demande"
    # The step line names the page as its title does, and is heard once: as the
    # description of the heading (where focus lands), not as a paragraph besides.
    line = page.root.find(id="step-count")
    assert line.text == "Étape 2 sur 5 : Sélection des cartes"
    assert page.title.startswith(line.text + " - ")
    assert line.attrs.get("aria-hidden") == "true"
    assert page.root.find("h1").attrs["aria-describedby"] == "step-count"


# -- « Précédent » keeps the answers -----------------------------------------------------


def test_precedent_on_the_choice_keeps_the_kind(client, db):
    sign_in(client, "alfred.depot")
    accept_terms(client)
    response = submit(client, "/demande/choix", "Précédent", {SECOND_COPY: True})
    assert response.status_code == 303
    assert response.headers["Location"] == "/demande/engagement"
    assert request_of("alfred.depot").kind == "second_exemplaire"
    # Coming back (« Suivant », a link, a reload): the answer is still checked.
    choice = Page(client.get("/demande/choix").text)
    assert choice.control(SECOND_COPY).checked
    assert not choice.control(DUPLICATA).checked


def test_coming_back_to_the_engagement_shows_the_terms_accepted(client):
    sign_in(client, "alfred.depot")
    accept_terms(client)
    submit(client, "/demande/choix", "Précédent")
    assert Page(client.get("/demande/engagement").text).control(ACCEPT_TERMS).checked


def test_htmx_precedent_on_the_choice_shows_the_terms_accepted(client):
    sign_in(client, "alfred.depot")
    accept_terms(client)
    response = submit(client, "/demande/choix", "Précédent", {DUPLICATA: True}, headers=HTMX)
    page = assert_fragment(response, 200, "Engagement")
    assert response.headers["HX-Push-Url"] == "/demande/engagement"
    assert page.control(ACCEPT_TERMS).checked


def test_precedent_on_the_selection_saves_it_for_when_the_user_comes_back(client):
    start(client)
    response = select(client, {"2": "Titre volé"}, button="Précédent")
    assert response.status_code == 303
    assert response.headers["Location"] == "/demande/choix"
    choose(client, DUPLICATA)
    page = Page(client.get("/demande/selection").text)
    assert page.control(select_label("2")).checked
    assert page.control(reason_label("2")).selected == "Titre volé"
    assert not page.control(select_label("1")).checked
    assert page.control(reason_label("1")).selected == ""
    assert page.control(HONOUR).checked


def test_choosing_the_other_kind_starts_a_new_selection(client):
    start(client)
    select(client, {"2": "Titre volé"}, button="Précédent")
    choose(client, SECOND_COPY)
    assert not Page(client.get("/demande/selection").text).control(select_label("2")).checked


def test_precedent_with_an_unfinished_selection_shows_no_error(client, db):
    start(client)
    response = select(client, {"1": None}, honour=False, button="Précédent")
    assert response.status_code == 303
    assert response.headers["Location"] == "/demande/choix"
    assert request_of("alfred.depot").selection == {"0000000000000001": ""}


# -- error messages ----------------------------------------------------------------------


def assert_error_page(response, message: str, label: str | None = None):
    """Shown again by GET, « Erreur : » in the title, the message in the summary and beside
    its field."""
    assert_shown_again_with_errors(response)
    page = Page(response.text)
    assert page.title.startswith("Erreur : ")
    assert message in page.error_summary()
    for target in page.error_targets():
        assert page.root.find(id=target.removeprefix("#")) is not None, target
    if label is not None:
        assert page.field_error(label) == message
        control = page.control(label)
        # A radio group's fieldset points at it.
        if control.attrs.get("type") != "radio" and control.tag != "fieldset":
            assert control.attrs.get("aria-invalid") == "true"
    return page


def test_engagement_without_the_terms_says_they_must_be_accepted(client, db):
    sign_in(client, "alfred.depot")
    response = submit(client, "/demande/engagement", "Suivant")
    page = assert_error_page(response, TERMS_REFUSED, ACCEPT_TERMS)
    assert not page.control(ACCEPT_TERMS).checked
    assert request_of("alfred.depot").terms_accepted_at is None


def test_choice_without_an_answer_asks_for_one(client, db):
    sign_in(client, "alfred.depot")
    accept_terms(client)
    response = submit(client, "/demande/choix", "Suivant")
    assert_error_page(response, NO_KIND)
    assert request_of("alfred.depot").kind is None


def test_the_choice_page_explains_both_kinds_without_javascript(client):
    sign_in(client, "alfred.depot")
    accept_terms(client)
    page = Page(client.get("/demande/choix").text)
    assert page.h1 == "Quelle demande voulez-vous faire ?"
    explanation = page.control(DUPLICATA).attrs["aria-describedby"]
    assert page.root.find(id=explanation).text == DUPLICATE_EXPLANATION


def test_selection_with_nothing_ticked_says_so_and_keeps_the_declaration(client):
    start(client)
    response = select(client, {}, honour=True)
    page = assert_error_page(response, NOTHING_SELECTED, select_label("1"))
    assert page.control(HONOUR).checked


def test_selection_of_a_card_without_a_reason_asks_for_one(client, db):
    start(client)
    response = select(client, {"1": None})
    message = f"Carte n° 0000 0000 0000 0001 : {MISSING_REASON}"
    page = assert_error_page(response, message, reason_label("1"))
    assert page.control(select_label("1")).checked
    assert page.control(HONOUR).checked
    assert request_of("alfred.depot").selection == {}


def test_one_card_tables_name_the_card_too(client):
    start(client, "joseph.quinn")
    response = select(client, {"30": None})
    assert_error_page(
        response, f"Carte n° 0000 0000 0000 0030 : {MISSING_REASON}", reason_label("30")
    )


def test_selection_without_the_honour_declaration_asks_for_it(client):
    start(client)
    response = select(client, {"1": "Titre détruit ou détérioré"}, honour=False)
    page = assert_error_page(response, NO_HONOUR, HONOUR)
    assert page.control(select_label("1")).checked
    assert page.control(reason_label("1")).selected == "Titre détruit ou détérioré"


def test_a_reason_without_its_checkbox_points_at_the_checkbox(client):
    start(client)
    response = submit(
        client,
        "/demande/selection",
        "Valider",
        {reason_label("2"): "Titre volé", HONOUR: True},
    )
    message = f"Carte n° 0000 0000 0000 0002 : {REASON_WITHOUT_CARD}"
    page = assert_error_page(response, message, select_label("2"))
    assert page.control(reason_label("2")).selected == "Titre volé"
    assert not page.control(select_label("2")).checked


def test_several_mistakes_are_all_listed_in_the_order_of_the_page(client):
    start(client, "camille.martin")
    response = submit(
        client,
        "/demande/selection",
        "Valider",
        {select_label("40"): True, reason_label("42"): "Titre perdu"},
    )
    assert_shown_again_with_errors(response)
    assert Page(response.text).error_summary() == [
        f"Carte n° 0000 0000 0000 0040 : {MISSING_REASON}",
        f"Carte n° 0000 0000 0000 0042 : {REASON_WITHOUT_CARD}",
        NO_HONOUR,
    ]


def test_second_copy_without_the_honour_declaration_asks_for_it(client):
    start(client, kind=SECOND_COPY)
    response = select(client, {"2": None}, honour=False)
    page = assert_error_page(response, NO_HONOUR_SECOND_COPY, HONOUR)
    assert page.control(select_label("2")).checked


def test_a_failed_selection_changes_nothing(client, db):
    start(client)
    select(client, {"1": "Titre perdu"}, honour=False)
    assert card("1").revoked_on is None
    assert RequestLine.select().count() == 0
    assert request_of("alfred.depot").state == "brouillon"


# -- the selection table of each persona -------------------------------------------------


@pytest.mark.parametrize(
    ("username", "kind", "numbers"),
    [
        ("alfred.depot", DUPLICATA, ["1", "2"]),
        ("alfred.depot", SECOND_COPY, ["2"]),
        ("camille.martin", DUPLICATA, ["40", "41", "42"]),
        ("camille.martin", SECOND_COPY, ["40"]),
        ("navette.pmr", DUPLICATA, ["50"]),
        ("joseph.quinn", DUPLICATA, ["30"]),
        ("joseph.quinn", SECOND_COPY, ["30"]),
    ],
)
def test_each_persona_sees_the_cards_they_may_order(client, username, kind, numbers):
    start(client, username, kind)
    page = Page(client.get("/demande/selection").text)
    assert page.column("Numéro de carte") == [spaced(n) for n in numbers]
    ticks = [label for label in page.labels() if label.startswith("Sélectionner la carte n°")]
    assert ticks == [select_label(n) for n in numbers]
    reasons = [label for label in page.labels() if label.startswith("Motif pour la carte n°")]
    assert reasons == ([reason_label(n) for n in numbers] if kind == DUPLICATA else [])
    assert ("Motif" in [th.text for th in page.root.find_all("th")]) == (kind == DUPLICATA)


def test_camille_sees_each_child_and_the_revoked_card(client):
    start(client, "camille.martin")
    page = Page(client.get("/demande/selection").text)
    assert page.column("Prénom") == ["Léo", "Léo", "Inès"]
    assert page.column("Date de naissance") == ["03/05/2014", "03/05/2014", "12/11/2017"]
    assert page.column("Type de carte") == [
        "Stationnement",
        "Invalidité (cécité)",
        "Invalidité Révoquée le 02/03/2026",
    ]
    assert page.column("Date de fin de validité") == ["31/12/2030", "31/12/2030", "31/12/2031"]


def test_a_permanent_card_says_so_in_the_end_date_column(client):
    start(client, "joseph.quinn")
    page = Page(client.get("/demande/selection").text)
    assert page.column("Date de fin de validité") == ["À titre définitif"]


def test_a_legal_person_is_told_why_no_second_copy_is_possible(client):
    start(client, "navette.pmr", SECOND_COPY)
    response = client.get("/demande/selection")
    assert response.status_code == 200
    page = Page(response.text)
    assert (
        "Le second exemplaire concerne uniquement les cartes mobilité inclusion stationnement "
        "destinées aux personnes physiques. Une personne morale peut en revanche commander un "
        "duplicata" in page.text
    )
    assert page.root.find("table") is None
    assert page.link("Précédent") == "/demande/choix"


@pytest.mark.parametrize("kind", [DUPLICATA, SECOND_COPY])
def test_an_old_format_card_holder_is_sent_to_the_mdph(client, kind):
    start(client, "marie.durand", kind)
    page = Page(client.get("/demande/selection").text)
    assert "Ce service ne concerne que les cartes mobilité inclusion (CMI)" in page.text
    assert (
        "demandez dès maintenant une carte mobilité inclusion à la maison départementale"
        in page.text
    )
    assert page.root.find("table") is None


def test_each_row_control_names_its_card(client):
    start(client)
    page = Page(client.get("/demande/selection").text)
    reason = page.control("Motif pour la carte n° 0000 0000 0000 0001")
    # Radios, not a list: each reason shows whole at every width and text size.
    assert reason.tag == "fieldset"
    radios = reason.find_all("input", type="radio")
    assert [page.label_of(radio) for radio in radios] == [
        "Carte perdue",
        "Carte volée",
        "Carte détruite ou détériorée",
        "Pas de duplicata pour cette carte",
    ]
    assert [r.checked for r in radios] == [False, False, False, True]
    assert all(" " not in r.attrs["id"] for r in radios)
    tick = page.control("Sélectionner la carte n° 0000 0000 0000 0001")
    assert (tick.tag, tick.attrs["type"]) == ("input", "checkbox")
    # The control of a row is the one of that row's card.
    row = tick.ancestor("tr")
    assert row.find("td", data_label="Numéro de carte").text == "0000 0000 0000 0001"
    assert reason.ancestor("tr") is row


# -- confirmation and « Oui » ------------------------------------------------------------


def test_the_confirmation_asks_before_revoking_and_revokes_nothing_yet(client, db):
    to_confirmation(client)
    response = client.get("/demande/confirmation")
    assert response.status_code == 200
    page = Page(response.text)
    assert page.h1 == "Validation de la demande de duplicata"
    assert "Êtes-vous sûr(e) de vouloir lancer la demande de duplicata ?" in page.text
    assert WARNING in page.text
    assert "Carte n° 0000 0000 0000 0001, Invalidité (besoin d'accompagnement), " in page.text
    assert "Alfred DEPOT : Carte perdue" in page.text
    page.button("Oui")
    assert page.link("Non") == "/demande/selection"
    assert page.title.startswith("Étape 2 sur 5 : Validation de la demande")
    assert card("1").revoked_on is None
    assert RequestLine.select().count() == 0


def test_non_goes_back_to_the_selection_with_the_answers(client):
    to_confirmation(client)
    page = Page(client.get("/demande/selection").text)
    assert page.control(select_label("1")).checked
    assert page.control(reason_label("1")).selected == "Titre perdu"
    assert page.control(HONOUR).checked


def test_the_second_copy_confirmation_has_no_revocation_warning(client):
    to_confirmation(client, "camille.martin", SECOND_COPY, {"40": None})
    page = Page(client.get("/demande/confirmation").text)
    assert page.h1 == "Validation de la demande de second exemplaire"
    assert "Êtes-vous sûr(e) de vouloir lancer la demande de second exemplaire ?" in page.text
    assert "ATTENTION" not in page.text
    assert "Carte n° 0000 0000 0000 0040, Stationnement, Léo MARTIN" in page.text


def test_oui_revokes_the_selected_card_today_and_numbers_the_request(client, db):
    to_confirmation(client)
    response = confirm(client)
    assert response.status_code == 303
    assert response.headers["Location"] == "/demande/livraison"
    revoked = card("1")
    assert (revoked.revoked_on, revoked.revocation_reason) == (TODAY, "Titre perdu")
    assert card("2").revoked_on is None
    recorded = request_of("alfred.depot")
    assert (recorded.state, recorded.number) == ("enregistrée", 10000)
    lines = recorded.lines_with_cards()
    assert [(line.card.number, line.kind, line.reason) for line in lines] == [
        ("0000000000000001", "duplicata", "Titre perdu")
    ]


def test_oui_on_a_second_copy_revokes_nothing(client, db):
    to_confirmation(client, "camille.martin", SECOND_COPY, {"40": None})
    assert confirm(client).headers["Location"] == "/demande/livraison"
    assert card("40").revoked_on is None
    recorded = request_of("camille.martin")
    assert (recorded.state, recorded.number) == ("enregistrée", 10000)
    assert [(line.card.number, line.kind, line.reason) for line in recorded.lines_with_cards()] == [
        ("0000000000000040", "second_exemplaire", None)
    ]


def test_several_cards_of_two_children_in_one_request(client, db):
    to_confirmation(
        client,
        "camille.martin",
        DUPLICATA,
        {"41": "Titre volé", "42": "Titre détruit ou détérioré"},
    )
    confirm(client)
    assert (card("41").revoked_on, card("41").revocation_reason) == (TODAY, "Titre volé")
    lines = request_of("camille.martin").lines_with_cards()
    assert [(line.card.number, line.reason) for line in lines] == [
        ("0000000000000041", "Titre volé"),
        ("0000000000000042", "Titre détruit ou détérioré"),
    ]


def test_a_card_revoked_earlier_keeps_its_first_revocation(client, db):
    to_confirmation(client, "camille.martin", DUPLICATA, {"42": "Titre volé"})
    confirm(client)
    ines = card("42")
    assert (ines.revoked_on, ines.revocation_reason) == (date(2026, 3, 2), "Titre perdu")


def test_a_second_oui_changes_nothing(client, db):
    to_confirmation(client)
    page = client.get("/demande/confirmation")
    action, data = Page(page.text).form_data("Oui", {})
    first = client.post(action, data=data)
    second = client.post(action, data=data)  # the double click
    assert first.status_code == second.status_code == 303
    assert second.headers["Location"] == "/demande/livraison"
    assert RequestLine.select().count() == 1
    assert CardRequest.select().where(CardRequest.number.is_null(False)).count() == 1
    assert Counter.get_by_id("request").value == 10000
    assert card("1").revoked_on == TODAY


def test_the_next_request_gets_the_next_number(app, db):
    first = app.test_client()
    to_delivery(first)
    second = app.test_client()
    to_delivery(second, "joseph.quinn", DUPLICATA, {"30": "Titre volé"})
    assert request_of("alfred.depot").number == 10000
    assert request_of("joseph.quinn").number == 10001


@pytest.mark.parametrize("url", ["/demande/engagement", "/demande/choix"])
def test_a_recorded_request_can_no_longer_be_edited(client, db, url):
    to_delivery(client)
    response = client.get(url)
    assert response.status_code == 303
    assert response.headers["Location"] == "/demande/selection"
    page = Page(client.get("/demande/selection").text)
    assert page.h1 == "Duplicata : demande validée"
    assert "Votre demande n° 10000 a été validée le 22/11/2026." in page.text
    assert "Elle ne peut plus être modifiée." in page.text
    assert not [label for label in page.labels() if label.startswith("Sélectionner")]
    assert page.link("Suivant") == "/demande/livraison"


def test_posting_old_answers_to_a_recorded_request_changes_nothing(client, db):
    start(client)
    selection_page = client.get("/demande/selection")
    _, stale = Page(selection_page.text).form_data(
        "Valider", {select_label("2"): True, reason_label("2"): "Titre volé", HONOUR: True}
    )
    select(client, {"1": "Titre perdu"})
    confirm(client)
    token = csrf_token(selection_page.text)
    response = client.post("/demande/selection", data=stale)
    assert response.status_code == 200
    assert "Elle ne peut plus être modifiée." in Page(response.text).text
    again = client.post("/demande/choix", data={"csrf_token": token, "kind": "second_exemplaire"})
    assert again.headers["Location"] == "/demande/selection"
    recorded = request_of("alfred.depot")
    assert (recorded.kind, recorded.selection) == ("duplicata", {"0000000000000001": "Titre perdu"})
    assert card("2").revoked_on is None
    assert RequestLine.select().count() == 1


# -- signing out in the middle -----------------------------------------------------------


def test_signing_out_mid_flow_then_in_again_resumes_at_the_same_step(client):
    start(client)
    select(client, {"2": "Titre volé"}, button="Précédent")
    page = client.get("/demande/choix")
    signed_out = client.post("/deconnexion", data={"csrf_token": csrf_token(page.text)})
    assert signed_out.status_code == 303
    assert client.get("/demande/choix").status_code == 303  # signed out indeed
    response = sign_in(client, "alfred.depot")
    assert response.headers["Location"] == "/demande"
    assert resume(client) == "/demande/selection"
    page = Page(client.get("/demande/selection").text)
    assert page.h1 == "Duplicata"
    assert page.control(select_label("2")).checked
    assert page.control(reason_label("2")).selected == "Titre volé"


def test_without_a_request_sign_in_opens_my_data(client):
    assert sign_in(client, "alfred.depot").headers["Location"] == "/mes-donnees"


# -- Livraison ---------------------------------------------------------------------------

NEW_ADDRESS = {
    "Nom": "Alfred DEPOT",
    "N° Appartement ou boîte aux lettres, étage, couloir, escalier (facultatif)": "",
    "Entrée, bâtiment, immeuble, résidence (facultatif)": "",
    "Numéro, libellé de la voie (RUE, AVENUE, ...)": "3  rue   des Arts",
    "Boîte postale, lieu-dit (facultatif)": "",
    "Code postal": "59 800",
    "Ville": "LILLE",
    "Pays": "france",
}
ADDRESS_LABELS = [
    "Nom",
    "N° Appartement ou boîte aux lettres, étage, couloir, escalier (facultatif)",
    "Entrée, bâtiment, immeuble, résidence (facultatif)",
    "Numéro, libellé de la voie (RUE, AVENUE, ...)",
    "Boîte postale, lieu-dit (facultatif)",
    "Code postal",
    "Ville",
    "Pays",
]


def open_address_fields(client):
    response = submit(client, "/demande/livraison", "Valider", {"Non": True})
    assert response.status_code == 200
    return response


def test_the_delivery_page_shows_both_addresses_and_asks(client):
    to_delivery(client)
    page = Page(client.get("/demande/livraison").text)
    assert page.h1 == "Adresse de livraison"
    assert "Vérifiez l'adresse où nous enverrons la carte mobilité inclusion." in page.text
    # The question is a question, its legend a whole sentence.
    assert page.root.find("legend").text == "L'adresse de livraison est-elle correcte ?"
    terms = [dt.text for dt in page.root.find_all("dt")]
    assert terms == ["Adresse", "Adresse de livraison"]
    assert page.control("Oui").attrs["type"] == page.control("Non").attrs["type"] == "radio"
    assert not page.has_label("Code postal")  # the fields stay closed until « Non »


def test_delivery_oui_goes_to_payment(client, db):
    to_delivery(client)
    response = submit(client, "/demande/livraison", "Valider", {"Oui": True})
    assert response.status_code == 303
    assert response.headers["Location"] == "/demande/paiement"
    assert request_of("alfred.depot").delivery_checked_at is not None
    payment = Page(client.get("/demande/paiement").text)
    assert "Montant à payer : 9,02\u00a0€" in payment.text


def test_delivery_without_an_answer_asks_for_one(client):
    to_delivery(client)
    response = submit(client, "/demande/livraison", "Valider")
    assert_error_page(
        response, "Indiquez si l'adresse de livraison est correcte : oui ou non", "Oui"
    )


def test_delivery_non_without_javascript_opens_the_prefilled_fields_in_postal_order(client):
    to_delivery(client)
    page = Page(open_address_fields(client).text)
    assert [label for label in page.labels() if label in ADDRESS_LABELS] == ADDRESS_LABELS
    assert page.control("Nom").attrs["value"] == "Alfred DEPOT"
    assert page.control(ADDRESS_LABELS[1]).attrs["value"] == "App 22"
    assert page.control("Code postal").attrs["value"] == "59000"
    assert page.control("Non").checked
    # Each field's help is visible text tied to the field, not a mouse-hover tooltip.
    postcode = page.control("Code postal")
    hint = page.root.find(id=postcode.attrs["aria-describedby"])
    assert hint.text == "5 chiffres pour la France, par exemple 59000"


def test_an_invalid_address_is_refused_with_each_message_and_the_values_kept(client, db):
    to_delivery(client)
    open_address_fields(client)
    response = submit(
        client,
        "/demande/livraison?modifier=1",
        "Valider",
        {
            "Nom": "",
            "Numéro, libellé de la voie (RUE, AVENUE, ...)": "",
            "Boîte postale, lieu-dit (facultatif)": "",
            "Code postal": "5900",
            "Ville": "L" * 39,
        },
    )
    assert_shown_again_with_errors(response)
    page = Page(response.text)
    assert page.title.startswith("Erreur : ")
    # The example is the user's own name, not someone else's.
    assert page.field_error("Nom") == "Saisissez le nom du destinataire, par exemple Alfred DEPOT"
    assert page.field_error("Numéro, libellé de la voie (RUE, AVENUE, ...)").startswith(
        "Saisissez le numéro et le libellé de la voie, ou une boîte postale ou un lieu-dit"
    )
    assert page.field_error("Code postal") == (
        "Le code postal doit comporter 5 chiffres, par exemple 59000"
    )
    assert "au plus 38 caractères (actuellement 39)" in page.field_error("Ville")
    assert len(page.error_summary()) == 4
    assert page.control("Code postal").attrs["value"] == "5900"
    assert page.control("Ville").attrs["value"] == "L" * 39
    assert page.control(ADDRESS_LABELS[1]).attrs["value"] == "App 22"
    assert page.control("Non").checked
    recorded = request_of("alfred.depot")
    assert recorded.delivery_checked_at is None
    assert recorded.delivery_address.postcode == "59000"


def test_a_valid_new_address_is_kept_for_this_request_only(client, db):
    to_delivery(client)
    open_address_fields(client)
    response = submit(client, "/demande/livraison?modifier=1", "Valider", NEW_ADDRESS)
    assert response.status_code == 303
    assert response.headers["Location"] == "/demande/livraison/modifiee"
    changed = Page(client.get("/demande/livraison/modifiee").text)
    assert changed.h1 == "Votre adresse de livraison a été modifiée"
    assert "Alfred DEPOT 3 rue des Arts 59800 LILLE France" in changed.text
    assert changed.link("Continuer vers le paiement") == "/demande/paiement"
    recorded = request_of("alfred.depot")
    assert recorded.delivery_checked_at is not None
    delivery = recorded.delivery_address
    assert (delivery.street, delivery.postcode, delivery.country, delivery.apartment) == (
        "3 rue des Arts",
        "59800",
        "France",
        "",
    )
    alfred = beneficiary(1)
    assert alfred.delivery_address.street == "25 route de la Libertine"
    assert alfred.delivery_address_id != delivery.id
    assert client.get("/demande/paiement").status_code == 200


def test_remembering_the_new_address_changes_the_beneficiary_delivery_address(client, db):
    to_delivery(client)
    open_address_fields(client)
    response = submit(
        client, "/demande/livraison?modifier=1", "Valider", {**NEW_ADDRESS, REMEMBER: True}
    )
    assert response.headers["Location"] == "/demande/livraison/modifiee"
    alfred = beneficiary(1)
    assert alfred.delivery_address.street == "3 rue des Arts"
    assert alfred.address.street == "25 route de la Libertine"  # the postal address stays


def test_an_address_abroad_is_priced_with_its_postage(client):
    to_delivery(client)
    open_address_fields(client)
    abroad = {
        **NEW_ADDRESS,
        "Numéro, libellé de la voie (RUE, AVENUE, ...)": "Rue de la Loi 16",
        "Code postal": "B-1000",
        "Ville": "BRUXELLES",
        "Pays": "Belgique",
    }
    response = submit(client, "/demande/livraison?modifier=1", "Valider", abroad)
    assert response.status_code == 303
    payment = Page(client.get("/demande/paiement").text)
    assert "Montant à payer : 10,32\u00a0€" in payment.text


def test_precedent_on_the_delivery_goes_back_to_the_recorded_selection(client):
    to_delivery(client)
    response = submit(client, "/demande/livraison", "Précédent")
    assert response.status_code == 303
    assert response.headers["Location"] == "/demande/selection"


# -- htmx: one request per step ----------------------------------------------------------


def assert_fragment(response, status: int, title_part: str):
    assert response.status_code == status
    assert response.text.startswith("<title>")
    assert "<html" not in response.text and "<body" not in response.text
    page = Page(response.text)
    assert title_part in page.title
    return page


def test_htmx_engagement_answers_with_the_choice_fragment(client):
    sign_in(client, "alfred.depot")
    response = submit(client, "/demande/engagement", "Suivant", {ACCEPT_TERMS: True}, headers=HTMX)
    page = assert_fragment(response, 200, "Choix de la demande")
    assert response.headers["HX-Push-Url"] == "/demande/choix"
    assert page.h1 == "Quelle demande voulez-vous faire ?"


def test_htmx_errors_answer_422_with_the_fragment(client):
    sign_in(client, "alfred.depot")
    response = submit(client, "/demande/engagement", "Suivant", headers=HTMX)
    page = assert_fragment(response, 422, "Erreur : ")
    assert page.error_summary() == [TERMS_REFUSED]
    assert "HX-Push-Url" not in response.headers


def test_htmx_choice_answers_with_the_selection_fragment(client):
    sign_in(client, "alfred.depot")
    accept_terms(client)
    response = submit(client, "/demande/choix", "Suivant", {DUPLICATA: True}, headers=HTMX)
    page = assert_fragment(response, 200, "Sélection des cartes")
    assert response.headers["HX-Push-Url"] == "/demande/selection"
    assert page.has_label(select_label("1"))


def test_htmx_selection_opens_the_confirmation_dialog_without_recording(client, db):
    start(client)
    response = select(client, {"1": "Titre perdu"}, headers=HTMX)
    assert response.status_code == 200
    # The dialog alone, into its slot out of band: the page behind stays as it is,
    # with the answers as they were given, and its title.
    page = Page(response.text)
    slot = page.root.find(id="dialog-slot")
    assert slot.attrs["data-hx-swap-oob"] == "true"
    assert response.text.startswith('<div id="dialog-slot"')
    assert page.root.find("title") is None and page.root.find("h1") is None
    dialog = slot.find("dialog")
    assert "data-modal" in dialog.attrs
    assert dialog.attrs["aria-labelledby"] == "confirm-title"
    assert "Validation de la demande de duplicata" in dialog.text
    assert WARNING in dialog.text
    assert "0000 0000 0000 0001" in dialog.text and "Carte perdue" in dialog.text
    assert 'action="/demande/confirmation"' in response.text  # « Oui »
    assert card("1").revoked_on is None
    assert request_of("alfred.depot").honour_declared
    # A dialog over the same page: no new entry in the browser's history.
    assert response.headers["HX-Push-Url"] == "false"


def test_a_page_still_running_htmx_2_gets_the_whole_step_with_the_dialog(client, db):
    # htmx 2 would swap <main> with nothing for the dialog alone: a page loaded
    # before htmx 4 (no HX-Source) gets what it got then.
    start(client)
    response = select(
        client, {"1": "Titre perdu"}, headers={"HX-Request": "true", "HX-Target": "main"}
    )
    page = assert_fragment(response, 200, "Sélection des cartes")
    assert page.root.find(id="dialog-slot").find("dialog") is not None
    assert page.control(select_label("1")).checked
    assert response.headers["HX-Push-Url"] == "false"


def test_htmx_selection_after_errors_comes_again_without_them_with_the_dialog(client, db):
    start(client)
    failed = select(client, {"1": None}, headers=HTMX)
    assert failed.status_code == 422
    # The form that shows errors says so, and its answer takes them away.
    action, data = Page(failed.text).form_data("Valider", {reason_label("1"): "Titre perdu"})
    assert data["erreurs-affichees"] == "1"
    response = client.post(action, data=data, headers=HTMX)
    page = assert_fragment(response, 200, "Sélection des cartes")
    assert "Erreur" not in page.title and page.root.find(id="error-summary") is None
    assert "erreurs-affichees" not in response.text
    assert page.root.find(id="dialog-slot").find("dialog") is not None
    assert page.control(select_label("1")).checked  # the page behind keeps the answers
    assert card("1").revoked_on is None


def test_htmx_selection_errors_answer_422_with_the_fragment(client):
    start(client)
    response = select(client, {"1": None}, headers=HTMX)
    page = assert_fragment(response, 422, "Erreur : ")
    assert f"Carte n° 0000 0000 0000 0001 : {MISSING_REASON}" in page.error_summary()
    assert page.root.find("dialog") is None


def test_htmx_oui_answers_with_the_delivery_fragment(client, db):
    to_confirmation(client)
    response = confirm(client, headers=HTMX)
    page = assert_fragment(response, 200, "Livraison")
    assert response.headers["HX-Push-Url"] == "/demande/livraison"
    assert page.h1 == "Adresse de livraison"
    assert card("1").revoked_on == TODAY


def test_htmx_delivery_oui_answers_with_the_payment_fragment(client):
    to_delivery(client)
    response = submit(client, "/demande/livraison", "Valider", {"Oui": True}, headers=HTMX)
    page = assert_fragment(response, 200, "Paiement")
    assert response.headers["HX-Push-Url"] == "/demande/paiement"
    assert "9,02\u00a0€" in page.text


def test_htmx_demande_renders_the_current_step_at_once(client):
    sign_in(client, "alfred.depot")
    accept_terms(client)
    response = client.get("/demande", headers=HTMX)
    assert_fragment(response, 200, "Choix de la demande")
    assert response.headers["HX-Push-Url"] == "/demande/choix"


def test_each_choice_is_described_by_its_explanation_with_or_without_htmx(client):
    """Both explanations are shown, each the description of its option: nothing is
    fetched or announced when an option is chosen (it was read twice)."""
    sign_in(client, "alfred.depot")
    accept_terms(client)
    for headers in ({}, HTMX):
        page = Page(client.get("/demande/choix", headers=headers).text)
        described = page.control(DUPLICATA).attrs["aria-describedby"]
        assert page.root.find(id=described).text == DUPLICATE_EXPLANATION
        other = page.control(SECOND_COPY).attrs["aria-describedby"]
        assert "La première carte reste valable." in page.root.find(id=other).text
        assert not any("data-hx-get" in node.attrs for node in page.root.find_all("input"))


def test_htmx_delivery_non_swaps_in_the_fields_and_announces_it(client):
    to_delivery(client)
    response = client.get("/demande/livraison/adresse?correct=non", headers=HTMX)
    assert response.status_code == 200
    page = Page(response.text)
    assert page.control("Code postal").attrs["value"] == "59000"
    assert json.loads(response.headers["HX-Trigger"]) == {
        "announce": "Adresse de livraison modifiable"
    }


# -- tampered forms: a clear message, never a 500 ---------------------------------------


def test_an_unknown_card_number_is_not_selected(client, db):
    start(client)
    response = post_form(
        client,
        "/demande/selection",
        {
            "action": "valider",
            "select_0000000000000099": "y",
            "reason_0000000000000099": "Titre perdu",
            "honour": "y",
        },
    )
    assert_error_page(response, NOTHING_SELECTED, select_label("1"))
    assert RequestLine.select().count() == 0


def test_another_account_card_cannot_be_slipped_in(client, db):
    start(client)
    response = post_form(
        client,
        "/demande/selection",
        {
            "action": "valider",
            "select_0000000000000001": "y",
            "reason_0000000000000001": "Titre perdu",
            "select_0000000000000030": "y",
            "reason_0000000000000030": "Titre perdu",
            "honour": "y",
        },
    )
    assert response.status_code == 303
    assert request_of("alfred.depot").selection == {"0000000000000001": "Titre perdu"}
    confirm(client)
    assert card("30").revoked_on is None
    assert [line.card.number for line in RequestLine.select()] == ["0000000000000001"]


def test_a_bogus_reason_is_refused(client, db):
    start(client)
    response = post_form(
        client,
        "/demande/selection",
        {
            "action": "valider",
            "select_0000000000000001": "y",
            "reason_0000000000000001": "Titre mangé",
            "honour": "y",
        },
    )
    assert_error_page(
        response, f"Carte n° 0000 0000 0000 0001 : {UNKNOWN_REASON}", reason_label("1")
    )
    assert request_of("alfred.depot").selection == {}


@pytest.mark.parametrize("kind", ["triplicata", "", "duplicata' OR 1=1"])
def test_a_bogus_kind_is_refused(client, db, kind):
    sign_in(client, "alfred.depot")
    accept_terms(client)
    response = post_form(client, "/demande/choix", {"kind": kind, "action": "suivant"})
    assert_error_page(response, NO_KIND)
    assert request_of("alfred.depot").kind is None


def test_a_bogus_kind_with_precedent_is_ignored(client, db):
    sign_in(client, "alfred.depot")
    accept_terms(client)
    response = post_form(client, "/demande/choix", {"kind": "triplicata", "action": "precedent"})
    assert response.status_code == 303
    assert request_of("alfred.depot").kind is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"correct": "peut-être"}, "Indiquez si l'adresse de livraison est correcte"),
        (
            {
                "correct": "non",
                "editing": "1",
                "name": "Alfred\x00DEPOT",
                "street": "1 rue",
                "postcode": "59000",
                "city": "LILLE",
                "country": "France",
            },
            "« Nom » contient un caractère non autorisé",
        ),
    ],
    ids=["bogus answer", "control character"],
)
def test_a_tampered_delivery_form_gets_a_message(client, db, data, message):
    to_delivery(client)
    response = post_form(client, "/demande/livraison", {"action": "valider", **data})
    assert_shown_again_with_errors(response)
    assert any(message in item for item in Page(response.text).error_summary())
    assert request_of("alfred.depot").delivery_checked_at is None


def test_a_long_postcode_abroad_never_breaks_the_page(client, db):
    """Any postcode the form accepts must fit where it is stored (any database)."""
    to_delivery(client)
    response = post_form(
        client,
        "/demande/livraison",
        {
            "action": "valider",
            "correct": "non",
            "editing": "1",
            "name": "Alfred DEPOT",
            "street": "12 avenue Vali-Asr",
            "postcode": "11936-53471",  # Iran: ten digits, written 5-5
            "city": "TÉHÉRAN",
            "country": "Iran",
        },
    )
    if not getattr(response, "shown_again", False):
        assert response.status_code == 303, response.status_code
        assert request_of("alfred.depot").delivery_address.postcode == "11936-53471"
    else:
        assert Page(response.text).field_error("Code postal")


def test_a_selection_page_without_cards_ignores_a_forged_post(client, db):
    start(client, "marie.durand")
    response = post_form(
        client,
        "/demande/selection",
        {"action": "valider", "select_CES-59-2009-004512": "y", "honour": "y"},
    )
    assert response.status_code == 200
    assert "MDPH" in Page(response.text).text
    assert request_of("marie.durand").selection == {}
    assert client.get("/demande/confirmation").headers["Location"] == "/demande/selection"


def give_joseph_a_mandate_on_leo():
    """Léo's other parent: joseph.quinn now acts for Léo MARTIN too."""
    joseph = Account.get(Account.username == "joseph.quinn")
    Mandate.create(account=joseph, beneficiary=beneficiary(40), role=Mandate.LEGAL_REPRESENTATIVE)


def test_a_card_taken_meanwhile_by_another_account_gives_a_clear_409(app, db):
    """Two parents: the second one's « Oui » finds the card already in a request."""
    give_joseph_a_mandate_on_leo()
    other_parent = app.test_client()
    to_confirmation(other_parent, "joseph.quinn", SECOND_COPY, {"40": None})
    camille = app.test_client()
    to_delivery(camille, "camille.martin", SECOND_COPY, {"40": None})
    response = confirm(other_parent)
    assert response.status_code == 409
    page = Page(response.text)
    assert any(CONFLICT in message for message in page.error_summary())
    # Joseph's own card is still offered; Léo's is no longer.
    assert page.column("Numéro de carte") == [spaced("30")]
    assert RequestLine.select().where(RequestLine.card == card("40")).count() == 1
    loser = request_of("joseph.quinn")
    assert (loser.state, loser.number) == ("brouillon", None)


def test_a_card_taken_meanwhile_leaving_nothing_to_order_says_why(app, db):
    give_joseph_a_mandate_on_leo()
    camille = app.test_client()
    to_confirmation(camille, "camille.martin", SECOND_COPY, {"40": None})
    other_parent = app.test_client()
    to_delivery(other_parent, "joseph.quinn", SECOND_COPY, {"40": None})
    response = confirm(camille)
    assert response.status_code == 409
    assert "Un second exemplaire a déjà été commandé" in Page(response.text).text
    assert RequestLine.select().where(RequestLine.card == card("40")).count() == 1
    assert request_of("camille.martin").number is None


def test_a_duplicate_taken_meanwhile_revokes_nothing_more(app, db):
    give_joseph_a_mandate_on_leo()
    camille = app.test_client()
    to_confirmation(camille, "camille.martin", DUPLICATA, {"40": "Titre volé"})
    other_parent = app.test_client()
    to_delivery(other_parent, "joseph.quinn", DUPLICATA, {"40": "Titre perdu"})
    response = confirm(camille)
    assert response.status_code == 409
    page = Page(response.text)
    assert any(CONFLICT in message for message in page.error_summary())
    assert "Votre demande n'a pas été enregistrée et aucune carte n'a été révoquée." in page.text
    leo = card("40")
    assert (leo.revoked_on, leo.revocation_reason) == (TODAY, "Titre perdu")
    assert RequestLine.select().where(RequestLine.card == leo).count() == 1


def test_a_pasted_page_of_text_keeps_the_session(client, db):
    """The refused answers wait in the session cookie: a huge one must not overflow it."""
    to_delivery(client)
    open_address_fields(client)
    response = submit(client, "/demande/livraison?modifier=1", "Valider", {"Ville": "L" * 5000})
    assert_shown_again_with_errors(response)
    page = Page(response.text)
    assert "au plus 38 caractères (actuellement 5000)" in page.field_error("Ville")
    assert page.control("Ville").attrs["value"] == "L" * 200
    assert client.get("/mes-donnees").status_code == 200  # still signed in


# -- work done per request -----------------------------------------------------------------


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "no-js"])
def test_a_selection_post_reads_the_cards_and_their_requests_once(client, db, htmx):
    start(client)
    page = Page(client.get("/demande/selection").text)
    action, data = page.form_data(
        "Valider", {select_label("1"): True, reason_label("1"): "Titre perdu", HONOUR: True}
    )
    with QueryLog() as log:
        response = client.post(action, data=data, headers=HTMX if htmx else {})
    reads = [sql for sql in log.statements if sql.startswith("SELECT")]
    card_reads = [sql for sql in reads if 'FROM "card" AS' in sql]
    line_reads = [sql for sql in reads if 'FROM "request_line" AS' in sql]
    assert len(card_reads) == 1, card_reads
    assert len(line_reads) == 1, line_reads
    if htmx:
        # The confirmation opens over the page, listing the card to be ordered.
        assert "Validation de la demande de duplicata" in response.text
        assert spaced("1") in Page(response.text).root.find("dialog").text
    else:
        assert response.headers["Location"] == "/demande/confirmation"


def test_the_controls_of_a_row_are_named_once(client):
    """A visually hidden label in a cell is read in browse mode, then again as the
    control's name: the controls of a row carry their name themselves."""
    start(client, "camille.martin")
    page = Page(client.get("/demande/selection").text)
    cells = page.root.find_all("td")
    # No hidden label or legend: the reasons' labels are the radios' own, shown.
    hidden = [n for c in cells for n in c.iter() if "visually-hidden" in n.attrs.get("class", "")]
    assert cells and not hidden
    assert not any(cell.find_all("legend") for cell in cells)
    for number in ("40", "41", "42"):
        assert page.control(select_label(number)).attrs["aria-label"] == select_label(number)
        assert page.control(reason_label(number)).attrs["aria-label"] == reason_label(number)


def _more_people_and_cards(username: str, people: int, cards_each: int) -> None:
    """``people`` more beneficiaries the account acts for, each with ``cards_each`` cards."""
    account = Account.get(Account.username == username)
    template = account.beneficiaries().first()
    for index in range(people):
        person = Beneficiary.create(
            number=900_000 + index,
            last_name="NOMBREUX",
            first_name=f"Enfant{index}",
            birth_date=date(2010, 1, 1),
            address=template.address,
            delivery_address=template.delivery_address,
        )
        Mandate.create(account=account, beneficiary=person, role=Mandate.LEGAL_REPRESENTATIVE)
        for number in range(cards_each):
            Card.create(
                number=f"{8_000_000_000_000_000 + index * 100 + number:016d}",
                beneficiary=person,
                mention="Invalidité",
                valid_from=date(2024, 1, 1),
                valid_until=date(2034, 12, 31),
            )


def _reads(client, url: str) -> int:
    with QueryLog() as log:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(log)


def test_no_page_reads_the_database_once_per_row(client, db):
    """The pages that list people, cards or lines read as many times for six people and
    thirty cards as for one person and two: never a query per row."""
    pages = ["/mes-donnees", "/demande/engagement", "/demande/choix", "/demande/selection"]
    start(client)
    few = {url: _reads(client, url) for url in pages}
    _more_people_and_cards("alfred.depot", people=5, cards_each=6)
    many = {url: _reads(client, url) for url in pages}
    assert many == few
    assert "8000 0000 0000 0405" in client.get("/demande/selection").text
    assert "Enfant4" in client.get("/mes-donnees").text
