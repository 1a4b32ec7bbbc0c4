"""Cards in: the CMI database's extract, read, checked row by row, and written.

The extract is a ``;``-separated CSV file, one row per card (see README). Keys
are the beneficiary's « numéro identifiant » and the card's number: importing
the same file twice changes nothing, a later file updates what changed, and
nothing is ever deleted. A bad row is rejected with its line number and the
reason, in French (the report is read by the agents who fix the extract); the
good rows still go in.

Every line of the file is accounted for (``shared.csvfile``): a row read, or a
row refused with its line number and reason; a file that cannot be read at all
is refused whole. Reading (``read``) needs no database; writing (``write``)
works in chunks of rows, each its own transaction, so the service keeps
answering during a long import, and a run stopped half way is finished by
running it again. The new accounts' letters are owed and printed by
``letters``, after the writing.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from peewee import fn

from .cards import MENTIONS, REVOCATION_REASONS, Card
from .people import (
    ADDRESS_LINE_MAX,
    LEGAL_PERSON,
    NATURAL_PERSON,
    Account,
    Address,
    Beneficiary,
    Mandate,
)
from .shared.clock import clock
from .shared.csvfile import BadFile, BadRow, checked, decode, read_lines
from .shared.db import database, is_sqlite, write_transaction

COLUMNS = (
    "numero_identifiant",
    "type_personne",
    "nom",
    "prenom",
    "date_naissance",
    "courriel",
    "adresse_2",
    "adresse_3",
    "adresse_4",
    "adresse_5",
    "code_postal",
    "ville",
    "pays",
    "representant_identifiant",
    "representant_nom",
    "representant_prenom",
    "representant_courriel",
    "numero_carte",
    "mention",
    "sous_mentions",
    "debut_validite",
    "fin_validite",
    "date_revocation",
    "motif_revocation",
    "ancien_format",
)
SUB_MENTIONS = {"besoin d'accompagnement": "needs_companion", "cécité": "blindness"}
ADULT_AGE = 18
CHUNK = 2000  # rows per transaction when writing
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
CMI_NUMBER = re.compile(r"^\d{16}$")
OLD_NUMBER = re.compile(r"^[A-Z0-9][A-Z0-9-]{0,29}$")


__all__ = ["COLUMNS", "BadFile", "BadRow", "decode", "read", "write"]


# -- what a row says -------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    number: int
    kind: str
    last_name: str
    first_name: str
    birth_date: date | None
    email: str
    address: tuple[str, ...]  # Address.FIELDS, in order

    @property
    def display_name(self) -> str:
        if self.kind == NATURAL_PERSON:
            return f"{self.first_name} {self.last_name.upper()}"
        return self.last_name


@dataclass(frozen=True)
class Holder:
    """Who holds the account: the beneficiary, or their representative."""

    key: str  # « B:<numéro identifiant> » or « R:<representant_identifiant> »
    display_name: str
    email: str
    name_parts: tuple[str, ...]  # what the identifiant is made of


@dataclass(frozen=True)
class CardRow:
    line: int
    number: str
    beneficiary: int
    mention: str
    needs_companion: bool
    blindness: bool
    valid_from: date
    valid_until: date | None
    revoked_on: date | None
    revocation_reason: str | None
    old_format: bool


@dataclass
class Extract:
    """A file read: what its good rows say, and the rows refused."""

    rows: int = 0
    people: dict[int, Person] = field(default_factory=dict)
    holders: dict[str, Holder] = field(default_factory=dict)
    mandates: dict[tuple[str, int], str] = field(default_factory=dict)  # -> role
    cards: dict[str, CardRow] = field(default_factory=dict)
    rejected: list[tuple[int, str]] = field(default_factory=list)


def _text(row: dict, column: str) -> str:
    return checked(column, row.get(column) or "")


def _date(row: dict, column: str, required: bool = False) -> date | None:
    value = _text(row, column)
    if not value:
        if required:
            raise BadRow(f"{column} manquante")
        return None
    try:
        return datetime.strptime(value, "%d/%m/%Y").date()
    except ValueError:
        raise BadRow(f"{column} « {value} » : date attendue au format JJ/MM/AAAA") from None


def _age_on(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def _line(value: str, column: str) -> str:
    if len(value) > ADDRESS_LINE_MAX:
        raise BadRow(
            f"{column} : {len(value)} caractères, une ligne d'adresse en a au plus "
            f"{ADDRESS_LINE_MAX}"
        )
    return value


def _email(row: dict, column: str) -> str:
    value = _text(row, column)
    if value and not EMAIL.match(value):
        raise BadRow(f"{column} « {value} » : adresse électronique invalide")
    return value.lower()


def _person(row: dict, today: date) -> Person:
    number = _text(row, "numero_identifiant")
    if not number.isdigit() or len(number) > 12:
        raise BadRow(f"numero_identifiant « {number} » : de 1 à 12 chiffres attendus")
    kind = _text(row, "type_personne")
    if kind not in (NATURAL_PERSON, LEGAL_PERSON):
        raise BadRow(f"type_personne « {kind} » : « physique » ou « morale » attendu")
    last_name, first_name = _text(row, "nom"), _text(row, "prenom")
    birth = _date(row, "date_naissance")
    if not last_name:
        raise BadRow("nom manquant")
    if kind == NATURAL_PERSON:
        if not first_name:
            raise BadRow("prenom manquant pour une personne physique")
        if birth is None:
            raise BadRow("date_naissance manquante pour une personne physique")
        if birth > today:
            raise BadRow("date_naissance dans le futur")
        display = f"{first_name} {last_name.upper()}"
    else:
        if first_name or birth:
            raise BadRow("prenom et date_naissance doivent être vides pour une personne morale")
        display = last_name
    _line(display, "nom et prénom")
    country = _line(_text(row, "pays") or "France", "pays")
    postcode, city = _text(row, "code_postal"), _text(row, "ville")
    if not city:
        raise BadRow("ville manquante")
    if country.lower() == "france" and not re.fullmatch(r"\d{5}", postcode):
        raise BadRow(f"code_postal « {postcode} » : 5 chiffres attendus en France")
    if len(f"{postcode} {city}") > ADDRESS_LINE_MAX:
        raise BadRow(f"code_postal et ville : plus de {ADDRESS_LINE_MAX} caractères sur la ligne")
    street = _line(_text(row, "adresse_4"), "adresse_4")
    locality = _line(_text(row, "adresse_5"), "adresse_5")
    if not street and not locality:
        raise BadRow("adresse_4 ou adresse_5 nécessaire (voie, lieu-dit ou boîte postale)")
    address = (
        display,
        _line(_text(row, "adresse_2"), "adresse_2"),
        _line(_text(row, "adresse_3"), "adresse_3"),
        street,
        locality,
        postcode,
        city,
        country,
    )
    return Person(int(number), kind, last_name, first_name, birth, _email(row, "courriel"), address)


def _holder(row: dict, person: Person, today: date) -> tuple[Holder, str]:
    key = _text(row, "representant_identifiant")
    last, first = _text(row, "representant_nom"), _text(row, "representant_prenom")
    email = _email(row, "representant_courriel")
    if not (key or last or first or email):
        minor = person.birth_date and _age_on(person.birth_date, today) < ADULT_AGE
        if minor:
            raise BadRow("bénéficiaire mineur sans représentant légal")
        parts = (
            (person.first_name, person.last_name)
            if person.kind == NATURAL_PERSON
            else (person.last_name,)
        )
        holder = Holder(f"B:{person.number}", person.display_name, person.email, parts)
        return holder, Mandate.HOLDER
    if not (key and last and first):
        raise BadRow(
            "representant_identifiant, representant_nom et representant_prenom vont ensemble"
        )
    if len(key) > 30:
        raise BadRow("representant_identifiant : plus de 30 caractères")
    display = _line(f"{first} {last.upper()}", "representant_nom et representant_prenom")
    return Holder(f"R:{key}", display, email, (first, last)), Mandate.LEGAL_REPRESENTATIVE


def _card(row: dict, line: int, person: Person) -> CardRow:
    old_format = _text(row, "ancien_format")
    if old_format not in ("0", "1"):
        raise BadRow(f"ancien_format « {old_format} » : 0 ou 1 attendu")
    number = _text(row, "numero_carte").replace(" ", "")
    if old_format == "0" and not CMI_NUMBER.match(number):
        raise BadRow(f"numero_carte « {number} » : 16 chiffres attendus")
    if old_format == "1" and not OLD_NUMBER.match(number.upper()):
        raise BadRow(f"numero_carte « {number} » : numéro d'ancienne carte invalide")
    mention = _text(row, "mention")
    if mention not in MENTIONS:
        raise BadRow(f"mention « {mention} » inconnue : {', '.join(MENTIONS)}")
    subs = [s.strip() for s in _text(row, "sous_mentions").split("|") if s.strip()]
    unknown = [s for s in subs if s not in SUB_MENTIONS]
    if unknown:
        raise BadRow(f"sous_mentions « {unknown[0]} » inconnue : {', '.join(SUB_MENTIONS)}")
    start = _date(row, "debut_validite", required=True)
    end = _date(row, "fin_validite")
    if end is not None and end < start:
        raise BadRow("fin_validite avant debut_validite")
    revoked = _date(row, "date_revocation")
    reason = _text(row, "motif_revocation") or None
    if (revoked is None) != (reason is None):
        raise BadRow("date_revocation et motif_revocation vont ensemble")
    if reason is not None and reason not in REVOCATION_REASONS:
        raise BadRow(f"motif_revocation « {reason} » inconnu : {', '.join(REVOCATION_REASONS)}")
    return CardRow(
        line=line,
        number=number.upper(),
        beneficiary=person.number,
        mention=mention,
        needs_companion="besoin d'accompagnement" in subs,
        blindness="cécité" in subs,
        valid_from=start,
        valid_until=end,
        revoked_on=revoked,
        revocation_reason=reason,
        old_format=old_format == "1",
    )


def read(text: str, today: date | None = None) -> Extract:
    """Read and check every row; the good rows' content and the refused rows."""
    today = today or clock.today()
    _header, lines = read_lines(text, COLUMNS)
    extract = Extract()
    first_seen: dict[object, int] = {}  # beneficiary number or holder key -> line
    holder_of: dict[int, str] = {}
    for each in lines:
        line, row = each.number, each.values
        extract.rows += 1
        try:
            if row is None:
                raise BadRow(each.refused)
            person = _person(row, today)
            holder, role = _holder(row, person, today)
            card = _card(row, line, person)
            # One beneficiary, one holder, one card: the same on every row that names them.
            known = extract.people.get(person.number)
            if known is not None and known != person:
                raise BadRow(f"bénéficiaire différent de la ligne {first_seen[person.number]}")
            known_holder = extract.holders.get(holder.key)
            if known_holder is not None and known_holder != holder:
                raise BadRow(f"représentant différent de la ligne {first_seen[holder.key]}")
            if card.number in extract.cards:
                raise BadRow(f"numero_carte déjà à la ligne {extract.cards[card.number].line}")
            if holder_of.get(person.number, holder.key) != holder.key:
                raise BadRow(
                    f"le bénéficiaire a un autre titulaire de compte à la ligne "
                    f"{first_seen[person.number]}"
                )
        except BadRow as error:
            extract.rejected.append((line, str(error)))
            continue
        first_seen.setdefault(person.number, line)
        first_seen.setdefault(holder.key, line)
        holder_of[person.number] = holder.key
        extract.people[person.number] = person
        extract.holders[holder.key] = holder
        extract.mandates[(holder.key, person.number)] = role
        extract.cards[card.number] = card
    return extract


