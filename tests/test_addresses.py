"""Postal address rules (AFNOR NF Z10-011) as typed by the user, and the price of a request."""

from __future__ import annotations

import pytest

from models.addresses import LABELS, address_errors, clean_address, is_france
from models.people import ADDRESS_LINE_MAX
from models.pricing import POSTAGE_TARIFFS, euros, postage_zone, price, vat_on

NAME_REQUIRED = "Saisissez le nom du destinataire, par exemple Marie DUPONT"
STREET_REQUIRED = (
    "Saisissez le numéro et le libellé de la voie, ou une boîte postale ou un lieu-dit, "
    "par exemple 12 rue de la Gare"
)
CITY_REQUIRED = "Saisissez la ville, par exemple LILLE"
COUNTRY_REQUIRED = "Saisissez le pays, par exemple France"
POSTCODE_REQUIRED = "Saisissez le code postal, par exemple 59000"
POSTCODE_FORMAT = "Le code postal doit comporter 5 chiffres, par exemple 59000"

ALFRED = {
    "name": "Alfred DEPOT",
    "apartment": "App 22",
    "building": "Résidence des Tilleuls",
    "street": "25 route de la Libertine",
    "locality": "Hameau",
    "postcode": "59000",
    "city": "LILLE",
    "country": "France",
}


def errors_for(**changes: str) -> dict[str, str]:
    """The errors of Alfred's address with ``changes``, cleaned as the form does."""
    return address_errors(clean_address({**ALFRED, **changes}))


def test_alfred_address_is_valid_and_unchanged_by_cleaning():
    assert clean_address(ALFRED) == ALFRED
    assert address_errors(ALFRED) == {}


# -- line length -----------------------------------------------------------------------


def test_a_line_holds_38_characters():
    assert ADDRESS_LINE_MAX == 38


@pytest.mark.parametrize(
    "field", ["name", "apartment", "building", "street", "locality", "city", "country"]
)
def test_38_characters_pass_and_39_are_refused_on_every_line(field):
    assert field not in errors_for(**{field: "A" * 38})
    message = errors_for(**{field: "A" * 39})[field]
    assert message == (
        f"« {LABELS[field]} » doit contenir au plus 38 caractères (actuellement 39) : "
        "abrégez, par exemple « BD » pour boulevard"
    )


def test_length_counts_characters_not_bytes():
    assert errors_for(street="É" * 38) == {}


def test_length_is_measured_after_spaces_are_trimmed_and_collapsed():
    padded = "   " + "25  route  de  la  Libertine" + " " * 20
    cleaned = clean_address({**ALFRED, "street": padded})
    assert cleaned["street"] == "25 route de la Libertine"
    assert address_errors(cleaned) == {}
    # 40 characters typed, 38 once the doubled spaces are gone.
    assert errors_for(street="A" * 18 + "  " + "B" * 19) == {}


# -- street or locality ------------------------------------------------------------------


def test_street_or_locality_is_required():
    assert errors_for(street="", locality="") == {"street": STREET_REQUIRED}


@pytest.mark.parametrize(
    "changes",
    [{"street": "", "locality": "BP 12"}, {"street": "8 rue Nationale", "locality": ""}],
    ids=["locality only", "street only"],
)
def test_either_street_or_locality_is_enough(changes):
    assert errors_for(**changes) == {}


def test_blank_street_and_locality_count_as_missing():
    assert errors_for(street="   ", locality="\t") == {"street": STREET_REQUIRED}


# -- postcode ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("59000", "59000"), ("59 000", "59000"), (" 5 9 0 0 0 ", "59000"), ("01000", "01000")],
)
def test_a_french_postcode_loses_its_spaces(typed, stored):
    cleaned = clean_address({**ALFRED, "postcode": typed})
    assert cleaned["postcode"] == stored
    assert address_errors(cleaned) == {}


