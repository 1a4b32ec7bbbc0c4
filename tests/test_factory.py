"""Orders out to the card factory, statuses back, what the citizen sees and is told; and the
whole round trip from the CMI extract to « Expédiée » (SQLite and PostgreSQL)."""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime

from pypdf import PdfReader

import app as application
from models import Account, OutboxEmail, ordering
from models.requests import IN_PRODUCTION, RETURNED, SHIPPED, CardRequest, RequestLine
from models.shared.db import database

from .helpers import post_form, sign_in
from .test_account import paid_requests
from .test_import import GOOD, csv_text
from .test_payments import pay_through_the_app, recorded_request


def run(app, *args: str) -> int:
    return application.main(["--database", app.config["DATABASE_URL"], *args])


def statuses_file(tmp_path, *rows: str, name: str = "statuts.csv"):
    path = tmp_path / name
    path.write_text("numero_carte;statut;date;numero_suivi\n" + "".join(r + "\n" for r in rows))
    return str(path)


def new_card_numbers() -> list[str]:
    with database.connection_context():
        return sorted(
            line.new_card.number
            for line in RequestLine.select().where(RequestLine.new_card.is_null(False))
        )


def test_paid_cards_go_into_one_batch_once_and_a_batch_can_be_written_again(app, tmp_path, capsys):
    out = tmp_path / "out"
    assert run(app, "export", "--folder", str(out)) == 0
    assert "Nothing to export" in capsys.readouterr().out and not out.exists()
    with database.connection_context():
        paid_requests(2)
    assert run(app, "export", "--folder", str(out)) == 0
    assert "Batch CMI-20261122-001: 2 card(s) written" in capsys.readouterr().out
    data = (out / "CMI-20261122-001.jsonl").read_bytes()
    records = [json.loads(line) for line in data.decode().splitlines()]
    assert [r["request"] for r in records] == [10000, 10001]
    first = records[0]
    assert first["kind"] == "duplicata" and first["card_number"] in new_card_numbers()
    assert first["holder"] == {
        "kind": "physique",
        "last_name": "QUINN",
        "first_name": "Joseph",
        "birth_date": "1955-09-22",
    }
    assert first["mention"] == "Invalidité" and first["valid_until"] == "2034-12-31"
    assert first["delivery_address"] == ["Joseph QUINN", "8 rue Nationale", "59000 LILLE", "France"]
    manifest = json.loads((out / "CMI-20261122-001.manifest.json").read_text())
    assert manifest["count"] == 2 and manifest["sha256"] == hashlib.sha256(data).hexdigest()
    with database.connection_context():
        assert {r.state for r in CardRequest.select().where(CardRequest.number.is_null(False))} == {
            IN_PRODUCTION
        }
    # Each card in exactly one batch: nothing the second time; a third card, a new batch.
    assert run(app, "export", "--folder", str(out)) == 0
    assert "Nothing to export" in capsys.readouterr().out
    with database.connection_context():
        paid_requests(1, first=2)
    assert run(app, "export", "--folder", str(out)) == 0
    assert "CMI-20261122-002: 1 card(s)" in capsys.readouterr().out
    # Written again by its name: the same bytes.
    (out / "CMI-20261122-001.jsonl").unlink()
    assert run(app, "export", "--folder", str(out), "--batch", "CMI-20261122-001") == 0
    assert (out / "CMI-20261122-001.jsonl").read_bytes() == data
    assert run(app, "export", "--folder", str(out), "--batch", "CMI-19990101-001") == 2
    assert sorted(p.name for p in out.iterdir()) == [
        "CMI-20261122-001.jsonl",
        "CMI-20261122-001.manifest.json",
        "CMI-20261122-002.jsonl",
        "CMI-20261122-002.manifest.json",
    ]


def test_statuses_apply_once_newest_first_and_say_so_by_email(
    app, tmp_path, capsys, frozen_clock, operator_env
):
    with database.connection_context():
        paid_requests(1)
    run(app, "export", "--folder", str(tmp_path / "out"))
    (card,) = new_card_numbers()
    with database.connection_context():
        emails_before = OutboxEmail.select().count()
    shipped = statuses_file(
        tmp_path,
        f"{card};fabriquee;22/11/2026;",
        f"{card};expediee;23/11/2026;LP123456789FR",
        "9999999999999999;expediee;23/11/2026;LP1",
        f"{card};perdue;23/11/2026;",
        f"{card};expediee;2026-11-23;LP1",
    )
    assert run(app, "import-statuses", shipped) == 1  # rows rejected
    out = capsys.readouterr().out
    assert "5 statuses: applied 1 expediee, 1 fabriquee, 0 unchanged or older, 3 rejected" in out
    assert "1 e-mail(s) sent" in out
    report = (tmp_path / "statuts-rejets.csv").read_text("utf-8-sig").splitlines()
    assert report[1:] == [
        "4;numero_carte inconnu de la fabrication",
        "5;statut « perdue » inconnu : fabriquee, expediee, retour",
        "6;date attendue au format JJ/MM/AAAA",
    ]
    with database.connection_context():
        line = RequestLine.get(RequestLine.new_card.is_null(False))
        assert line.shipped_on == date(2026, 11, 23) and line.tracking_number == "LP123456789FR"
        assert line.request.state == SHIPPED
        emails = list(OutboxEmail.select().order_by(OutboxEmail.id))[emails_before:]
        assert len(emails) == 1 and emails[0].recipient == "joseph.quinn@example.org"
        assert "LP123456789FR" in emails[0].text and "23/11/2026" in emails[0].text

    # The same file again, and an older status arriving late: nothing changes, no e-mail.
    run(app, "import-statuses", shipped)
    late = statuses_file(tmp_path, f"{card};fabriquee;22/11/2026;")
    assert run(app, "import-statuses", late) == 0
    assert (
        "applied none, 1 unchanged or older, 0 rejected; 0 e-mail(s) sent"
        in (capsys.readouterr().out.splitlines()[-1])
    )
    with database.connection_context():
        assert OutboxEmail.select().count() == emails_before + 1
        assert RequestLine.get(RequestLine.new_card.is_null(False)).shipped_on == date(2026, 11, 23)

    # Returned to sender: the request says so, and one e-mail says what to do.
    frozen_clock.freeze(datetime(2026, 11, 26, 9, 30))
    back = statuses_file(tmp_path, f"{card};retour;25/11/2026;")
    assert run(app, "import-statuses", back) == 0
    run(app, "import-statuses", back)
    with database.connection_context():
        line = RequestLine.get(RequestLine.new_card.is_null(False))
        assert line.request.state == RETURNED
        emails = list(OutboxEmail.select().order_by(OutboxEmail.id))[emails_before:]
        assert len(emails) == 2
        assert "8 rue Nationale" in emails[1].text and "Vérifiez cette adresse" in emails[1].text