# -- writing -------------------------------------------------------------------------


@dataclass
class Outcome:
    rows: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)
    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)

    def count(self, kind: str, what: str, n: int = 1) -> None:
        book = self.created if kind == "created" else self.updated
        book[what] = book.get(what, 0) + n

    def summary(self) -> str:
        def part(book):
            return ", ".join(f"{n} {what}" for what, n in sorted(book.items()) if n) or "nothing"

        return (
            f"{self.rows} rows: {self.rows - len(self.rejected)} accepted, "
            f"{len(self.rejected)} rejected; created {part(self.created)}; "
            f"updated {part(self.updated)}"
        )


def _slug(part: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", part).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def _username(parts: Iterable[str], taken: set[str]) -> str:
    base = ".".join(s for s in (_slug(p) for p in parts) if s)[:40].strip(".-") or "compte"
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}{n}"
    taken.add(candidate)
    return candidate


def _ids(model, n: int) -> list[int]:
    """``n`` new primary keys for ``model`` (inside a write transaction)."""
    if n == 0:
        return []
    if is_sqlite():
        # BEGIN IMMEDIATE holds the write lock: nobody else can take these ids.
        query = model.select(fn.COALESCE(fn.MAX(model.id), 0))
        start = query.scalar()
        return list(range(start + 1, start + 1 + n))
    cursor = database.execute_sql(
        "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
        (model._meta.table_name, n),
    )
    return [row[0] for row in cursor.fetchall()]


