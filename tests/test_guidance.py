"""« J'ai perdu ma carte »: every path reaches one end point, answers can be changed, and
the easy-to-read texts stay with the reader once chosen."""

from __future__ import annotations

import html
import re

import pytest

from models import guidance

from .helpers import sign_in

URL = "/j-ai-perdu-ma-carte"

# Each end point, and the answers that lead to it.
PATHS = {
    "duplicata": {"carte": "cmi", "evenement": "perdue", "codes": "oui"},
    "par-courriel": {"carte": "cmi", "evenement": "abimee", "codes": "courriel"},
    "sans-courriel": {"carte": "cmi", "evenement": "volee", "codes": "sans-courriel"},
    "sans-compte": {"carte": "cmi", "evenement": "perdue", "codes": "jamais"},
    "retrouvee": {"carte": "cmi", "evenement": "retrouvee"},
    "ancien-format": {"carte": "ancienne"},
    "identite": {"carte": "identite"},
    "carte-inconnue": {"carte": "inconnue"},
}


def h1(page) -> str:
    found = re.search(r"<h1[^>]*>(.*?)</h1>", page.text, re.S)
    assert found, "no h1"
    return html.unescape(found.group(1)).strip()


def title(page) -> str:
    return html.unescape(re.search(r"<title>(.*?)</title>", page.text).group(1))


# -- the tree ---------------------------------------------------------------------------------


def test_every_answer_leads_somewhere_and_every_end_point_is_reached():
    reached = set()
    for question in guidance.QUESTIONS.values():
        for choice in question.choices:
            assert choice.leads_to in guidance.QUESTIONS or choice.leads_to in guidance.OUTCOMES
            reached.add(choice.leads_to)
    assert set(guidance.OUTCOMES) <= reached
    assert set(guidance.QUESTIONS) - {guidance.FIRST_QUESTION} <= reached
    for outcome, answers in PATHS.items():
        assert guidance.walk(answers).outcome.key == outcome


def test_a_walk_stops_at_the_first_question_without_a_valid_answer():
    position = guidance.walk({"carte": "cmi", "evenement": "n'importe quoi", "codes": "oui"})
    assert position.question.key == "evenement" and not position.missing
    assert position.query() == {"carte": "cmi"}
    sent = guidance.walk({"carte": "cmi"}, sent="evenement")
    assert sent.question.key == "evenement" and sent.missing


def test_changing_an_answer_shows_it_checked_and_keeps_the_answers_after_it():
    answers = PATHS["duplicata"]
    position = guidance.walk(answers, change="evenement")
    assert position.question.key == "evenement" and position.selected == "perdue"
    # Changed to « volée »: the answer about the codes still applies.
    assert guidance.walk({**answers, "evenement": "volee"}).outcome.key == "duplicata"
    # Changed to another branch: the answers off the new path are ignored.
    assert guidance.walk({**answers, "carte": "identite"}).outcome.key == "identite"


def test_every_text_has_its_easy_to_read_version():
    for question in guidance.QUESTIONS.values():
        assert question.text.easy and question.summary.easy and question.required.easy
        for choice in question.choices:
            assert choice.label.easy
    for outcome in guidance.OUTCOMES.values():
        assert outcome.title.easy


# -- the pages --------------------------------------------------------------------------------


def test_the_first_question_is_linked_from_the_home_page_and_from_connexion(client):
    for page in ("/", "/connexion"):
        assert f'href="{URL}"' in client.get(page).text
    page = client.get(URL)
    assert page.status_code == 200
    assert h1(page) == "Quelle carte avez-vous perdue, ou vous a-t-on volée ?"
    assert title(page) == (
        "Quelle carte avez-vous perdue, ou vous a-t-on volée ? - J'ai perdu ma carte - CMI"
    )
    assert '<form method="get"' in page.text and 'name="etape" value="carte"' in page.text


