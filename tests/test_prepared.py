"""Queries written once (models/shared/prepared.py): the same rows as peewee's own
query, for every value, on SQLite and PostgreSQL; the SQL written once."""

from __future__ import annotations

from datetime import date

import pytest
from peewee import Database

from models.cards import Card
from models.citizen import auth
from models.eligibility import account_cards
from models.people import Account, Beneficiary, Mandate, beneficiaries_with_addresses
from models.requests import CardRequest, RequestLine, open_request, requests_of
from models.shared.prepared import Prepared


def accounts() -> list[Account]:
    return list(Account.select().order_by(Account.id))


def test_a_prepared_query_reads_what_peewee_reads_for_every_account(db):
    def build(account):
        return (
            Beneficiary.select(Beneficiary, Mandate)
            .join(Mandate)
            .where(Mandate.account == account)
            .order_by(Beneficiary.number)
        )

    prepared = Prepared(build, int)
    seen = 0
    for account in accounts():
        expected = list(build(account.id))
        found = prepared.all(account.id)
        # The same rows, and the joined model read into each as peewee does.
        assert [(b.__data__, b.mandate.__data__) for b in found] == [
            (b.__data__, b.mandate.__data__) for b in expected
        ]
        seen += len(found)
    assert seen > 3  # the demo's accounts hold several people between them


def test_the_service_s_prepared_reads_match_peewee_s_queries(db):
    for account in accounts():
        cards = (
            Card.select()
            .join(Beneficiary)
            .join(Mandate, on=(Mandate.beneficiary == Beneficiary.id))
            .where(Mandate.account == account)
            .order_by(Beneficiary.number, Card.number)
        )
        assert [c.id for c in account_cards(account).cards] == [c.id for c in cards]
        people = (
            Beneficiary.select().join(Mandate).where(Mandate.account == account)
            .order_by(Beneficiary.number)
        )  # fmt: skip
        assert [
            (p.id, p.address.city, p.delivery_address.city)
            for p in beneficiaries_with_addresses(account)
        ] == [(p.id, p.address.city, p.delivery_address.city) for p in people]
        assert [r.id for r in requests_of(account)] == [
            r.id
            for r in CardRequest.select()
            .where((CardRequest.account == account) & CardRequest.number.is_null(False))
            .order_by(CardRequest.number.desc())
        ]


def test_a_session_is_found_by_its_own_token_only(db):
    alfred, other = Account.get(username="alfred.depot"), Account.get(username="camille.martin")
    token_a, token_b = auth.open_session(alfred), auth.open_session(other)
    assert auth.touch_session(token_a).account.username == "alfred.depot"
    assert auth.touch_session(token_b).account.username == "camille.martin"
    assert auth.touch_session(token_a + "x").account is None


def test_the_open_request_is_each_account_s_own(db):
    from models import ordering

    alfred, other = Account.get(username="alfred.depot"), Account.get(username="camille.martin")
    draft = ordering.start_or_resume(alfred)
    assert open_request(alfred).id == draft.id
    assert open_request(other) is None or open_request(other).account_id == other.id


def test_the_sql_is_written_once_per_kind_of_database(db, monkeypatch):
    written = []
    original = Database.get_sql_context

    def counting(self, **options):
        written.append(type(self))
        return original(self, **options)

    everyone = accounts()
    monkeypatch.setattr(Database, "get_sql_context", counting)
    prepared = Prepared(lambda account: Mandate.select().where(Mandate.account == account), int)
    for account in everyone:
        prepared.all(account.id)
    assert len(written) == 1


def test_a_value_peewee_would_convert_is_refused_when_written(db):
    # A boolean column turns the marker into True: the query is never sent wrong.
    prepared = Prepared(lambda flag: RequestLine.select().where(RequestLine.active == flag), int)
    with pytest.raises(ValueError, match="converted or dropped"):
        prepared.all(1)
    with pytest.raises(TypeError):
        Prepared(lambda day: Card.select(), date)


def test_the_pool_keeps_no_connection_once_closed_before_the_server_forks(app):
    """The schema check and the demo data leave a SQLite connection in the pool; the
    server closes them before gunicorn forks its workers (app.py), since a SQLite
    connection must never cross a fork."""
    from models.shared.db import close_kept_connections, database, is_sqlite

    with database.connection_context():
        Account.select().count()  # a connection taken, then given back to the pool
    if is_sqlite():
        assert database.obj._connections, "the pool kept nothing: nothing to test"
    close_kept_connections()
    if is_sqlite():
        assert database.obj._connections == [] and database.obj._in_use == {}
    with database.connection_context():
        assert Account.select().count() > 0  # the next request connects again


def test_a_prepared_query_whose_first_run_finds_nothing_reads_rows_later(db):
    prepared = Prepared(lambda account: Mandate.select().where(Mandate.account == account), int)
    assert prepared.first(-1) is None  # the columns are matched on an empty answer
    someone = accounts()[0]
    assert [m.id for m in prepared.all(someone.id)] == [
        m.id for m in Mandate.select().where(Mandate.account == someone)
    ]