def _insert(model, rows: list[dict]) -> None:
    for start in range(0, len(rows), 500):
        model.insert_many(rows[start : start + 500]).execute()


CARD_FIELDS = (
    "mention",
    "needs_companion",
    "blindness",
    "valid_from",
    "valid_until",
    "old_format",
)


def write(extract: Extract, dry_run: bool = False) -> Outcome:
    """Write what the extract says; with ``dry_run``, only count what would change."""
    outcome = Outcome(rows=extract.rows, rejected=list(extract.rejected))
    people = extract.people
    with database.connection_context():
        # What is there already, read once: a few columns per row, not whole models.
        beneficiaries = {
            row[0]: row
            for row in Beneficiary.select(
                Beneficiary.number,
                Beneficiary.id,
                Beneficiary.kind,
                Beneficiary.last_name,
                Beneficiary.first_name,
                Beneficiary.birth_date,
                Beneficiary.email,
                Beneficiary.address,
                Beneficiary.delivery_address,
            ).tuples()
        }
        cards = {
            row[0]: row
            for row in Card.select(
                Card.number,
                Card.id,
                Card.beneficiary,
                *[getattr(Card, f) for f in CARD_FIELDS],
                Card.revoked_on,
                Card.revocation_reason,
            ).tuples()
        }
        accounts = {
            key: (id_, email, name)
            for key, id_, email, name in Account.select(
                Account.external_key, Account.id, Account.email, Account.display_name
            )
            .where(Account.external_key.is_null(False))
            .tuples()
        }
        usernames = {u for (u,) in Account.select(Account.username).tuples()}
        mandates = {
            (a, b) for a, b in Mandate.select(Mandate.account, Mandate.beneficiary).tuples()
        }

    # A card already held by another beneficiary is refused, and so is its row.
    id_numbers = {row[1]: number for number, row in beneficiaries.items()}
    accepted_cards = []
    for card in extract.cards.values():
        known = cards.get(card.number)
        if known is not None and id_numbers.get(known[2]) != card.beneficiary:
            outcome.rejected.append(
                (card.line, "numero_carte déjà attribué à un autre bénéficiaire")
            )
            continue
        accepted_cards.append(card)
    outcome.rejected.sort()
    wanted_people = {card.beneficiary for card in accepted_cards}

    ordered = sorted(wanted_people)
    for start in range(0, len(ordered), CHUNK):
        chunk = ordered[start : start + CHUNK]
        if dry_run:
            _plan_people(chunk, people, beneficiaries, outcome)
            continue
        with database.connection_context(), write_transaction():
            _write_people(chunk, people, beneficiaries, outcome)
    beneficiary_ids = {number: row[1] for number, row in beneficiaries.items()}

    holders = sorted({key for (key, number) in extract.mandates if number in wanted_people})
    by_holder: dict[str, list[int]] = {}
    for (key, number), _role in extract.mandates.items():
        if number in wanted_people:
            by_holder.setdefault(key, []).append(number)
    for start in range(0, len(holders), CHUNK):
        chunk = holders[start : start + CHUNK]
        if dry_run:
            for key in chunk:
                holder = extract.holders[key]
                if key not in accounts:
                    outcome.count("created", "accounts")
                elif accounts[key][1:] != (holder.email, holder.display_name):
                    outcome.count("updated", "accounts")
            continue
        with database.connection_context(), write_transaction():
            _write_accounts(
                chunk,
                extract,
                by_holder,
                people,
                accounts,
                usernames,
                mandates,
                beneficiary_ids,
                outcome,
            )

    for start in range(0, len(accepted_cards), CHUNK):
        chunk = accepted_cards[start : start + CHUNK]
        if dry_run:
            for card in chunk:
                known = cards.get(card.number)
                if known is None:
                    outcome.count("created", "cards")
                elif _card_changes(card, known):
                    outcome.count("updated", "cards")
            continue
        with database.connection_context(), write_transaction():
            _write_cards(chunk, cards, beneficiary_ids, outcome)
    return outcome


