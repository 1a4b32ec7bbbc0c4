"""Commands an operator runs from a shell or from cron (``python app.py <command>``).

Each prints a one-line summary, exits non-zero on failure and is safe to run
twice. The rules are in ``models``; these only read files, write files and
report.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import sys
from pathlib import Path

from email_validator import EmailNotValidError, validate_email
from flask import Flask, render_template, url_for
from peewee import ProgrammingError

import models
from models import cmi_import, factory, letters, photos, retention
from models.operator import agents
from models.shared import migrations, rights
from models.shared.db import database
from models.shared.i18n import force_locale, lazy_gettext
from models.shared.mail import queue
from views.shared.forms import EMAIL_MAX
from views.shared.render import external_url

from .console import ENROLMENT_SUBJECT
from .files import write_atomically
from .letters_printing import print_letters

log = logging.getLogger("cmi.command")


def say(summary: str, status: int = 0, error: bool = False) -> int:
    """The command's one-line summary, printed and logged; returns the exit status."""
    print(summary, file=sys.stderr if error else sys.stdout)
    log.log(
        logging.ERROR if error else logging.INFO,
        "command finished",
        extra={"event": "command", "summary": summary, "exit_status": status},
    )
    return status


# Exit statuses of the imports: all rows in; some rows rejected; the file could not be read;
# what the run owes could not all be written (a report, letters still owed: the message
# says what, and the command to run).
DONE, SOME_ROWS_REJECTED, UNREADABLE, UNWRITTEN = 0, 1, 2, 3


# The commands that write to citizens (letters, e-mails) and what they need to do so.
WRITE_TO_CITIZENS = ("import-cards", "letters", "import-statuses")


def refusal(app: Flask, command: str | None, dry_run: bool, public_key: str) -> str | None:
    """Why ``command`` must not run here, or None. Outside demo mode, a letter or an e-mail
    names the service's address (never a guess at it), and a letter's code comes from the
    secret key (never the public ``public_key``, the demo's)."""
    if command not in WRITE_TO_CITIZENS or dry_run or app.config["DEMO"] or app.config["TESTING"]:
        return None
    if not app.config["PUBLIC_URL"]:
        return (
            "PUBLIC_URL is not set: its letters and e-mails would send citizens to an address "
            "that is not the service's. Set it as for the server (PUBLIC_URL=https://...)."
        )
    if command != "import-statuses" and app.config["SECRET_KEY"] == public_key:
        return (
            "SECRET_KEY is not set: the letters' codes come from it. Set the server's own "
            "SECRET_KEY (the same on every run, or the codes owed are made again)."
        )
    return None


def migrate(app_role: str | None = None) -> int:
    """Bring the schema up to date (a new database: create every table), then, with
    ``app_role``, give that role the application's rights and no more (PostgreSQL)."""
    with database.connection_context():
        found = migrations.version()
        try:
            if found is None:
                models.create_tables()
                applied = []
            else:
                applied = migrations.upgrade()
            if app_role:
                with database.atomic():
                    rights.grant(app_role)
        except (migrations.SchemaOutOfDate, rights.BadRole) as error:
            return say(str(error), 2, error=True)
        except ProgrammingError as error:  # PostgreSQL: only the tables' owner alters them
            reason = (str(error).splitlines() or ["refused"])[0]
            return say(
                f"The schema cannot be changed as this role ({reason}): run the command "
                "as the role that owns the tables.",
                2,
                error=True,
            )
    granted = (
        f" Role {app_role}: rows read and written, the audit log only read and added to."
        if app_role
        else ""
    )
    if found is None:
        return say(f"Schema created at version {migrations.CURRENT}.{granted}")
    if not applied:
        return say(f"Schema already at version {migrations.CURRENT}: nothing to do.{granted}")
    steps = "; ".join(f"{s.version}: {s.description}" for s in applied)
    return say(f"Schema migrated from version {found} to {migrations.CURRENT} ({steps}).{granted}")


