"""English everywhere: every text the code marks has its translation, with the same
placeholders, and the pages read in English carry no French left behind.

A text added in French without its English fails ``test_every_text_has_its_english``
and names it; a French text left unmarked in a template fails the page checks below.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from models import ordering, payments
from models import requests as card_requests
from models.people import Account, Beneficiary
from models.shared.db import database
from models.shared.mail import OutboxEmail

from .helpers import post_form, sign_in

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "views/translations/en/LC_MESSAGES/messages.po"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def source_messages() -> dict:
    """Every text the code marks for translation, read from the code as ``make
    messages`` reads it, and where each one is."""
    with (ROOT / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    keywords = {**DEFAULT_KEYWORDS, "lazy_gettext": None, "lazy_pgettext": ((1, "c"), 2)}
    found: dict = {}
    for filename, _line, message, _comments, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=keywords
    ):
        found.setdefault((message, context), filename)
    return found


def catalogue():
    with CATALOGUE.open("rb") as file:
        return read_po(file)


def untranslated(messages: dict, translations) -> list[str]:
    problems = []
    for (message, context), where in messages.items():
        key = message[0] if isinstance(message, tuple) else message
        entry = translations.get(key, context=context)
        strings = entry.string if entry is not None else None
        if isinstance(strings, str):
            strings = (strings,)
        if entry is None or not strings or not all(strings) or entry.fuzzy:
            problems.append(f"{where}: {key!r}")
    return problems


@pytest.fixture(scope="module")
def messages():
    return source_messages()


def test_every_text_has_its_english(messages):
    assert len(messages) > 500  # the extraction did read the templates and the code
    problems = untranslated(messages, catalogue())
    assert not problems, "No English for:\n" + "\n".join(problems)


def test_a_text_without_its_english_is_caught(messages):
    translations = catalogue()
    sample = next(m for m in messages if isinstance(m[0], str) and "Mot de passe" in m[0])
    translations.get(sample[0], context=sample[1]).string = ""
    assert untranslated(messages, translations) == [f"{messages[sample]}: {sample[0]!r}"]


def test_each_translation_keeps_the_placeholders_of_its_french(messages):
    for entry in catalogue():
        if not entry.id:
            continue
        ids = entry.id if isinstance(entry.id, tuple) else (entry.id,)
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        wanted = set(PLACEHOLDER.findall(ids[-1]))
        for string in strings:
            found = set(PLACEHOLDER.findall(string))
            # A plural may say « one » instead of the count: never a name the French lacks.
            assert found <= wanted and (found == wanted or len(strings) > 1), entry.id
            assert string.count("%%") == ids[-1].count("%%") or "%%" not in ids[-1], entry.id


def test_the_catalogue_holds_only_texts_the_code_still_says(messages):
    ids = {(_key(m), context) for m, context in messages}
    stale = [
        entry.id for entry in catalogue() if entry.id and (_key(entry.id), entry.context) not in ids
    ]
    assert not stale, "Texts no longer in the code (run `make messages`):\n" + "\n".join(
        map(repr, stale)
    )


def _key(message_id) -> str:
    return message_id[0] if isinstance(message_id, tuple) else message_id


# -- pages read in English ----------------------------------------------------------------


# Words that only French writes: one of them outside a French name is a text left
# untranslated (or never marked).
FRENCH_ONLY = {
    "vous", "votre", "vos", "est", "sont", "une", "les", "des", "pour", "avec", "dans",
    "sur", "pas", "qui", "aux", "du", "au", "et", "le", "la", "de", "ou", "cette", "ces",
    "carte", "cartes", "demande", "étape", "suivant", "précédent", "valider", "modifier",
    "annuler", "adresse", "connexion", "données", "retour", "oui", "non", "erreur",
    "identifiant", "mot", "passe", "paiement", "livraison", "récapitulatif", "engagement",
}  # fmt: skip


class _Text(HTMLParser):
    """The words a reader meets on a page (and in its title and labels), without what
    is marked as French (``lang="fr"``: names of French bodies) or never shown."""

    VOID = frozenset({"br", "img", "input", "meta", "link", "hr", "source", "wbr", "area", "col"})

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[bool] = []  # per open element: inside French or hidden text
        self.words: list[str] = []

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        skipped = bool(self.stack and self.stack[-1])
        skipped |= values.get("lang", "").startswith("fr") or tag in {"script", "style"}
        if not skipped:
            for name in ("aria-label", "alt", "title", "placeholder"):
                if values.get(name):
                    self.words.append(values[name])
            if tag == "input" and values.get("type") in {"submit", "button"}:
                self.words.append(values.get("value") or "")
        if tag not in self.VOID:
            self.stack.append(skipped)

    def handle_endtag(self, tag):
        if tag not in self.VOID and self.stack:
            self.stack.pop()

    def handle_data(self, data):
        if not (self.stack and self.stack[-1]):
            self.words.append(data)


def french_left(html: str, data: list[str]) -> list[str]:
    parser = _Text()
    parser.feed(html)
    text = " ".join(parser.words)
    for value in sorted(data, key=len, reverse=True):
        text = text.replace(value, " ")
    # Words quoted as printed on a card or a form (‘Carte mobilité inclusion’) are names.
    text = re.sub(r"‘[^’]*’|“[^”]*”", " ", text)
    found = []
    for sentence in re.split(r"(?<=[.:!?])\s+|\n", text):
        words = set(re.findall(r"[\wÀ-ÿ]+", sentence.lower()))
        if words & FRENCH_ONLY:
            found.append(" ".join(sentence.split()))
    return found


def english(client, url: str, data: list[str] = (), status: int = 200, method="get", form=None):
    response = post_form(client, url, form or {}) if method == "post" else client.get(url)
    assert response.status_code == status, (url, response.status_code)
    html = response.get_data(as_text=True)
    assert '<html lang="en">' in html or not html.startswith("<!DOCTYPE"), url
    left = french_left(html, [*data, "CMI"])
    assert not left, f"{url} still says in French:\n" + "\n".join(left)
    return html


@pytest.fixture
def reader(client):
    """A visitor who chose English (with a browser that asks for French)."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "fr-FR,fr;q=0.9"
    assert '<html lang="en">' in client.get("/?lang=en").text
    return client