def _person_columns(person: Person) -> tuple:
    return (person.kind, person.last_name, person.first_name, person.birth_date, person.email)


def _address_row(values: tuple[str, ...]) -> dict:
    return dict(zip(Address.FIELDS, values, strict=True))


def _plan_people(chunk, people, beneficiaries, outcome) -> None:
    for number in chunk:
        known = beneficiaries.get(number)
        if known is None:
            outcome.count("created", "beneficiaries")
        elif tuple(known[2:7]) != _person_columns(people[number]):
            outcome.count("updated", "beneficiaries")


def _write_people(chunk, people, beneficiaries, outcome) -> None:
    new = [n for n in chunk if n not in beneficiaries]
    address_ids = iter(_ids(Address, 2 * len(new)))
    beneficiary_ids = iter(_ids(Beneficiary, len(new)))
    addresses, rows = [], []
    for number in new:
        person = people[number]
        postal, delivery = next(address_ids), next(address_ids)
        addresses += [
            {"id": postal, **_address_row(person.address)},
            {"id": delivery, **_address_row(person.address)},
        ]
        id_ = next(beneficiary_ids)
        rows.append(
            {
                "id": id_,
                "number": number,
                "kind": person.kind,
                "last_name": person.last_name,
                "first_name": person.first_name,
                "birth_date": person.birth_date,
                "email": person.email,
                "address": postal,
                "delivery_address": delivery,
            }
        )
        beneficiaries[number] = (number, id_, *_person_columns(person), postal, delivery)
    _insert(Address, addresses)
    _insert(Beneficiary, rows)
    outcome.count("created", "beneficiaries", len(rows))

    # Those already there: their columns and their address, where the file changed them.
    known = [n for n in chunk if n not in new]
    if not known:
        return
    postal_ids = [beneficiaries[n][7] for n in known] + [beneficiaries[n][8] for n in known]
    stored = {
        row[0]: row[1:]
        for row in Address.select(Address.id, *[getattr(Address, f) for f in Address.FIELDS])
        .where(Address.id.in_(postal_ids))
        .tuples()
    }
    for number in known:
        person, row = people[number], beneficiaries[number]
        changed = False
        if tuple(row[2:7]) != _person_columns(person):
            Beneficiary.update(
                kind=person.kind,
                last_name=person.last_name,
                first_name=person.first_name,
                birth_date=person.birth_date,
                email=person.email,
            ).where(Beneficiary.id == row[1]).execute()
            changed = True
        postal_id, delivery_id = row[7], row[8]
        old = stored.get(postal_id)
        if old is not None and tuple(old) != person.address:
            Address.update(**_address_row(person.address)).where(Address.id == postal_id).execute()
            # The delivery address follows, unless the holder chose another one.
            if tuple(stored.get(delivery_id) or ()) == tuple(old):
                Address.update(**_address_row(person.address)).where(
                    Address.id == delivery_id
                ).execute()
            changed = True
        if changed:
            beneficiaries[number] = (
                number,
                row[1],
                *_person_columns(person),
                postal_id,
                delivery_id,
            )
            outcome.count("updated", "beneficiaries")


