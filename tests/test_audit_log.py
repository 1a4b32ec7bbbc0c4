"""The audit log is append-only, and how far the database holds it so.

- Both databases refuse UPDATE and DELETE of an entry; PostgreSQL refuses TRUNCATE too
  (a new database, and one migrated from before that trigger).
- Under the documented set-up (tables owned by a role of their own, which runs
  ``python app.py migrate --app-role ROLE``), the application's role cannot TRUNCATE,
  ALTER, DROP, DISABLE TRIGGER, DELETE or UPDATE the audit log, nor create a table,
  and the server starts and works under it.
"""

from __future__ import annotations

import os
import re
import urllib.parse

import pytest
from peewee import DatabaseError

import app as application
import models
from models.demo.data import load_demo_data
from models.operator.agents import Agent, AuditEntry, record
from models.shared import migrations
from models.shared.db import database, is_sqlite

from .helpers import post_form, sign_in
from .http_client import HttpClient
from .postgres import ADMIN_URL, _admin, drop_database, fresh_database
from .test_console import agent_sign_in
from .test_faults import Server


def an_entry() -> None:
    agent = Agent.get(Agent.username == "agent.demo")
    record(agent, "Essai", "search", {}, {"n": 1})


def test_an_entry_is_neither_changed_nor_deleted_nor_truncated(db):
    an_entry()
    attempts = ["UPDATE audit_entry SET action = 'rien'", "DELETE FROM audit_entry"]
    if not is_sqlite():
        # TRUNCATE runs no row trigger; a cascade from the agents' table reaches it too.
        attempts += ["TRUNCATE audit_entry", "TRUNCATE agent CASCADE"]
    for statement in attempts:
        with pytest.raises(DatabaseError, match="append-only"), database.atomic():
            database.execute_sql(statement)
    assert AuditEntry.select().count() == 1


# The version a database had before the audit log refused TRUNCATE.
STEP_BEFORE_TRUNCATE = (
    next(step.version for step in migrations.STEPS if step.apply is migrations._hostile_use) - 1
)


def audit_table() -> tuple:
    """The audit log's columns (and whether each takes NULL) and indexes."""
    columns = sorted((c.name, c.null) for c in database.get_columns("audit_entry"))
    indexes = sorted(
        (i.name, tuple(i.columns), i.unique) for i in database.get_indexes("audit_entry")
    )
    return columns, indexes


def test_migrate_brings_an_older_database_up_to_step_9(app, capsys):
    """What step 9 changes: the failures' client, the audit log's operator entries (no
    agent) and, on PostgreSQL, its TRUNCATE trigger; on SQLite the table is made again
    for its column, and keeps its triggers and indexes."""
    from playhouse.migrate import migrate

    postgres = app.config["DATABASE_URL"].startswith("postgres")
    with database.connection_context():
        fresh = audit_table()
        an_entry()
        # The database as version 7 had it.
        database.execute_sql('ALTER TABLE "login_failure" DROP COLUMN "client"')
        migrate(migrations._migrator().add_not_null("audit_entry", "agent_id"))
        if postgres:
            database.execute_sql("DROP TRIGGER audit_entry_no_truncate ON audit_entry")
            with database.atomic() as transaction:  # as it was: TRUNCATE went through
                database.execute_sql("TRUNCATE audit_entry")
                assert AuditEntry.select().count() == 0
                transaction.rollback()
        else:
            migrations.make_audit_log_append_only()  # (SQLite made the table again)
        migrations.SchemaVersion.update(version=STEP_BEFORE_TRUNCATE).execute()
    assert application.main(["--database", app.config["DATABASE_URL"], "migrate"]) == 0
    assert f"from version {STEP_BEFORE_TRUNCATE} to {migrations.CURRENT}" in (
        capsys.readouterr().out
    )
    with database.connection_context():
        assert "client" in {column.name for column in database.get_columns("login_failure")}
        assert audit_table() == fresh
        record(None, "Agent ajouté", "agent:9", {}, {})  # an operator's entry
        attempts = ["UPDATE audit_entry SET action = 'rien'", "DELETE FROM audit_entry"]
        if postgres:
            attempts.append("TRUNCATE audit_entry")
        for statement in attempts:
            with pytest.raises(DatabaseError, match="append-only"), database.atomic():
                database.execute_sql(statement)
        assert AuditEntry.select().count() == 2


def test_migrate_creates_a_new_database_at_the_current_version(database_url, make_app, capsys):
    make_app(database_url)
    with database.connection_context():
        database.drop_tables(models.ALL_MODELS, safe=True)
    assert application.main(["--database", database_url, "migrate"]) == 0
    assert f"Schema created at version {migrations.CURRENT}." in capsys.readouterr().out
    with database.connection_context():
        assert migrations.version() == migrations.CURRENT
    assert application.main(["--database", database_url, "migrate"]) == 0
    assert "nothing to do" in capsys.readouterr().out


def test_app_role_is_refused_with_a_clear_line_where_it_cannot_apply(app, capsys):
    url = app.config["DATABASE_URL"]
    if url.startswith("sqlite"):
        assert application.main(["--database", url, "migrate", "--app-role", "cmi_app"]) == 2
        assert "--app-role is for PostgreSQL" in capsys.readouterr().err
        return
    assert application.main(["--database", url, "migrate", "--app-role", "nobody_here_x"]) == 2
    assert "No role « nobody_here_x »" in capsys.readouterr().err
    assert application.main(["--database", url, "migrate", "--app-role", 'x"; DROP']) == 2
    assert "is not a role name" in capsys.readouterr().err


