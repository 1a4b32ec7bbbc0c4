"""Server cost of each page against the stack's floor, in one run.

The floor (``e2e/bench_floor.py``) and the service are each served by gunicorn
with 1 worker x 4 threads on SQLite, on this machine, one after the other;
the same number of concurrent clients read one page at a time for the same
number of seconds. Each page's requests per second are divided by the
floor's. The clients are ``wrk`` (Debian's package) where it is installed, a
load generator in C that leaves the server the rest of the machine; else
threads of this process (which then share the cores with the server, and
judge bigger answers more harshly: they decompress them in Python).

The queries each page runs are counted in-process (peewee's log) for one
request. That no page runs a query per row of a list is a test, not a figure:
``tests/test_account.py`` reads « Mes données » with 1 and with 20 requests.

``python -m e2e.bench_server`` runs it alone; ``e2e/bench.py`` runs it as one
of its sections.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from tests.http_client import HttpClient

from .bench import (
    Served,
    Server,
    create_load_accounts,
    sign_in,
    sqlite_url,
    table,
    whole_flow,
    wizard_forms,
)
from .bench_floor import COOKIE, seed

FLOOR_GOAL = 0.8
ROUNDS = 3
THREADS = 4


class FloorServer(Served):
    """The floor application under gunicorn, 1 worker x 4 threads."""

    def __init__(self, database: Path) -> None:
        self.token = seed(str(database))
        super().__init__(
            lambda port: ["-m", "gunicorn", "--workers", "1", "--threads", str(THREADS),
                          "--bind", f"127.0.0.1:{port}", "e2e.bench_floor:app"],
            {"FLOOR_DATABASE": str(database)},
        )  # fmt: skip


def signed_in(port: int, username: str, password: str) -> HttpClient:
    client = HttpClient(port, keep_alive=True, timeout=30)
    answer = sign_in(client, username, password)
    assert answer.status == 303, f"{username} could not sign in ({answer.status})"
    return client


def wizard_to(client: HttpClient, card_number: str, steps: int) -> None:
    """The wizard's first ``steps`` forms, as a browser without JavaScript."""
    for path, form in wizard_forms(card_number)[:steps]:
        client.submit(path, form, follow=True)


WRK_RATE = re.compile(r"Requests/sec:\s+([\d.]+)")
WRK_BAD = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
WRK_ERRORS = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")


