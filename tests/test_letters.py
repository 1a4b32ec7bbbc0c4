"""Credentials letters lose no code: owed until printed, printed again after any failure or
kill with the same code under the same name, file by file, and seen by agents while they
wait (SQLite and PostgreSQL)."""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from pypdf import PdfReader

import app as application
from models import Account, Card, CredentialsLetter, LetterFile, cmi_import, letters
from models.citizen import auth as citizen_auth
from models.operator import actions
from models.operator.agents import Agent
from models.shared.clock import clock
from models.shared.db import database
from models.shared.security import activation_digest
from views.operator.letters_printing import print_letters

from .helpers import OPERATOR_ENVIRONMENT
from .test_console import agent_sign_in
from .test_documents import letter_sizes
from .test_import import GOOD, csv_text

KEY = OPERATOR_ENVIRONMENT["SECRET_KEY"]
DEMO_CARDS = 9  # the demo data's, there before each test
ROOT = Path(__file__).resolve().parent.parent


def people(count: int, first: int = 1000) -> list[dict]:
    """``count`` adults, one CMI each (numbers from ``first``)."""
    return [
        {
            **GOOD,
            "numero_identifiant": str(n),
            "prenom": f"Prénom{n}",
            "nom": f"Nom{n}",
            "courriel": f"p{n}@example.org",
            "numero_carte": f"{n:016d}",
        }
        for n in range(first, first + count)
    ]


def extract(tmp_path: Path, rows: list[dict], name: str = "extrait.csv") -> Path:
    path = tmp_path / name
    path.write_text(csv_text(*rows), encoding="utf-8")
    return path


def run(app, *args: str) -> int:
    return application.main(["--database", app.config["DATABASE_URL"], *args])


def letters_in(folder: Path) -> dict[str, list[str]]:
    """Every code printed in the folder's files, by identifiant."""
    found: dict[str, list[str]] = {}
    for path in sorted(folder.glob("*.pdf")):
        # A large-print letter runs over several pages: read the file's text whole.
        text = "\n".join(page.extract_text() for page in PdfReader(path).pages)
        for username, code in re.findall(
            r"Votre identifiant :\s*(\S+).*?Votre code d'activation :\s*(\S+)", text, re.S
        ):
            found.setdefault(username, []).append(code)
    return found


def imported_accounts() -> list[Account]:
    with database.connection_context():
        return list(
            Account.select().where(
                Account.external_key.is_null(False) & (Account.password_hash == "")
            )
        )


def assert_one_valid_code_on_one_letter(folder: Path, expected: int) -> None:
    """Every imported account with a CMI: exactly one letter, in one file, whose code
    signs in; the others (old cards only): none."""
    printed = letters_in(folder)
    accounts = imported_accounts()
    lettered = [account for account in accounts if account.activation_digest is not None]
    assert len(lettered) == expected
    for account in lettered:
        codes = printed.get(account.username, [])
        assert len(codes) == 1, (account.username, codes)
        assert activation_digest(codes[0]) == account.activation_digest, account.username
    assert sorted(printed) == sorted(a.username for a in lettered)
    with database.connection_context():
        assert not list(letters.waiting_for_a_first_letter(clock.today(), 1))  # none forgotten
        assert CredentialsLetter.select().count() == expected
        assert CredentialsLetter.select().where(CredentialsLetter.printed_at.is_null()).count() == 0
        assert CredentialsLetter.select().where(CredentialsLetter.seed.is_null(False)).count() == 0
        assert LetterFile.select().where(LetterFile.written_at.is_null()).count() == 0
    assert not [p.name for p in folder.iterdir() if p.name.startswith(".")]  # no temporary left


def database_text() -> str:
    """Every value of the tables that hold accounts and letters, as text."""
    with database.connection_context():
        rows = [
            *Account.select().tuples(),
            *CredentialsLetter.select().tuples(),
            *LetterFile.select().tuples(),
        ]
    return "\n".join(str(value) for row in rows for value in row)


# -- a failure anywhere loses no code -----------------------------------------------------