def service_data(app) -> list[str]:
    """The service's own names and addresses, as its settings write them."""
    address = app.config["ORGANISATION_ADDRESS"]
    config = app.config
    return [
        config["PAYMENT_MERCHANT_NAME"],  # as the bank's page shows it
        config["CONTACT_EMAIL"],
        config["ORGANISATION_NAME"],
        ", ".join(address),
        *address,
    ]


PUBLIC_PAGES = [
    "/",
    "/connexion",
    "/connexion?expiree=1",
    "/identifiant-oublie",
    "/mot-de-passe-oublie",
    "/accessibilite",
    "/mentions-legales",
    "/contact",
    "/documents/conditions-generales",
    "/j-ai-perdu-ma-carte",
    "/j-ai-perdu-ma-carte?facile=1",
    "/j-ai-perdu-ma-carte?facile=0",
    "/deconnecte",
    "/courriel-envoye?sujet=identifiant",
    "/courriel-envoye?sujet=mot-de-passe",
    "/mot-de-passe-modifie",
]


def test_the_public_pages_read_in_english(reader, app):
    for url in PUBLIC_PAGES:
        english(reader, url, service_data(app))
    english(reader, "/nulle-part", status=404)
    english(reader, "/mot-de-passe/lien-inconnu", status=404)


def test_every_question_and_end_point_of_the_guidance_reads_in_english(reader, app):
    from .test_guidance import PATHS

    data = service_data(app)
    for easy in ("0", "1"):
        reader.get(f"/j-ai-perdu-ma-carte?facile={easy}")
        for answers in PATHS.values():
            query = "&".join(f"{k}={v}" for k, v in answers.items())
            english(reader, f"/j-ai-perdu-ma-carte?{query}", data)
        english(reader, "/j-ai-perdu-ma-carte?etape=carte", data)  # sent with no answer


def test_errors_read_in_english(reader):
    english(reader, "/connexion", method="post", form={"username": "", "password": ""}, status=200)
    page = english(reader, "/connexion", method="post", form={"username": "x", "password": "y"})
    assert "Error: " in page


def person_data(username: str) -> list[str]:
    """What the pages show of this account's people: names and addresses, as written."""
    with database.connection_context():
        account = Account.get(Account.username == username)
        data = [account.display_name, account.username, account.email]
        for person in account.beneficiaries():
            data.append(person.display_name)
            data.append(person.last_name)
            for address in (person.address, person.delivery_address):
                data.append(address.one_line())
                data.extend(address.lines())
        data.extend(b.display_name for b in Beneficiary.select())
    return [value for value in data if value]


def test_the_request_pages_read_in_english(reader, app, db):
    from .test_payments import pay_through_the_app, recorded_request

    sign_in(reader, "alfred.depot")
    data = person_data("alfred.depot") + service_data(app)
    english(reader, "/mes-donnees", data)
    english(reader, "/mes-donnees/photo/1", data)
    english(reader, "/mes-donnees/photo/1", data, method="post", form={})  # no file chosen
    english(reader, "/demande/engagement", data)
    english(reader, "/demande/engagement", data, method="post", form={})  # its error
    assert post_form(reader, "/demande/engagement", {"accept": "y"}).status_code == 303
    english(reader, "/demande/choix", data)
    english(reader, "/demande/choix", data, method="post", form={})  # its error
    request = recorded_request()
    for url in ("/demande/livraison", "/demande/livraison?modifier=1"):
        english(reader, url, data)
    ordering.check_delivery(request)
    english(reader, "/demande/paiement", data)
    number, reference = pay_through_the_app(reader, request)
    for url in (
        f"/demandes/{number}",
        f"/demandes/{number}/attestation",
        f"/paiement-securise/{reference}/recu",
        "/mes-donnees",
    ):
        english(reader, url, [*data, str(number)])


# -- whose language: the reader's, the account's, the browser's --------------------------


