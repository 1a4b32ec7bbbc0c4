"""The old-format cards' end, 31/12/2026: the rule (``models.cards``) and every page that
says it, with the clock on both sides of the date: the day before, the day itself (the
cards are still valid), the day after, and 05/01/2027 (an old card imported with no end
date was shown « À titre définitif » and « Valide » then). SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from models.cards import (
    DUPLICATE,
    OLD_CARDS_VALID_UNTIL,
    SECOND_COPY,
    STATIONNEMENT,
    Card,
    CardState,
    last_valid_day,
    old_cards,
    old_cards_days_left,
)
from models.eligibility import ONLY_OLD_FORMAT, eligible_cards
from models.people import Account
from models.shared.clock import clock

from .helpers import sign_in
from .pages import Page
from .test_console import agent_sign_in
from .test_translations import english, person_data, service_data
from .test_wizard import start

MARIES_CARD = "CES-59-2009-004512"
# Ten in the morning in Paris (naive UTC), on each side of the date.
DAY_BEFORE = datetime(2026, 12, 30, 9)
LAST_DAY = datetime(2026, 12, 31, 9)
DAY_AFTER = datetime(2027, 1, 1, 9)
FIVE_DAYS_AFTER = datetime(2027, 1, 5, 9)
# Around midnight in Paris: 23:30 on the last day, then 00:30 the day after (UTC + 1).
LAST_EVENING = datetime(2026, 12, 31, 22, 30)
FIRST_NIGHT = datetime(2026, 12, 31, 23, 30)

# What no page may say of an old card once the date has gone by.
NEVER_AFTER = [
    "À titre définitif",
    "Valide (ancien format)",
    "est valable jusqu",
    "restent valables",
    "Il reste",
    "dernier jour",
]


def unsaved(valid_until: date | None, old_format: bool = True, **fields) -> Card:
    made = {"number": "CES-1", "mention": STATIONNEMENT, "valid_from": date(2009, 6, 1)}
    return Card(**{**made, **fields}, valid_until=valid_until, old_format=old_format)


@pytest.fixture
def marie_permanent(db):
    """Marie's old card as an extract with no end date gives it (« à titre définitif »)."""
    Card.update(valid_until=None).where(Card.number == MARIES_CARD).execute()
    return Card.get(Card.number == MARIES_CARD)


# -- the rule ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("valid_until", "old_format", "last"),
    [
        (None, True, OLD_CARDS_VALID_UNTIL),  # « à titre définitif »: cut at the old cards' end
        (date(2030, 6, 30), True, OLD_CARDS_VALID_UNTIL),  # a later date: cut too
        (date(2026, 6, 30), True, date(2026, 6, 30)),  # its own, earlier, date
        (date(2026, 12, 31), True, date(2026, 12, 31)),
        (None, False, None),  # a CMI « à titre définitif » stays so
        (date(2030, 6, 30), False, date(2030, 6, 30)),  # a CMI keeps its own date
    ],
)
def test_an_old_card_is_valid_until_its_own_end_and_never_after_the_old_cards_end(
    valid_until, old_format, last
):
    assert last_valid_day(valid_until, old_format) == last
    assert unsaved(valid_until, old_format).last_valid_day == last
    assert unsaved(valid_until, old_format).is_permanent is (last is None)


@pytest.mark.parametrize(
    ("today", "left"),
    [
        (date(2026, 11, 22), 39),
        (date(2026, 12, 7), 24),
        (date(2026, 12, 30), 1),
        (date(2026, 12, 31), 0),  # the last day: still valid
        (date(2027, 1, 1), None),
        (date(2027, 1, 5), None),
    ],
)
def test_the_days_left_count_to_the_old_cards_last_day(today, left):
    assert old_cards_days_left(today) == left


@pytest.mark.parametrize(
    ("instant", "state", "label"),
    [
        (DAY_BEFORE, CardState.VALID, "Valide (ancien format)"),
        (LAST_DAY, CardState.VALID, "Valide (ancien format)"),
        (DAY_AFTER, CardState.EXPIRED, "N'est plus valable depuis le 31/12/2026"),
        (FIVE_DAYS_AFTER, CardState.EXPIRED, "N'est plus valable depuis le 31/12/2026"),
    ],
)
def test_an_old_card_with_no_end_date_ends_on_31_december_2026(
    marie_permanent, instant, state, label
):
    clock.freeze(instant)
    today = clock.today()
    assert marie_permanent.valid_until is None  # as the extract gave it
    assert marie_permanent.state_on(today) is state
    assert marie_permanent.state_label(today) == label
    assert marie_permanent.valid_until_label == "31/12/2026"  # never « À titre définitif »
    assert marie_permanent.within_validity(today) is (state is CardState.VALID)