def test_a_letters_folder_that_cannot_be_written_loses_no_code(app, tmp_path, capsys, operator_env):
    """The issue's case: ``--letters`` under an existing file. The accounts are in, their
    letters owed, the run says so (exit 3) and how to print them; nothing is lost."""
    path = extract(tmp_path, people(3))
    (tmp_path / "a-file").write_text("")
    unwritable = tmp_path / "a-file" / "courriers"
    assert run(app, "import-cards", str(path), "--letters", str(unwritable)) == 3
    said = capsys.readouterr()
    assert "3 rows: 3 accepted, 0 rejected; created 3 accounts" in said.err
    assert "3 letter(s) still owed, not printed: cannot make the folder" in said.err
    assert "python app.py letters --folder" in said.err
    assert len(imported_accounts()) == 3
    with database.connection_context():
        assert letters.owed_count()[0] == 3
    stored = database_text()

    # The same run again: nothing created twice, the letters still owed, still said.
    assert run(app, "import-cards", str(path), "--letters", str(unwritable)) == 3
    assert "created nothing" in capsys.readouterr().err

    folder = tmp_path / "courriers-ok"
    assert run(app, "letters", "--folder", str(folder)) == 0
    assert "Letters: 3 letter(s) printed in 1 file(s)" in capsys.readouterr().out
    assert_one_valid_code_on_one_letter(folder, 3)
    for (code,) in letters_in(folder).values():
        assert code not in stored and code.replace("-", "") not in stored  # never kept
    assert run(app, "letters", "--folder", str(folder)) == 0
    assert "Letters: no letter to print." in capsys.readouterr().out


def test_a_file_that_cannot_be_written_keeps_its_letters_owed_and_the_next_run_writes_it(
    app, tmp_path, capsys, operator_env
):
    path = extract(tmp_path, people(5))
    folder = tmp_path / "courriers"
    # The second file's name is taken by a folder: its rename fails, as on a full disk.
    (folder / "courriers-20261122-000002.pdf").mkdir(parents=True)
    assert run(app, "import-cards", str(path), "--letters", str(folder), "--per-file", "2") == 3
    said = capsys.readouterr().err
    assert "3 letter(s) printed in 2 file(s)" in said  # the other files are written
    assert "2 letter(s) still owed, not printed: cannot write in" in said
    with database.connection_context():
        recorded = [f.name for f in letters.unwritten_files()]
    assert recorded == ["courriers-20261122-000002.pdf"]
    (folder / "courriers-20261122-000002.pdf").rmdir()
    assert run(app, "import-cards", str(path), "--letters", str(folder), "--per-file", "2") == 0
    assert_one_valid_code_on_one_letter(folder, 5)
    assert sorted(p.name for p in folder.glob("*.pdf")) == [
        "courriers-20261122-000001.pdf",
        *recorded,  # written under the name recorded before the failure
        "courriers-20261122-000003.pdf",
    ]


def test_a_file_moved_to_another_folder_leaves_no_copy_behind(app, tmp_path, operator_env):
    with database.connection_context():
        cmi_import.write(cmi_import.read(csv_text(*people(2))))
        letters.owe_first_letters(KEY)
        first = tmp_path / "first"
        recorded = letters.record_next_file(str(first))
    first.mkdir()
    (first / recorded.name).write_bytes(b"%PDF- a copy written before a kill")
    second = tmp_path / "second"
    assert run(app, "letters", "--folder", str(second)) == 0
    assert not (first / recorded.name).exists()
    assert_one_valid_code_on_one_letter(second, 2)


# Where a run is killed, each seen from outside as it writes (``_reached``).
KILL_POINTS = (
    "writing",  # some beneficiaries written, not all (transactions of 2,000 rows)
    "accounts",  # the accounts written, their letters not yet owed
    "owed",  # letters owed, no file recorded yet
    "recorded",  # files recorded, none written
    "temporary",  # a file half written
    "written",  # a file written (and perhaps not yet marked)
    "random",
    "random",
)
OLD_ONLY = 2500  # holders of old cards only: no letter, but rows to write