@pytest.mark.parametrize(
    "postcode",
    ["5900", "590000", "ABCDE", "59-000", "5900O"],
    ids=["four digits", "six digits", "letters", "hyphen", "letter O"],
)
def test_a_french_postcode_has_exactly_five_digits(postcode):
    assert errors_for(postcode=postcode) == {"postcode": POSTCODE_FORMAT}


@pytest.mark.parametrize(
    "postcode", ["٥٩٠٠٠", "５９０００"], ids=["arabic-indic digits", "full-width digits"]
)
def test_a_french_postcode_is_made_of_the_digits_0_to_9(postcode):
    """What La Poste prints and sorts: 0-9 only, not any Unicode digit."""
    assert errors_for(postcode=postcode) == {"postcode": POSTCODE_FORMAT}


def test_a_french_postcode_is_required():
    assert errors_for(postcode="") == {"postcode": POSTCODE_REQUIRED}
    assert errors_for(postcode="   ") == {"postcode": POSTCODE_REQUIRED}


@pytest.mark.parametrize(
    ("country", "postcode"),
    [
        ("Belgique", "1000"),
        ("Royaume-Uni", "SW1A 1AA"),
        ("Canada", "K1A 0B1"),
        ("Portugal", "1000-001"),
        ("Irlande", ""),  # many addresses abroad have no postcode
    ],
)
def test_a_postcode_abroad_is_not_forced_to_five_digits(country, postcode):
    cleaned = clean_address({**ALFRED, "country": country, "postcode": postcode})
    assert address_errors(cleaned) == {}
    assert cleaned["postcode"] == postcode  # inner spaces kept abroad
    assert cleaned["country"] == country


def test_a_postcode_abroad_fits_where_it_is_stored():
    """Whatever the rules accept must fit the database column (any backend)."""
    from models.people import Address

    column = Address.postcode.max_length
    accepted = "1" * (column + 1)
    assert "postcode" in errors_for(country="Belgique", postcode=accepted), (
        f"a postcode of {column + 1} characters passes the rules but not the column "
        f"(max_length={column})"
    )


# -- control characters ------------------------------------------------------------------


@pytest.mark.parametrize("character", ["\x00", "\x07", "\x08", "\x1b", "\x7f"], ids=repr)
@pytest.mark.parametrize("field", ["name", "street", "city"])
def test_control_characters_are_refused(field, character):
    value = {"name": "Alfred DEPOT", "street": "25 route", "city": "LILLE"}[field]
    errors = errors_for(**{field: value[:3] + character + value[3:]})
    assert errors[field] == f"« {LABELS[field]} » contient un caractère non autorisé"


def test_c1_control_characters_are_refused_too():
    """U+0080-U+009F are control characters as well (U+009B is a terminal escape)."""
    errors = errors_for(name="Alfred\x9bDEPOT")
    assert errors.get("name") == "« Nom » contient un caractère non autorisé"


def test_tabs_and_line_breaks_become_single_spaces():
    cleaned = clean_address({**ALFRED, "street": "25\troute de la\r\nLibertine"})
    assert cleaned["street"] == "25 route de la Libertine"
    assert address_errors(cleaned) == {}


def test_a_control_character_is_reported_rather_than_the_length():
    errors = errors_for(name="\x00" + "A" * 40)
    assert errors["name"].endswith("contient un caractère non autorisé")


# -- country -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed", ["France", "france", "FRANCE", "  France  ", "Frânce", "France métropolitaine", "FR"]
)
def test_france_is_recognised_whatever_its_case_and_accents(typed):
    cleaned = clean_address({**ALFRED, "country": typed, "postcode": "59 000"})
    assert cleaned["country"] == "France"
    assert cleaned["postcode"] == "59000"
    assert is_france(typed)
    assert address_errors(cleaned) == {}


@pytest.mark.parametrize("country", ["Belgique", "Francia", "Nouvelle-France", ""])
def test_other_countries_are_not_france(country):
    assert not is_france(country)


