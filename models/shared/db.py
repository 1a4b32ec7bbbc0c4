"""Database binding: one proxy the models use, bound late from a URL."""

from __future__ import annotations

import zlib
from contextlib import contextmanager

from peewee import DatabaseProxy, Model, SqliteDatabase
from playhouse.db_url import connect

database = DatabaseProxy()

SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "foreign_keys": 1,
    "busy_timeout": 10_000,
    "synchronous": "normal",
}
# PostgreSQL: give up connecting after a few seconds, and cancel any statement
# that runs longer than a request should (the user gets « réessayez » instead of
# a request that hangs until the proxy's time-out).
POSTGRES_OPTIONS = {"connect_timeout": 5, "options": "-c statement_timeout=15000"}


class BaseModel(Model):
    class Meta:
        database = database
        legacy_table_names = False


def open_database(url: str, busy_timeout_ms: int | None = None):
    """Bind the models to the database named by ``url`` and return it.

    ``sqlite:///path`` or ``postgresql://user@host/db``. Connections are opened
    per request (see ``views.shared.web``), so this opens nothing yet.
    ``busy_timeout_ms``: how long SQLite waits for another writer.
    """
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("sqlite"):
        pragmas = dict(SQLITE_PRAGMAS)
        if busy_timeout_ms is not None:
            pragmas["busy_timeout"] = busy_timeout_ms
        db = connect(url, pragmas=pragmas, autoconnect=False)
    else:
        db = connect(url, autoconnect=False, **POSTGRES_OPTIONS)
    database.initialize(db)
    return db


def is_sqlite() -> bool:
    return isinstance(database.obj, SqliteDatabase)


@contextmanager
def write_transaction():
    """A transaction that reads then writes.

    SQLite takes the write lock at BEGIN IMMEDIATE, so two writers queue on the
    busy timeout instead of failing with "database is locked" half way.
    """
    if is_sqlite():
        with database.atomic("IMMEDIATE") as txn:
            yield txn
    else:
        with database.atomic() as txn:
            yield txn


def lock_names(*names: str) -> None:
    """Serialise the transactions that name the same thing (call inside a write transaction).

    SQLite already runs one writer at a time (BEGIN IMMEDIATE); PostgreSQL takes
    an advisory lock per name, held until the transaction ends, in a fixed order
    so that two transactions never wait on each other.
    """
    if is_sqlite():
        return
    for key in sorted({zlib.crc32(name.encode("utf-8", "surrogatepass")) for name in names}):
        database.execute_sql("SELECT pg_advisory_xact_lock(%s)", (key,))
