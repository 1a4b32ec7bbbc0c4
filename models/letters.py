"""Credentials letters: the only clear copy of an account's activation code, owed until
printed.

An account the import creates is owed a letter once its holder has a CMI to order
from (a holder with only old-format cards is promised nothing). The letter is
recorded, owed, in the same transaction that gives the account the digest of its
code. The code itself is never stored: it comes from a random seed kept with the
letter and the service's secret key (``security.activation_code_from``), so a copy
of the database alone gives no usable code, and a letter whose printing failed (a
full disk, a kill, memory) is printed again with the same code.

Letters are printed file by file for the print shop (``LetterFile``, at most
``PER_FILE`` letters each). A file is recorded with its letters before it is
written, written whole (a temporary file, then a rename), then marked written;
only then are its letters' seeds erased. A run stopped anywhere leaves letters
still owed, or a file recorded and not marked, which the next run writes again
with the same codes under the same name: each code ends on one letter in one file.

A letter an agent prepares is printed by the agent (« Préparer un nouveau courrier »): its
seed is kept ``AGENT_LETTER_KEPT`` only, so that the agent downloads the letter from the
action's result (a link, not the answer to the action) as often as needed, then erased.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from peewee import JOIN, Case, CharField, DateTimeField, ForeignKeyField, IntegerField, fn

from .cards import Card
from .people import Account, Address, Beneficiary, Mandate
from .shared.clock import clock, to_paris
from .shared.db import BaseModel, write_transaction
from .shared.security import activation_code_from, activation_digest

# A letter an agent prepares keeps its seed this long, to be downloaded again (the code is
# the same each time), then forgets it: a copy lost after that needs a new letter.
AGENT_LETTER_KEPT = timedelta(minutes=30)
PER_FILE = 100  # letters in one file: about 150 MB to print it, 100 sheets for the print shop
IMPORTED, BY_AGENT = "import", "agent"
_CHUNK = 500


class LetterFile(BaseModel):
    """One PDF of letters for the print shop, recorded before it is written."""

    folder = CharField()
    created_at = DateTimeField()
    count = IntegerField()
    written_at = DateTimeField(null=True)
    sha256 = CharField(null=True)

    @property
    def name(self) -> str:
        return f"courriers-{to_paris(self.created_at):%Y%m%d}-{self.id:06d}.pdf"


class CredentialsLetter(BaseModel):
    """A letter an account is owed, or was sent: who, why, and where it was printed."""

    account = ForeignKeyField(Account, backref="letters", on_delete="CASCADE")
    reason = CharField()  # IMPORTED, or BY_AGENT (« Préparer un nouveau courrier »)
    created_at = DateTimeField()
    seed = CharField(null=True)  # until printed: the code comes from it and the key
    file = ForeignKeyField(LetterFile, null=True, backref="letters", on_delete="SET NULL")
    printed_at = DateTimeField(null=True)
    cancelled_at = DateTimeField(null=True)  # a newer code replaced it before it was printed

    class Meta:
        indexes = ((("printed_at", "cancelled_at"), False),)

    @property
    def owed(self) -> bool:
        return self.printed_at is None and self.cancelled_at is None


@dataclass(frozen=True)
class Letter:
    """What one letter says."""

    username: str
    code: str
    address: list[str]


def _owed():
    return CredentialsLetter.printed_at.is_null() & CredentialsLetter.cancelled_at.is_null()


def _new_seed() -> str:
    return secrets.token_hex(16)


# -- owed -------------------------------------------------------------------------------------


def waiting_for_a_first_letter(today: date, limit: int):
    """Imported accounts never activated and never lettered whose holder has a CMI not
    expired (the letter offers to order from it)."""
    lettered = CredentialsLetter.select(CredentialsLetter.account)
    with_a_cmi = (
        Mandate.select(Mandate.account)
        .join(Card, on=(Mandate.beneficiary == Card.beneficiary))
        .where(~Card.old_format & (Card.valid_until.is_null() | (Card.valid_until >= today)))
    )
    return (
        Account.select(Account.id)
        .where(
            Account.external_key.is_null(False)
            & (Account.password_hash == "")
            & Account.activation_digest.is_null()
            & Account.id.not_in(lettered)
            & Account.id.in_(with_a_cmi)
        )
        .order_by(Account.id)
        .limit(limit)
    )


def owe_first_letters(key: str) -> int:
    """Record the letter each new account is owed, with its code's digest; returns how many.
    Set-based: an account a stopped run left without one gets it at the next run."""
    owed = 0
    while True:
        now = clock.now()
        with write_transaction():
            today = to_paris(now).date()
            ids = [id_ for (id_,) in waiting_for_a_first_letter(today, _CHUNK).tuples()]
            if not ids:
                return owed
            seeds = {id_: _new_seed() for id_ in ids}
            CredentialsLetter.insert_many(
                [
                    {"account": id_, "reason": IMPORTED, "created_at": now, "seed": seed}
                    for id_, seed in seeds.items()
                ]
            ).execute()
            _set_digests(
                {id_: activation_digest(activation_code_from(s, key)) for id_, s in seeds.items()}
            )
        owed += len(ids)


def _set_digests(digests: dict[int, str]) -> None:
    """Each account's new digest, in one statement (inside the caller's transaction)."""
    if digests:
        Account.update(activation_digest=Case(Account.id, list(digests.items()))).where(
            Account.id.in_(list(digests))
        ).execute()


def letter_by_agent(account: Account, key: str) -> CredentialsLetter:
    """A new letter an agent prints now: the letters still owed to the account are cancelled
    (their code no longer works), and so is the seed of an earlier agent's letter. Its own
    seed is kept ``AGENT_LETTER_KEPT``, for the agent to download it; call inside the
    action's transaction."""
    now = clock.now()
    CredentialsLetter.update(cancelled_at=now, seed=None).where(
        (CredentialsLetter.account == account.id) & _owed()
    ).execute()
    CredentialsLetter.update(seed=None).where(
        (CredentialsLetter.reason == BY_AGENT)
        & CredentialsLetter.seed.is_null(False)
        & (
            (CredentialsLetter.account == account.id)
            | (CredentialsLetter.created_at < now - AGENT_LETTER_KEPT)
        )
    ).execute()
    seed = _new_seed()
    # Handed to the agent, who prints it: never owed to the print shop.
    letter = CredentialsLetter.create(
        account=account.id, reason=BY_AGENT, created_at=now, printed_at=now, seed=seed
    )
    Account.update(activation_digest=activation_digest(activation_code_from(seed, key))).where(
        Account.id == account.id
    ).execute()
    return letter