def _write_accounts(
    chunk, extract, by_holder, people, accounts, usernames, mandates, beneficiary_ids, outcome
) -> None:
    new = [key for key in chunk if key not in accounts]
    ids = iter(_ids(Account, len(new)))
    rows = []
    now = clock.now()
    for key in new:
        holder = extract.holders[key]
        username = _username(holder.name_parts, usernames)
        id_ = next(ids)
        rows.append(
            {
                "id": id_,
                "username": username,
                "password_hash": "",
                "email": holder.email,
                "display_name": holder.display_name,
                "created_at": now,
                "external_key": key,
            }
        )
        accounts[key] = (id_, holder.email, holder.display_name)
    _insert(Account, rows)
    outcome.count("created", "accounts", len(rows))
    for key in chunk:
        if key in new:
            continue
        holder, (id_, email, name) = extract.holders[key], accounts[key]
        if (email, name) != (holder.email, holder.display_name):
            Account.update(email=holder.email, display_name=holder.display_name).where(
                Account.id == id_
            ).execute()
            accounts[key] = (id_, holder.email, holder.display_name)
            outcome.count("updated", "accounts")
    links = []
    for key in chunk:
        account_id = accounts[key][0]
        for number in by_holder[key]:
            pair = (account_id, beneficiary_ids[number])
            if pair not in mandates:
                mandates.add(pair)
                role = extract.mandates[(key, number)]
                links.append({"account": account_id, "beneficiary": pair[1], "role": role})
    _insert(Mandate, links)
    outcome.count("created", "mandates", len(links))