# -- the application under a role of its own ---------------------------------------------------


def as_role(url: str, role: str) -> str:
    """``url`` with ``role`` as its user (local PostgreSQL: trust, no password)."""
    parts = urllib.parse.urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return urllib.parse.urlunsplit(parts._replace(netloc=f"{role}@{host}"))


@pytest.fixture
def two_roles(request, worker_id):
    """A database owned by a role of its own, and the application's role beside it
    (roles are the whole server's: named for this run, dropped after)."""
    request.getfixturevalue("postgres_url")  # skipped (or failed under CI) without PostgreSQL
    suffix = f"{worker_id}_{os.getpid()}"
    owner, app_role, name = f"cmi_owner_{suffix}", f"cmi_app_{suffix}", f"cmi_roles_{suffix}"

    def drop_all() -> None:
        drop_database(name)
        _admin(ADMIN_URL, f'DROP ROLE IF EXISTS "{app_role}"', f'DROP ROLE IF EXISTS "{owner}"')

    drop_all()
    _admin(ADMIN_URL, f'CREATE ROLE "{owner}" LOGIN', f'CREATE ROLE "{app_role}" LOGIN')
    url = fresh_database(name)
    _admin(ADMIN_URL, f'ALTER DATABASE "{name}" OWNER TO "{owner}"')
    # As the README's set-up: only the owner creates anything in the database (the
    # default from PostgreSQL 15 on, said again for older servers).
    _admin(url, "REVOKE CREATE ON SCHEMA public FROM PUBLIC")
    yield as_role(url, owner), as_role(url, app_role), app_role
    if not database.is_closed():
        database.close()
    drop_all()


@pytest.mark.postgres
def test_the_applications_own_role_cannot_touch_the_audit_log(
    two_roles, make_app, tmp_path, capsys
):
    import psycopg2

    owner_url, app_url, app_role = two_roles
    # Before the owner has made the tables, the application's role is told plainly.
    assert application.main(["--database", app_url, "--send-outbox"]) == 2
    assert "this role may not create them" in capsys.readouterr().err

    assert application.main(["--database", owner_url, "migrate", "--app-role", app_role]) == 0
    assert f"Role {app_role}: rows read and written" in capsys.readouterr().out

    # The real server starts under the application's role and serves a citizen.
    server = Server(app_url, tmp_path).start()
    try:
        browser = HttpClient(server.port)
        answer = browser.submit(
            "/connexion", {"username": "alfred.depot", "password": "Tilleuls-2026"}
        )
        assert answer.status == 303, answer.text[:300]
        assert "Alfred DEPOT" in browser.get("/mes-donnees").text
    finally:
        server.stop()

    # In process, under the same role: an agent's action goes to the audit log.
    service = make_app(app_url)
    models.create_tables()  # the start-up check: nothing to create, no right lacking
    load_demo_data()
    for _ in range(5):
        post_form(service.test_client(), "/connexion", {"username": "navette.pmr", "password": "x"})
    agent = service.test_client()
    agent_sign_in(agent)
    with database.connection_context():
        navette = models.Account.get(models.Account.username == "navette.pmr")
    done = post_form(agent, f"/gestion/comptes/{navette.id}/deverrouiller", {"confirm": "oui"})
    assert done.status_code == 303
    sign_in(service.test_client(), "navette.pmr")
    with database.connection_context():
        assert [e.action for e in AuditEntry.select()] == ["Compte déverrouillé"]

    refused = {
        "TRUNCATE audit_entry": "permission denied",
        "ALTER TABLE audit_entry ADD COLUMN note text": "must be owner",
        "ALTER TABLE audit_entry DISABLE TRIGGER audit_entry_append_only": "must be owner",
        "ALTER TABLE audit_entry DISABLE TRIGGER ALL": "must be owner",
        "DROP TABLE audit_entry": "must be owner",
        "DELETE FROM audit_entry": "permission denied",
        "UPDATE audit_entry SET action = 'rien'": "permission denied",
        "UPDATE schema_version SET version = 1": "permission denied",
        "CREATE TABLE elsewhere (id int)": "permission denied",
    }
    connection = psycopg2.connect(app_url)
    try:
        for statement, why in refused.items():
            with connection.cursor() as cursor:
                with pytest.raises(psycopg2.errors.InsufficientPrivilege, match=why):
                    cursor.execute(statement)
                connection.rollback()
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM audit_entry")
            assert cursor.fetchone() == (1,)
    finally:
        connection.close()


@pytest.mark.postgres
def test_a_role_without_a_right_the_service_needs_is_refused_at_start(two_roles, make_app, capsys):
    owner_url, app_url, app_role = two_roles
    assert application.main(["--database", owner_url, "migrate", "--app-role", app_role]) == 0
    _admin(owner_url, f'REVOKE INSERT ON card FROM "{app_role}"')
    assert application.main(["--database", app_url, "--send-outbox"]) == 2
    error = capsys.readouterr().err
    assert "The database role lacks INSERT on card" in error
    assert re.search(r"run « python app\.py migrate --app-role ROLE » as the tables' owner", error)
    # Running the command again as the README says puts it right.
    assert application.main(["--database", owner_url, "migrate", "--app-role", app_role]) == 0
    assert application.main(["--database", app_url, "--send-outbox"]) == 0
    make_app(app_url)  # (the models stay bound to a database the fixture will drop)
