"""The three PDFs a citizen or an agent hands out are tagged: a screen reader follows their
structure tree (roles, in reading order), in the document's language, as it follows the
web page. Each is read back here in French and in English."""

from __future__ import annotations

import io
import math
import re
from datetime import date

import pytest
from pypdf import PdfReader

from models.letters import Letter
from models.shared.i18n import force_locale
from models.shared.security import (
    activation_code_from,
    activation_digest,
    example_activation_code,
)
from views.shared.documents import credentials_letters, current_terms_pdf

from .helpers import sign_in
from .test_payments import pay_through_the_app

LANGUAGES = {"fr": "fr-FR", "en": "en-GB"}
# Wrappers around runs of text: not part of the outline a reader moves through.
INLINE = {"/Span", "/NonStruct", "/Link"}


def structure(content: bytes) -> list[str]:
    """The structure tree's roles in reading order, one per element, nested by indent."""
    reader = PdfReader(io.BytesIO(content))
    roles: list[str] = []

    def walk(node, depth: int) -> None:
        node = node.get_object()
        role = node.get("/S")
        if role is not None and role not in INLINE:
            roles.append("  " * depth + role[1:])
            depth += 1
        kids = node.get("/K")
        if kids is None:
            return
        for kid in kids if isinstance(kids, list) else [kids]:
            kid = kid.get_object() if hasattr(kid, "get_object") else kid
            if isinstance(kid, dict) and "/S" in kid:
                walk(kid, depth)

    walk(reader.trailer["/Root"]["/StructTreeRoot"], 0)
    return roles


def flat(roles: list[str]) -> list[str]:
    return [role.strip() for role in roles]