def test_an_old_card_ending_earlier_says_its_own_date(db):
    card = Card.get(Card.number == MARIES_CARD)
    card.valid_until = date(2026, 6, 30)
    card.save()
    card = Card.get_by_id(card.id)
    assert card.state_label(date(2026, 6, 30)) == "Valide (ancien format)"
    assert card.state_label(date(2026, 7, 1)) == "N'est plus valable depuis le 30/06/2026"
    assert card.valid_until_label == "30/06/2026"


def test_a_permanent_cmi_stays_permanent_after_the_old_cards_end(db):
    josephs = Card.get(Card.number == "0000000000000030")
    assert josephs.valid_until is None and josephs.is_cmi
    for day in (date(2026, 12, 31), date(2027, 1, 5)):
        assert josephs.state_on(day) is CardState.VALID
        assert josephs.valid_until_label == "À titre définitif"


def test_where_old_cards_stand_together_one_of_them_or_all_ended():
    day = date(2026, 12, 7)
    alone = old_cards([unsaved(None)], day)
    assert (alone.count, alone.until, alone.days_left, alone.together) == (
        1,
        OLD_CARDS_VALID_UNTIL,
        24,
        True,
    )
    assert alone.still_valid and alone.cut_by_the_old_cards_end
    both = old_cards([unsaved(None), unsaved(date(2031, 1, 1))], day)
    assert (both.count, both.until, both.together) == (2, OLD_CARDS_VALID_UNTIL, True)
    # The sooner end is told; it is a card's own date, not the old cards' end.
    apart = old_cards([unsaved(None), unsaved(date(2026, 12, 20))], day)
    assert (apart.until, apart.days_left, apart.together) == (date(2026, 12, 20), 13, False)
    assert not apart.cut_by_the_old_cards_end
    # One ended already: the valid one is told, not together.
    some = old_cards([unsaved(date(2025, 6, 30)), unsaved(None)], day)
    assert (some.until, some.together) == (OLD_CARDS_VALID_UNTIL, False)
    # None valid: since when, the last of them ended.
    ended = old_cards([unsaved(date(2025, 6, 30)), unsaved(None)], date(2027, 1, 5))
    assert (ended.until, ended.days_left, ended.still_valid, ended.together) == (
        OLD_CARDS_VALID_UNTIL,
        None,
        False,
        True,
    )
    assert ended.cut_by_the_old_cards_end
    # A revoked one ended on the eve of its revocation.
    both_ended = old_cards(
        [unsaved(date(2025, 6, 30)), unsaved(None, revoked_on=date(2026, 3, 2))], day
    )
    assert (both_ended.until, both_ended.still_valid) == (date(2026, 3, 1), False)
    revoked = old_cards([unsaved(None, revoked_on=date(2026, 3, 2))], day)
    assert (revoked.until, revoked.still_valid) == (date(2026, 3, 1), False)
    assert old_cards([unsaved(None, old_format=False, number="1" * 16)], day) is None


def test_eligibility_tells_where_the_old_cards_stand(marie_permanent):
    marie = Account.get(Account.username == "marie.durand")
    for kind in (DUPLICATE, SECOND_COPY):
        before = eligible_cards(marie, kind, date(2026, 12, 30))
        after = eligible_cards(marie, kind, date(2027, 1, 5))
        assert before.reason_if_none == after.reason_if_none == ONLY_OLD_FORMAT
        assert (before.old_cards.days_left, after.old_cards.days_left) == (1, None)
    alfred = Account.get(Account.username == "alfred.depot")
    assert eligible_cards(alfred, DUPLICATE, date(2026, 12, 30)).old_cards is None


# -- the pages --------------------------------------------------------------------------------

