"""The card factory: paid cards ordered in batches, and the statuses it sends back.

Orders out: every new card of a paid request that no batch holds yet goes into
the next batch, one JSON object per card (``batch_records``). The batch is
recorded and its cards marked in one transaction, before any file is
written: a file that could not be written is written again from the database
by the batch's name, with the same bytes.

Statuses back: a CSV file ``numero_carte;statut;date;numero_suivi`` where
``statut`` is ``fabriquee``, ``expediee`` (with a tracking number) or
``retour``. The newest status of a card wins: an older one arriving late
changes nothing; the same status twice changes nothing.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from peewee import CharField, DateTimeField, IntegerField

from .cards import DUPLICATE, Card
from .people import Account, Address, Beneficiary
from .photos import current_photos, lock_holders
from .requests import (
    IN_PRODUCTION,
    PAID,
    PAID_STATES,
    RETURNED,
    SHIPPED,
    CardRequest,
    RequestLine,
)
from .shared.clock import clock, to_paris
from .shared.csvfile import BadRow, checked, read_lines
from .shared.db import BaseModel, write_transaction
from .shared.i18n import _, of
from .shared.mail import OutboxEmail

MADE, SHIPPED_STATUS, RETURN = "fabriquee", "expediee", "retour"
# On one day, a card is made, then posted, then perhaps returned.
STATUS_ORDER = {MADE: 0, SHIPPED_STATUS: 1, RETURN: 2}


class FactoryBatch(BaseModel):
    """One file of orders sent to the factory."""

    name = CharField(unique=True)  # « CMI-20261129-001 »
    created_at = DateTimeField(default=clock.now)
    count = IntegerField()
    sha256 = CharField()


# -- orders out -------------------------------------------------------------------------


def waiting_lines():
    """The lines of paid requests whose new card no batch holds yet."""
    return (
        RequestLine.select(RequestLine.id, RequestLine.request)
        .join(CardRequest)
        .where(
            CardRequest.state.in_(PAID_STATES)
            & RequestLine.active
            & RequestLine.new_card.is_null(False)
            & RequestLine.batch.is_null()
        )
    )


def _next_name(now: datetime) -> str:
    day = to_paris(now).strftime("%Y%m%d")
    today = FactoryBatch.select().where(FactoryBatch.name.startswith(f"CMI-{day}-")).count()
    return f"CMI-{day}-{today + 1:03d}"


def batch_records(name: str) -> list[dict]:
    """The objects of a batch's file, in a stable order (request, then card number)."""
    new = Card.alias()
    lines = (
        RequestLine.select(RequestLine, CardRequest, Card, Beneficiary, new, Address)
        .join(CardRequest)
        .switch(RequestLine)
        .join(Card, on=(RequestLine.card == Card.id))
        .join(Beneficiary)
        .switch(RequestLine)
        .join(new, on=(RequestLine.new_card == new.id))
        .switch(CardRequest)
        .join(Address, on=(CardRequest.delivery_address == Address.id))
        .where(RequestLine.batch == name)
        .order_by(CardRequest.number, new.number)
    )
    records = []
    for line in lines:
        request, card, made = line.request, line.card, line.new_card
        person = card.beneficiary
        records.append(
            {
                "batch": name,
                "request": request.number,
                "kind": "duplicata" if line.kind == DUPLICATE else "second_exemplaire",
                "card_number": made.number,
                "replaces_card_number": card.number,
                "holder": {
                    "kind": person.kind,
                    "last_name": person.last_name.upper()
                    if person.is_natural_person
                    else person.last_name,
                    "first_name": person.first_name,
                    "birth_date": person.birth_date.isoformat() if person.birth_date else None,
                },
                "mention": made.mention,
                "sub_mentions": made.sub_mentions,
                "valid_from": made.valid_from.isoformat(),
                "valid_until": made.valid_until.isoformat() if made.valid_until else None,
                "delivery_address": request.delivery_address.lines(),
            }
        )
        if line.photo:
            # Only when the holder sent one here: a batch written before photos
            # existed keeps its bytes; without it the factory uses the photo on file.
            records[-1]["photo"] = f"{line.photo}.jpg"
    return records


