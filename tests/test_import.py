"""Cards in: the CMI database's extract, the credentials letters, first sign-in, and the
schema migration that made room for them (SQLite and PostgreSQL)."""

from __future__ import annotations

import io
from datetime import date, datetime

import pytest
from pypdf import PdfReader

import app as application
import models
from models import (
    Account,
    Agent,
    AgentSession,
    AuditEntry,
    Beneficiary,
    Card,
    CredentialsLetter,
    FactoryBatch,
    LetterFile,
    Mandate,
    Payment,
    PhotoUpload,
    RequestLine,
    cmi_import,
    letters,
)
from models.demo.data import demo_password_hash
from models.operator.results import ActionResult
from models.people import Address
from models.shared import migrations
from models.shared.db import database
from models.shared.kept_answers import KeptAnswers
from models.shared.security import activation_digest
from views.shared.documents import credentials_letters

from .helpers import post_form

HEADER = ";".join(cmi_import.COLUMNS)
GOOD = {
    "numero_identifiant": "101",
    "type_personne": "physique",
    "nom": "Lefèvre",
    "prenom": "Élodie",
    "date_naissance": "03/02/1980",
    "courriel": "elodie@example.org",
    "adresse_4": "4 rue des Lilas",
    "code_postal": "59000",
    "ville": "LILLE",
    "numero_carte": "1000000000000101",
    "mention": "Invalidité",
    "sous_mentions": "besoin d'accompagnement|cécité",
    "debut_validite": "01/01/2024",
    "fin_validite": "31/12/2033",
    "ancien_format": "0",
}
CHILD = {
    **GOOD,
    "numero_identifiant": "102",
    "prenom": "Zoé",
    "nom": "Petit",
    "date_naissance": "01/01/2016",
    "courriel": "",
    "representant_identifiant": "R77",
    "representant_nom": "Petit",
    "representant_prenom": "Anne",
    "representant_courriel": "anne@example.org",
    "numero_carte": "1000000000000102",
    "sous_mentions": "",
}
TODAY = date(2026, 11, 29)
KEY = "a-secret-key-for-these-tests"


def csv_text(*rows: dict) -> str:
    lines = [HEADER]
    for row in rows:
        lines.append(";".join(row.get(column, "") for column in cmi_import.COLUMNS))
    return "\r\n".join(lines) + "\r\n"


def rejected(*rows: dict) -> list[tuple[int, str]]:
    return cmi_import.read(csv_text(*rows), TODAY).rejected


def owed_letters(key: str = KEY) -> list[letters.Letter]:
    """The letters the import owes, with their codes, as a printing run gets them."""
    letters.owe_first_letters(key)
    found = []
    while (letter_file := letters.record_next_file("courriers")) is not None:
        found += letters.letters_of(letter_file, key)
    return found


# -- reading: every bad row told by its line and reason ---------------------------------


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"date_naissance": "32/01/1980"}, "date_naissance « 32/01/1980 »"),
        ({"mention": "Couleur"}, "mention « Couleur » inconnue"),
        ({"numero_carte": "100000000000010"}, "16 chiffres attendus"),
        ({"adresse_4": "x" * 39}, "adresse_4 : 39 caractères"),
        ({"type_personne": "autre"}, "type_personne « autre »"),
        ({"sous_mentions": "rouge"}, "sous_mentions « rouge » inconnue"),
        ({"fin_validite": "01/01/2020"}, "fin_validite avant debut_validite"),
        ({"date_revocation": "01/01/2025"}, "date_revocation et motif_revocation vont ensemble"),
        ({"courriel": "pas-une-adresse"}, "adresse électronique invalide"),
        ({"code_postal": "5900"}, "5 chiffres attendus en France"),
        ({"ancien_format": "2"}, "0 ou 1 attendu"),
        ({"date_naissance": "01/01/2016"}, "bénéficiaire mineur sans représentant légal"),
        ({"representant_nom": "Petit"}, "vont ensemble"),
        ({"type_personne": "morale"}, "doivent être vides pour une personne morale"),
        ({"nom": "Le\x00fèvre"}, "caractère de contrôle"),
    ],
)
def test_a_bad_row_is_rejected_with_its_line_and_reason_and_the_good_rows_go_in(change, reason):
    extract = cmi_import.read(csv_text(GOOD, {**GOOD, "numero_carte": "2" * 16, **change}), TODAY)
    assert len(extract.rejected) == 1
    line, why = extract.rejected[0]
    assert line == 3 and reason in why, extract.rejected
    assert list(extract.cards) == ["1000000000000101"]