def hammer(make_client, path: str, users: int, seconds: float) -> dict:
    """``users`` clients reading ``path`` as fast as answers come, for ``seconds``."""
    wrk = shutil.which("wrk")
    # wrk's connections share one browser's cookies; threads each need a browser.
    clients = [make_client() for _ in range(1 if wrk else users)]
    for client in clients:
        first = client.get(path)
        assert first.status == 200, f"{path}: {first.status} {first.location}"
        client.latencies.clear()
    if wrk:
        # One signed-in browser's cookies for every connection: the same session, read
        # by 8 connections at once (the session's activity is written once a minute).
        cookies = "; ".join(f"{k}={v}" for k, v in clients[0].cookies.items())
        command = [wrk, "-t", "2", "-c", str(users), "-d", f"{seconds:g}s"]
        command += ["-H", "Accept-Encoding: br, gzip"]
        if cookies:
            command += ["-H", f"Cookie: {cookies}"]
        out = subprocess.run(
            [*command, f"http://127.0.0.1:{clients[0].port}{path}"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        bad = WRK_BAD.search(out)
        errors = WRK_ERRORS.search(out)
        return {
            "requests_per_second": float(WRK_RATE.search(out).group(1)),
            "errors": (int(bad.group(1)) if bad else 0)
            + (sum(int(n) for n in errors.groups()) if errors else 0),
            "client": "wrk",
        }
    stop = time.monotonic() + seconds

    def run(client):
        while time.monotonic() < stop:
            answer = client.get(path)
            if answer.status != 200:
                client.errors += 1

    threads = [threading.Thread(target=run, args=(c,)) for c in clients]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    count = sum(len(c.latencies) for c in clients)
    return {
        "requests": count,
        "requests_per_second": round(count / elapsed, 1),
        "errors": sum(c.errors for c in clients),
        "client": "threads",
    }


def pages_of(port: int, database_url: str) -> list[tuple[str, str, tuple | None]]:
    """(name, path, (identifiant, password) or None) for every page measured, with the
    data they need: a draft at « Paiement » and a paid request."""
    (choosing, card1), (selecting, card2), (paying, card3), (payer, paid_card) = (
        create_load_accounts(database_url, 4)
    )
    wizard_to(signed_in(port, choosing, "Charge-2026"), card1, 1)
    wizard_to(signed_in(port, selecting, "Charge-2026"), card2, 2)
    wizard_to(signed_in(port, paying, "Charge-2026"), card3, 5)
    assert whole_flow(HttpClient(port, keep_alive=True, timeout=30), payer, paid_card), (
        "the paid flow did not complete"
    )
    mine = signed_in(port, payer, "Charge-2026").get("/mes-donnees").text
    number = re.search(r'href="/demandes/(\d+)"', mine).group(1)
    alfred = ("alfred.depot", "Tilleuls-2026")
    password = "Charge-2026"
    return [
        ("Accueil", "/", None),
        ("Connexion", "/connexion", None),
        ("J'ai perdu ma carte", "/j-ai-perdu-ma-carte", None),
        ("Mes données (alfred.depot)", "/mes-donnees", alfred),
        ("Engagement", "/demande/engagement", alfred),
        ("Choix de la demande", "/demande/choix", (choosing, password)),
        ("Sélection des cartes", "/demande/selection", (selecting, password)),
        ("Livraison", "/demande/livraison", (paying, password)),
        ("Paiement", "/demande/paiement", (paying, password)),
        ("Récapitulatif", f"/demandes/{number}", (payer, password)),
    ]


def query_counts(database_url: str, pages: list[tuple[str, str, tuple | None]]) -> dict:
    """Queries that one request to each page runs, counted in-process on the same data."""
    from app import create_app
    from tests.helpers import QueryLog, sign_in

    app = create_app({"DATABASE_URL": database_url, "DEMO": True})
    counts = {}
    for name, path, account in pages:
        client = app.test_client()
        if account:
            sign_in(client, *account)
        client.get(path)  # the first visit settles the session and the stylesheet cookie
        with QueryLog() as log:
            answer = client.get(path)
        counts[name] = len(log) if answer.status_code == 200 else f"HTTP {answer.status_code}"
    return counts


def measure(folder: Path, users: int, seconds: float, rounds: int = ROUNDS) -> dict:
    """Each page read ``rounds`` times, each time between two readings of the floor: a
    round's ratio is taken against the mean of the two readings around it, and the
    page's ratio is the median of its rounds. A shared virtual machine speeds up and
    slows down during a run (the floor alone moved from 295 to 424 req/s in one run
    of 5-second readings): short readings side by side move both sides alike."""
    floor = FloorServer(folder / "floor.sqlite3")
    url = sqlite_url(folder, "server-cost.sqlite3")
    server = Server(url, workers=1)
    try:

        def floor_client():
            client = HttpClient(floor.port, keep_alive=True, timeout=30)
            client.cookies[COOKIE] = floor.token
            return client

        pages = pages_of(server.port, url)
        floors = [hammer(floor_client, "/cartes", users, seconds)]
        figures = {}
        for name, path, account in pages:
            make = (
                (lambda a=account: signed_in(server.port, *a))
                if account
                else (lambda: HttpClient(server.port, keep_alive=True, timeout=30))
            )
            readings = []
            for _ in range(rounds):
                reading = hammer(make, path, users, seconds)
                floors.append(hammer(floor_client, "/cartes", users, seconds))
                around = (floors[-2]["requests_per_second"] + floors[-1]["requests_per_second"]) / 2
                readings.append({**reading, "ratio": reading["requests_per_second"] / around})
            readings.sort(key=lambda r: r["ratio"])
            middle = readings[len(readings) // 2]
            figures[name] = {
                "requests_per_second": middle["requests_per_second"],
                "ratio": round(middle["ratio"], 2),
                "ratios": [round(r["ratio"], 2) for r in readings],
                "errors": sum(r["errors"] for r in readings),
                "client": middle.get("client"),
            }
    finally:
        server.stop()
        floor.stop()
    queries = query_counts(url, pages)
    rates = sorted(f["requests_per_second"] for f in floors)
    return {
        "users": users,
        "seconds": seconds,
        "rounds": rounds,
        "floor": {
            "requests_per_second": rates[len(rates) // 2],  # the median reading
            "lowest": rates[0],
            "highest": rates[-1],
            "readings": len(rates),
            "errors": sum(f["errors"] for f in floors),
            "client": floors[0].get("client"),
            "queries": 3,
        },
        "pages": {name: {**f, "queries": queries[name]} for name, f in figures.items()},
    }


def print_report(result: dict) -> bool:
    floor = result["floor"]
    print(
        f"\nServer cost against the floor: gunicorn 1 worker x {THREADS} threads, SQLite, "
        f"{result['users']} concurrent clients ({floor.get('client', 'threads')}), "
        f"{result['seconds']:g} s per reading"
    )
    print(
        f"Each page read {result['rounds']} times, each time between two readings of the "
        f"floor ({floor['readings']} readings: {floor['lowest']} to {floor['highest']} req/s); "
        "a reading's ratio is taken against the mean of the floor's two around it, the page's "
        "is the median of its readings."
    )
    rows = [["floor (Flask + Jinja + peewee, 3 queries), median", floor["requests_per_second"],
             "1.00", "", floor["queries"], floor["errors"], ""]]  # fmt: skip
    ok = True
    for name, f in result["pages"].items():
        good = f["ratio"] >= FLOOR_GOAL and not f["errors"]
        ok = ok and good
        rows.append(
            [
                name,
                f["requests_per_second"],
                f"{f['ratio']:.2f}",
                " ".join(f"{r:.2f}" for r in f["ratios"]),
                f.get("queries", "?"),
                f["errors"],
                "met" if good else "NOT MET",
            ]
        )
    print(
        table(
            [
                "page",
                "req/s",
                "x floor",
                "each reading",
                "queries",
                "errors",
                f">= {FLOOR_GOAL} x floor",
            ],
            rows,
        )
    )
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2, help="per reading")
    parser.add_argument("--rounds", type=int, default=ROUNDS, help="readings per page")
    parser.add_argument("--users", type=int, default=8)
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="cmi-server-cost-"))
    result = measure(folder, args.users, args.seconds, args.rounds)
    print_report(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