def _card_changes(card: CardRow, known: tuple) -> dict:
    """What the file changes on a card already there. A revocation is never undone:
    a card revoked here (a duplicate was ordered) stays revoked whatever an older
    extract says."""
    changes = {}
    stored = dict(zip(CARD_FIELDS, known[3 : 3 + len(CARD_FIELDS)], strict=True))
    for name in CARD_FIELDS:
        if getattr(card, name) != stored[name]:
            changes[name] = getattr(card, name)
    revoked_on, reason = known[3 + len(CARD_FIELDS)], known[4 + len(CARD_FIELDS)]
    said = (card.revoked_on, card.revocation_reason)
    earlier = card.revoked_on is not None and (revoked_on is None or card.revoked_on <= revoked_on)
    if earlier and said != (revoked_on, reason):
        changes["revoked_on"], changes["revocation_reason"] = said
    return changes


def _write_cards(chunk, cards, beneficiary_ids, outcome) -> None:
    new = [card for card in chunk if card.number not in cards]
    ids = iter(_ids(Card, len(new)))
    rows = []
    for card in new:
        rows.append(
            {
                "id": next(ids),
                "number": card.number,
                "beneficiary": beneficiary_ids[card.beneficiary],
                "mention": card.mention,
                "needs_companion": card.needs_companion,
                "blindness": card.blindness,
                "valid_from": card.valid_from,
                "valid_until": card.valid_until,
                "old_format": card.old_format,
                "revoked_on": card.revoked_on,
                "revocation_reason": card.revocation_reason,
            }
        )
    _insert(Card, rows)
    outcome.count("created", "cards", len(rows))
    for card in chunk:
        known = cards.get(card.number)
        if known is None:
            continue
        changes = _card_changes(card, known)
        if changes:
            Card.update(**changes).where(Card.id == known[1]).execute()
            outcome.count("updated", "cards")
