"""A fresh PostgreSQL database for the tests and the benchmark."""

from __future__ import annotations

import os

ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def fresh_database(name: str, admin_url: str = ADMIN_URL) -> str | None:
    """Drop and create database ``name``; its URL, or None if PostgreSQL is not reachable."""
    import psycopg2

    try:
        admin = psycopg2.connect(admin_url, connect_timeout=3)
    except psycopg2.OperationalError:
        return None
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()
    return admin_url.rsplit("/", 1)[0] + f"/{name}"