# What the notice says of Marie's card (no end date) at each instant, and must not say.
NOTICE = [
    (
        DAY_BEFORE,
        [
            "Votre carte de l'ancien format est valable jusqu'au 31/12/2026. Après cette date, "
            "plus aucune carte de l'ancien format n'est valable, même si elle a été attribuée "
            "à titre définitif.",
            "Il reste 1 jour avant cette date : demandez dès maintenant une carte mobilité "
            "inclusion à la maison départementale des personnes handicapées (MDPH) de votre "
            "département.",
        ],
        ["n'est plus valable depuis", "jours avant", "dernier jour"],
    ),
    (
        LAST_DAY,
        [
            "Votre carte de l'ancien format est valable jusqu'au 31/12/2026.",
            "C'est aujourd'hui le dernier jour : demandez sans attendre une carte mobilité "
            "inclusion à la maison départementale des personnes handicapées (MDPH) de votre "
            "département.",
        ],
        ["n'est plus valable depuis", "Il reste"],
    ),
    (LAST_EVENING, ["C'est aujourd'hui le dernier jour"], ["n'est plus valable depuis"]),
    *[
        (
            instant,
            [
                "Votre carte de l'ancien format n'est plus valable depuis le 31/12/2026. Depuis "
                "cette date, plus aucune carte de l'ancien format n'est valable, même si elle a "
                "été attribuée à titre définitif. Pour avoir une carte valable, demandez une "
                "carte mobilité inclusion à la maison départementale des personnes handicapées "
                "(MDPH) de votre département."
            ],
            NEVER_AFTER,
        )
        for instant in (FIRST_NIGHT, DAY_AFTER, FIVE_DAYS_AFTER)
    ],
]
INSTANT_IDS = ["30-12", "31-12", "31-12-23h30", "01-01-00h30", "01-01", "05-01"]


def says(page: Page, present: list[str], absent: list[str]) -> None:
    for text in present:
        assert text in page.text, text
    for text in absent:
        assert text not in page.text, text


@pytest.mark.parametrize(("instant", "present", "absent"), NOTICE, ids=INSTANT_IDS)
def test_my_data_tells_marie_the_days_left_then_that_her_card_is_no_longer_valid(
    client, marie_permanent, instant, present, absent
):
    clock.freeze(instant)
    sign_in(client, "marie.durand")
    page = Page(client.get("/mes-donnees").text)
    says(page, present, absent)
    assert page.column("Date de fin de validité") == ["31/12/2026"]
    expected = (
        "Valide (ancien format)"
        if instant < FIRST_NIGHT
        else ("N'est plus valable depuis le 31/12/2026")
    )
    assert page.column("État") == [expected]
    assert "restent valables jusqu'au 31 décembre 2026" not in page.text
    # MDPH is spelled out where the page first names it.
    spelled = "maison départementale des personnes handicapées ("
    assert page.text.index("MDPH") == page.text.index(spelled + "MDPH)") + len(spelled)


@pytest.mark.parametrize(("instant", "present", "absent"), NOTICE, ids=INSTANT_IDS)
@pytest.mark.parametrize("kind", ["Duplicata", "Second exemplaire"])
def test_the_selection_step_tells_marie_the_same(
    client, marie_permanent, instant, present, absent, kind
):
    clock.freeze(instant)
    start(client, "marie.durand", kind)
    page = Page(client.get("/demande/selection").text)
    says(page, present, absent)
    assert "Votre carte est une carte de l'ancien format" in page.text
    assert page.root.find("table") is None


def test_the_days_left_are_counted_in_words_that_agree(client, db):
    clock.freeze(datetime(2026, 12, 7, 9))  # the date is 24 days away
    sign_in(client, "marie.durand")
    page = Page(client.get("/mes-donnees").text)
    assert "Il reste 24 jours avant cette date" in page.text
    # Marie's card has its own end date, the old cards' end: the same words.
    assert "Votre carte de l'ancien format est valable jusqu'au 31/12/2026." in page.text


def test_a_card_ending_before_the_old_cards_end_counts_to_its_own_date(client, db):
    Card.update(valid_until=date(2026, 12, 20)).where(Card.number == MARIES_CARD).execute()
    clock.freeze(datetime(2026, 12, 7, 9))
    sign_in(client, "marie.durand")
    page = Page(client.get("/mes-donnees").text)
    says(
        page,
        ["Votre carte de l'ancien format est valable jusqu'au 20/12/2026.", "Il reste 13 jours"],
        ["Après cette date, plus aucune carte", "31/12/2026"],
    )
    clock.freeze(datetime(2026, 12, 21, 9))
    sign_in(client, "marie.durand")
    page = Page(client.get("/mes-donnees").text)
    says(
        page,
        ["Votre carte de l'ancien format n'est plus valable depuis le 20/12/2026."],
        ["Depuis cette date, plus aucune carte", *NEVER_AFTER],
    )


