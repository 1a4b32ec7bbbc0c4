"""Benchmark: bytes, requests, round trips and time of the duplicata flow, and server load.

Run with ``python -m e2e.bench`` (``--help`` for options). It starts the
production server (``python app.py``, gunicorn) on demo data, drives
``alfred.depot``'s whole duplicata flow in Chromium, then loads the server
with concurrent simulated users. It prints tables with each budget's verdict
and writes the figures to ``bench-results/bench-<time>.json`` so that two
runs can be compared. The tests never time anything; this does.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from tests.http_client import HttpClient, form_token

ROOT = Path(__file__).resolve().parent.parent
KB = 1024

NETWORKS = {
    # Chrome DevTools presets: round-trip latency (ms) and throughput (bytes/s).
    "3G": {"latency": 2000, "download": 50_000, "upload": 50_000},
    "Slow 4G": {"latency": 562.5, "download": 180_000, "upload": 84_375},
}

BUDGETS = {
    "html_max": 14 * KB,
    "fragment_max": 6 * KB,
    "css_max": 10 * KB,
    "own_js_max": 3 * KB,
    "image_max": 5 * KB,
    "first_visit_max": 40 * KB,
    "fragment_headers_max": 350,
    "repeat_visit_bytes_max": 8 * KB,
    "repeat_visit_requests_max": 1,
    "requests_per_transition_js": 1,
    "requests_per_transition_nojs": 2,
    "time_ratio_3g_js_max": 1.3,
    "fcp_3g_max_s": 2.5,
}


# -- the server ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Served:
    """A Python server process on a port of its own (``arguments(port)``), its output in
    a log file; ready once the port takes connections."""

    def __init__(self, arguments, env: dict[str, str]) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = tempfile.NamedTemporaryFile("w+", suffix=".log", delete=False)  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, *arguments(self.port)],
            cwd=ROOT,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **env},
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                if self.process.poll() is not None:
                    break
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("the server did not start:\n" + Path(self.log.name).read_text())

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()


class Server(Served):
    """``python app.py`` (gunicorn) on a database of its own."""

    def __init__(self, database_url: str, workers: int) -> None:
        super().__init__(
            lambda port: ["app.py", "--demo", "--port", str(port), "--workers", str(workers),
                          "--threads", "4"],
            {"DATABASE_URL": database_url},
        )  # fmt: skip


def sqlite_url(folder: Path, name: str) -> str:
    return f"sqlite:///{folder / name}"


def postgres_url(name: str) -> str | None:
    from tests.postgres import fresh_database

    return fresh_database(name, os.environ.get("BENCH_POSTGRES_URL", ADMIN_URL_DEFAULT))


ADMIN_URL_DEFAULT = "postgresql://postgres@127.0.0.1:5432/postgres"


# -- the browser: bytes, requests, round trips, time --------------------------------------


@dataclass
class Request:
    url: str
    method: str
    kind: str  # Document, Fetch/XHR, Stylesheet, Script, Image, Other
    started: float
    status: int = 0
    encoded: int = 0  # on the wire, headers included
    headers: int = 0  # the response's status line and headers, as received
    body: int = 0  # decoded (uncompressed) body
    length: int = 0  # the body's Content-Length, as sent
    cached: bool = False
    redirect_of: str | None = None
    htmx: bool = False


@dataclass
class Step:
    name: str
    requests: list[Request] = field(default_factory=list)
    seconds: float = 0.0

    def network(self) -> list[Request]:
        return [r for r in self.requests if not r.cached]

    def bytes_by(self, kind: str, encoded: bool = True) -> int:
        return sum(r.encoded if encoded else r.body for r in self.network() if category(r) == kind)

    @property
    def transitions(self) -> int:
        """Requests the user waits for in sequence: documents, fragments and their redirects."""
        return sum(1 for r in self.network() if category(r) in ("html", "fragment", "pdf"))


def category(request: Request) -> str:
    path = urllib.parse.urlsplit(request.url).path
    if path.endswith(".css"):
        return "css"
    if path.endswith(".js"):
        return "htmx" if "htmx" in path else "own js"
    if request.kind == "Image" or path.endswith((".svg", ".png", ".ico")):
        return "image"
    if path.endswith(".pdf"):
        return "pdf"
    if request.htmx:
        return "fragment"
    if request.kind == "Document" or request.status in (301, 302, 303):
        return "html"
    return "other"


class Recorder:
    """Network events of one page, through the DevTools protocol."""

    def __init__(self, context, page) -> None:
        self.cdp = context.new_cdp_session(page)
        self.requests: dict[str, Request] = {}
        self.order: list[Request] = []
        self.cdp.send("Network.enable")
        self.cdp.on("Network.requestWillBeSent", self._sent)
        self.cdp.on("Network.responseReceived", self._response)
        self.cdp.on("Network.responseReceivedExtraInfo", self._raw_headers)
        self.cdp.on("Network.dataReceived", self._data)
        self.cdp.on("Network.loadingFinished", self._finished)
        self.cdp.on("Network.requestServedFromCache", self._cache)

    def throttle(self, network: dict | None) -> None:
        if network is None:
            self.cdp.send(
                "Network.emulateNetworkConditions",
                {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
            )
        else:
            self.cdp.send(
                "Network.emulateNetworkConditions",
                {
                    "offline": False,
                    "latency": network["latency"],
                    "downloadThroughput": network["download"],
                    "uploadThroughput": network["upload"],
                },
            )

    def _sent(self, event) -> None:
        redirect = event.get("redirectResponse")
        previous = self.requests.get(event["requestId"])
        if redirect and previous is not None:
            previous.status = redirect["status"]
            previous.encoded = redirect.get("encodedDataLength", 0)
            previous.headers = previous.headers or previous.encoded  # a 303 is all headers
            # The redirected request keeps its id: file the finished hop under a new key.
            self.requests[event["requestId"] + f"#{len(self.order)}"] = previous
        headers = event["request"].get("headers", {})
        request = Request(
            url=event["request"]["url"],
            method=event["request"]["method"],
            kind=event.get("type", "Other"),
            started=event["timestamp"],
            redirect_of=previous.url if redirect and previous else None,
            htmx=any(k.lower() == "hx-request" for k in headers),
        )
        self.requests[event["requestId"]] = request
        self.order.append(request)

    def _response(self, event) -> None:
        request = self.requests.get(event["requestId"])
        if request is not None:
            request.status = event["response"]["status"]
            headers = {k.lower(): v for k, v in event["response"].get("headers", {}).items()}
            if headers.get("content-length", "").isdigit():
                request.length = int(headers["content-length"])
            if event["response"].get("fromDiskCache") or event["response"].get("fromMemoryCache"):
                request.cached = True

    def _raw_headers(self, event) -> None:
        # Sent for every hop, redirects included; a redirect's hop was refiled under
        # another key by then, so only the final answer's headers land here.
        request = self.requests.get(event["requestId"])
        if request is not None and event.get("headersText"):
            request.headers = len(event["headersText"].encode("latin-1", "replace"))

    def _data(self, event) -> None:
        request = self.requests.get(event["requestId"])
        if request is not None:
            request.body += event.get("dataLength", 0)

    def _finished(self, event) -> None:
        request = self.requests.get(event["requestId"])
        if request is not None:
            request.encoded = event.get("encodedDataLength", 0)
            # A PDF goes to the browser's viewer, past this page's network events:
            # count it as sent, its headers and its Content-Length.
            if (
                request.status == 200
                and request.length
                and request.encoded < request.headers + request.length
            ):
                request.encoded = request.headers + request.length

    def _cache(self, event) -> None:
        request = self.requests.get(event["requestId"])
        if request is not None:
            request.cached = True

    def take(self) -> list[Request]:
        taken, self.order = self.order, []
        return taken


def drive_flow(browser, base: str, javascript: bool, network: dict | None = None) -> list[Step]:
    """alfred.depot's duplicata, from the sign-in page to the attestation, step by step."""
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import expect

    context = browser.new_context(
        base_url=base,
        java_script_enabled=javascript,
        viewport={"width": 1280, "height": 900},
        accept_downloads=True,
        locale="fr-FR",  # the flow is read in French, as most users read it
    )
    context.set_default_timeout(120_000)
    expect.set_options(timeout=120_000)
    page = context.new_page()
    recorder = Recorder(context, page)
    recorder.throttle(network)
    steps: list[Step] = []
    address: dict[str, str] = {}

    def step(name, action):
        started = time.monotonic()
        action()
        page.wait_for_load_state("load")
        seconds = time.monotonic() - started
        # Let late responses (favicon, settling) land in this step; not counted as time.
        page.wait_for_timeout(150)
        steps.append(Step(name, recorder.take(), seconds))

    heading = lambda text: page.get_by_role("heading", level=1, name=text)  # noqa: E731
    button = lambda text: page.get_by_role("button", name=text, exact=True)  # noqa: E731

    def sign_in():
        page.get_by_label("Identifiant").fill("alfred.depot")
        page.get_by_label("Mot de passe").fill("Tilleuls-2026")
        button("Se connecter").click()
        expect(heading("Mes données")).to_be_visible()

    def to_request():
        page.get_by_role("navigation", name="Menu principal").get_by_role(
            "link", name="Demande"
        ).click()
        expect(heading("Avant de commencer")).to_be_visible()

    def engagement():
        page.get_by_label("J'accepte les Conditions Générales").check()
        button("Suivant").click()
        expect(heading("Quelle demande voulez-vous faire ?")).to_be_visible()

    def choose():
        # Each option's explanation is always shown: choosing sends nothing.
        page.get_by_label("Duplicata", exact=True).check()
        expect(page.get_by_label("Duplicata", exact=True)).to_be_checked()

    def choice():
        button("Suivant").click()
        expect(heading("Duplicata")).to_be_visible()

    def selection():
        page.get_by_role("group", name="Motif pour la carte n° 0000 0000 0000 0001").get_by_role(
            "radio", name="Carte perdue"
        ).check()
        page.get_by_label("Sélectionner la carte n° 0000 0000 0000 0001").check()
        page.get_by_label("Je déclare sur l'honneur").check()
        button("Valider").click()
        expect(page.get_by_text("Êtes-vous sûr").first).to_be_visible()

    def confirm():
        button("Oui").click()
        expect(heading("Adresse de livraison")).to_be_visible()

    def delivery_correct():
        if javascript:
            with page.expect_response(lambda response: "/livraison/adresse" in response.url):
                page.get_by_label("Oui", exact=True).check()
        else:
            page.get_by_label("Oui", exact=True).check()

    def delivery():
        button("Valider").click()
        expect(heading("Paiement")).to_be_visible()

    def to_provider():
        page.get_by_role("button", name=re.compile("^Payer")).click()
        if not javascript:
            page.get_by_role("button", name="Continuer vers le paiement sécurisé").click()
        expect(heading("Saisie de la carte bancaire")).to_be_visible()

    def card():
        page.get_by_label("Numéro de carte").fill("4100 0000 0000 0001")
        page.get_by_label("Date d'expiration").fill("12/29")
        page.get_by_label("Cryptogramme visuel").fill("123")
        button("Valider").click()
        expect(page.get_by_text("Votre paiement a été accepté.")).to_be_visible()

    def back_to_service():
        page.get_by_role("link", name="Continuer").click()
        expect(heading("Votre demande est enregistrée")).to_be_visible()

    def attestation():
        link = page.get_by_role("link", name=re.compile("^Télécharger"))
        address["recap"] = page.url
        try:
            page.goto(link.get_attribute("href"))
        except PlaywrightError as error:  # the browser saves the PDF instead of showing it
            if "Download is starting" not in str(error):
                raise

    page_started = time.monotonic()
    page.goto("/connexion")
    expect(heading("Connexion")).to_be_visible()
    seconds = time.monotonic() - page_started
    page.wait_for_timeout(150)
    steps.append(Step("Connexion (première visite)", recorder.take(), seconds))
    for name, action in [
        ("Se connecter > Mes données", sign_in),
        ("Demande > Engagement", to_request),
        ("Engagement > Choix", engagement),
        *([("Choix : explication (htmx)", choose)] if javascript else []),
        ("Choix > Sélection", (lambda: (choose(), choice())) if not javascript else choice),
        ("Sélection > Confirmation", selection),
        ("Confirmation (Oui) > Livraison", confirm),
        *([("Livraison : « Oui » (htmx)", delivery_correct)] if javascript else []),
        (
            "Livraison > Paiement",
            delivery if javascript else (lambda: (delivery_correct(), delivery())),
        ),
        ("Payer > prestataire", to_provider),
        ("Carte > résultat", card),
        ("Continuer > Récapitulatif", back_to_service),
        ("Attestation (PDF)", attestation),
    ]:
        step(name, action)
    # A repeat visit of a step, cache warm.
    step("Revisite : Récapitulatif (cache chaud)", lambda: page.goto(address["recap"]))
    context.close()
    return steps


