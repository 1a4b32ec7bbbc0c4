"""The stack's floor: the least a signed-in page of this stack can cost.

A minimal Flask + Jinja + peewee application on SQLite, served by gunicorn as
the service is: one page that checks the session cookie in the database, reads
the person it belongs to and lists that person's two cards (3 queries). The
benchmark serves it beside the service, in the same run, and divides each of
the service's pages' requests per second by this page's.

``FLOOR_DATABASE`` names the SQLite file; ``seed(path)`` fills it and returns
the session cookie's value.
"""

from __future__ import annotations

import os
import secrets

from flask import Flask, abort, render_template_string, request
from peewee import CharField, ForeignKeyField, Model, SqliteDatabase

database = SqliteDatabase(None)
COOKIE = "floor_session"


class Base(Model):
    class Meta:
        database = database


class Person(Base):
    name = CharField()


class Session(Base):
    token = CharField(unique=True)
    person = ForeignKeyField(Person)


class Card(Base):
    person = ForeignKeyField(Person, backref="cards")
    number = CharField()
    kind = CharField()


PAGE = """<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><title>Mes cartes</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><main><h1>Les cartes de {{ person.name }}</h1>
<ul>{% for card in cards %}<li>{{ card.kind }} n° {{ card.number }}</li>{% endfor %}</ul>
</main></body></html>"""


def seed(path: str) -> str:
    """A person with two cards and a session; the session's cookie value."""
    database.init(path, pragmas={"journal_mode": "wal"})
    with database.connection_context():
        database.create_tables([Person, Session, Card])
        person = Person.create(name="Alfred DEPOT")
        Card.create(person=person, number="1234567890123456", kind="Invalidité")
        Card.create(person=person, number="6543210987654321", kind="Stationnement")
        token = secrets.token_urlsafe(32)
        Session.create(token=token, person=person)
    database.close()
    return token


def create_app(path: str) -> Flask:
    database.init(path, pragmas={"journal_mode": "wal"})
    app = Flask(__name__)

    @app.before_request
    def connect():
        database.connect(reuse_if_open=True)

    @app.teardown_request
    def close(_exc):
        if not database.is_closed():
            database.close()

    @app.route("/cartes")
    def cards():
        session = Session.get_or_none(Session.token == request.cookies.get(COOKIE, ""))
        if session is None:
            abort(403)
        person = Person.get_by_id(session.person_id)
        return render_template_string(
            PAGE, person=person, cards=list(Card.select().where(Card.person == person))
        )

    return app


app = create_app(os.environ["FLOOR_DATABASE"]) if "FLOOR_DATABASE" in os.environ else None
