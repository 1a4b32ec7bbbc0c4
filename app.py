"""Carte mobilité inclusion: order a duplicate or a second copy online.

``create_app()`` builds the Flask application; ``python app.py`` serves it with
gunicorn (see ``--help``).
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import timedelta
from pathlib import Path

from flask import Flask
from flask_wtf.csrf import CSRFProtect
from htmx_flask import Htmx
from werkzeug.middleware.proxy_fix import ProxyFix

import models
from models.attestation import ticked
from models.cards import reason_label
from models.citizen import auth as citizen_auth
from models.citizen import credentials
from models.demo.data import load_demo_data
from models.letters import PER_FILE as LETTERS_PER_FILE
from models.operator.agents import AGENT_IDLE_LIMIT, SUPERVISOR
from models.operator.agents import ROLES as AGENT_ROLES
from models.pricing import euros, price
from models.shared.clock import to_paris
from models.shared.db import close_kept_connections, open_database
from models.shared.i18n import long_date, ngettext, of, short_date, short_datetime
from models.shared.mail import Mailer
from models.shared.security import hash_cost
from views.citizen import account, auth, guidance, payment, photo, wizard
from views.demo import provider, qa
from views.operator import commands, console, health
from views.shared import documents, kept, logs, pages
from views.shared.assets import StaticAssets
from views.shared.background import Background
from views.shared.easy_read import init_easy_read
from views.shared.errors import register_error_pages
from views.shared.language import init_language
from views.shared.logs import init_request_logs
from views.shared.render import Service, page_title, swapped_into_body, this_address
from views.shared.server import serve
from views.shared.uploads import init_uploads
from views.shared.web import init_web

ROOT = Path(__file__).resolve().parent
DEFAULT_SECRET_KEY = "demo-only-secret-key-do-not-use-in-production"  # noqa: S105 (refused outside --demo)

DEFAULT_PAYMENT_SECRET = "demo-only-payment-secret"  # noqa: S105 (refused outside --demo)

DEFAULTS = {
    "SECRET_KEY": DEFAULT_SECRET_KEY,
    "DATABASE_URL": None,
    "SMTP_URL": None,
    "MAIL_FROM": "ne-pas-repondre@cmi.example.org",
    "CONTACT_EMAIL": "contact-cmi.beneficiaire@example.org",
    "ORGANISATION_NAME": "Imprimerie Nationale",
    "ORGANISATION_ADDRESS": ["104 avenue du Président Kennedy", "75016 PARIS"],
    "DEMO": False,
    # The service's public address (https://cmi.example.org): links in emails and
    # the payment provider's return addresses never depend on a request's Host.
    "PUBLIC_URL": None,
    "SESSION_COOKIE_NAME": "cmi_session",
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_SECURE": False,  # also Secure on any request that came over HTTPS
    # The token lives as long as the session; the session itself ends after 30 idle minutes.
    "WTF_CSRF_TIME_LIMIT": None,
    "WTF_CSRF_SSL_STRICT": True,
    "MAX_CONTENT_LENGTH": 64 * 1024,
    # Payment: the built-in provider unless PAYMENT_URL names a real one.
    "PAYMENT_URL": None,
    "PAYMENT_MERCHANT_ID": "002001000000001",
    "PAYMENT_MERCHANT_NAME": "Imprimerie Nationale - Carte mobilité inclusion",
    "PAYMENT_SECRET": DEFAULT_PAYMENT_SECRET,
    # How long a request waits for another writer of the SQLite file before « 503 ».
    "SQLITE_BUSY_TIMEOUT_MS": 10_000,
    # Seconds a client is told to wait (Retry-After) when the database is unreachable.
    "RETRY_AFTER_SECONDS": 120,
    # Proxies in front that set X-Forwarded-For and X-Forwarded-Proto (0: none). The
    # client's address counts in the limits of the forgotten-credential forms and in the
    # sign-in lock.
    "PROXY_HOPS": 0,
    # Minutes of inactivity before a citizen is signed out (the page warns before).
    "SESSION_IDLE_MINUTES": 30,
    # Months a paid request's delivery address and e-mails are kept after payment.
    "RETENTION_MONTHS": 24,
    # Demo mode without SMTP_URL: where each e-mail is written (default instance/outbox).
    "OUTBOX_FOLDER": None,
    # QA runs against this instance: sandboxes of test data (views/demo/qa.py). Demo only.
    "QA_SECRET": None,
}

# Settings an operator may give in the environment.
ENVIRONMENT_KEYS = (
    "SECRET_KEY",
    "DATABASE_URL",
    "SMTP_URL",
    "MAIL_FROM",
    "PUBLIC_URL",
    "CONTACT_EMAIL",
    "ORGANISATION_NAME",
    "PAYMENT_URL",
    "PAYMENT_MERCHANT_ID",
    "PAYMENT_MERCHANT_NAME",
    "PAYMENT_SECRET",
    "QA_SECRET",
)

csrf = CSRFProtect()


def default_database_url(instance_path: str) -> str:
    return f"sqlite:///{Path(instance_path) / 'cmi.sqlite3'}"


def session_limits(agent=None) -> dict:
    """What the page's time-out warning needs to know, from the one setting (citizens)
    or the agents' shorter limit."""
    idle, warning = citizen_auth.SESSION_IDLE_LIMIT, citizen_auth.session_warning()
    if agent:
        idle, warning = AGENT_IDLE_LIMIT, min(citizen_auth.SESSION_WARNING, AGENT_IDLE_LIMIT / 2)
    return {
        "idle_seconds": int(idle.total_seconds()),
        "warning_seconds": int(warning.total_seconds()),
        "idle_minutes": minutes_in_words(idle),
        "warning_minutes": minutes_in_words(warning),
    }