# -- server load ------------------------------------------------------------------------


def sign_in(client: HttpClient, username: str, password: str, follow: bool = False):
    """The sign-in form, as a browser without JavaScript: its answer."""
    page = client.request("GET", "/connexion", follow=True).text
    return client.post(
        "/connexion",
        {"csrf_token": form_token(page), "username": username, "password": password},
        follow=follow,
    )


def wizard_forms(card_number: str) -> list[tuple[str, dict]]:
    """Each wizard step's address and answers, Engagement to Livraison: a duplicata of
    ``card_number``, lost, delivered at the address on file."""
    return [
        ("/demande/engagement", {"accept": "y"}),
        ("/demande/choix", {"kind": "duplicata"}),
        (
            "/demande/selection",
            {f"select_{card_number}": "y", f"reason_{card_number}": "Titre perdu", "honour": "y"},
        ),
        ("/demande/confirmation", {}),
        ("/demande/livraison", {"correct": "oui"}),
    ]


def whole_flow(client: HttpClient, username: str, card_number: str) -> bool:
    """Sign-in to the récapitulatif, through the forms as a browser without JavaScript."""
    sign_in(client, username, "Charge-2026", follow=True)
    for path, form in wizard_forms(card_number):
        page = client.request("GET", path, follow=True).text
        page = client.post(path, {"csrf_token": form_token(page), **form}, follow=True).text
    page = client.request("GET", "/demande/paiement", follow=True).text
    # « Payer »: the service sends the browser on to the provider's card page.
    page = client.post(
        "/demande/paiement", {"csrf_token": form_token(page), "action": "payer"}, follow=True
    ).text
    # The hand-off page posts the sealed order to the provider (a browser with
    # JavaScript does it by itself).
    handoff = re.search(
        r'<form method="post" action="([^"]+)"[^>]*data-auto-submit>(.*?)</form>', page, re.S
    )
    if handoff is None:
        return False
    order = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', handoff.group(2)))
    target = urllib.parse.urlsplit(html.unescape(handoff.group(1))).path
    page = client.post(target, {k: html.unescape(v) for k, v in order.items()}, follow=True).text
    match = re.search(r'action="(/paiement-securise/\d+)"', page)
    if match is None:
        return False
    page = client.post(
        match.group(1),
        {
            "csrf_token": form_token(page),
            "action": "valider",
            "number": "4100000000000001",
            "expiry": "12/29",
            "security_code": "123",
        },
        follow=True,
    ).text
    back = re.search(r'href="([^"]*/paiement/retour\?[^"]+)"', page)
    if back is None:
        return False
    url = urllib.parse.urlsplit(back.group(1).replace("&amp;", "&"))
    page = client.request("GET", f"{url.path}?{url.query}", follow=True).text
    return "Votre demande est enregistrée" in page


