"""Demo data: the accounts QA and the acceptance tests rely on (see README).

They come in through the same import as the CMI database's extract
(``extrait-demo.csv``, beside this file); then each account gets its
documented identifiant and password in place of the letter's activation code.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from ..cmi_import import decode, read, write
from ..operator.agents import AGENT, SUPERVISOR, Agent
from ..people import Account
from ..shared.db import database, write_transaction
from ..shared.security import hash_password

EXTRACT = Path(__file__).with_name("extrait-demo.csv")

DEMO_PASSWORDS = {
    "alfred.depot": "Tilleuls-2026",
    "joseph.quinn": "Liberte-2026",
    "camille.martin": "Enfants-2026",
    "navette.pmr": "Navette-2026",
    "marie.durand": "Ancienne-2026",
}
# The account of each holder in the extract, by its key there.
DEMO_ACCOUNTS = {
    "B:1": "alfred.depot",
    "B:30": "joseph.quinn",
    "R:R-DEMO-40": "camille.martin",
    "B:50": "navette.pmr",
    "B:60": "marie.durand",
}


# The console's demo agents (README): identifiant -> (name, role, password, TOTP secret).
DEMO_AGENTS = {
    "agent.demo": ("Agnès GUICHET", AGENT, "Guichet-2026", "CMIAGENTDEMOQAQAQAQAQAQAQAQAQAQA"),
    "superviseur.demo": (
        "Sylvain CONTROLE",
        SUPERVISOR,
        "Controle-2026",
        "CMISUPERVISEURDEMOQAQAQAQAQAQAQA",
    ),
}


@cache
def demo_password_hash(username: str) -> str:
    """Hashed once per process: scrypt is slow on purpose, and tests reload the demo often."""
    if username in DEMO_AGENTS:
        return hash_password(DEMO_AGENTS[username][2])
    return hash_password(DEMO_PASSWORDS[username])


@cache
def _extract_text() -> str:
    return decode(EXTRACT.read_bytes())


def empty_database() -> None:
    """Every table dropped and made again, empty (QA's and the tests' clean slate)."""
    import models

    with database.connection_context():
        database.drop_tables(models.ALL_MODELS, safe=True)
    models.create_tables()


def reset_demo_database() -> None:
    """Every table emptied, then the demo data loaded as the README describes it."""
    empty_database()
    load_demo_data()


def load_demo_data() -> bool:
    """Load the demo accounts unless they are already there. Returns True if loaded."""
    with database.connection_context():
        if Account.select().where(Account.username == "alfred.depot").exists():
            return False
        outcome = write(read(_extract_text()))
        assert not outcome.rejected, outcome.rejected
        with write_transaction():
            for key, username in DEMO_ACCOUNTS.items():
                Account.update(
                    username=username,
                    password_hash=demo_password_hash(username),
                    activation_digest=None,
                ).where(Account.external_key == key).execute()
            for username, (name, role, _password, secret) in DEMO_AGENTS.items():
                Agent.create(
                    username=username,
                    display_name=name,
                    role=role,
                    password_hash=demo_password_hash(username),
                    totp_secret=secret,
                )
    return True
