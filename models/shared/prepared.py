"""Reads written once: the queries every signed-in page runs.

peewee writes a query's SQL again each time it runs it, walking the whole
expression: about 0.2 ms a query, a third of a signed-in page. A ``Prepared``
query is written once per kind of database (SQLite and PostgreSQL write it
differently); each call only puts its values in their places and reads the rows
as peewee would (model instances, joined ones included, or tuples).

Its values stand in for what peewee would send itself: ids as ints, texts as
strings. The builder is called once with markers in their place; a marker
peewee converted on the way (a date, a boolean) could not be found again, and
writing the query fails loudly rather than sending it wrong.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

from peewee import Query

from .db import database

# Values no query of ours sends by itself.
_INT_MARKER = -(2**62)
_TEXT_MARKER = "\x00prepared-{}\x00"


class Prepared:
    """``build(*markers)`` gives the query; ``kinds`` says each value's type (int, str)."""

    def __init__(self, build: Callable[..., Query], *kinds: type) -> None:
        if any(kind not in (int, str) for kind in kinds):
            raise TypeError("a prepared query takes ints and strings")
        self.build = build
        self.kinds = kinds
        self._written: dict[type, tuple] = {}
        self._matched: dict[type, dict] = {}
        self._lock = threading.Lock()

    def _markers(self) -> list:
        return [
            _INT_MARKER - index if kind is int else _TEXT_MARKER.format(index)
            for index, kind in enumerate(self.kinds)
        ]

    def _write(self, db) -> tuple:
        markers = self._markers()
        query = self.build(*markers)
        sql, params = db.get_sql_context().sql(query).query()
        slots = tuple(
            (position, markers.index(value))
            for position, value in enumerate(params)
            if isinstance(value, (int, str)) and not isinstance(value, bool) and value in markers
        )
        if {index for _, index in slots} != set(range(len(markers))):
            raise ValueError(f"a value of this query was converted or dropped: {sql}")
        return query, sql, tuple(params), slots

    def rows(self, *values) -> Iterator:
        """The query's rows for ``values``, as peewee would give them."""
        if len(values) != len(self.kinds):
            raise TypeError(f"{len(self.kinds)} values expected, {len(values)} given")
        db = database.obj
        written = self._written.get(type(db))
        if written is None:
            with self._lock:
                written = self._written.setdefault(type(db), self._write(db))
        query, sql, params, slots = written
        bound = list(params)
        for position, index in slots:
            bound[position] = values[index]
        rows = query._get_cursor_wrapper(db.execute_sql(sql, bound))
        # peewee matches the columns to the models' fields anew for each cursor (from
        # its description, known once the query ran); the columns are the same every
        # time, so the first match serves them all.
        matched = self._matched.get(type(db))
        if matched is None:
            before = dict(rows.__dict__)
            rows.initialize()
            matched = self._matched[type(db)] = {
                key: value
                for key, value in rows.__dict__.items()
                if key not in before or before[key] is not value
            }
        else:
            rows.__dict__.update(matched)
        rows.initialized = True
        return iter(rows)

    def all(self, *values) -> list:
        return list(self.rows(*values))

    def first(self, *values):
        """The first row, or None."""
        return next(self.rows(*values), None)