def text_of(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def assert_in_reading_order(text: str, parts: list[str]) -> None:
    """Each part is in the extracted text, and they come in this order."""
    positions = [text.find(part) for part in parts]
    assert -1 not in positions, (parts, text)
    assert positions == sorted(positions), "the text does not extract in reading order"


def check_tagged(content: bytes, language: str, title: str) -> PdfReader:
    """What makes a PDF accessible on its own, the same for every document."""
    reader = PdfReader(io.BytesIO(content))
    root = reader.trailer["/Root"]
    assert bool(root["/MarkInfo"]["/Marked"])
    assert root["/Lang"] == LANGUAGES[language]
    assert bool(root["/ViewerPreferences"]["/DisplayDocTitle"])
    assert reader.metadata.title == title
    assert b"pdfuaid:part" in root["/Metadata"].get_object().get_data()  # PDF/UA-1 declared
    for page in reader.pages:
        assert page["/Tabs"] == "/S"  # tab order follows the structure
        for font in page["/Resources"]["/Font"].values():
            descendant = font.get_object()
            if "/DescendantFonts" in descendant:
                descendant = descendant["/DescendantFonts"][0].get_object()
            descriptor = descendant["/FontDescriptor"].get_object()
            assert any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3"))
    return reader


@pytest.fixture
def paid(client, db):
    sign_in(client, "alfred.depot")
    number, _ = pay_through_the_app(client)
    return number


@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_attestation_is_tagged_in_reading_order(client, paid, language):
    client.get(f"/?lang={language}")
    content = client.get(f"/demandes/{paid}/attestation.pdf").data
    title = {"fr": f"Attestation de demande n° {paid}", "en": f"Request certificate no. {paid}"}
    check_tagged(content, language, title[language])
    assert flat(structure(content)) == [
        "Document",
        "P",  # the organisation and its address
        "P",  # the date
        "H1",
        "P",  # validity, number, amount paid
        "P",  # « Je soussigné(e) … »
        "L",  # the two options, each with its box's state in words
        "LI",
        "LBody",
        "LI",
        "LBody",
        "P",  # « Pour faire valoir ce que de droit, »
    ]
    text = text_of(content)
    expected = {
        "fr": [
            "Le 22 novembre 2026",
            "Attestation de demande",
            "Je soussigné(e) Alfred DEPOT, né(e) le 16/09/1977",
            "Case cochée : Duplicata de ma carte mobilité inclusion Invalidité",
            "Case non cochée : Second exemplaire de ma carte mobilité inclusion Invalidité",
            "Pour faire valoir ce que de droit,",
        ],
        "en": [
            "22 November 2026",
            "Request certificate",
            "I, the undersigned, Alfred DEPOT, born on 16 Sept 1977",
            "Box ticked: Replacement for my mobility inclusion card Disability",
            "Box not ticked: Second copy of my mobility inclusion card Disability",
            "Issued for all legal purposes.",
        ],
    }[language]
    assert_in_reading_order(text, expected)


@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_terms_are_tagged_with_a_heading_per_section(app, language):
    with app.test_request_context("/"), force_locale(language):
        content = current_terms_pdf()
    title = {
        "fr": "Conditions Générales d'Utilisation et de Délivrance",
        "en": "Terms of use and issue",
    }[language]
    check_tagged(content, language, title)
    roles = flat(structure(content))
    assert roles[:4] == ["Document", "P", "H1", "P"]  # organisation, title, version
    assert roles.count("H2") == 9  # eight sections and « Contact »
    assert roles[-2:] == ["H2", "P"]
    first = {"fr": "1. Objet du service", "en": "1. What the service does"}[language]
    price = {"fr": "9,02 € par carte", "en": "€9.02 per card"}[language]
    text = text_of(content)
    assert text.index(title) < text.index(first) < text.index(price)


@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_credentials_letter_is_tagged_one_section_per_letter(app, language):
    letters = [
        Letter(
            "elodie.lefevre", "ABCD-EFGH-JKLM", ["Élodie LEFÈVRE", "4 rue des Lilas", "59000 LILLE"]
        ),
        Letter("anne.petit", "NPQR-STUV-WXYZ", ["Anne PETIT", "1 place du Marché", "75001 PARIS"]),
    ]
    with app.app_context(), force_locale(language):
        content = credentials_letters(
            letters, date(2026, 12, 1), "https://cmi.example.org", "Imprimerie Nationale", "c@x.org"
        )
    title = {
        "fr": "Vos codes de connexion - Carte mobilité inclusion",
        "en": "Your sign-in details - Mobility inclusion card",
    }[language]
    reader = check_tagged(content, language, title)
    assert len(reader.pages) == 2
    one_letter = [
        "Sect",
        "P",  # the sender
        "P",  # the address, where the envelope's window shows it
        "P",  # the date
        "Div",
        "H1",
        "P",
        "P",
        "Div",  # the two codes
        "P",
        "P",
        "P",  # « La première fois que vous vous connectez : »
        "L",  # the four steps, numbered
        *["LI", "Lbl", "LBody"] * 4,
        "P",
        "P",
        "P",  # how to get it in large print
    ]
    assert flat(structure(content)) == ["Document", *one_letter, *one_letter]
    first = " ".join(reader.pages[0].extract_text().split())
    expected = {
        "fr": [
            "Élodie LEFÈVRE 4 rue des Lilas 59000 LILLE",
            "Le 01/12/2026",
            "Votre identifiant : elodie.lefevre",
            "Votre code d'activation : ABCD-EFGH-JKLM",
            "Allez sur https://cmi.example.org",
            "Une question ? Écrivez-nous : c@x.org",
        ],
        "en": [
            "Élodie LEFÈVRE 4 rue des Lilas 59000 LILLE",
            "1 Dec 2026",
            "Your username: elodie.lefevre",
            "Your activation code: ABCD-EFGH-JKLM",
            "Go to https://cmi.example.org",
            "A question? Write to us: c@x.org",
        ],
    }[language]
    assert_in_reading_order(first, expected)
    assert "Anne PETIT" in reader.pages[1].extract_text()


def letter_sizes(content: bytes) -> dict[str, float]:
    """Each line of text of the letter's first page, with its size in points."""
    sizes: dict[str, float] = {}

    def visit(text, cm, tm, _font, size):
        if text.strip():
            scale = math.hypot(tm[0], tm[1]) * math.hypot(cm[0], cm[1])
            sizes.setdefault(text.strip(), round(size * scale, 1))

    PdfReader(io.BytesIO(content)).pages[0].extract_text(visitor_text=visit)
    return sizes


@pytest.mark.parametrize("large_print", [False, True])
def test_the_credentials_letter_is_in_clear_print(app, large_print):
    """Clear-print guidance: 12 pt at least (16 in large print), headings larger, the
    codes larger still; and the letter says how to get it in large print."""
    letter = Letter("elodie.lefevre", activation_code_from("seed", "key"), ["Élodie LEFÈVRE"])
    with app.app_context(), force_locale("fr"):
        content = credentials_letters(
            [letter], date(2026, 12, 1), "https://cmi.example.org", "Imprimerie", "c@x.org",
            large_print=large_print,
        )  # fmt: skip
    sizes = letter_sizes(content)
    body = 16 if large_print else 12
    assert min(sizes.values()) == body, sizes
    assert sizes["Bonjour,"] == body
    heading = next(size for text, size in sizes.items() if text.startswith("Vos codes pour"))
    code = next(size for text, size in sizes.items() if text.startswith("Votre code"))
    assert heading > body and code > body
    text = " ".join(PdfReader(io.BytesIO(content)).pages[0].extract_text().split())
    offer = "Nous vous l'envoyons en gros caractères : écrivez-nous à c@x.org"
    assert (offer in text) != large_print  # the large-print letter needs no offer


def test_an_activation_code_has_no_two_characters_that_look_alike():
    look_alike = set("0O1IL2Z5S8B")
    codes = [activation_code_from(f"seed-{n}", "key") for n in range(500)]
    assert not look_alike & set("".join(codes))
    assert all(re.fullmatch(r"[A-Z0-9]{4}(-[A-Z0-9]{4}){3}", code) for code in codes)
    assert activation_code_from("seed-1", "key") == codes[1]  # derived: the same each time
    assert not look_alike & set(example_activation_code())


@pytest.mark.parametrize(
    "typed",
    [
        "PN4T-KMPM-UJNW-N4H9",
        "pn4t-kmpm-ujnw-n4h9",
        "PN4T KMPM UJNW N4H9",
        "PN4TKMPMUJNWN4H9",
        " PN4T\u2013KMPM\u2013UJNW\u2013N4H9 ",  # a word processor's dashes
    ],
)
def test_a_code_is_accepted_however_it_is_typed(typed):
    assert activation_digest(typed) == activation_digest("PN4T-KMPM-UJNW-N4H9")


def test_a_code_printed_with_the_earlier_alphabet_still_works():
    # The account keeps the digest of the code as printed: B, S, Z or 8 in it or not.
    assert activation_digest("abcd-efgh-jkmn-pqrs") == activation_digest("ABCD-EFGH-JKMN-PQRS")