def agent_letter_until(letter: CredentialsLetter) -> datetime:
    """Until when the agent may download the letter they prepared."""
    return letter.created_at + AGENT_LETTER_KEPT


def agent_letter(letter_id: int, key: str) -> Letter | None:
    """What the letter an agent prepared says, while it may be downloaded: None once its
    time is past, a newer letter replaced it, or its code has been used."""
    row = CredentialsLetter.get_or_none(
        (CredentialsLetter.id == letter_id)
        & (CredentialsLetter.reason == BY_AGENT)
        & CredentialsLetter.seed.is_null(False)
    )
    if row is None or clock.now() >= agent_letter_until(row):
        return None
    account = Account.get_by_id(row.account_id)
    code = activation_code_from(row.seed, key)
    if account.activation_digest != activation_digest(code):
        return None
    return letter_for(account, code)


def forget_agent_seeds() -> int:
    """Agents' letters past their download time forget their seed (``retention.purge``)."""
    return (
        CredentialsLetter.update(seed=None)
        .where(
            (CredentialsLetter.reason == BY_AGENT)
            & CredentialsLetter.seed.is_null(False)
            & (CredentialsLetter.created_at < clock.now() - AGENT_LETTER_KEPT)
        )
        .execute()
    )


# -- printed ----------------------------------------------------------------------------------


def unwritten_files() -> list[LetterFile]:
    """Files recorded and not yet marked written: a stopped run's, first."""
    return list(LetterFile.select().where(LetterFile.written_at.is_null()).order_by(LetterFile.id))


def record_next_file(folder: str, per_file: int = PER_FILE) -> LetterFile | None:
    """The next owed letters not yet in a file, recorded as one file; None when none."""
    with write_transaction():
        ids = [
            id_
            for (id_,) in CredentialsLetter.select(CredentialsLetter.id)
            .where(_owed() & CredentialsLetter.file.is_null())
            .order_by(CredentialsLetter.id)
            .limit(per_file)
            .tuples()
        ]
        if not ids:
            return None
        letter_file = LetterFile.create(folder=folder, created_at=clock.now(), count=len(ids))
        CredentialsLetter.update(file=letter_file).where(CredentialsLetter.id.in_(ids)).execute()
    return letter_file


def move_file(letter_file: LetterFile, folder: str) -> None:
    """A file not yet written is written in ``folder`` instead."""
    LetterFile.update(folder=folder).where(LetterFile.id == letter_file.id).execute()
    letter_file.folder = folder