def import_cards(
    app: Flask,
    path: Path,
    encoding: str = "utf-8",
    dry_run: bool = False,
    report: Path | None = None,
    letters_folder: Path | None = None,
    per_file: int = letters.PER_FILE,
) -> int:
    """Import the CMI database's extract; rejected rows go to ``report`` (beside the file
    unless given), then the letters owed are printed into ``letters_folder`` (a folder
    ``courriers`` beside the file unless given)."""
    report = report or path.with_name(f"{path.stem}-rejets.csv")
    try:
        extract = cmi_import.read(cmi_import.decode(path.read_bytes(), encoding))
    except (OSError, cmi_import.BadFile) as error:
        return say(f"{path}: cannot be imported: {error}", UNREADABLE, error=True)
    outcome = cmi_import.write(extract, dry_run=dry_run)
    done, unwritten = [], False
    if outcome.rejected:
        lines = [["ligne", "motif"], *[[str(n), why] for n, why in outcome.rejected]]
        try:
            write_atomically(report, _csv(lines).encode("utf-8-sig"))
            done.append(f"rejected rows in {report}")
        except OSError as error:
            unwritten = True
            done.append(
                f"the rejected rows could not be written to {report} "
                f"({error.strerror or error}): give --report elsewhere and import again "
                "(nothing changes twice)"
            )
    if dry_run:
        summary = "Dry run, nothing written: " + "; ".join([outcome.summary(), *done]) + "."
        return say(summary, UNWRITTEN if unwritten else _rows_status(outcome), error=unwritten)
    imported, status = outcome.summary(), _rows_status(outcome)
    del extract, outcome  # the rows' memory, for the letters' printing
    printed = print_letters(app, letters_folder or path.with_name("courriers"), per_file)
    unwritten = unwritten or printed.failed
    summary = "; ".join([imported, *done, printed.summary]) + "."
    return say(summary, UNWRITTEN if unwritten else status, error=unwritten)


def _rows_status(outcome) -> int:
    return SOME_ROWS_REJECTED if outcome.rejected else DONE


def letters_command(
    app: Flask, folder: Path, per_file: int = letters.PER_FILE, large_print: bool = False
) -> int:
    """The letters still owed (a run stopped or failed before printing them), printed
    (``large_print``: in 16 pt)."""
    printed = print_letters(app, folder, per_file, large_print=large_print)
    return say(
        f"Letters: {printed.summary}.", UNWRITTEN if printed.failed else DONE, printed.failed
    )


def _csv(rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";", lineterminator="\r\n").writerows(rows)
    return buffer.getvalue()


def export_orders(folder: Path, batch_name: str | None = None) -> int:
    """Paid cards not yet ordered go into one new batch file (or ``batch_name`` is
    written again), with its manifest, each written whole or not at all."""
    with database.connection_context():
        made = factory.existing_batch(batch_name) if batch_name else factory.new_batch()
    if made is None:
        if batch_name:
            return say(f"No batch named {batch_name}.", 2, error=True)
        return say("Nothing to export: no paid card waits for the factory.")
    batch, data = made
    if hashlib.sha256(data).hexdigest() != batch.sha256:
        return say(
            f"Batch {batch.name}: its cards' data changed since it was sent; not written.",
            1,
            error=True,
        )
    with database.connection_context():
        references = factory.batch_photos([json.loads(line) for line in data.splitlines()])
        photo_files = photos.photos_by_reference(references)
    missing = references - set(photo_files)
    if missing:
        return say(
            f"Batch {batch.name}: {len(missing)} photo(s) it names are no longer in the "
            "database; not written.",
            1,
            error=True,
        )
    try:
        # The photos first: a batch file never names a photo that is not written yet.
        for sha256, jpeg in sorted(photo_files.items()):
            write_atomically(folder / f"{batch.name}-photos" / f"{sha256}.jpg", jpeg)
        write_atomically(folder / f"{batch.name}.jsonl", data)
        write_atomically(folder / f"{batch.name}.manifest.json", factory.manifest(batch, data))
    except OSError as error:
        return say(
            f"Batch {batch.name} ({batch.count} cards) is recorded but its file could not be "
            f"written: {error}. Write it again with: export --batch {batch.name}",
            1,
            error=True,
        )
    again = " again" if batch_name else ""
    with_photos = f", with {len(photo_files)} photo(s)" if photo_files else ""
    return say(
        f"Batch {batch.name}: {batch.count} card(s){with_photos} written{again} to {folder}."
    )


def import_statuses(app: Flask, path: Path, report: Path | None = None) -> int:
    """The factory's statuses; the e-mails they call for, once each."""
    report = report or path.with_name(f"{path.stem}-rejets.csv")
    try:
        rows, rejected = factory.read_statuses(cmi_import.decode(path.read_bytes()))
    except (OSError, ValueError) as error:
        return say(f"{path}: cannot be imported: {error}", UNREADABLE, error=True)
    with database.connection_context():
        outcome = factory.apply_statuses(rows, rejected)
        # Every e-mail a status calls for and nobody has sent yet, this file's or one a
        # stopped run applied: each is claimed once (``factory.claim_email``).
        sent = sum(_status_email(app, kind, line_id) for kind, line_id in factory.emails_owed())
    done, unwritten = "", False
    if outcome.rejected:
        lines = [["ligne", "motif"], *[[str(n), why] for n, why in outcome.rejected]]
        try:
            write_atomically(report, _csv(lines).encode("utf-8-sig"))
            done = f"; rejected rows in {report}"
        except OSError as error:
            unwritten = True
            done = (
                f"; the rejected rows could not be written to {report} "
                f"({error.strerror or error}): give --report elsewhere and import again "
                "(nothing changes twice)"
            )
    summary = f"{outcome.summary()}; {sent} e-mail(s) sent{done}."
    status = UNWRITTEN if unwritten else SOME_ROWS_REJECTED if outcome.rejected else DONE
    return say(summary, status, error=unwritten)