def test_rows_that_contradict_each_other_are_rejected():
    assert rejected(GOOD, {**GOOD, "nom": "Autre"}) == [(3, "bénéficiaire différent de la ligne 2")]
    assert rejected(GOOD, GOOD) == [(3, "numero_carte déjà à la ligne 2")]
    other = {**CHILD, "numero_carte": "3" * 16, "representant_prenom": "Paul"}
    assert rejected(CHILD, other) == [(3, "représentant différent de la ligne 2")]
    short = {**GOOD, "type_personne": "physique"}
    assert rejected(short) == []
    too_many = csv_text(GOOD).replace("\r\n1", "\r\n1", 1).rstrip() + ";de trop\r\n"
    assert cmi_import.read(too_many, TODAY).rejected == [(2, "26 colonnes, 25 attendues")]


def test_utf8_with_or_without_bom_and_windows_1252_read_the_same():
    text = csv_text(GOOD, CHILD)
    for data, encoding in (
        (text.encode("utf-8"), "utf-8"),
        ("\ufeff".encode() + text.encode("utf-8"), "utf-8"),
        (text.encode("cp1252"), "windows-1252"),
    ):
        extract = cmi_import.read(cmi_import.decode(data, encoding), TODAY)
        assert extract.people[101].first_name == "Élodie" and not extract.rejected
    with pytest.raises(cmi_import.BadFile, match="line 2 is not utf-8"):
        cmi_import.decode(text.encode("cp1252"), "utf-8")
    with pytest.raises(cmi_import.BadFile, match="missing columns: mention"):
        cmi_import.read(text.replace("mention;", "mentions;"), TODAY)


# -- writing ------------------------------------------------------------------------------


def test_importing_twice_changes_nothing_and_a_later_file_updates_what_changed(db):
    outcome = cmi_import.write(cmi_import.read(csv_text(GOOD, CHILD), TODAY))
    assert outcome.created == {"accounts": 2, "beneficiaries": 2, "cards": 2, "mandates": 2}
    anne = Account.get(Account.username == "anne.petit")
    assert anne.password_hash == "" and anne.external_key == "R:R77"
    assert Mandate.get(Mandate.account == anne).role == Mandate.LEGAL_REPRESENTATIVE
    card = Card.get(Card.number == "1000000000000101")
    assert card.needs_companion and card.blindness and card.valid_until == date(2033, 12, 31)

    counts = [m.select().count() for m in (Account, Beneficiary, Card, Mandate)]
    again = cmi_import.write(cmi_import.read(csv_text(GOOD, CHILD), TODAY))
    assert again.created == {} or not any(again.created.values())
    assert not any(again.updated.values())
    assert [letter.username for letter in owed_letters()] == ["elodie.lefevre", "anne.petit"]
    assert owed_letters() == []  # one letter each, once
    assert [m.select().count() for m in (Account, Beneficiary, Card, Mandate)] == counts

    moved = {**GOOD, "adresse_4": "9 rue Neuve", "fin_validite": ""}
    revoked = {**CHILD, "date_revocation": "02/11/2026", "motif_revocation": "Titre volé"}
    later = cmi_import.write(cmi_import.read(csv_text(moved, revoked), TODAY))
    assert later.updated == {"beneficiaries": 1, "cards": 2}
    elodie = Beneficiary.get(Beneficiary.number == 101)
    assert elodie.address.street == "9 rue Neuve" == elodie.delivery_address.street
    assert Card.get(Card.number == "1000000000000101").valid_until is None  # à titre définitif
    assert Card.get(Card.number == "1000000000000102").revoked_on == date(2026, 11, 2)

    # An older extract that does not know of the revocation does not undo it; a file
    # without a card deletes nothing.
    cmi_import.write(cmi_import.read(csv_text(GOOD, CHILD), TODAY))
    assert Card.get(Card.number == "1000000000000102").revoked_on == date(2026, 11, 2)
    cmi_import.write(cmi_import.read(csv_text(GOOD), TODAY))
    assert Card.select().where(Card.number == "1000000000000102").exists()