def batch_file(records: list[dict]) -> bytes:
    return "".join(
        json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n" for record in records
    ).encode("utf-8")


def manifest(batch: FactoryBatch, data: bytes) -> bytes:
    return (
        json.dumps(
            {
                "batch": batch.name,
                "file": f"{batch.name}.jsonl",
                "count": batch.count,
                "sha256": hashlib.sha256(data).hexdigest(),
                "created_at": batch.created_at.isoformat() + "Z",
            },
            indent=2,
        )
        + "\n"
    ).encode("utf-8")


def _name_photos(line_ids: list[int]) -> None:
    """Each card made with its holder's current photo, if they sent one."""
    for start in range(0, len(line_ids), 500):
        chunk = line_ids[start : start + 500]
        holders = dict(
            RequestLine.select(RequestLine.id, Card.beneficiary)
            .join(Card, on=(RequestLine.card == Card.id))
            .where(RequestLine.id.in_(chunk))
            .tuples()
        )
        lock_holders(set(holders.values()))
        photos = current_photos(holders.values())
        by_photo: dict[str, list[int]] = {}
        for line_id, holder in holders.items():
            if holder in photos:
                by_photo.setdefault(photos[holder].sha256, []).append(line_id)
        for sha256, ids in by_photo.items():
            RequestLine.update(photo=sha256).where(RequestLine.id.in_(ids)).execute()


def batch_photos(records: list[dict]) -> set[str]:
    """The SHA-256 of the photos a batch names."""
    return {record["photo"].removesuffix(".jpg") for record in records if record.get("photo")}


def new_batch() -> tuple[FactoryBatch, bytes] | None:
    """Put every waiting card into a new batch; None when there is none."""
    with write_transaction():
        waiting = list(waiting_lines().tuples())
        if not waiting:
            return None
        now = clock.now()
        name = _next_name(now)
        line_ids = [line_id for line_id, _ in waiting]
        request_ids = sorted({request_id for _, request_id in waiting})
        for start in range(0, len(line_ids), 500):
            RequestLine.update(batch=name, exported_at=now).where(
                RequestLine.id.in_(line_ids[start : start + 500])
            ).execute()
        _name_photos(line_ids)
        for start in range(0, len(request_ids), 500):
            CardRequest.update(state=IN_PRODUCTION, updated_at=now).where(
                CardRequest.id.in_(request_ids[start : start + 500]) & (CardRequest.state == PAID)
            ).execute()
        data = batch_file(batch_records(name))
        batch = FactoryBatch.create(
            name=name, created_at=now, count=len(line_ids), sha256=hashlib.sha256(data).hexdigest()
        )
    return batch, data


def existing_batch(name: str) -> tuple[FactoryBatch, bytes] | None:
    """A batch written again from the database: the same bytes as the first time."""
    batch = FactoryBatch.get_or_none(FactoryBatch.name == name)
    if batch is None:
        return None
    return batch, batch_file(batch_records(name))


# -- statuses back ----------------------------------------------------------------------------


@dataclass
class StatusOutcome:
    rows: int = 0
    applied: dict[str, int] = field(default_factory=dict)
    unchanged: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)

    def summary(self) -> str:
        applied = ", ".join(f"{n} {status}" for status, n in sorted(self.applied.items()))
        return (
            f"{self.rows} statuses: applied {applied or 'none'}, {self.unchanged} unchanged "
            f"or older, {len(self.rejected)} rejected"
        )


def _status_key(status: str, day: date) -> tuple:
    return (day, STATUS_ORDER[status])