def test_a_lower_case_france_still_needs_a_five_digit_postcode():
    assert errors_for(country="france", postcode="5900") == {"postcode": POSTCODE_FORMAT}


# -- required fields ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "message"),
    [("name", NAME_REQUIRED), ("city", CITY_REQUIRED), ("country", COUNTRY_REQUIRED)],
)
def test_required_fields_say_what_to_type(field, message):
    assert errors_for(**{field: ""}) == {field: message}
    assert errors_for(**{field: "   "}) == {field: message}


def test_optional_lines_may_be_empty():
    assert errors_for(apartment="", building="", locality="") == {}


def test_missing_keys_are_empty_fields():
    cleaned = clean_address({"name": "Joseph QUINN"})
    assert set(cleaned) == set(LABELS)
    assert address_errors(cleaned) == {
        "street": STREET_REQUIRED,
        "city": CITY_REQUIRED,
        "country": COUNTRY_REQUIRED,
    }


def test_an_empty_form_lists_every_required_field_once():
    errors = address_errors(clean_address({}))
    assert errors == {
        "name": NAME_REQUIRED,
        "street": STREET_REQUIRED,
        "city": CITY_REQUIRED,
        "country": COUNTRY_REQUIRED,
    }


# -- price -------------------------------------------------------------------------------


def test_one_card_in_france_costs_902_cents():
    breakdown = price(1, "France")
    assert (breakdown.price_per_card, breakdown.vat_per_card, breakdown.postage_per_card) == (
        710,
        142,
        50,
    )
    assert breakdown.total == 902
    assert isinstance(breakdown.total, int)
    assert euros(breakdown.total) == "9,02\u00a0€"
    assert breakdown.destination == "France"


@pytest.mark.parametrize(
    ("cents", "vat"),
    [(0, 0), (1, 0), (2, 0), (3, 1), (7, 1), (8, 2), (12, 2), (13, 3), (710, 142), (999, 200)],
)
def test_vat_is_rounded_to_the_nearest_cent(cents, vat):
    assert vat_on(cents) == vat


def test_vat_is_computed_per_card_then_multiplied():
    breakdown = price(3, "France")
    assert (breakdown.net, breakdown.vat, breakdown.postage) == (2130, 426, 150)
    assert breakdown.total == 3 * 902 == breakdown.net + breakdown.vat + breakdown.postage
    assert euros(breakdown.total) == "27,06\u00a0€"


@pytest.mark.parametrize(
    ("country", "zone", "postage"),
    [
        ("France", "France", 50),
        ("FRANCE", "France", 50),
        ("Belgique", "Union européenne et Suisse", 180),
        ("GRECE", "Union européenne et Suisse", 180),
        ("Suisse", "Union européenne et Suisse", 180),
        ("Canada", "Reste du monde", 210),
        ("Royaume-Uni", "Reste du monde", 210),
    ],
)
def test_postage_abroad_depends_on_the_zone(country, zone, postage):
    assert postage_zone(country) == zone
    assert POSTAGE_TARIFFS[zone] == postage
    breakdown = price(2, country)
    assert (breakdown.destination, breakdown.postage) == (zone, 2 * postage)
    assert breakdown.total == 2 * (710 + 142 + postage)


def test_postage_abroad_costs_more_than_in_france():
    france = price(1, "France").postage_per_card
    assert all(price(1, c).postage_per_card > france for c in ("Belgique", "Japon"))


@pytest.mark.parametrize(
    ("cents", "text"), [(902, "9,02"), (1032, "10,32"), (5, "0,05"), (100, "1,00"), (0, "0,00")]
)
def test_amounts_are_written_the_french_way(cents, text):
    assert euros(cents) == f"{text}\u00a0€"


@pytest.mark.parametrize("cards", [0, -1])
def test_a_request_has_at_least_one_card(cards):
    with pytest.raises(ValueError, match="at least one card"):
        price(cards, "France")
