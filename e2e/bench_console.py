"""Page weight of the agents' console against the citizen side's budgets.

Run with ``python -m e2e.bench_console``. It serves the application in this
process on a demo database with one paid request, signs in as the demo
supervisor, and prints, for each console page, the bytes of the whole HTML
answer and of its htmx fragment, compressed as a browser asks (brotli), with
the budget's verdict.
"""

from __future__ import annotations

import tempfile

import models
from app import create_app
from models.demo.data import DEMO_AGENTS, load_demo_data
from models.operator.agents import totp_now
from tests.helpers import post_form

from .bench import BUDGETS, KB
from .test_console import alfreds_paid_request


def main() -> int:
    folder = tempfile.mkdtemp()
    app = create_app({"DATABASE_URL": f"sqlite:///{folder}/console.sqlite3", "TESTING": True})
    models.create_tables()
    load_demo_data()
    number = alfreds_paid_request()
    client = app.test_client()
    _name, _role, password, secret = DEMO_AGENTS["superviseur.demo"]
    post_form(
        client,
        "/gestion/connexion",
        {"username": "superviseur.demo", "password": password, "code": totp_now(secret)},
    )
    pages = [
        "/gestion/connexion",
        "/gestion/",
        f"/gestion/?q={number}",
        f"/gestion/demandes/{number}",
        "/gestion/comptes/1",
        "/gestion/comptes/1/courriel",
        "/gestion/chiffres",
        "/gestion/agents",
        "/gestion/agents/nouveau",
    ]
    print(f"{'page':34} {'HTML':>8} {'headers':>8} {'fragment':>9}  verdict")
    failed = False
    for path in pages:
        browser = app.test_client() if path.endswith("connexion") else client
        whole = browser.get(path, headers={"Accept-Encoding": "br"})
        part = browser.get(
            path, headers={"Accept-Encoding": "br", "HX-Request": "true", "HX-Target": "main#main"}
        )
        headers = sum(len(k) + len(v) + 4 for k, v in whole.headers.items())
        wire = len(whole.data) + headers
        ok = wire <= BUDGETS["html_max"] and len(part.data) <= BUDGETS["fragment_max"]
        failed |= not ok
        print(
            f"{path:34} {len(whole.data):>7}B {headers:>7}B {len(part.data):>8}B  "
            + ("OK" if ok else "OVER")
        )
    print(
        f"budgets: every HTML answer <= {BUDGETS['html_max'] // KB} KB with its headers, "
        f"every htmx fragment <= {BUDGETS['fragment_max'] // KB} KB (as the citizen side)"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
