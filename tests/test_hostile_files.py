"""Hostile files for the two imports (the CMI extract, the factory's statuses): every line of
a file is accounted for, a stray quote or a huge field is one rejected row and never a
crash, invisible characters and impossible dates are refused per row, and a status a
stopped run applied still gets its e-mail."""

from __future__ import annotations

import re
from datetime import date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models import OutboxEmail, cmi_import, factory
from models.requests import SHIPPED, RequestLine
from models.shared.csvfile import MAX_LINE, BadFile, read_lines
from models.shared.db import database

from .test_account import paid_requests
from .test_factory import new_card_numbers, run, statuses_file
from .test_import import GOOD, TODAY, csv_text


def rows(count: int, **change) -> list[dict]:
    """``count`` good rows, each its own beneficiary and card (old format: no letters)."""
    return [
        {
            **GOOD,
            "numero_identifiant": str(5000 + n),
            "numero_carte": f"ANCIENNE-{n}",
            "ancien_format": "1",
            **change,
        }
        for n in range(count)
    ]


def with_line(text: str, number: int, line: str) -> str:
    """``text`` with its line ``number`` (the header is 1) replaced by ``line``."""
    lines = text.split("\r\n")
    lines[number - 1] = line
    return "\r\n".join(lines)


# -- the extract ----------------------------------------------------------------------------


def test_a_stray_quote_swallows_no_line_after_it():
    """600 rows, an unbalanced quote on row 10: one row refused, the 599 others read."""
    text = csv_text(*rows(600))
    tenth = text.split("\r\n")[10].replace("4 rue des Lilas", '"4 rue des Lilas')
    extract = cmi_import.read(with_line(text, 11, tenth), TODAY)
    assert extract.rows == 600
    assert extract.rejected == [(11, "guillemet non refermé ou mal placé")]
    assert len(extract.cards) == 599


def test_a_field_far_longer_than_a_row_is_one_rejected_row():
    """5,000 rows, one with a field of 140 KB (more than the csv module's limit)."""
    text = csv_text(*rows(5000))
    huge = text.split("\r\n")[2500].replace("LILLE", "L" * 140_000)
    extract = cmi_import.read(with_line(text, 2501, huge), TODAY)
    assert extract.rows == 5000 and len(extract.cards) == 4999
    ((line, why),) = extract.rejected
    assert line == 2501 and why.startswith("ligne de 140") and f"au plus {MAX_LINE}" in why


def test_the_command_reports_a_huge_field_and_a_stray_quote_and_imports_the_rest(
    app, tmp_path, capsys, operator_env
):
    text = csv_text(*rows(50))
    text = with_line(text, 5, text.split("\r\n")[4].replace("LILLE", "L" * 140_000))
    text = with_line(text, 9, text.split("\r\n")[8].replace("Lefèvre", 'Lef"èvre";"'))
    path = tmp_path / "extrait.csv"
    path.write_text(text, encoding="utf-8")
    assert run(app, "import-cards", str(path)) == 1  # some rows rejected
    out = capsys.readouterr().out
    assert "50 rows: 48 accepted, 2 rejected; created 48 accounts" in out
    report = (tmp_path / "extrait-rejets.csv").read_text("utf-8-sig").splitlines()
    assert [line.split(";")[0] for line in report[1:]] == ["5", "9"]


@pytest.mark.parametrize(
    ("change", "column", "character"),
    [
        ({"nom": "\u200b\u200b"}, "nom", "U+200B"),  # only zero-width spaces
        ({"prenom": "Élo\u200ddie"}, "prenom", "U+200D"),
        ({"ville": "\u202eELLIL"}, "ville", "U+202E"),  # right-to-left override
        ({"adresse_4": "4 rue\u2066 des Lilas"}, "adresse_4", "U+2066"),
        ({"prenom": "Élo\ufeffdie"}, "prenom", "U+FEFF"),  # a byte order mark inside
        ({"nom": "Lef\u00adèvre"}, "nom", "U+00AD"),  # a soft hyphen
        ({"numero_carte": "1000000000000101\x00"}, "numero_carte", "U+0000"),
        ({"courriel": "elodie\x85@example.org"}, "courriel", "U+0085"),
    ],
)
def test_invisible_and_control_characters_are_refused_per_row(change, column, character):
    other = {**GOOD, "numero_identifiant": "102", "numero_carte": "2" * 16}
    extract = cmi_import.read(csv_text(GOOD, {**other, **change}), TODAY)
    assert extract.rejected == [(3, f"{column} : caractère de contrôle ou invisible ({character})")]
    assert list(extract.cards) == ["1000000000000101"]


def test_a_carriage_return_or_a_blank_line_inside_the_file_is_a_rejected_row():
    text = csv_text(*rows(4))
    text = with_line(text, 3, text.split("\r\n")[2].replace("LILLE", "LIL\rLE"))
    text = with_line(text, 4, "")
    extract = cmi_import.read(text, TODAY)
    assert extract.rows == 4
    assert extract.rejected == [
        (3, "caractère de contrôle ou invisible (U+000D) au milieu de la ligne"),
        (4, "ligne vide"),
    ]


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (";".join([*cmi_import.COLUMNS, "nom"]), "columns named twice in the header: nom"),
        ('"numero_identifiant;' + ";".join(cmi_import.COLUMNS[1:]), "a quote is left open"),
        ("", "the file is empty, or its first line (the header) is"),
    ],
)
def test_a_header_that_cannot_be_trusted_refuses_the_whole_file(
    app, tmp_path, capsys, header, message, operator_env
):
    with pytest.raises(BadFile, match=re.escape(message)):
        read_lines(header + "\n", cmi_import.COLUMNS)
    path = tmp_path / "extrait.csv"
    path.write_text(header + "\n" + csv_text(GOOD).split("\r\n", 1)[1], encoding="utf-8")
    assert run(app, "import-cards", str(path)) == 2
    assert message in capsys.readouterr().err