def test_a_card_number_another_beneficiary_holds_is_refused(db):
    taken = {**GOOD, "numero_carte": "0000000000000001"}  # Alfred's, in the demo data
    outcome = cmi_import.write(cmi_import.read(csv_text(CHILD, taken), TODAY))
    assert outcome.rejected == [(3, "numero_carte déjà attribué à un autre bénéficiaire")]
    assert Card.get(Card.number == "0000000000000001").beneficiary.number == 1
    assert not Beneficiary.select().where(Beneficiary.number == 101).exists()


def test_a_dry_run_counts_and_writes_nothing(db):
    before = Account.select().count()
    outcome = cmi_import.write(cmi_import.read(csv_text(GOOD, CHILD), TODAY), dry_run=True)
    assert outcome.created == {"accounts": 2, "beneficiaries": 2, "cards": 2}
    assert Account.select().count() == before
    assert not Card.select().where(Card.number == "1000000000000101").exists()


def test_usernames_are_unique_and_plain(db):
    twin = {**GOOD, "numero_identifiant": "103", "numero_carte": "1000000000000103"}
    cmi_import.write(cmi_import.read(csv_text(GOOD, twin), TODAY))
    assert [letter.username for letter in owed_letters()] == ["elodie.lefevre", "elodie.lefevre2"]


# -- the letter and the first sign-in -------------------------------------------------------


def test_the_letter_is_one_page_per_account_with_its_text_extractable(app, db):
    cmi_import.write(cmi_import.read(csv_text(GOOD, CHILD), TODAY))
    owed = owed_letters()
    with app.app_context():
        pdf = credentials_letters(
            owed, TODAY, "https://cmi.example.org", "Imprimerie Nationale", "c@x.org"
        )
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 2
    first = reader.pages[0].extract_text()
    code = owed[0].code
    for expected in (
        "Élodie LEFÈVRE",
        "4 rue des Lilas",
        "59000 LILLE",
        "Votre identifiant : elodie.lefevre",
        f"Votre code d'activation : {code}",
        "Allez sur https://cmi.example.org",
    ):
        assert expected in first
    assert "Anne PETIT" in reader.pages[1].extract_text()
    assert reader.metadata.title == "Vos codes de connexion - Carte mobilité inclusion"


def test_the_first_sign_in_uses_the_letters_code_once_to_choose_a_password(app, client):
    with database.connection_context():
        cmi_import.write(cmi_import.read(csv_text(GOOD), TODAY))
        (letter,) = owed_letters()
    code = letter.code
    typed = code.lower().replace("-", " ")  # as a person may type it
    answer = post_form(client, "/connexion", {"username": "elodie.lefevre", "password": typed})
    assert answer.status_code == 303 and "/mot-de-passe/" in answer.location
    page = client.get(answer.location)
    assert '<h1 tabindex="-1">Choisir votre mot de passe</h1>' in page.text
    new = "Lilas-fleuris-2026"
    done = post_form(client, answer.location, {"password": new, "confirmation": new})
    assert done.status_code == 303
    with database.connection_context():
        account = Account.get(Account.username == "elodie.lefevre")
        assert account.activation_digest is None and account.password_hash
    again = post_form(client, "/connexion", {"username": "elodie.lefevre", "password": code})
    assert again.status_code != 303 or "/mot-de-passe/" not in again.location
    signed = post_form(client, "/connexion", {"username": "elodie.lefevre", "password": new})
    assert signed.status_code == 303 and "/mot-de-passe/" not in signed.location


