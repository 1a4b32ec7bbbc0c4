"""What is kept and for how long: ``purge`` (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import app as application
from models import Account, Card, OutboxEmail, Payment, Photo, ordering, photos
from models.cards import DUPLICATE
from models.citizen import auth
from models.citizen.auth import LoginFailure, PasswordReset, UserSession
from models.eligibility import eligible_cards
from models.requests import CANCELLED, CardRequest, RequestLine
from models.retention import ANONYMISED, purge
from models.shared.clock import clock
from models.shared.db import database

from .test_account import paid_requests
from .test_payments import recorded_request


def test_abandoned_requests_are_closed_and_a_revoked_card_may_be_asked_for_again(db, frozen_clock):
    joseph = Account.get(Account.username == "joseph.quinn")
    draft = ordering.start_or_resume(joseph)
    recorded = recorded_request()  # Alfred said « Oui »: card 1 is revoked at once
    frozen_clock.advance(timedelta(days=29))
    assert purge().counts["drafts deleted"] == 0
    frozen_clock.advance(timedelta(days=2))
    done = purge()
    assert done.counts["drafts deleted"] == 1 and done.counts["unpaid requests cancelled"] == 1
    assert not CardRequest.select().where(CardRequest.id == draft.id).exists()
    assert CardRequest.get_by_id(recorded.id).state == CANCELLED
    card = Card.get(Card.number == "0000000000000001")
    assert card.revoked_on is not None  # stays revoked...
    alfred = Account.get(Account.username == "alfred.depot")
    eligible = eligible_cards(alfred, DUPLICATE, clock.today())
    assert "0000000000000001" in eligible.by_number()  # ...and may get a duplicate


def test_spent_sign_in_data_is_deleted(db, frozen_clock):
    from models.operator import agents

    alfred = Account.get(Account.username == "alfred.depot")
    auth.open_session(alfred)
    agents.open_session(agents.Agent.get(agents.Agent.username == "agent.demo"))
    auth.create_password_reset(alfred)
    auth.sign_in("alfred.depot", "wrong", "test")
    frozen_clock.advance(timedelta(hours=2))
    done = purge()
    assert done.counts["sessions"] == 2 and done.counts["reset links"] == 1
    assert agents.AgentSession.select().count() == 0
    assert done.counts["sign-in failures"] == 1
    for model in (UserSession, PasswordReset, LoginFailure):
        assert model.select().count() == 0


def test_the_count_of_photos_sent_goes_once_its_hour_is_past(db, frozen_clock):
    alfred = Account.get(Account.username == "alfred.depot")
    assert photos.admit_upload(alfred) is None
    frozen_clock.advance(timedelta(minutes=59))
    assert purge().counts["photo uploads counted"] == 0
    frozen_clock.advance(timedelta(minutes=2))
    assert purge().counts["photo uploads counted"] == 1
    assert photos.PhotoUpload.select().count() == 0


def test_paid_requests_are_anonymised_after_the_period_once(db, frozen_clock):
    paid_requests(1)
    request = CardRequest.get(CardRequest.number.is_null(False))
    OutboxEmail.create(recipient="joseph.quinn@example.org", subject="S", text="T")
    OutboxEmail.update(sent_at=clock.now()).execute()
    frozen_clock.advance(timedelta(days=700))
    assert purge(24).counts["paid requests anonymised"] == 0
    frozen_clock.advance(timedelta(days=40))
    done = purge(24)
    assert done.counts["paid requests anonymised"] == 1 and done.counts["e-mails blanked"] == 1
    request = CardRequest.get_by_id(request.id)
    assert request.delivery_address.city == ANONYMISED and not request.delivery_address.street
    assert request.number and request.paid_at  # the accounts keep what they need
    assert Payment.get(Payment.request == request.id).masked_card is None
    assert OutboxEmail.get().recipient == ANONYMISED and OutboxEmail.get().subject == "S"
    again = purge(24)
    assert again.summary() == "Purged: nothing"


def test_the_command_says_what_it_purged_and_the_legal_notice_the_rules(app, client, capsys):
    url = app.config["DATABASE_URL"]
    assert application.main(["--database", url, "purge"]) == 0
    assert capsys.readouterr().out == "Purged: nothing.\n"
    with database.connection_context():
        page = client.get("/mentions-legales").text
    assert "gardée 30 jours après votre dernière action" in page
    assert "pendant 24 mois après le paiement" in page


def test_a_replaced_photo_a_batch_used_goes_after_the_period_the_current_one_stays(
    db, frozen_clock
):
    holder = Account.get(Account.username == "alfred.depot").beneficiaries().first()
    used = photos.replace_photo(holder, None, photos.CleanPhoto(b"first", 413, 531))
    RequestLine.update(photo=used.sha256).where(RequestLine.id == paid_line()).execute()
    current = photos.replace_photo(holder, None, photos.CleanPhoto(b"second", 413, 531))
    assert Photo.get_by_id(used.id).replaced_at is not None  # a batch named it: kept
    frozen_clock.advance(timedelta(days=700))
    assert purge(24).counts["replaced photos"] == 0
    frozen_clock.advance(timedelta(days=40))
    assert purge(24).counts["replaced photos"] == 1
    assert [photo.id for photo in Photo.select()] == [current.id]


def paid_line() -> int:
    paid_requests(1)
    return RequestLine.select(RequestLine.id).order_by(RequestLine.id.desc()).scalar()