def outbox() -> list[OutboxEmail]:
    with database.connection_context():
        return list(OutboxEmail.select().order_by(OutboxEmail.id))


def test_the_browser_language_counts_until_the_reader_chooses(app):
    browser = app.test_client()
    browser.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en-GB,en;q=0.9,fr;q=0.5"
    page = browser.get("/").text
    assert '<html lang="en">' in page
    assert 'hreflang="fr" lang="fr"' in page or 'lang="fr" hreflang="fr"' in page
    assert '<html lang="fr">' in browser.get("/?lang=fr").text
    assert '<html lang="fr">' in browser.get("/").text  # the choice holds
    german = app.test_client()
    german.environ_base["HTTP_ACCEPT_LANGUAGE"] = "de-DE,de;q=0.9"
    assert '<html lang="fr">' in german.get("/").text


def test_the_agents_console_stays_french(app):
    browser = app.test_client()
    browser.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    browser.get("/?lang=en")
    page = browser.get("/gestion/connexion").text
    assert '<html lang="fr">' in page
    assert 'hreflang="fr"' not in page and 'hreflang="en"' not in page  # no switch there


def test_the_accounts_language_follows_its_holder_and_its_emails_too(app, db):
    from views.citizen.payment import send_confirmation

    from .test_payments import apply, provider_answer, recorded_request

    browser = app.test_client()
    sign_in(browser, "alfred.depot")
    browser.get("/mes-donnees?lang=en")
    with database.connection_context():
        assert Account.get(Account.username == "alfred.depot").language == "en"
    # Elsewhere, in a browser that asks for French: the account's language wins.
    other = app.test_client()
    other.environ_base["HTTP_ACCEPT_LANGUAGE"] = "fr-FR,fr;q=0.9"
    sign_in(other, "alfred.depot")
    assert '<html lang="en">' in other.get("/mes-donnees").text

    # The confirmation, sent on the provider's notification (no session): in English.
    with database.connection_context():
        request = recorded_request()
        payment = payments.start_payment(request, payments.amount_due(request))
        assert apply(*provider_answer(payment)).newly_paid
        with app.test_request_context("/paiement/notification", method="POST"):
            send_confirmation(card_requests.CardRequest.get_by_id(request.id))
    (email,) = [e for e in outbox() if str(request.number) in e.subject]
    assert email.subject == f"Your replacement card request no. {request.number} has been recorded"
    assert "€9.02" in email.text and "9,02" not in email.text
    assert '<html lang="en">' in email.html


def test_a_forgotten_password_email_is_written_in_the_askers_language(app, db):
    browser = app.test_client()
    browser.get("/mot-de-passe-oublie?lang=en")
    response = post_form(browser, "/mot-de-passe-oublie", {"username": "camille.martin"})
    assert response.status_code == 303
    (email,) = outbox()
    assert email.subject == "Choose a new password - Mobility inclusion card (CMI)"
    french = app.test_client()
    french.get("/?lang=fr")
    post_form(french, "/identifiant-oublie", {"email": "camille.martin@example.org"})
    assert outbox()[-1].subject == "Votre identifiant - Carte mobilité inclusion"


def test_texts_and_form_messages_are_read_once_per_process_in_each_language(app):
    """The catalogues are read from their files once, not at every request; each
    language still gets its own (WTForms' own messages included)."""
    from flask_babel import force_locale

    from models.shared.i18n import catalogue
    from views.shared.forms import Form

    seen = {}
    for _ in range(2):
        for language in ("fr", "en"):
            with app.test_request_context("/"), force_locale(language):
                form = Form()
                found = (catalogue(), form.meta.get_translations(form))
                assert seen.setdefault(language, found) == found  # the same objects
                words = form.meta.get_translations(form).gettext("Not a valid choice.")
                expected = {"fr": "N'est pas un choix valide.", "en": "Not a valid choice."}
                assert words == expected[language]
    assert seen["fr"][0] is not seen["en"][0]


def test_template_texts_escape_like_their_template_and_are_always_format_strings(app):
    """The templates' own gettext keeps the i18n extension's « newstyle » rules."""
    from flask import render_template_string

    source = (
        '{{ _("a <b>") }}|{{ _("100 %%") }}|{{ _("%(who)s", who="<x>") }}|'
        '{% trans who="<y>" %}Par {{ who }}{% endtrans %}|'
        '{{ ngettext("%(num)s carte", "%(num)s cartes", 2) }}|'
        # Any name may be a variable, the functions' own parameters' too.
        '{% trans string="s", context="c" %}{{ string }}{{ context }}{% endtrans %}'
    )
    with app.test_request_context("/"):
        # A text is markup of ours; its variables are escaped where the page escapes.
        assert render_template_string(source) == ("a <b>|100 %|&lt;x&gt;|Par &lt;y&gt;|2 cartes|sc")
        # An e-mail's text part does not escape.
        plain = "{% autoescape false %}" + source + "{% endautoescape %}"
        assert render_template_string(plain) == "a <b>|100 %|<x>|Par <y>|2 cartes|sc"