@pytest.mark.parametrize("outcome", list(PATHS))
@pytest.mark.parametrize("easy", [False, True], ids=["standard", "easy"])
def test_each_end_point_has_its_page_its_next_step_and_the_answers_to_change(client, outcome, easy):
    page = client.get(URL, query_string={**PATHS[outcome], "facile": "1" if easy else "0"})
    assert page.status_code == 200
    assert h1(page) == guidance.OUTCOMES[outcome].title(easy)
    assert title(page) == f"{h1(page)} - J'ai perdu ma carte - CMI"
    # One clear next step, the primary button of the page.
    assert len(re.findall(r'class="button button--primary"', page.text)) == 1
    # Each answer given, with a link to change it.
    assert page.text.count("Modifier ma réponse") == len(PATHS[outcome])
    switch = "Revenir au texte habituel" if easy else "version facile à lire et à comprendre"
    assert switch in page.text


def test_a_question_sent_without_an_answer_says_so_next_to_it(client):
    page = client.get(URL, query_string={"carte": "cmi", "etape": "evenement"})
    assert title(page).startswith("Erreur : Que s'est-il passé ?")
    assert 'href="#evenement"' in page.text
    assert "Choisissez ce qui est arrivé à votre carte mobilité inclusion" in page.text
    assert re.search(r'<fieldset aria-describedby="evenement-error">', page.text)
    # The answer already given is kept in the form.
    assert '<input type="hidden" name="carte" value="cmi">' in page.text


def test_the_change_link_brings_back_the_question_with_its_answer_and_keeps_the_rest(client):
    page = client.get(URL, query_string={**PATHS["duplicata"], "modifier": "evenement"})
    assert h1(page) == "Que s'est-il passé ?"
    assert re.search(r'value="perdue"\s+checked', page.text)
    assert '<input type="hidden" name="codes" value="oui">' in page.text
    assert "Revenir à la question précédente" in page.text


@pytest.mark.parametrize(
    "query",
    [
        {"carte": "x" * 5000},
        {"carte": "cmi", "evenement": "<script>", "etape": "evenement"},
        {"modifier": "inconnue", "etape": "rien"},
        {"carte": ["cmi", "identite"]},
        {"codes": "oui"},
    ],
)
def test_any_address_gives_a_page_never_an_error(client, query):
    page = client.get(URL, query_string=query)
    assert page.status_code == 200
    assert "<script>" not in page.text.split("<main", 1)[1]


def test_the_theft_advice_shows_only_after_a_theft(client):
    stolen = client.get(URL, query_string={**PATHS["duplicata"], "evenement": "volee"})
    assert "Carte volée : faut-il porter plainte ?" in stolen.text
    lost = client.get(URL, query_string=PATHS["duplicata"])
    assert "porter plainte" not in lost.text


# -- easy to read, chosen once ----------------------------------------------------------------


def test_the_easy_to_read_choice_is_kept_for_the_session_until_undone(client):
    client.get(URL, query_string={"facile": "1"})
    page = client.get(URL, query_string={"carte": "cmi"})
    assert "Revenir au texte habituel" in page.text
    sign_in(client, "alfred.depot")
    engagement = client.get("/demande/engagement")
    assert "Ce que fait ce service" in engagement.text
    assert "Présentation du service" not in engagement.text
    client.get("/demande/engagement", query_string={"facile": "0"})
    assert "Présentation du service" in client.get("/demande/engagement").text


def test_the_price_in_the_easy_text_comes_from_the_rule(client):
    sign_in(client, "alfred.depot")
    page = client.get("/demande/engagement", query_string={"facile": "1"})
    assert "Une nouvelle carte coûte 9,02\u00a0€." in html.unescape(page.text)


@pytest.mark.parametrize(
    "query",
    [{"endpoint": "x"}, {"_method": "POST"}, {"_external": "1"}, {"_anchor": "x"}],
)
def test_the_easy_read_link_is_this_page_whatever_its_query(client, query):
    page = client.get(URL, query_string=query, headers={"Host": "evil.example"})
    assert page.status_code == 200
    link = re.search(r'<p class="easy-read-switch">\s*<a href="([^"]+)"', page.text).group(1)
    assert html.unescape(link).startswith(URL + "?") and html.unescape(link).endswith("facile=1")