def letters_of(letter_file: LetterFile, key: str) -> list[Letter]:
    """What the file's letters say, each with its code. A code that no longer matches its
    account's digest (the secret key changed since) is made again: nobody could hold it."""
    with write_transaction():
        rows = list(
            CredentialsLetter.select(CredentialsLetter, Account)
            .join(Account)
            .where((CredentialsLetter.file == letter_file.id) & _owed())
            .order_by(CredentialsLetter.id)
        )
        remade = {}
        for row in rows:
            digest = activation_digest(activation_code_from(row.seed, key))
            if digest != row.account.activation_digest:
                row.seed = _new_seed()
                CredentialsLetter.update(seed=row.seed).where(
                    CredentialsLetter.id == row.id
                ).execute()
                remade[row.account.id] = activation_digest(activation_code_from(row.seed, key))
        _set_digests(remade)
    addresses = _letter_addresses([row.account.id for row in rows])
    return [
        Letter(
            row.account.username,
            activation_code_from(row.seed, key),
            [row.account.display_name, *addresses.get(row.account.id, [])],
        )
        for row in rows
    ]


def mark_written(letter_file: LetterFile, sha256: str, count: int) -> None:
    """The file is whole where it belongs: its letters are printed, their seeds erased."""
    now = clock.now()
    with write_transaction():
        LetterFile.update(written_at=now, sha256=sha256, count=count).where(
            LetterFile.id == letter_file.id
        ).execute()
        CredentialsLetter.update(printed_at=now, seed=None).where(
            (CredentialsLetter.file == letter_file.id) & _owed()
        ).execute()


def _letter_addresses(account_ids: list[int]) -> dict[int, list[str]]:
    """Each account's first beneficiary's postal address under the holder's name (a child
    lives with the representative the extract names), as a window envelope shows it."""
    found: dict[int, list[str]] = {}
    for start in range(0, len(account_ids), _CHUNK):
        query = (
            Address.select(Address, Mandate.account.alias("holder"))
            .join(Beneficiary, on=(Beneficiary.address == Address.id))
            .join(Mandate, on=(Mandate.beneficiary == Beneficiary.id))
            .where(Mandate.account.in_(account_ids[start : start + _CHUNK]))
            .order_by(Mandate.account, Beneficiary.number)
            .objects(Address)
        )
        for address in query:
            if address.holder not in found:
                found[address.holder] = address_lines(address)
    return found


def address_lines(address: Address) -> list[str]:
    """An address's lines below the name; the country only when it is not France."""
    lines = address.lines()[1:]
    if lines and address.country.lower() == "france":
        lines.pop()
    elif lines:
        lines[-1] = lines[-1].upper()
    return lines


def letter_for(account: Account, code: str) -> Letter:
    """One account's letter, for the agent who prints it."""
    return Letter(
        account.username,
        code,
        [account.display_name, *_letter_addresses([account.id]).get(account.id, [])],
    )


# -- what agents see ---------------------------------------------------------------------------


@dataclass(frozen=True)
class LetterState:
    created_at: datetime
    reason: str
    printed_at: datetime | None
    cancelled_at: datetime | None
    file: str | None

    @property
    def owed(self) -> bool:
        return self.printed_at is None and self.cancelled_at is None


def history(account: Account) -> list[LetterState]:
    """Every letter of an account, newest first."""
    rows = (
        CredentialsLetter.select(CredentialsLetter, LetterFile)
        .join(LetterFile, JOIN.LEFT_OUTER)
        .where(CredentialsLetter.account == account.id)
        .order_by(CredentialsLetter.id.desc())
    )
    return [
        LetterState(
            row.created_at,
            row.reason,
            row.printed_at,
            row.cancelled_at,
            row.file.name if row.file_id and row.printed_at else None,
        )
        for row in rows
    ]


def owed_count() -> tuple[int, datetime | None]:
    """How many letters are still to be printed, and since when the oldest waits."""
    count, oldest = (
        CredentialsLetter.select(
            fn.COUNT(CredentialsLetter.id), fn.MIN(CredentialsLetter.created_at)
        )
        .where(_owed())
        .tuples()
        .get()
    )
    return count, oldest


def accounts_owed_a_letter(page: int, per_page: int) -> list[tuple[Account, datetime]]:
    """The accounts whose letter is still to be printed, the longest waiting first."""
    rows = (
        CredentialsLetter.select(CredentialsLetter.created_at, Account)
        .join(Account)
        .where(_owed())
        .order_by(CredentialsLetter.created_at, CredentialsLetter.id)
        .paginate(page, per_page)
    )
    return [(row.account, row.created_at) for row in rows]