def create_load_accounts(database_url: str, count: int, first: int = 0) -> list[tuple[str, str]]:
    """Accounts with one valid card each, so that every simulated flow has a card to replace."""
    sys.path.insert(0, str(ROOT))
    from datetime import date

    import models
    from models.cards import INVALIDITE, Card
    from models.people import Account, Address, Beneficiary, Mandate
    from models.shared.db import database, open_database
    from models.shared.security import hash_password

    open_database(database_url)
    models.create_tables()
    password = hash_password("Charge-2026")
    created = []
    with database.connection_context(), database.atomic():
        for index in range(first, first + count):
            address = Address.create(
                name=f"Usager CHARGE {index}",
                street="1 rue du Test",
                postcode="59000",
                city="LILLE",
            )
            person = Beneficiary.create(
                number=100_000 + index,
                last_name="CHARGE",
                first_name=f"Usager{index}",
                birth_date=date(1980, 1, 1),
                address=address,
                delivery_address=address.copy(),
            )
            account = Account.create(
                username=f"charge.{index}",
                password_hash=password,
                email=f"charge.{index}@example.org",
                display_name=f"Usager{index} CHARGE",
            )
            Mandate.create(account=account, beneficiary=person)
            number = f"{9_000_000_000_000_000 + index:016d}"
            Card.create(
                number=number,
                beneficiary=person,
                mention=INVALIDITE,
                valid_from=date(2024, 1, 1),
                valid_until=date(2033, 12, 31),
            )
            created.append((f"charge.{index}", number))
    database.close()
    return created