def test_cards_of_both_kinds_get_the_old_cards_notice_beside_the_order_button(client, db):
    """An account that may order for its CMIs is told of its old card too."""
    alfreds = Card.get(Card.number == "0000000000000001")
    Card.create(
        number="CES-59-2010-000001",
        beneficiary=alfreds.beneficiary,
        mention=STATIONNEMENT,
        valid_from=date(2010, 1, 1),
        old_format=True,
    )
    for instant, present, _absent in (NOTICE[0], NOTICE[-1]):
        clock.freeze(instant)
        sign_in(client, "alfred.depot")
        page = Page(client.get("/mes-donnees").text)
        says(
            page, ["Ce service ne fabrique pas de duplicata ni de second exemplaire", *present], []
        )
        assert "Faire une demande" in page.text
        states = dict(zip(page.column("Numéro de carte"), page.column("État"), strict=True))
        assert states["0000 0000 0000 0001"] == "Valide"
        old = states["CES-59-2010-000001"]
        assert old == (
            "Valide (ancien format)"
            if instant < DAY_AFTER
            else ("N'est plus valable depuis le 31/12/2026")
        )


GUIDANCE = "/j-ai-perdu-ma-carte?carte=ancienne"


@pytest.mark.parametrize(
    ("instant", "standard", "easy"),
    [
        (
            DAY_BEFORE,
            "au plus tard jusqu'au 31 décembre 2026 ; ensuite, seule la CMI est valable. Il "
            "reste 1 jour avant cette date : faites votre demande dès maintenant.",
            "Les anciennes cartes sont valables jusqu'au 31 décembre 2026. Après cette date, il "
            "faut une carte mobilité inclusion. Il reste 1 jour. Faites votre demande maintenant.",
        ),
        (
            LAST_DAY,
            "C'est aujourd'hui le dernier jour : faites votre demande sans attendre.",
            "Aujourd'hui, c'est le dernier jour. Faites votre demande maintenant.",
        ),
        (
            DAY_AFTER,
            "Les cartes de l'ancien format ne sont plus valables depuis le 31 décembre 2026, même "
            "celles attribuées à titre définitif : seule la CMI est valable.",
            "Les anciennes cartes ne sont plus valables depuis le 31 décembre 2026. Il faut une "
            "carte mobilité inclusion.",
        ),
        (
            FIVE_DAYS_AFTER,
            "ne sont plus valables depuis le 31 décembre 2026",
            "ne sont plus valables depuis le 31 décembre 2026",
        ),
    ],
    ids=["30-12", "31-12", "01-01", "05-01"],
)
def test_the_lost_card_guidance_counts_the_days_then_says_the_cards_have_ended(
    client, instant, standard, easy
):
    clock.freeze(instant)
    page = Page(client.get(f"{GUIDANCE}&facile=0").text)
    assert standard in page.text
    easy_page = Page(client.get(f"{GUIDANCE}&facile=1").text)
    assert easy in easy_page.text
    if instant >= DAY_AFTER:
        for text in (page.text, easy_page.text):
            assert "restent valables" not in text and "sont valables jusqu" not in text
            assert "Il reste" not in text and "dernier jour" not in text
    # The two days of 2026 with days left: « 1 jour » agrees with its number.
    assert "1 jours" not in page.text and "1 jours" not in easy_page.text


def test_the_console_shows_the_agent_the_same_state(client, marie_permanent):
    marie = Account.get(Account.username == "marie.durand")
    for instant, state in (
        (LAST_DAY, "Valide (ancien format)"),
        (FIVE_DAYS_AFTER, "N'est plus valable depuis le 31/12/2026"),
    ):
        clock.freeze(instant)
        agent = client.application.test_client()
        agent_sign_in(agent)
        page = Page(agent.get(f"/gestion/comptes/{marie.id}").text)
        assert page.column("Carte") == [
            f"Carte européenne de stationnement (ancien format) n° {MARIES_CARD}"
        ]
        assert page.column("Date de fin de validité") == ["31/12/2026"]
        assert page.column("État") == [state]


@pytest.mark.parametrize("instant", [DAY_BEFORE, LAST_DAY, FIVE_DAYS_AFTER])
def test_the_old_cards_words_read_in_english(client, app, marie_permanent, instant):
    clock.freeze(instant)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "fr-FR,fr;q=0.9"
    client.get("/?lang=en")
    data = service_data(app)
    for easy in ("0", "1"):
        english(client, f"{GUIDANCE}&facile={easy}", data)
    sign_in(client, "marie.durand")
    # The card's name as printed on it stays in French, in brackets.
    data += [*person_data("marie.durand"), MARIES_CARD, "(carte européenne de stationnement)"]
    page = english(client, "/mes-donnees", data)
    if instant < DAY_AFTER:
        assert "Your old-format card is valid until 31 Dec 2026." in page
    else:
        assert "Your old-format card stopped being valid after 31 Dec 2026." in page
        assert "No longer valid after 31 Dec 2026" in page