def test_a_wrong_code_counts_as_a_failed_sign_in(app, client):
    with database.connection_context():
        cmi_import.write(cmi_import.read(csv_text(GOOD), TODAY))
        owed_letters()
        assert Account.get(Account.username == "elodie.lefevre").activation_digest != (
            activation_digest("AAAA-AAAA-AAAA-AAAA")
        )
    wrong = post_form(
        client, "/connexion", {"username": "elodie.lefevre", "password": "AAAA-AAAA-AAAA-AAAA"}
    )
    assert wrong.status_code != 303 or "/mot-de-passe/" not in (wrong.location or "")


# -- the command ----------------------------------------------------------------------------


def test_the_command_reports_rejects_writes_letters_and_is_safe_twice(
    app, tmp_path, capsys, operator_env
):
    extract = tmp_path / "extrait.csv"
    extract.write_bytes(csv_text(GOOD, CHILD, {**GOOD, "mention": "Couleur"}).encode("cp1252"))
    url = app.config["DATABASE_URL"]
    args = ["--database", url, "import-cards", str(extract), "--encoding", "windows-1252"]
    assert application.main(args) == 1  # some rows rejected
    out = capsys.readouterr().out
    assert "3 rows: 2 accepted, 1 rejected; created 2 accounts" in out
    report = (tmp_path / "extrait-rejets.csv").read_text("utf-8-sig")
    assert report.splitlines() == [
        "ligne;motif",
        "4;mention « Couleur » inconnue : Invalidité, Priorité, Stationnement",
    ]
    assert "2 letter(s) printed in 1 file(s)" in out
    files = list((tmp_path / "courriers").glob("courriers-*.pdf"))
    assert len(files) == 1 and len(PdfReader(files[0]).pages) == 2
    assert application.main(args) == 1
    again = capsys.readouterr().out
    assert "created nothing; updated nothing; rejected rows in" in again
    assert again.splitlines()[0].endswith("; no letter to print.")
    assert list((tmp_path / "courriers").iterdir()) == files
    assert application.main(["--database", url, "import-cards", str(tmp_path / "absent.csv")]) == 2


# -- the schema migration ---------------------------------------------------------------------


# What each step of the migrations added: without them, the models make the schema
# as it was before (version 0).
ADDED = {
    Account: ("external_key", "activation_digest"),
    Payment: ("refund_amount", "refund_reference", "refunded_on"),
    RequestLine: (
        "batch",
        "exported_at",
        "made_on",
        "shipped_on",
        "tracking_number",
        "returned_on",
        "status_on",
        "shipped_email",
        "returned_email",
    ),
}
ADDED_TABLES = (
    FactoryBatch,
    Agent,
    AgentSession,
    AuditEntry,
    LetterFile,
    CredentialsLetter,
    PhotoUpload,
    KeptAnswers,
    ActionResult,
    migrations.SchemaVersion,
)
# (the agent table arrives whole at step 3; step 5's columns are checked by a test of its own)