# Lines as a hostile extract may hold them: fields with quotes, separators, controls,
# invisible characters, and the odd line of thousands of characters.
FIELD = st.one_of(
    st.sampled_from(["", "Lefèvre", '"', '""', "a;b", '"x"', "\x00", "\u200b", "\r", " "]),
    st.text(alphabet=st.sampled_from('ab;"\t\x00\u202e\r é'), max_size=12),
    st.just("x" * (MAX_LINE + 10)),
)
LINE = st.one_of(
    st.lists(FIELD, min_size=0, max_size=30).map(";".join),
    st.just(csv_text(GOOD).split("\r\n")[1]),  # now and then a good row
)


@settings(max_examples=150, deadline=None)
@given(st.lists(LINE, max_size=25))
def test_every_line_of_any_file_is_read_or_refused_never_lost(lines):
    text = "\n".join([";".join(cmi_import.COLUMNS), *lines]) + "\n"
    extract = cmi_import.read(text, TODAY)
    numbers = [line for line, _why in extract.rejected]
    assert extract.rows == len(lines)
    assert len(numbers) == len(set(numbers)) and all(2 <= n <= len(lines) + 1 for n in numbers)
    assert len(extract.cards) + len(extract.rejected) == len(lines)
    statuses = "\n".join(["numero_carte;statut;date;numero_suivi", *lines]) + "\n"
    read, refused = factory.read_statuses(statuses, TODAY)
    assert len(read) + len(refused) == len(lines)


# -- the factory's statuses -----------------------------------------------------------------


@pytest.fixture
def ordered(app, tmp_path, operator_env):
    """One paid card sent to the factory today (22/11/2026): its new card's number."""
    with database.connection_context():
        paid_requests(1)
    run(app, "export", "--folder", str(tmp_path / "out"))
    (card,) = new_card_numbers()
    return card


def test_a_nul_or_a_huge_field_in_the_statuses_is_one_rejected_row(app, tmp_path, capsys, ordered):
    path = statuses_file(
        tmp_path,
        f"{ordered[:8]}\x00{ordered[8:]};expediee;22/11/2026;LP1",
        f"{ordered};expediee;22/11/2026;{'L' * 200_000}",
        f"{ordered};fabriquee;22/11/2026;",
    )
    assert run(app, "import-statuses", path) == 1
    out = capsys.readouterr().out
    assert "3 statuses: applied 1 fabriquee, 0 unchanged or older, 2 rejected" in out
    report = (tmp_path / "statuts-rejets.csv").read_text("utf-8-sig").splitlines()
    assert report[1] == "2;numero_carte : caractère de contrôle ou invisible (U+0000)"
    assert report[2].startswith("3;ligne de 200")


def test_a_status_dated_in_the_future_or_before_the_order_is_refused(
    app, tmp_path, capsys, ordered
):
    """31/12/9999 would make every real status older, and the « expédiée » e-mail would
    never go: it is refused, and so is a date before the card was ordered."""
    path = statuses_file(
        tmp_path,
        f"{ordered};fabriquee;31/12/9999;",
        f"{ordered};fabriquee;24/11/2026;",  # two days ahead of the clock
        f"{ordered};fabriquee;21/11/2026;",  # the day before the order
        f"{ordered};expediee;23/11/2026;LP42",  # tomorrow: a clock a little ahead
    )
    assert run(app, "import-statuses", path) == 1
    out = capsys.readouterr().out
    assert "4 statuses: applied 1 expediee, 0 unchanged or older, 3 rejected" in out
    assert "1 e-mail(s) sent" in out
    report = (tmp_path / "statuts-rejets.csv").read_text("utf-8-sig").splitlines()
    assert report[1:] == [
        "2;date « 31/12/9999 » dans le futur",
        "3;date « 24/11/2026 » dans le futur",
        "4;date 21/11/2026 avant la commande à la fabrication (22/11/2026)",
    ]
    with database.connection_context():
        line = RequestLine.get(RequestLine.new_card.is_null(False))
        assert line.shipped_on == date(2026, 11, 23) and line.request.state == SHIPPED


def test_a_status_a_stopped_run_applied_still_gets_its_email_once(app, tmp_path, capsys, ordered):
    with database.connection_context():
        before = OutboxEmail.select().count()
        # A run that applied the file and was killed before its e-mails.
        shipped = (2, ordered, factory.SHIPPED_STATUS, date(2026, 11, 22), "LP7")
        factory.apply_statuses([shipped], [])
    path = statuses_file(tmp_path, f"{ordered};expediee;22/11/2026;LP7")
    assert run(app, "import-statuses", path) == 0
    assert "applied none, 1 unchanged or older, 0 rejected; 1 e-mail(s) sent" in (
        capsys.readouterr().out
    )
    assert run(app, "import-statuses", path) == 0
    assert "0 e-mail(s) sent" in capsys.readouterr().out
    with database.connection_context():
        emails = list(OutboxEmail.select().order_by(OutboxEmail.id))[before:]
        assert len(emails) == 1 and "LP7" in emails[0].text


def test_statuses_read_alone_know_the_day_they_are_read(frozen_clock):
    header = "numero_carte;statut;date;numero_suivi\n"
    read, refused = factory.read_statuses(header + "1;fabriquee;23/11/2026;\n")
    assert [row[3] for row in read] == [date(2026, 11, 23)] and not refused
    frozen_clock.freeze(datetime(2026, 11, 20, 12, 0))
    read, refused = factory.read_statuses(header + "1;fabriquee;23/11/2026;\n")
    assert not read and refused == [(2, "date « 23/11/2026 » dans le futur")]