def minutes_in_words(duration: timedelta) -> str:
    """« 2 minutes », « 1 minute », « 30 secondes », in the page's language."""
    seconds = int(duration.total_seconds())
    if seconds < 60:
        return ngettext("%(num)d seconde", "%(num)d secondes", seconds)
    minutes = seconds // 60
    return ngettext("%(num)d minute", "%(num)d minutes", minutes)


def uses_builtin_provider(app: Flask) -> bool:
    return not app.config["PAYMENT_URL"] and (app.config["DEMO"] or app.config["TESTING"])


def create_app(config: dict | None = None) -> Flask:
    app = Service(
        __name__,
        template_folder=str(ROOT / "partials"),
        static_folder=None,
        instance_path=str(ROOT / "instance"),
    )
    app.config.from_mapping(DEFAULTS)
    for key in ENVIRONMENT_KEYS:
        if os.environ.get(key):
            app.config[key] = os.environ[key]
    if os.environ.get("SESSION_COOKIE_SECURE", "") in ("1", "true"):
        app.config["SESSION_COOKIE_SECURE"] = True
    for key in ("PROXY_HOPS", "SESSION_IDLE_MINUTES", "RETENTION_MONTHS"):
        if os.environ.get(key, "").isdigit():
            app.config[key] = int(os.environ[key])
    app.config.update(config or {})
    if not app.config["DATABASE_URL"]:
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
        app.config["DATABASE_URL"] = default_database_url(app.instance_path)

    if app.config.get("PASSWORD_HASH_METHOD"):
        # The test suite's cheaper scrypt (given to create_app, never read from the
        # environment): never a production server's.
        if not (app.config["TESTING"] or app.config["DEMO"]):
            raise ValueError("PASSWORD_HASH_METHOD is for the test suite only")
        hash_cost(app.config["PASSWORD_HASH_METHOD"])
    open_database(app.config["DATABASE_URL"], app.config["SQLITE_BUSY_TIMEOUT_MS"])
    citizen_auth.set_session_idle_limit(timedelta(minutes=app.config["SESSION_IDLE_MINUTES"]))
    if app.config["PROXY_HOPS"]:
        hops = app.config["PROXY_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)
    app.extensions["mailer"] = Mailer(
        app.config["SMTP_URL"],
        app.config["MAIL_FROM"],
        # Demo mode without SMTP: each e-mail as a file QA can read (never in the logs).
        folder=Path(app.config["OUTBOX_FOLDER"] or Path(app.instance_path) / "outbox")
        if app.config["DEMO"]
        else None,
    )
    app.extensions["background"] = Background()

    init_request_logs(app)  # first: every later hook logs under the request's id
    Htmx(app)
    init_uploads(app)  # after Htmx, which sets its own request class
    StaticAssets(app, ROOT / "static")
    init_web(app)
    # After init_web: a signed-in session's form secret comes from its sign-in token.
    csrf.init_app(app)
    init_easy_read(app)
    init_language(app)  # after init_web: an account's language counts
    app.jinja_env.globals.update(
        page_title=page_title,
        euros=euros,
        france=lambda: price(1, "France"),  # one card sent in France, as the texts quote it
        terms_label=documents.terms_link_label,
        to_paris=to_paris,
        attestation_label=payment.attestation_label,
        session_limits=session_limits,
        ticked=ticked,
        swapped_into_body=swapped_into_body,
        this_address=this_address,
        answers_given_back=kept.answers_given_back,
    )
    app.jinja_env.filters["of"] = of
    app.jinja_env.filters["short_date"] = short_date
    app.jinja_env.filters["long_date"] = long_date
    app.jinja_env.filters["short_datetime"] = short_datetime
    app.jinja_env.filters["reason"] = reason_label
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    for blueprint in (
        pages.bp,
        guidance.bp,
        auth.bp,
        account.bp,
        photo.bp,
        wizard.bp,
        documents.bp,
        payment.bp,
        health.bp,
        console.bp,
    ):
        app.register_blueprint(blueprint)
    if app.config["QA_SECRET"]:
        # QA's sandboxes: test data on demand, never beside a production's.
        if not (app.config["DEMO"] or app.config["TESTING"]):
            raise ValueError("QA_SECRET is only accepted with --demo")
        if len(app.config["QA_SECRET"]) < qa.SECRET_MIN_LENGTH:
            raise ValueError(f"QA_SECRET must be at least {qa.SECRET_MIN_LENGTH} characters")
        qa.init_qa(app)
        csrf.exempt(qa.bp)
    if uses_builtin_provider(app):
        # The built-in card page takes no money: it only exists for demonstrations
        # and tests, never beside a real provider.
        app.register_blueprint(provider.bp)
        csrf.exempt(provider.card_page)

    app.add_url_rule(
        "/favicon.ico",
        "favicon",
        lambda: app.extensions["assets"].serve(app.extensions["assets"].urls["favicon.svg"]),
    )
    # The provider's answers are vouched for by their seal, not by a form token.
    csrf.exempt(payment.browser_return)
    csrf.exempt(payment.notification)
    # Its form's token was given by a session that may have ended: checked there.
    csrf.exempt(auth.session_ended)
    register_error_pages(app)
    return app


# -- command line --------------------------------------------------------------


def _letters_per_file(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= LETTERS_PER_FILE:
        raise argparse.ArgumentTypeError(f"a number from 1 to {LETTERS_PER_FILE}")
    return int(text)


def seconds(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        number = 0
    if not 0 < number < 3600:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of seconds above 0")
    return number


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    env = os.environ
    parser = argparse.ArgumentParser(
        description="Serve the CMI duplicate and second-copy service with gunicorn."
    )
    parser.add_argument("--host", default=env.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(env.get("PORT", "8000")))
    parser.add_argument(
        "--database",
        default=env.get("DATABASE_URL"),
        help="sqlite:///path or postgresql://user@host/db (default: instance/cmi.sqlite3)",
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        default=env.get("DEMO", "") in ("1", "true", "yes"),
        help="create the tables and load the demo accounts if they are absent",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=int(env.get("WEB_CONCURRENCY", "2")),
        help="gunicorn worker processes (default 2)",
    )
    parser.add_argument("--threads", type=int, default=int(env.get("THREADS", "4")))
    parser.add_argument(
        "--head-timeout",
        type=seconds,
        default=env.get("REQUEST_HEAD_TIMEOUT", "10"),
        help="seconds a request's head may take to arrive (default 10)",
    )
    parser.add_argument(
        "--body-timeout",
        type=seconds,
        default=env.get("REQUEST_BODY_TIMEOUT", "30"),
        help="seconds a request's body may go without a byte (default 30)",
    )
    parser.add_argument(
        "--send-outbox",
        action="store_true",
        help="send again the emails an SMTP failure left in the outbox, then exit",
    )
    subcommands = parser.add_subparsers(dest="command", metavar="command")
    migrate = subcommands.add_parser(
        "migrate", help="bring the database's schema up to date (or create it), then exit"
    )
    migrate.add_argument(
        "--app-role",
        help="PostgreSQL: give this role the application's rights, and no more (README)",
    )
    cards = subcommands.add_parser(
        "import-cards", help="import the CMI database's extract (CSV), then exit"
    )
    cards.add_argument("file", type=Path)
    cards.add_argument("--encoding", choices=("utf-8", "windows-1252"), default="utf-8")
    cards.add_argument("--dry-run", action="store_true", help="report, write nothing")
    cards.add_argument("--report", type=Path, help="rejected rows (default: FILE-rejets.csv)")
    cards.add_argument(
        "--letters",
        type=Path,
        help="folder of the credentials letters' PDF files (default: courriers/ beside FILE)",
    )
    letters = subcommands.add_parser(
        "letters", help="print the credentials letters still owed (a stopped run's), then exit"
    )
    letters.add_argument("--folder", type=Path, default=Path("courriers"))
    letters.add_argument(
        "--large-print",
        action="store_true",
        help="print the letters in 16 pt (holders who read large print)",
    )
    for command in (cards, letters):
        command.add_argument(
            "--per-file",
            type=_letters_per_file,
            default=LETTERS_PER_FILE,
            help=f"letters in one PDF file for the print shop (default {LETTERS_PER_FILE})",
        )
    export = subcommands.add_parser(
        "export", help="write the paid cards not yet ordered to a batch file for the factory"
    )
    export.add_argument("--folder", type=Path, default=Path("factory/out"))
    export.add_argument("--batch", help="write this batch again (its name, e.g. CMI-20261129-001)")
    statuses = subcommands.add_parser(
        "import-statuses", help="import the factory's status file (CSV), then exit"
    )
    statuses.add_argument("file", type=Path)
    statuses.add_argument("--report", type=Path, help="rejected rows (default: FILE-rejets.csv)")
    subcommands.add_parser(
        "purge", help="delete or anonymise what is kept no longer (see the legal notice)"
    )
    agent = subcommands.add_parser(
        "create-agent",
        help="add an agent of the Espace gestionnaire (a superviseur: the first one) and "
        "e-mail them their enrolment link",
    )
    agent.add_argument("username", help="their identifiant, for example prenom.nom")
    agent.add_argument("--name", required=True, help="their first and last name")
    agent.add_argument("--email", required=True, help="where the enrolment link goes")
    agent.add_argument("--role", choices=AGENT_ROLES, default=SUPERVISOR)
    agent.add_argument(
        "--print-link",
        action="store_true",
        help="print the enrolment link (valid 48 hours) instead of e-mailing it",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logs.configure()
    logs.CURRENT_ID.set(logs.new_id("cmd-" if args.command or args.send_outbox else "srv-"))
    config = {"DEMO": args.demo}
    if args.database:
        config["DATABASE_URL"] = args.database
    try:
        app = create_app(config)
    except ValueError as error:
        print(f"Refusing to start: {error}", file=sys.stderr)
        return 2
    if args.command == "migrate":
        return commands.migrate(args.app_role)
    if args.demo and not args.command:
        # A demonstration brings its own database up to date; a real server asks first.
        commands.migrate()
    try:
        models.create_tables()
    except models.migrations.SchemaOutOfDate as error:
        print(f"Refusing to start: {error}", file=sys.stderr)
        return 2
    refusal = commands.refusal(
        app, args.command, getattr(args, "dry_run", False), DEFAULT_SECRET_KEY
    )
    if refusal:
        print(f"Refusing to run {args.command}: {refusal}", file=sys.stderr)
        return 2
    if args.command == "import-cards":
        return commands.import_cards(
            app, args.file, args.encoding, args.dry_run, args.report, args.letters, args.per_file
        )
    if args.command == "letters":
        return commands.letters_command(app, args.folder, args.per_file, args.large_print)
    if args.command == "purge":
        return commands.purge(app.config["RETENTION_MONTHS"])
    if args.command == "export":
        return commands.export_orders(args.folder, args.batch)
    if args.command == "import-statuses":
        return commands.import_statuses(app, args.file, args.report)
    if args.command == "create-agent":
        return commands.create_agent(
            app, args.username, args.name, args.email, args.role, args.print_link
        )
    if args.send_outbox:
        with models.database.connection_context():
            # Forgotten-credential requests a stopped server answered but never wrote.
            for request_id in credentials.waiting():
                try:
                    auth.prepare_email(app, request_id)
                except Exception:
                    app.logger.exception("Credential request %s still waiting", request_id)
            sent, waiting = app.extensions["mailer"].send_waiting()
        return commands.say(
            f"{sent} email(s) sent, {waiting} still waiting.", 0 if waiting == 0 else 1
        )
    if app.config["SECRET_KEY"] == DEFAULT_SECRET_KEY and not args.demo:
        print(
            "Refusing to start: SECRET_KEY is not set, and the built-in key is public.\n"
            "Set SECRET_KEY to a long random value (for example the output of\n"
            "  python -c 'import secrets; print(secrets.token_hex(32))')\n"
            "or start with --demo for a demonstration with the demo accounts.",
            file=sys.stderr,
        )
        return 2
    if app.config["PAYMENT_SECRET"] == DEFAULT_PAYMENT_SECRET and not args.demo:
        print(
            "Refusing to start: PAYMENT_SECRET is not set, and the built-in one is public.\n"
            "Set PAYMENT_SECRET to the key shared with the payment provider.",
            file=sys.stderr,
        )
        return 2
    if not app.config["PAYMENT_URL"] and not args.demo:
        print(
            "Refusing to start: PAYMENT_URL is not set. The built-in payment page takes\n"
            "no money and only runs with --demo; set PAYMENT_URL, PAYMENT_MERCHANT_ID and\n"
            "PAYMENT_SECRET to those of the payment provider.",
            file=sys.stderr,
        )
        return 2
    if not app.config["PUBLIC_URL"] and not args.demo:
        print(
            "Refusing to start: PUBLIC_URL is not set. Links sent by email (password\n"
            "reset) and the payment provider's return addresses are built from it, never\n"
            "from a request's Host header: set it to the service's address, for example\n"
            "  PUBLIC_URL=https://cmi.example.org",
            file=sys.stderr,
        )
        return 2
    if args.demo and load_demo_data():
        app.logger.info("Demo data loaded (accounts listed in README.md)")

    close_kept_connections()  # each worker opens its own, after the fork
    print(f"Serving on http://{args.host}:{args.port}/", flush=True)
    serve(
        app, args.host, args.port, args.workers, args.threads, args.head_timeout, args.body_timeout
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