def _current_key(line: RequestLine) -> tuple | None:
    if line.status_on is None:
        return None
    if line.returned_on == line.status_on:
        status = RETURN
    elif line.shipped_on == line.status_on:
        status = SHIPPED_STATUS
    else:
        status = MADE
    return _status_key(status, line.status_on)


STATUS_COLUMNS = ("numero_carte", "statut", "date", "numero_suivi")
# A factory's clock may run a little ahead of ours, not more.
FUTURE_MARGIN = timedelta(days=1)


def read_statuses(
    text: str, today: date | None = None
) -> tuple[list[tuple[int, str, str, date, str]], list]:
    """The rows (line, card number, status, date, tracking number) and the rows refused.

    Every line after the header is one or the other (``csvfile``); ``BadFile`` when
    the file cannot be read at all."""
    latest = (today or clock.today()) + FUTURE_MARGIN
    _header, lines = read_lines(text, STATUS_COLUMNS)
    rows, rejected = [], []
    for each in lines:
        try:
            rows.append((each.number, *_status_row(each, latest)))
        except BadRow as error:
            rejected.append((each.number, str(error)))
    return rows, rejected


def _status_row(each, latest: date) -> tuple[str, str, date, str]:
    if each.values is None:
        raise BadRow(each.refused)
    number, status, day_text, tracking = (
        checked(column, each.values[column]) for column in STATUS_COLUMNS
    )
    try:
        day = datetime.strptime(day_text, "%d/%m/%Y").date()
    except ValueError:
        raise BadRow("date attendue au format JJ/MM/AAAA") from None
    if day > latest:
        raise BadRow(f"date « {day_text} » dans le futur")
    if status not in STATUS_ORDER:
        raise BadRow(f"statut « {status} » inconnu : {', '.join(STATUS_ORDER)}")
    if status == SHIPPED_STATUS and not tracking:
        raise BadRow("numero_suivi manquant pour expediee")
    if len(tracking) > 40 or any(not c.isalnum() and c not in "-_ " for c in tracking):
        raise BadRow("numero_suivi invalide")
    if len(number) > 40:
        raise BadRow("numero_carte inconnu de la fabrication")
    return number, status, day, tracking


def apply_statuses(rows, rejected) -> StatusOutcome:
    outcome = StatusOutcome(rows=len(rows) + len(rejected), rejected=list(rejected))
    touched: set[int] = set()
    with write_transaction():
        lines = {
            line.new_card.number: line
            for line in RequestLine.select(RequestLine, Card)
            .join(Card, on=(RequestLine.new_card == Card.id))
            .where(Card.number.in_([number for _, number, *_ in rows] or [""]))
        }
        for line_number, number, status, day, tracking in rows:
            line = lines.get(number)
            if line is None or line.batch is None:
                outcome.rejected.append((line_number, "numero_carte inconnu de la fabrication"))
                continue
            ordered_on = to_paris(line.exported_at).date()
            if day < ordered_on:
                outcome.rejected.append(
                    (
                        line_number,
                        f"date {day:%d/%m/%Y} avant la commande à la fabrication "
                        f"({ordered_on:%d/%m/%Y})",
                    )
                )
                continue
            current = _current_key(line)
            if current is not None and _status_key(status, day) <= current:
                outcome.unchanged += 1
                continue
            changes = {"status_on": day}
            if status == MADE:
                changes["made_on"] = day
            elif status == SHIPPED_STATUS:
                changes.update(shipped_on=day, tracking_number=tracking, returned_on=None)
            else:
                changes["returned_on"] = day
            RequestLine.update(**changes).where(RequestLine.id == line.id).execute()
            for key, value in changes.items():
                setattr(line, key, value)
            if status != MADE:
                Card.update(in_production=False).where(Card.id == line.new_card_id).execute()
            outcome.applied[status] = outcome.applied.get(status, 0) + 1
            touched.add(line.request_id)
        for request_id in touched:
            _update_request_state(request_id)
    outcome.rejected.sort()
    return outcome