def percentiles(samples: list[float]) -> dict:
    if not samples:
        return {"p50_ms": None, "p95_ms": None, "p99_ms": None}
    ordered = sorted(samples)
    pick = lambda q: round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 1)  # noqa: E731
    return {"p50_ms": pick(0.50), "p95_ms": pick(0.95), "p99_ms": pick(0.99)}


def load_pages(server: Server, users: int, seconds: float) -> dict:
    """Concurrent users reading the main pages (signed in as alfred.depot)."""
    results = {}
    for name, path, signed_in in [
        ("Connexion", "/connexion", False),
        ("Mes données", "/mes-donnees", True),
        ("Engagement", "/demande/engagement", True),
    ]:
        clients = [HttpClient(server.port, keep_alive=True, timeout=30) for _ in range(users)]
        if signed_in:
            for client in clients:
                sign_in(client, "joseph.quinn", "Liberte-2026")
                client.latencies.clear()
        stop = time.monotonic() + seconds

        def run(client, path=path, stop=stop):
            while time.monotonic() < stop:
                client.request("GET", path)

        threads = [threading.Thread(target=run, args=(c,)) for c in clients]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
        latencies = [x for c in clients for x in c.latencies]
        results[name] = {
            "requests": len(latencies),
            "requests_per_second": round(len(latencies) / elapsed, 1),
            "errors": sum(c.errors for c in clients),
            **percentiles(latencies),
        }
    return results


