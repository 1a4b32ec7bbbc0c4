"""A health check for load balancers and monitors: cheap, no session, no personal data."""

from __future__ import annotations

from flask import Blueprint
from peewee import InterfaceError, OperationalError

from models.shared.db import database

bp = Blueprint("health", __name__)

PATH = "/sante"


@bp.route(PATH)
def check():
    """200 when the database answers a trivial query, 503 otherwise."""
    headers = {"Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store"}
    try:
        opened = database.connect(reuse_if_open=True)
        try:
            database.execute_sql("SELECT 1").fetchone()
        finally:
            if opened:
                database.close()
    except (OperationalError, InterfaceError):
        return "database unavailable\n", 503, {**headers, "Retry-After": "5"}
    return "ok\n", 200, headers