def make_version_0() -> None:
    """A database as version 0 made it, with its demo data."""
    database.drop_tables(models.ALL_MODELS, safe=True)
    removed = {model: [model._meta.fields[n] for n in names] for model, names in ADDED.items()}
    indexes = list(RequestLine._meta.indexes)
    try:
        for model, fields in removed.items():
            for field in fields:
                model._meta.remove_field(field.name)
        RequestLine._meta.indexes = [i for i in indexes if "batch" not in str(i)]
        old = [m for m in models.ALL_MODELS if m not in ADDED_TABLES]
        database.create_tables(old)
        # Data as version 0 wrote it (only the columns it had).
        address = Address.create(
            name="Alfred DEPOT", street="25 route de la Libertine", city="LILLE"
        )
        alfred = Beneficiary.create(
            number=1,
            last_name="DEPOT",
            first_name="Alfred",
            birth_date=date(1977, 9, 16),
            address=address,
            delivery_address=address.copy(),
        )
        account = Account.insert(
            username="alfred.depot",
            password_hash=demo_password_hash("alfred.depot"),
            email="alfred.depot@example.org",
            display_name="Alfred DEPOT",
            created_at=datetime(2026, 1, 1),
        ).execute()
        Mandate.create(account=account, beneficiary=alfred)
        Card.create(
            number="0000000000000001",
            beneficiary=alfred,
            mention="Invalidité",
            valid_from=date(2024, 1, 1),
        )
    finally:
        for model, fields in removed.items():
            for field in fields:
                model._meta.add_field(field.name, field)
        RequestLine._meta.indexes = indexes


def columns() -> dict[str, list[str]]:
    return {
        table: sorted(column.name for column in database.get_columns(table))
        for table in sorted(database.get_tables())
    }


def test_the_migration_brings_a_version_0_database_with_data_up_to_date(app, capsys):
    with database.connection_context():
        fresh = columns()
        make_version_0()
        assert migrations.version() == 0
        with pytest.raises(migrations.SchemaOutOfDate, match=r"run « python app\.py migrate »"):
            migrations.check()
    url = app.config["DATABASE_URL"]
    # (each run of the command binds the models to a database of its own: hence the
    # connections opened again after it)
    assert application.main(["--database", url, "--send-outbox"]) == 2
    assert "Refusing to start: The database's schema is version 0" in capsys.readouterr().err
    assert application.main(["--database", url, "migrate"]) == 0
    assert f"Schema migrated from version 0 to {migrations.CURRENT}" in capsys.readouterr().out
    with database.connection_context():
        assert migrations.version() == migrations.CURRENT
        assert columns() == fresh  # the same tables and columns as a new database
        alfred = Account.get(Account.username == "alfred.depot")  # the data is still there
        assert alfred.external_key is None and alfred.password_hash
    assert application.main(["--database", url, "migrate"]) == 0
    assert f"already at version {migrations.CURRENT}" in capsys.readouterr().out
    with database.connection_context():
        cmi_import.write(cmi_import.read(csv_text(GOOD), TODAY))  # the new columns work
        assert Account.get(Account.username == "elodie.lefevre").external_key == "B:101"


def test_a_schema_newer_than_the_code_is_refused(db):
    migrations.SchemaVersion.update(version=migrations.CURRENT + 1).execute()
    try:
        with pytest.raises(migrations.SchemaOutOfDate, match="newer than this code"):
            migrations.check()
    finally:
        migrations.SchemaVersion.update(version=migrations.CURRENT).execute()


def test_the_demo_data_comes_in_through_the_import_with_its_documented_passwords(db):
    from models.citizen import auth
    from models.demo.data import DEMO_ACCOUNTS, DEMO_PASSWORDS

    keys = {account.username: account.external_key for account in Account.select()}
    assert keys == {username: key for key, username in DEMO_ACCOUNTS.items()}
    for username, password in DEMO_PASSWORDS.items():
        assert auth.sign_in(username, password, "test").account.username == username
    assert Card.select().count() == 9
    camille = Account.get(Account.username == "camille.martin")
    assert [b.first_name for b in camille.beneficiaries()] == ["Léo", "Inès"]


def test_demo_mode_brings_an_old_database_up_to_date_by_itself(app, tmp_path):
    from .test_faults import Server

    with database.connection_context():
        make_version_0()
    server = Server(app.config["DATABASE_URL"], tmp_path).start()
    try:
        assert server.process.poll() is None  # it serves (a real server would refuse)
    finally:
        server.stop()
    with database.connection_context():
        assert migrations.version() == migrations.CURRENT
        assert Account.get(Account.username == "alfred.depot").external_key is None