def _update_request_state(request_id: int) -> None:
    lines = list(
        RequestLine.select().where((RequestLine.request == request_id) & RequestLine.active)
    )
    if any(line.returned_on for line in lines):
        state = RETURNED
    elif lines and all(line.shipped_on for line in lines):
        state = SHIPPED
    else:
        state = IN_PRODUCTION
    CardRequest.update(state=state, updated_at=clock.now()).where(
        CardRequest.id == request_id
    ).execute()


# How far back a status's e-mail is still worth sending (a stopped run's).
EMAIL_WINDOW = timedelta(days=30)


def emails_owed() -> list[tuple[str, int]]:
    """(kind, line) of each status e-mail not sent yet: posted and not since returned,
    or returned. ``apply_statuses`` commits before any is sent, so a run stopped in
    between leaves them here for the next one."""
    since = clock.today() - EMAIL_WINDOW
    recent = RequestLine.status_on >= since
    shipped = RequestLine.select(RequestLine.id).where(
        recent
        & RequestLine.shipped_on.is_null(False)
        & RequestLine.returned_on.is_null()
        & RequestLine.shipped_email.is_null()
    )
    returned = RequestLine.select(RequestLine.id).where(
        recent & RequestLine.returned_on.is_null(False) & RequestLine.returned_email.is_null()
    )
    return [(SHIPPED_STATUS, id_) for (id_,) in shipped.order_by(RequestLine.id).tuples()] + [
        (RETURN, id_) for (id_,) in returned.order_by(RequestLine.id).tuples()
    ]


def claim_email(line_id: int, kind: str, recipient: str, subject: str, text: str):
    """Queue the e-mail saying a card was shipped (or returned), once: the e-mail to
    deliver, or None when it was already queued."""
    column = RequestLine.shipped_email if kind == SHIPPED_STATUS else RequestLine.returned_email
    with write_transaction() as transaction:
        email = OutboxEmail.create(recipient=recipient, subject=subject, text=text)
        claimed = (
            RequestLine.update({column: email})
            .where((RequestLine.id == line_id) & column.is_null())
            .execute()
        )
        if claimed != 1:
            transaction.rollback()
            return None
    return email


# -- what the citizen sees -------------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    label: str
    day: date


def timeline(request: CardRequest) -> list[Event]:
    """What happened to a request, in order, in words (« Mes données »)."""
    events = []
    if request.recorded_at:
        events.append(Event(_("Enregistrée"), to_paris(request.recorded_at).date()))
    if request.paid_at:
        events.append(Event(_("Payée"), to_paris(request.paid_at).date()))
    lines = [line for line in request.lines_with_cards() if line.active]
    several = len(lines) > 1
    exported = [line.exported_at for line in lines if line.exported_at]
    if exported:
        events.append(Event(_("En fabrication"), to_paris(min(exported)).date()))
    for line in lines:
        news = []
        if line.made_on:
            news.append((_("Fabriquée"), line.made_on))
        if line.shipped_on:
            news.append((_("Expédiée (suivi n° %(number)s)", number=line.tracking_number),
                         line.shipped_on))  # fmt: skip
        if line.returned_on:
            news.append((_("Retournée : l'adresse de livraison est à vérifier"), line.returned_on))
        for label, day in news:
            if several:  # several cards: each one's news says which card it is
                label = _(
                    "%(card)s %(of_name)s : %(news)s",
                    card=line.card.title,
                    of_name=of(line.card.beneficiary.display_name),
                    news=label,
                )
            events.append(Event(label, day))
    return sorted(events, key=lambda e: e.day)


def line_with_request(line_id: int) -> RequestLine:
    """A line with its request, its account and its new card (for the e-mails)."""
    new = Card.alias()
    return (
        RequestLine.select(RequestLine, CardRequest, Account, new)
        .join(CardRequest)
        .join(Account)
        .switch(RequestLine)
        .join(new, on=(RequestLine.new_card == new.id))
        .where(RequestLine.id == line_id)
        .get()
    )