def _started(url: str, args: list[str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "app.py", "--database", url, *args],
        cwd=ROOT,
        env={**os.environ, **OPERATOR_ENVIRONMENT},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _reached(point: str, folder: Path) -> bool:
    """Whether the run under way has reached ``point``."""
    names = [p.name for p in folder.iterdir()] if folder.is_dir() else []
    if point == "temporary":
        return any(name.startswith(".courriers-") for name in names)
    if point == "written":
        return any(name.endswith(".pdf") for name in names)
    with database.connection_context():
        if point == "writing":
            return 0 < Card.select().count() - DEMO_CARDS < OLD_ONLY
        if point == "accounts":
            return len(imported_accounts()) > 0
        if point == "owed":
            return CredentialsLetter.select().exists()
        return LetterFile.select().exists()


def test_an_import_killed_anywhere_ends_with_one_valid_code_per_account_on_one_letter(
    app, tmp_path
):
    """SIGKILL at each point, and at random times, each followed by a new run; then a run
    to the end: every account has exactly one letter, in one file, with the code that
    signs in, nothing is left owed, and no printing process outlives a killed run."""
    count = 40
    rows = people(count) + [old_card(n) for n in range(100_000, 100_000 + OLD_ONLY)]
    path = extract(tmp_path, rows)
    folder = tmp_path / "courriers"
    url = app.config["DATABASE_URL"]
    args = ["import-cards", str(path), "--letters", str(folder), "--per-file", "6"]
    chance = random.Random(26)  # the same kills at every run
    killed = []
    for point in KILL_POINTS:
        process = _started(url, args)
        started, delay = time.monotonic(), chance.uniform(0.5, 5.0)
        while process.poll() is None and time.monotonic() - started < 120:
            due = (
                time.monotonic() - started >= delay
                if point == "random"
                else _reached(point, folder)
            )
            if due:
                printing = psutil.Process(process.pid).children(recursive=True)
                process.send_signal(signal.SIGKILL)
                killed.append(point)
                # Its printing processes end with it: none is left waiting for work.
                _gone, alive = psutil.wait_procs(printing, timeout=20)
                assert not alive, (point, alive)
                break
            time.sleep(0.005)
        process.wait(timeout=30)
    assert len(killed) >= 5, killed  # most points were caught before the run ended
    assert _started(url, args).wait(timeout=180) == 0
    assert_one_valid_code_on_one_letter(folder, count)


def test_letters_printed_in_several_processes_are_the_same_letters(app, tmp_path):
    with database.connection_context():
        cmi_import.write(cmi_import.read(csv_text(*people(13))))
    folder = tmp_path / "courriers"
    done = print_letters(app, folder, per_file=3, processes=2)
    assert not done.failed and done.letters == 13 and len(done.files) == 5
    for path in folder.glob("*.pdf"):
        assert len(PdfReader(path).pages) <= 3
    printed = letters_in(folder)
    accounts = imported_accounts()
    assert len(accounts) == 13
    for account in accounts:
        (code,) = printed[account.username]
        assert activation_digest(code) == account.activation_digest


# -- who is owed a letter, and which code it carries ------------------------------------------


def old_card(number: int, **change) -> dict:
    return {
        **people(1, number)[0],
        "numero_carte": f"ANCIENNE-{number}",
        "ancien_format": "1",
        "fin_validite": "",
        **change,
    }


def test_a_holder_with_only_old_cards_or_expired_ones_gets_no_letter_until_a_cmi_arrives(
    app, db, frozen_clock
):
    expired = {**people(1, 2000)[0], "debut_validite": "01/01/2015", "fin_validite": "31/12/2020"}
    cmi_import.write(cmi_import.read(csv_text(old_card(2100), expired)))
    assert letters.owe_first_letters(KEY) == 0
    assert CredentialsLetter.select().count() == 0
    # A later extract brings a CMI: the letter is owed then, once.
    cmi = {**old_card(2100), "numero_carte": "2100000000000001", "ancien_format": "0"}
    cmi_import.write(cmi_import.read(csv_text(old_card(2100), cmi)))
    assert letters.owe_first_letters(KEY) == 1
    assert letters.owe_first_letters(KEY) == 0
    owed = CredentialsLetter.get()
    assert owed.account.username == "prenom2100.nom2100" and owed.owed


def test_a_new_secret_key_makes_again_the_codes_not_yet_printed(app, db):
    cmi_import.write(cmi_import.read(csv_text(*people(2))))
    letters.owe_first_letters("the-key-of-the-first-run")
    recorded = letters.record_next_file("courriers")
    printed = letters.letters_of(recorded, "a-new-key-since")  # the operator changed it
    for letter in printed:
        attempt = citizen_auth.sign_in(letter.username, letter.code, "127.0.0.1")
        assert attempt.to_activate is not None and attempt.to_activate.username == letter.username
    # The same file printed again: the same codes.
    assert letters.letters_of(recorded, "a-new-key-since") == printed


def test_an_agents_new_letter_cancels_the_one_still_owed(app, client, tmp_path, operator_env):
    with database.connection_context():
        cmi_import.write(cmi_import.read(csv_text(*people(1))))
        letters.owe_first_letters(KEY)
        (account,) = imported_accounts()
        agent = Agent.get(Agent.username == "agent.demo")
        letter = actions.new_credentials(agent, account, KEY)
        code = letters.agent_letter(letter.id, KEY).code
    assert run(app, "letters", "--folder", str(tmp_path / "courriers")) == 0
    assert letters_in(tmp_path / "courriers") == {}  # the import's letter is not printed
    with database.connection_context():
        states = letters.history(account)
        assert [
            (s.reason, s.printed_at is not None, s.cancelled_at is not None) for s in states
        ] == [
            (letters.BY_AGENT, True, False),
            (letters.IMPORTED, False, True),
        ]
        assert citizen_auth.sign_in(account.username, code, "127.0.0.1").to_activate is not None


def test_agents_see_which_accounts_wait_for_their_letter(app, client, tmp_path):
    with database.connection_context():
        cmi_import.write(cmi_import.read(csv_text(*people(2), old_card(3000))))
        letters.owe_first_letters(KEY)
        waiting = [letter.account for letter in CredentialsLetter.select()]
        old_only = Account.get(Account.username == "prenom3000.nom3000")
    agent_sign_in(client)
    figures = client.get("/gestion/chiffres").text
    assert re.search(
        r'Courriers de connexion à imprimer</th><td[^>]*>2 \(<a href="/gestion/courriers">', figures
    )
    page = client.get("/gestion/courriers").text
    assert (
        "2 comptes attendent leur courrier de connexion, le plus ancien depuis le 22/11/2026"
        in page
    )
    for account in waiting:
        assert (
            f'href="/gestion/comptes/{account.id}">{account.display_name} ({account.username})</a>'
            in page
        )
    one = client.get(f"/gestion/comptes/{waiting[0].id}").text
    assert "Pas encore possible : courrier de connexion à imprimer depuis le 22/11/2026" in one
    assert "Courrier de l'import du 22/11/2026 : à imprimer" in one
    none = client.get(f"/gestion/comptes/{old_only.id}").text
    assert "Pas de courrier : ce compte n'a aucune carte mobilité inclusion à commander" in none

    with database.connection_context():
        print_letters(app, tmp_path / "courriers", processes=1)
    after = client.get(f"/gestion/comptes/{waiting[0].id}").text
    assert "Pas encore activé (courrier envoyé)" in after
    assert re.search(
        r"Courrier de l'import du 22/11/2026 : imprimé le 22/11/2026 "
        r"\(fichier courriers-20261122-\d{6}\.pdf\)",
        after,
    )
    assert "Aucun courrier de connexion n'attend" in client.get("/gestion/courriers").text


# -- the commands write to citizens only with the service's address and key ------------------


@pytest.mark.parametrize(
    ("missing", "said"),
    [
        ("PUBLIC_URL", "PUBLIC_URL is not set"),
        ("SECRET_KEY", "SECRET_KEY is not set"),
    ],
)
def test_commands_that_write_to_citizens_refuse_without_the_services_address_or_key(
    app, tmp_path, capsys, monkeypatch, missing, said
):
    for name, value in OPERATOR_ENVIRONMENT.items():
        if name != missing:
            monkeypatch.setenv(name, value)
    monkeypatch.delenv(missing, raising=False)
    path = extract(tmp_path, people(1))
    statuses = tmp_path / "statuts.csv"
    statuses.write_text("numero_carte;statut;date;numero_suivi\n")
    before = len(imported_accounts())
    commands = [["import-cards", str(path)], ["letters", "--folder", str(tmp_path / "c")]]
    if missing == "PUBLIC_URL":
        commands.append(["import-statuses", str(statuses)])
    for command in commands:
        assert run(app, *command) == 2
        assert said in capsys.readouterr().err
    assert len(imported_accounts()) == before and not (tmp_path / "c").exists()
    assert run(app, "import-cards", str(path), "--dry-run") == 0  # writes to nobody


def test_letters_owed_print_in_large_print_on_request(app, tmp_path, operator_env):
    with database.connection_context():
        cmi_import.write(cmi_import.read(csv_text(*people(2))))
    folder = tmp_path / "gros"
    assert run(app, "letters", "--folder", str(folder), "--large-print") == 0
    assert_one_valid_code_on_one_letter(folder, 2)
    [path] = folder.glob("*.pdf")
    assert min(letter_sizes(path.read_bytes()).values()) == 16  # every text 16 pt at least
