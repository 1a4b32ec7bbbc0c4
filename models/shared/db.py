"""Database binding: one proxy the models use, bound late from a URL."""

from __future__ import annotations

import threading
import zlib
from contextlib import contextmanager

from peewee import Database, DatabaseProxy, Model, SqliteDatabase
from playhouse.db_url import connect


class RoutedDatabase(DatabaseProxy):
    """The models' database: the one ``open_database`` bound, or, on a thread that
    ``bound_to`` gave another one (a QA run's own data: ``views/demo/qa.py``), that one."""

    __slots__ = ("_bound", "_default")

    def __init__(self) -> None:
        object.__setattr__(self, "_bound", threading.local())
        super().__init__()

    @property
    def obj(self) -> Database | None:
        return getattr(self._bound, "database", None) or self._default

    @obj.setter
    def obj(self, value: Database | None) -> None:
        object.__setattr__(self, "_default", value)

    def __setattr__(self, name: str, value) -> None:
        object.__setattr__(self, name, value)


database = RoutedDatabase()


def bound_database() -> Database | None:
    """The database this thread was bound to, if any (work handed to another thread
    takes it along)."""
    return getattr(database._bound, "database", None)


@contextmanager
def bound_to(db: Database | None):
    """The models use ``db`` on this thread until the block ends (None: the default)."""
    previous = bound_database()
    database._bound.database = db
    try:
        yield
    finally:
        database._bound.database = previous


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
    db = make_database(url, busy_timeout_ms)
    database.initialize(db)
    return db


def make_database(url: str, busy_timeout_ms: int | None = None) -> Database:
    """The database named by ``url``, with the service's settings, bound to nothing."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("sqlite:"):
        pragmas = dict(SQLITE_PRAGMAS)
        if busy_timeout_ms is not None:
            pragmas["busy_timeout"] = busy_timeout_ms
        # Connections are kept and handed from request to request: opening one costs
        # its four pragmas, and closing the last one checkpoints the journal (fsync),
        # together 2 ms of a page that otherwise takes 5. A request still ends by
        # « closing » it: that returns it to the pool, outside any transaction.
        db = connect(
            "sqlite+pool:" + url.removeprefix("sqlite:"),
            pragmas=pragmas,
            autoconnect=False,
            max_connections=None,  # as many as threads use at once (gunicorn's --threads)
            check_same_thread=False,  # one thread at a time, but not always the same
        )
    else:
        db = connect(url, autoconnect=False, **POSTGRES_OPTIONS)
    return db


def close_kept_connections() -> None:
    """Close the connections the pool keeps (SQLite). Called before the server forks
    its workers: a SQLite connection must never be shared across a fork, and the
    schema check and the demo data left one in the pool."""
    db = database.obj
    if hasattr(db, "close_all"):
        db.close_all()


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
