"""The card rules, checked on every demo persona and on edge dates."""

from __future__ import annotations

from datetime import date

import pytest

from models.cards import (
    DUPLICATE,
    INVALIDITE,
    SECOND_COPY,
    STATIONNEMENT,
    Card,
    CardState,
)
from models.eligibility import (
    ALREADY_COPIED,
    LEGAL_PERSON_ONLY,
    ONLY_EXPIRED,
    ONLY_OLD_FORMAT,
    account_cards,
    eligible_cards,
    may_get_duplicate,
    may_get_second_copy,
)
from models.people import Account

TODAY = date(2026, 11, 22)


def account(username: str) -> Account:
    return Account.get(Account.username == username)


def card(number: str) -> Card:
    return Card.get(Card.number == number.rjust(16, "0"))


def numbers(eligibility) -> list[str]:
    return [c.number.lstrip("0") for c in eligibility.cards]


@pytest.mark.parametrize(
    ("number", "state"),
    [
        ("1", CardState.VALID),
        ("2", CardState.VALID),
        ("30", CardState.VALID),
        ("31", CardState.EXPIRED),
        ("40", CardState.VALID),
        ("41", CardState.VALID),
        ("42", CardState.REVOKED),
        ("50", CardState.VALID),
    ],
)
def test_each_demo_card_has_the_state_the_readme_promises(db, number, state):
    assert card(number).state_on(TODAY) is state


def test_state_follows_the_calendar(db):
    priorite = card("31")
    assert priorite.state_on(date(2024, 12, 31)) is CardState.VALID
    assert priorite.state_on(date(2025, 1, 1)) is CardState.EXPIRED
    assert priorite.state_on(date(2014, 12, 31)) is CardState.NOT_YET_VALID
    ines = card("42")
    assert ines.state_on(date(2026, 3, 1)) is CardState.VALID
    assert ines.state_on(date(2026, 3, 2)) is CardState.REVOKED


def test_a_permanent_card_never_expires(db):
    assert card("30").is_permanent
    assert card("30").state_on(date(2090, 1, 1)) is CardState.VALID


def test_alfred_may_duplicate_both_cards_and_copy_the_parking_one(db):
    alfred = account("alfred.depot")
    assert numbers(eligible_cards(alfred, DUPLICATE, TODAY)) == ["1", "2"]
    assert numbers(eligible_cards(alfred, SECOND_COPY, TODAY)) == ["2"]


def test_joseph_expired_priority_card_gets_no_duplicate(db):
    joseph = account("joseph.quinn")
    assert numbers(eligible_cards(joseph, DUPLICATE, TODAY)) == ["30"]
    assert numbers(eligible_cards(joseph, SECOND_COPY, TODAY)) == ["30"]


def test_camille_sees_both_children_and_the_revoked_card_without_duplicate(db):
    camille = account("camille.martin")
    assert numbers(eligible_cards(camille, DUPLICATE, TODAY)) == ["40", "41", "42"]
    assert numbers(eligible_cards(camille, SECOND_COPY, TODAY)) == ["40"]


def test_a_revoked_card_leaves_the_table_once_a_duplicate_replaces_it(db):
    ines_card = card("42")
    Card.create(
        number="0000000000000043",
        beneficiary=ines_card.beneficiary,
        mention=INVALIDITE,
        valid_from=ines_card.valid_from,
        valid_until=ines_card.valid_until,
        replaces=ines_card,
        in_production=True,
    )
    camille = account("camille.martin")
    assert numbers(eligible_cards(camille, DUPLICATE, TODAY)) == ["40", "41"]


def test_navette_legal_person_may_duplicate_but_never_copy(db):
    navette = account("navette.pmr")
    assert numbers(eligible_cards(navette, DUPLICATE, TODAY)) == ["50"]
    second = eligible_cards(navette, SECOND_COPY, TODAY)
    assert not second
    assert second.reason_if_none == LEGAL_PERSON_ONLY


def test_marie_old_format_card_gets_the_mdph_guidance(db):
    marie = account("marie.durand")
    for kind in (DUPLICATE, SECOND_COPY):
        eligibility = eligible_cards(marie, kind, TODAY)
        assert eligibility.cards == []
        assert eligibility.reason_if_none == ONLY_OLD_FORMAT


def test_only_expired_cards_say_so(db):
    joseph = account("joseph.quinn")
    Card.delete().where(Card.number == "0000000000000030").execute()
    eligibility = eligible_cards(joseph, DUPLICATE, TODAY)
    assert not eligibility
    assert eligibility.reason_if_none == ONLY_EXPIRED


def test_a_card_gets_one_second_copy_at_most(db):
    original = card("2")
    Card.create(
        number="0000000000000003",
        beneficiary=original.beneficiary,
        mention=STATIONNEMENT,
        valid_from=original.valid_from,
        valid_until=original.valid_until,
        copy_of=original,
        in_production=True,
    )
    alfred = account("alfred.depot")
    second = eligible_cards(alfred, SECOND_COPY, TODAY)
    assert not second
    assert second.reason_if_none == ALREADY_COPIED


def test_a_revoked_card_past_its_end_date_gets_no_duplicate(db):
    ines_card = card("42")
    held = account_cards(account("camille.martin"))
    assert may_get_duplicate(ines_card, held, date(2031, 12, 31))
    assert not may_get_duplicate(ines_card, held, date(2032, 1, 1))


def test_a_revoked_card_gets_no_second_copy(db):
    ines_card = card("42")
    ines_card.mention = STATIONNEMENT
    ines_card.save()
    assert not may_get_second_copy(ines_card, account_cards(account("camille.martin")), TODAY)


def test_a_cmi_number_has_sixteen_digits(db):
    alfred_card = card("1")
    with pytest.raises(ValueError, match="16 digits"):
        Card.create(
            number="12345",
            beneficiary=alfred_card.beneficiary,
            mention=INVALIDITE,
            valid_from=TODAY,
        )


def test_labels_say_state_and_date(db):
    assert card("42").state_label(TODAY) == "Révoquée le 02/03/2026 (Carte perdue)"
    assert card("31").state_label(TODAY) == "Expirée le 31/12/2024"
    assert card("1").title == "Invalidité (besoin d'accompagnement)"
    assert card("41").title == "Invalidité (cécité)"
    assert card("1").spaced_number == "0000 0000 0000 0001"