STATUS_EMAILS = {
    factory.SHIPPED_STATUS: (
        "citizen/factory/email_shipped.txt",
        lazy_gettext("Votre carte mobilité inclusion est partie"),
    ),
    factory.RETURN: (
        "citizen/factory/email_returned.txt",
        lazy_gettext("Votre carte mobilité inclusion nous a été renvoyée"),
    ),
}


def _status_email(app: Flask, kind: str, line_id: int) -> int:
    line = factory.line_with_request(line_id)
    recipient = line.request.account.email
    if not recipient:
        return 0
    template, subject = STATUS_EMAILS[kind]
    base = app.config["PUBLIC_URL"] or "http://127.0.0.1:8000"
    # Written in the account's language (the command runs outside any citizen's request).
    with (
        app.test_request_context(base_url=base),
        force_locale(line.request.account.language or "fr"),
    ):
        subject = str(subject)
        text = render_template(
            template,
            line=line,
            address=line.request.delivery_address.lines(),
            my_data_url=url_for("account.my_data", _external=True),
            contact=app.config["CONTACT_EMAIL"],
            organisation=app.config["ORGANISATION_NAME"],
        )
    email = factory.claim_email(line_id, kind, recipient, subject, text)
    if email is None:
        return 0
    app.extensions["mailer"].deliver(email)
    return 1


def purge(keep_months: int) -> int:
    """What the retention rules no longer allow to keep (``models.retention``)."""
    with database.connection_context():
        done = retention.purge(keep_months)
    return say(done.summary() + ".")


# -- the first agent, or any other, outside the console ----------------------------------------

NAME_MAX = 80


def create_agent(
    app: Flask, username: str, name: str, email: str, role: str, print_link: bool = False
) -> int:
    """An agent (a superviseur unless told otherwise) and the enrolment link the console
    sends a new agent: e-mailed to them, or printed for the operator to hand over. The
    link is never logged: until it is used, it is the key to the account."""
    username, name, email = username.strip().lower(), name.strip(), email.strip().lower()
    refused = None
    if not agents.valid_username(username):
        refused = (
            f"Identifiant « {username} » refused: at most {agents.USERNAME_MAX} lower-case "
            "letters without accents, digits, dots and dashes, for example prenom.nom."
        )
    elif not 0 < len(name) <= NAME_MAX:
        refused = f"--name: the agent's first and last name, {NAME_MAX} characters at most."
    elif not valid_email(email):
        refused = f"--email: « {email} » is not an e-mail address (for example nom@exemple.fr)."
    base = app.config["PUBLIC_URL"] or ("http://127.0.0.1:8000" if app.config["DEMO"] else None)
    if refused is None and base is None:
        refused = "PUBLIC_URL is not set: the enrolment link is built from it."
    if refused:
        return say(refused, 2, error=True)
    with database.connection_context():
        agent, token = agents.create_agent(None, username, name, email, role)
    if agent is None:
        return say(f"Identifiant « {username} » is already taken: choose another.", 2, error=True)
    hours = int(agents.ENROLMENT_LIFETIME.total_seconds() // 3600)
    created = f"{agents.ROLE_LABELS[role]} {username} created"
    with app.test_request_context(base_url=base):
        link = external_url("console.enrol", token=token)
        if print_link:
            print(link)  # on the terminal only, never in the logs
            return say(f"{created}; the enrolment link above is valid {hours} hours.")
        text = render_template("operator/email_enrolment.txt", agent=agent, link=link, hours=hours)
    with database.connection_context():
        sent = app.extensions["mailer"].deliver(queue(agent.email, ENROLMENT_SUBJECT, text))
    if sent.sent_at is None:
        return say(
            f"{created}; the enrolment e-mail to {agent.email} waits in the outbox "
            "(not sent: set SMTP_URL, then run --send-outbox, or use --print-link).",
            1,
            error=True,
        )
    return say(f"{created}; enrolment link sent to {agent.email}, valid {hours} hours.")


def valid_email(address: str) -> bool:
    """The console's check (WTForms' Email validator runs the same library)."""
    try:
        validate_email(address, check_deliverability=False)
    except EmailNotValidError:
        return False
    return len(address) <= EMAIL_MAX