def load_flows(server: Server, accounts: list[tuple[str, str]], users: int) -> dict:
    """Concurrent users each running whole flows, one fresh account per flow."""
    queue = list(accounts)
    lock = threading.Lock()
    clients, completed, failed, durations = [], [0], [0], []

    def run():
        while True:
            with lock:
                if not queue:
                    return
                username, card = queue.pop()
            client = HttpClient(server.port, keep_alive=True, timeout=30)
            clients.append(client)
            started = time.perf_counter()
            ok = whole_flow(client, username, card)
            with lock:
                durations.append(time.perf_counter() - started)
                (completed if ok else failed)[0] += 1

    threads = [threading.Thread(target=run) for _ in range(users)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    latencies = [x for c in clients for x in c.latencies]
    return {
        "flows_completed": completed[0],
        "flows_failed": failed[0],
        "flows_per_second": round(completed[0] / elapsed, 2),
        "requests_per_second": round(len(latencies) / elapsed, 1),
        "errors": sum(c.errors for c in clients),
        "flow_seconds": percentiles(durations),
        "request_latency": percentiles(latencies),
    }


# -- reporting ---------------------------------------------------------------------------


def table(headers: list[str], rows: list[list]) -> str:
    cells = [[str(c) for c in row] for row in [headers, *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    line = lambda row: "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True))  # noqa: E731
    return "\n".join(
        [line(cells[0]), "  ".join("-" * w for w in widths), *(line(r) for r in cells[1:])]
    )


def kb(value: int) -> str:
    return f"{value / KB:.1f}"


def step_rows(steps: list[Step]) -> list[list]:
    rows = []
    for s in steps:
        html = [r for r in s.network() if category(r) in ("html", "fragment")]
        rows.append(
            [
                s.name,
                kb(sum(r.encoded for r in html)),
                kb(sum(r.body for r in html)),
                kb(s.bytes_by("css")),
                kb(s.bytes_by("htmx") + s.bytes_by("own js")),
                kb(s.bytes_by("image") + s.bytes_by("pdf") + s.bytes_by("other")),
                len(s.network()),
                s.transitions,
                kb(max((r.encoded for r in s.network() if category(r) == "fragment"), default=0)),
            ]
        )
    return rows


# The flow is sign-in to Récapitulatif; the attestation is downloaded after it, and the
# repeat visit is a second visit: both are measured apart.
AFTER_THE_FLOW = ("Revisite", "Attestation")
# In production these are the bank's pages, on the bank's site.
PROVIDER_PATH = "/paiement-securise"


def summarise(steps: list[Step]) -> dict:
    flow = [s for s in steps if not s.name.startswith(AFTER_THE_FLOW)]
    requests = [r for s in flow for r in s.network()]
    attestation = [r for s in steps if s.name.startswith("Attestation") for r in s.network()]
    return {
        "bytes": sum(r.encoded for r in requests),
        "provider_bytes": sum(
            r.encoded
            for r in requests
            if urllib.parse.urlsplit(r.url).path.startswith(PROVIDER_PATH)
        ),
        "attestation_bytes": sum(r.encoded for r in attestation),
        "header_bytes": sum(r.headers for r in requests),
        "fragment_header_bytes_max": max(
            (r.headers for r in requests if category(r) == "fragment"), default=0
        ),
        "requests": len(requests),
        "seconds": round(sum(s.seconds for s in flow), 2),
        "transitions": sum(s.transitions for s in flow),
        "steps": [
            {
                "name": s.name,
                "seconds": round(s.seconds, 3),
                "transitions": s.transitions,
                "requests": [
                    {
                        "url": urllib.parse.urlsplit(r.url).path,
                        "method": r.method,
                        "category": category(r),
                        "status": r.status,
                        "wire_bytes": r.encoded,
                        "header_bytes": r.headers,
                        "body_bytes": r.body,
                    }
                    for r in s.network()
                ],
            }
            for s in steps
        ],
    }


def verdict(ok: bool) -> str:
    return "OK" if ok else "MISSED"


def budgets(flows: dict) -> list[tuple[str, str, str]]:
    js, nojs = flows["js"]["steps"], flows["nojs"]["steps"]
    every = [r for run in (js, nojs) for s in run for r in s["requests"]]
    html = [r["wire_bytes"] for r in every if r["category"] == "html" and r["status"] == 200]
    fragments = [r["wire_bytes"] for r in every if r["category"] == "fragment"]
    css = [r["wire_bytes"] for r in every if r["category"] == "css"]
    own_js = [r["wire_bytes"] for r in every if r["category"] == "own js"]
    images = [r["wire_bytes"] for r in every if r["category"] == "image"]
    service_steps = lambda run: [  # noqa: E731
        s
        for s in run
        if not s["name"].startswith(
            (
                "Payer",
                "Carte",
                "Continuer",
                "Attestation",
                "Revisite",
                "Connexion (première",
                "Choix : explication",
                "Livraison : ",
            )
        )
    ]
    js_transitions = [s["transitions"] for s in service_steps(js)]
    nojs_transitions = [s["transitions"] for s in service_steps(nojs)]
    repeat = next(s for s in js if s["name"].startswith("Revisite"))
    repeat_bytes = sum(r["wire_bytes"] for r in repeat["requests"])
    rows = [
        (
            "every HTML response <= 14 KB",
            f"max {kb(max(html))} KB",
            verdict(max(html) <= BUDGETS["html_max"]),
        ),
        (
            "every htmx fragment <= 6 KB",
            f"max {kb(max(fragments, default=0))} KB",
            verdict(max(fragments, default=0) <= BUDGETS["fragment_max"]),
        ),
        (
            "own CSS <= 10 KB",
            f"{kb(max(css, default=0))} KB",
            verdict(max(css, default=0) <= BUDGETS["css_max"]),
        ),
        (
            "own JS (beside htmx) <= 3 KB",
            f"{kb(max(own_js, default=0))} KB",
            verdict(max(own_js, default=0) <= BUDGETS["own_js_max"]),
        ),
        (
            "no web fonts",
            f"{sum(1 for r in every if r['url'].endswith(('.woff', '.woff2', '.ttf')))} font files",
            verdict(not any(r["url"].endswith((".woff", ".woff2", ".ttf")) for r in every)),
        ),
        (
            "no image > 5 KB",
            f"max {kb(max(images, default=0))} KB",
            verdict(max(images, default=0) <= BUDGETS["image_max"]),
        ),
        (
            "first visit, sign-in to Récapitulatif, JS on <= 40 KB (headers counted)",
            f"{kb(flows['js']['bytes'])} KB",
            verdict(flows["js"]["bytes"] <= BUDGETS["first_visit_max"]),
        ),
        (
            "htmx answers' response headers <= 350 B",
            f"max {flows['js']['fragment_header_bytes_max']} B",
            verdict(
                0 < flows["js"]["fragment_header_bytes_max"] <= BUDGETS["fragment_headers_max"]
            ),
        ),
        (
            "repeat visit of a step: 1 request, <= 8 KB",
            f"{len(repeat['requests'])} request(s), {kb(repeat_bytes)} KB",
            verdict(
                len(repeat["requests"]) <= 1 and repeat_bytes <= BUDGETS["repeat_visit_bytes_max"]
            ),
        ),
        (
            "one request per step transition, JS on",
            f"max {max(js_transitions)} (service steps)",
            verdict(max(js_transitions) <= 1),
        ),
        (
            "at most two per transition, JS off",
            f"max {max(nojs_transitions)} (service steps)",
            verdict(max(nojs_transitions) <= 2),
        ),
    ]
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-network", action="store_true", help="skip the 3G / Slow 4G runs")
    parser.add_argument("--skip-load", action="store_true", help="skip the server load runs")
    parser.add_argument(
        "--skip-floor", action="store_true", help="skip the pages' cost against the floor"
    )
    parser.add_argument(
        "--skip-peers",
        action="store_true",
        help="skip our pages beside the same step in GOV.UK Frontend and the DSFR",
    )
    parser.add_argument("--seconds", type=float, default=5, help="length of each page load run")
    parser.add_argument("--users", type=int, default=8, help="concurrent simulated users")
    parser.add_argument("--flows", type=int, default=24, help="whole flows per load run")
    parser.add_argument("--workers", default="1,2,4", help="gunicorn workers to compare")
    args = parser.parse_args(argv)

    from playwright.sync_api import sync_playwright

    chromium = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    results: dict = {"date": datetime.now().isoformat(timespec="seconds"), "budgets": BUDGETS}
    folder = Path(tempfile.mkdtemp(prefix="cmi-bench-"))

    # 1. Bytes, requests and round trips, on an unthrottled network.
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium,
            args=["--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1 , EXCLUDE localhost"],
        )
        flows = {}
        for mode, javascript in (("js", True), ("nojs", False)):
            server = Server(sqlite_url(folder, f"flow-{mode}.sqlite3"), workers=2)
            try:
                steps = drive_flow(browser, server.base, javascript)
            finally:
                server.stop()
            flows[mode] = summarise(steps)
            print(
                f"\nDuplicata flow of alfred.depot, JavaScript {'on' if javascript else 'off'} "
                "(first visit, empty cache; sizes in KB)"
            )
            print(
                table(
                    [
                        "step",
                        "HTML wire",
                        "HTML raw",
                        "CSS",
                        "JS",
                        "other",
                        "requests",
                        "round trips",
                        "fragment",
                    ],
                    step_rows(steps),
                )
            )
            print(
                f"whole flow: {kb(flows[mode]['bytes'])} KB on the wire "
                f"({kb(flows[mode]['header_bytes'])} KB of response headers, "
                f"{kb(flows[mode]['bytes'] - flows[mode]['header_bytes'])} KB of bodies; "
                f"htmx answers' headers at most {flows[mode]['fragment_header_bytes_max']} B), "
                f"{flows[mode]['requests']} requests, {flows[mode]['transitions']} round trips; "
                f"of it, the demo payment provider's pages: "
                f"{kb(flows[mode]['provider_bytes'])} KB; "
                f"then the attestation PDF: {kb(flows[mode]['attestation_bytes'])} KB"
            )
        results["flows"] = flows

        # 2. Time on slow networks, against the floor (round trips x latency).
        if not args.skip_network:
            timing = []
            for net_name, network in NETWORKS.items():
                for mode, javascript in (("js", True), ("nojs", False)):
                    server = Server(sqlite_url(folder, f"net-{net_name}-{mode}.sqlite3"), 2)
                    try:
                        steps = drive_flow(browser, server.base, javascript, network)
                    finally:
                        server.stop()
                    summary = summarise(steps)
                    floor = summary["transitions"] * network["latency"] / 1000
                    timing.append(
                        {
                            "network": net_name,
                            "javascript": javascript,
                            "seconds": summary["seconds"],
                            "round_trips": summary["transitions"],
                            "floor_seconds": round(floor, 1),
                            "ratio": round(summary["seconds"] / floor, 2) if floor else None,
                        }
                    )
            results["network"] = timing
            print("\nWhole flow under emulated networks (floor = round trips x latency)")
            print(
                table(
                    ["network", "JS", "seconds", "round trips", "floor s", "ratio"],
                    [
                        [
                            t["network"],
                            "on" if t["javascript"] else "off",
                            t["seconds"],
                            t["round_trips"],
                            t["floor_seconds"],
                            t["ratio"],
                        ]
                        for t in timing
                    ],
                )
            )
        browser.close()

    # 2b. Connexion and Choix beside the same step in GOV.UK Frontend and the DSFR, on 3G.
    if not args.skip_peers:
        from .bench_peers import measure as measure_peers

        results["peers"] = measure_peers(folder)

    # 3. Server load.
    if not args.skip_load:
        load = []
        for backend in ("sqlite", "postgresql"):
            for workers in [int(w) for w in args.workers.split(",")]:
                name = f"cmi_bench_{workers}"
                url = (
                    sqlite_url(folder, f"load-{workers}.sqlite3")
                    if backend == "sqlite"
                    else postgres_url(name)
                )
                if url is None:
                    print(f"\n{backend}: not reachable, skipped")
                    break
                accounts = create_load_accounts(url, args.flows)
                server = Server(url, workers)
                try:
                    pages = load_pages(server, args.users, args.seconds)
                    flows_load = load_flows(server, accounts, max(2, args.users // 2))
                finally:
                    server.stop()
                load.append(
                    {"backend": backend, "workers": workers, "pages": pages, "flows": flows_load}
                )
        results["load"] = load
        print(
            f"\nServer load: {args.users} concurrent users per page for {args.seconds:g} s; "
            f"{args.flows} whole flows by {max(2, args.users // 2)} concurrent users "
            "(client and server share this machine's cores)"
        )
        rows = []
        for run in load:
            for page, figures in run["pages"].items():
                rows.append(
                    [
                        run["backend"],
                        run["workers"],
                        page,
                        figures["requests_per_second"],
                        figures["p50_ms"],
                        figures["p95_ms"],
                        figures["p99_ms"],
                        figures["errors"],
                    ]
                )
            f = run["flows"]
            rows.append(
                [
                    run["backend"],
                    run["workers"],
                    f"whole flow ({f['flows_completed']} ok, {f['flows_failed']} failed)",
                    f["requests_per_second"],
                    f["request_latency"]["p50_ms"],
                    f["request_latency"]["p95_ms"],
                    f["request_latency"]["p99_ms"],
                    f["errors"],
                ]
            )
        print(
            table(
                ["database", "workers", "page", "req/s", "p50 ms", "p95 ms", "p99 ms", "errors"],
                rows,
            )
        )

    # 4. Each page's cost against the stack's floor, and its queries.
    floor_ok = None
    if not args.skip_floor:
        from .bench_server import measure, print_report

        results["server_floor"] = measure(folder, args.users, seconds=2)
        floor_ok = print_report(results["server_floor"])

    # 5. Budgets.
    rows = budgets(results["flows"])
    if floor_ok is not None:
        pages = results["server_floor"]["pages"]
        worst = min(pages, key=lambda name: pages[name]["ratio"])
        rows.append(
            (
                "every page >= 0.8 x the floor's requests/s",
                f"lowest {pages[worst]['ratio']} x ({worst})",
                verdict(floor_ok),
            )
        )
    if "network" in results:
        js3g = next(t for t in results["network"] if t["network"] == "3G" and t["javascript"])
        rows.append(
            (
                "flow time on 3G, JS on <= 1.3 x floor",
                f"{js3g['ratio']} x ({js3g['seconds']} s / {js3g['floor_seconds']} s)",
                verdict(
                    js3g["ratio"] is not None and js3g["ratio"] <= BUDGETS["time_ratio_3g_js_max"]
                ),
            )
        )
    if "peers" in results:
        fcp = {
            name: results["peers"]["pages"][key]["fcp_s"]
            for name, key in (("Connexion", "connexion"), ("Choix", "choix"))
        }
        rows.append(
            (
                "FCP on 3G <= 2.5 s, Connexion and Choix",
                ", ".join(f"{name} {seconds} s" for name, seconds in fcp.items()),
                verdict(all(s <= BUDGETS["fcp_3g_max_s"] for s in fcp.values())),
            )
        )
    results["verdicts"] = [{"budget": b, "measured": m, "verdict": v} for b, m, v in rows]
    print("\nBudgets")
    print(table(["budget", "measured", "verdict"], [list(r) for r in rows]))

    out = ROOT / "bench-results"
    out.mkdir(exist_ok=True)
    path = out / f"bench-{datetime.now():%Y%m%d-%H%M%S}.json"
    path.write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"\nFigures written to {path}")
    shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