def test_my_data_shows_each_requests_history_as_a_list(app, client, tmp_path, operator_env):
    sign_in(client, "alfred.depot")
    with database.connection_context():
        number, _ = pay_through_the_app(client)
    run(app, "export", "--folder", str(tmp_path / "out"))
    (card,) = new_card_numbers()
    run(
        app,
        "import-statuses",
        statuses_file(
            tmp_path, f"{card};fabriquee;22/11/2026;", f"{card};expediee;23/11/2026;XY42"
        ),
    )
    page = client.get("/mes-donnees").text
    history = page[
        page.index('<ol class="timeline">') : page.index("</ol>", page.index("timeline"))
    ]
    items = [item.split("</li>")[0].strip() for item in history.split("<li>")[1:]]
    assert items == [
        "Enregistrée le 22/11/2026",
        "Payée le 22/11/2026",
        "En fabrication le 22/11/2026",
        "Fabriquée le 22/11/2026",
        "Expédiée (suivi n° XY42) le 23/11/2026",
    ]
    assert f'<td data-label="Numéro">{number}</td>' in page


def test_round_trip_from_the_extract_to_expediee_every_command_twice(
    app, client, tmp_path, capsys, operator_env
):
    extract = tmp_path / "extrait.csv"
    bad = {**GOOD, "numero_identifiant": "109", "numero_carte": "123"}
    extract.write_bytes(b"\xef\xbb\xbf" + csv_text(GOOD, bad).encode("utf-8"))
    windows = tmp_path / "extrait-1252.csv"
    windows.write_bytes(csv_text(GOOD).encode("cp1252"))
    assert run(app, "import-cards", str(extract)) == 1
    assert run(app, "import-cards", str(extract)) == 1
    assert run(app, "import-cards", str(windows), "--encoding", "windows-1252") == 0
    out = capsys.readouterr().out.splitlines()
    assert "created 1 accounts" in out[0] and "created nothing; updated nothing" in out[1]
    assert "created nothing; updated nothing" in out[2]
    letters = list((tmp_path / "courriers").glob("courriers-*.pdf"))
    assert len(letters) == 1
    text = PdfReader(letters[0]).pages[0].extract_text()
    username = text.split("Votre identifiant : ")[1].split()[0]
    code = text.split("Votre code d'activation : ")[1].split()[0]

    first = post_form(client, "/connexion", {"username": username, "password": code})
    password = "Lilas-fleuris-2026"
    post_form(client, first.location, {"password": password, "confirmation": password})
    sign_in(client, username, password)
    with database.connection_context():
        request = recorded_request(username, selection={GOOD["numero_carte"]: "Titre perdu"})
        ordering.check_delivery(request)
        number, _ = pay_through_the_app(client, request)

    folder = tmp_path / "out"
    assert run(app, "export", "--folder", str(folder)) == 0
    assert run(app, "export", "--folder", str(folder)) == 0
    (card,) = [
        json.loads(line)["card_number"]
        for path in folder.glob("*.jsonl")
        for line in path.read_text().splitlines()
    ]
    made = statuses_file(tmp_path, f"{card};fabriquee;22/11/2026;", name="fabrication.csv")
    shipped = statuses_file(tmp_path, f"{card};expediee;23/11/2026;LP987FR", name="envoi.csv")
    for path in (made, made, shipped, shipped):
        assert run(app, "import-statuses", path) == 0
    page = client.get("/mes-donnees").text
    assert "Expédiée (suivi n° LP987FR) le 23/11/2026" in page
    with database.connection_context():
        account = Account.get(Account.username == username)
        told = OutboxEmail.select().where(
            (OutboxEmail.recipient == account.email) & OutboxEmail.text.contains("LP987FR")
        )
        assert told.count() == 1
        assert CardRequest.get(CardRequest.number == number).state == SHIPPED
