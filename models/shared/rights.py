"""What the application's own database role may do, on PostgreSQL (README: « Running it »).

The tables belong to an owner role, which runs ``python app.py migrate``; the servers
and the other commands connect as another role that may read and write rows and
nothing else: no TRUNCATE, no ALTER, no DROP (so no DISABLE TRIGGER either: only an
owner alters a table), no CREATE. On the audit log it may only read and add
entries, and the schema's version it may only read. ``grant`` sets exactly that (on
every table, each time the schema changes); ``missing`` says what a role lacks, so
that a server refuses to start instead of failing on the first page that needs it.
"""

from __future__ import annotations

import re

from .db import database, is_sqlite

READ_WRITE = ("SELECT", "INSERT", "UPDATE", "DELETE")
# Tables the application only reads, or only reads and adds to.
NARROWER = {"audit_entry": ("SELECT", "INSERT"), "schema_version": ("SELECT",)}
ROLE_NAME = re.compile(r"[a-z_][a-z0-9_$]{0,62}")


class BadRole(Exception):
    """The role named cannot be given the application's rights: the message says why."""


def rights(table: str) -> tuple[str, ...]:
    return NARROWER.get(table, READ_WRITE)


def _check_name(role: str) -> None:
    if not ROLE_NAME.fullmatch(role):
        raise BadRole(
            f"« {role} » is not a role name this command takes: lower-case letters, "
            "digits and _ only, starting with a letter or _."
        )


def grants(role: str, tables: list[str]) -> list[str]:
    """The statements that leave ``role`` with exactly the application's rights."""
    _check_name(role)
    statements = [f'GRANT USAGE ON SCHEMA public TO "{role}"']
    for table in sorted(tables):
        statements += [
            f'REVOKE ALL ON "{table}" FROM "{role}"',
            f'GRANT {", ".join(rights(table))} ON "{table}" TO "{role}"',
        ]
    # New rows take their ids from the tables' sequences (nextval needs USAGE).
    statements.append(f'GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO "{role}"')
    return statements


def grant(role: str) -> list[str]:
    """Give ``role`` the application's rights on every table there is (run by the
    tables' owner, inside a transaction); the statements run."""
    if is_sqlite():
        raise BadRole("--app-role is for PostgreSQL: a SQLite file has no roles.")
    _check_name(role)
    if not database.execute_sql("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone():
        raise BadRole(f"No role « {role} » on this PostgreSQL server: create it first.")
    statements = grants(role, database.get_tables())
    for statement in statements:
        database.execute_sql(statement)
    return statements


def missing() -> list[str]:
    """« INSERT on card », ...: what the connected role lacks of the application's
    rights (nothing on SQLite, nor for the tables' owner)."""
    if is_sqlite():
        return []
    wanted = [(t, right) for t in sorted(database.get_tables()) for right in rights(t)]
    lacking = []
    if wanted:
        values = ", ".join(["(%s, %s)"] * len(wanted))
        lacking = database.execute_sql(
            f"SELECT t, p FROM (VALUES {values}) AS wanted(t, p) "  # noqa: S608 (placeholders)
            "WHERE NOT has_table_privilege(quote_ident(t), p)",
            [value for pair in wanted for value in pair],
        ).fetchall()
    sequences = database.execute_sql(
        "SELECT c.relname, 'USAGE' FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = current_schema() "
        # (a CASE: the planner may test the privilege before the kind)
        "AND CASE WHEN c.relkind = 'S' THEN NOT has_sequence_privilege(c.oid, 'USAGE') END "
        "ORDER BY c.relname"
    ).fetchall()
    return [f"{right} on {name}" for name, right in [*lacking, *sequences]]
