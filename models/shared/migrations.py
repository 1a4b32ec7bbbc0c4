"""The database schema's version, and the steps that bring an older schema up to date.

A new database is created at the current version in one go. An existing one
records its version in ``schema_version``; a database made before versions
were recorded (it has tables but no ``schema_version``) is version 0. The
server refuses to start on an older schema (``python app.py migrate`` brings
it up to date) and on a newer one (the code is older than the data).

Each step is written with ``playhouse.migrate`` so that it runs the same on
SQLite and PostgreSQL, and runs in one transaction with the version it sets.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from peewee import (
    CharField,
    DateField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    ProgrammingError,
)
from playhouse.migrate import PostgresqlMigrator, SqliteMigrator, migrate

from .db import BaseModel, database, is_sqlite


class SchemaVersion(BaseModel):
    """One row: the version of the schema this database has."""

    version = IntegerField()


@dataclass(frozen=True)
class Step:
    version: int
    description: str
    apply: Callable[[object], None]  # given the migrator


class SchemaOutOfDate(Exception):
    """The database's schema is not the code's: the message says what to do."""


def _accounts_from_the_cmi_database(migrator) -> None:
    # Accounts created by an import: the key of the account holder in the CMI
    # database's extract, and the digest of the one-time activation code.
    migrate(
        migrator.add_column("account", "external_key", CharField(null=True)),
        migrator.add_column("account", "activation_digest", CharField(null=True)),
        migrator.add_index("account", ("external_key",), True),
    )


def _email_key() -> ForeignKeyField:
    from .mail import OutboxEmail

    return ForeignKeyField(OutboxEmail, null=True, field=OutboxEmail.id)


def _the_card_factory(migrator) -> None:
    # Each new card's batch at the factory and the statuses the factory sends back.
    migrate(
        migrator.add_column("request_line", "batch", CharField(null=True)),
        migrator.add_column("request_line", "exported_at", DateTimeField(null=True)),
        migrator.add_column("request_line", "made_on", DateField(null=True)),
        migrator.add_column("request_line", "shipped_on", DateField(null=True)),
        migrator.add_column("request_line", "tracking_number", CharField(null=True)),
        migrator.add_column("request_line", "returned_on", DateField(null=True)),
        migrator.add_column("request_line", "status_on", DateField(null=True)),
        migrator.add_column("request_line", "shipped_email_id", _email_key()),
        migrator.add_column("request_line", "returned_email_id", _email_key()),
        migrator.add_index("request_line", ("batch",), False),
    )
    from ..factory import FactoryBatch

    database.create_tables([FactoryBatch], safe=True)


APPEND_ONLY = "the audit log is append-only"


def make_audit_log_append_only() -> None:
    """The database itself refuses to change or delete an audit entry: UPDATE and DELETE
    (both databases), and TRUNCATE (PostgreSQL; SQLite has none, and a ``DELETE`` without
    ``WHERE`` still runs the trigger). These hold against the code and anyone without
    the right to alter the table; its owner can still disable them, hence a role apart
    for the application (``app_role_grants``)."""
    if is_sqlite():
        for event in ("UPDATE", "DELETE"):
            database.execute_sql(
                f"CREATE TRIGGER IF NOT EXISTS audit_entry_no_{event.lower()} "
                f"BEFORE {event} ON audit_entry "
                f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END"
            )
        return
    database.execute_sql(
        "CREATE OR REPLACE FUNCTION audit_entry_append_only() RETURNS trigger AS $$ "
        f"BEGIN RAISE EXCEPTION '{APPEND_ONLY}'; END; $$ LANGUAGE plpgsql"
    )
    database.execute_sql("DROP TRIGGER IF EXISTS audit_entry_append_only ON audit_entry")
    database.execute_sql(
        "CREATE TRIGGER audit_entry_append_only BEFORE UPDATE OR DELETE ON audit_entry "
        "FOR EACH ROW EXECUTE FUNCTION audit_entry_append_only()"
    )
    database.execute_sql("DROP TRIGGER IF EXISTS audit_entry_no_truncate ON audit_entry")
    database.execute_sql(
        "CREATE TRIGGER audit_entry_no_truncate BEFORE TRUNCATE ON audit_entry "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_entry_append_only()"
    )


def _the_agents_console(_migrator) -> None:
    # Agents' accounts, their sessions and the audit log of their actions.
    from ..operator.agents import Agent, AgentSession, AuditEntry

    database.create_tables([Agent, AgentSession, AuditEntry], safe=True)
    make_audit_log_append_only()


def _refunds_recorded(migrator) -> None:
    migrate(
        migrator.add_column("payment", "refund_amount", IntegerField(null=True)),
        migrator.add_column("payment", "refund_reference", CharField(null=True)),
        migrator.add_column("payment", "refunded_on", DateField(null=True)),
    )


def _add_missing(migrator, table: str, columns: dict) -> None:
    """Columns a table lacks (a table an earlier step created from today's model has them)."""
    present = {column.name for column in database.get_columns(table)}
    migrate(
        *[migrator.add_column(table, name, f) for name, f in columns.items() if name not in present]
    )


def _agents_enrol(migrator) -> None:
    _add_missing(
        migrator,
        "agent",
        {
            "email": CharField(default=""),
            "enrolment_digest": CharField(null=True),
            "enrolment_expires": DateTimeField(null=True),
            "totp_last_step": IntegerField(null=True),
        },
    )


def _photos(migrator) -> None:
    # Photos sent by holders, and the one each card sent to the factory used.
    from ..photos import Photo

    database.create_tables([Photo], safe=True)
    _add_missing(migrator, "request_line", {"photo": CharField(null=True)})


def _languages(migrator) -> None:
    _add_missing(migrator, "account", {"language": CharField(max_length=5, default="")})
    _add_missing(migrator, "credential_request", {"language": CharField(max_length=5, default="")})


def _credentials_letters(_migrator) -> None:
    # Each letter an account is owed or was sent, and the files they were printed in.
    from ..letters import CredentialsLetter, LetterFile

    database.create_tables([LetterFile, CredentialsLetter], safe=True)


def _hostile_use(migrator) -> None:
    # Failed sign-ins are counted per client; an audit entry may be an operator's (a
    # command's, with no agent); the audit log refuses TRUNCATE too (after the column's
    # change: SQLite makes the table again, without its triggers).
    _add_missing(migrator, "login_failure", {"client": CharField(default="")})
    if not next(c for c in database.get_columns("audit_entry") if c.name == "agent_id").null:
        migrate(migrator.drop_not_null("audit_entry", "agent_id"))
    make_audit_log_append_only()


def _photo_uploads(_migrator) -> None:
    # What each account sent as a photo in the last hour: the hourly limit counts it.
    from ..photos import PhotoUpload

    database.create_tables([PhotoUpload], safe=True)


def _kept_answers(_migrator) -> None:
    # What a form carried when it came after its session had ended, until sign-in.
    from .kept_answers import KeptAnswers

    database.create_tables([KeptAnswers], safe=True)


def _console_results(_migrator) -> None:
    # What each confirmed console action did: the same confirmation sent again lands on it.
    from ..operator.results import ActionResult

    database.create_tables([ActionResult], safe=True)


STEPS: list[Step] = [
    Step(1, "accounts imported from the CMI database", _accounts_from_the_cmi_database),
    Step(2, "orders to the card factory and its statuses", _the_card_factory),
    Step(3, "the agents' console and its audit log", _the_agents_console),
    Step(4, "refunds recorded by agents", _refunds_recorded),
    Step(5, "agents enrol by a link sent to them; a code works once", _agents_enrol),
    Step(6, "holders' photos, named in the factory's batches", _photos),
    Step(7, "the language of each account and of each forgotten-credential request", _languages),
    Step(8, "credentials letters owed until printed, and their files", _credentials_letters),
    Step(
        9,
        "the audit log refuses TRUNCATE and takes operators' entries; sign-in failures "
        "counted per client",
        _hostile_use,
    ),
    Step(10, "the photos each account sent in the last hour", _photo_uploads),
    Step(11, "answers kept when a form came after its session had ended", _kept_answers),
    Step(12, "the result of each confirmed action of the agents' console", _console_results),
]
CURRENT = STEPS[-1].version if STEPS else 0

COMMAND = "python app.py migrate"


def _migrator():
    return SqliteMigrator(database.obj) if is_sqlite() else PostgresqlMigrator(database.obj)


def version() -> int | None:
    """This database's version; None when it has no table at all (a new database)."""
    tables = set(database.get_tables())
    if not tables:
        return None
    if SchemaVersion._meta.table_name not in tables:
        return 0
    row = SchemaVersion.select().order_by(SchemaVersion.version.desc()).first()
    return row.version if row else 0


def create(models: list) -> None:
    """A new database: every table as the code has it (``models`` include
    ``SchemaVersion``), at the current version."""
    try:
        with database.atomic():
            database.create_tables(models, safe=True)
            make_audit_log_append_only()
            SchemaVersion.delete().execute()
            SchemaVersion.create(version=CURRENT)
    except ProgrammingError as error:  # PostgreSQL: the role may not create tables
        reason = (str(error).splitlines() or ["refused"])[0]
        raise SchemaOutOfDate(
            f"The database has no tables and this role may not create them ({reason}): "
            f"run « {COMMAND} » as the role that is to own them."
        ) from error


def check() -> None:
    """Refuse a schema older or newer than the code (call with a connection open)."""
    found = version()
    if found is None or found == CURRENT:
        return
    if found < CURRENT:
        raise SchemaOutOfDate(
            f"The database's schema is version {found}, the code needs {CURRENT}: "
            f"run « {COMMAND} » first."
        )
    raise SchemaOutOfDate(
        f"The database's schema is version {found}, newer than this code ({CURRENT}): "
        "deploy the code that goes with it."
    )


def upgrade() -> list[Step]:
    """Apply the steps this database lacks, in order; returns those applied."""
    found = version()
    if found is None:
        return []
    if found > CURRENT:
        check()
    applied = []
    for step in STEPS:
        if step.version <= found:
            continue
        with database.atomic():
            step.apply(_migrator())
            database.create_tables([SchemaVersion], safe=True)
            SchemaVersion.delete().execute()
            SchemaVersion.create(version=step.version)
        applied.append(step)
    return applied
