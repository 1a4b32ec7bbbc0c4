"""A fresh PostgreSQL database for the tests and the benchmark."""

from __future__ import annotations

import os

ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def _admin(admin_url: str, *statements: str) -> bool:
    """Run ``statements`` on the server; False if PostgreSQL is not reachable."""
    import psycopg2

    try:
        admin = psycopg2.connect(admin_url, connect_timeout=3)
    except psycopg2.OperationalError:
        return False
    admin.autocommit = True
    with admin.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
    admin.close()
    return True


def fresh_database(name: str, admin_url: str = ADMIN_URL) -> str | None:
    """Drop and create database ``name``; its URL, or None if PostgreSQL is not reachable.

    Give each process its own ``name``: two test runs on one machine must not
    drop each other's database.
    """
    if not _admin(
        admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"'
    ):
        return None
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


def drop_database(name: str, admin_url: str = ADMIN_URL) -> None:
    _admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
