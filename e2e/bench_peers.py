"""Our « Connexion » and « Choix de la demande » beside the step in GOV.UK Frontend and the DSFR.

The two peers are the design systems our users meet elsewhere: GOV.UK Frontend
and the Système de design de l'État (DSFR), each at a pinned version fetched
with ``npm pack`` (its tarball checked against the registry's sha512) into a
temporary folder. ``e2e/peers/*.html`` is the « Choix de la demande » step
written in each system's documented markup; the site around it holds only what
that page needs, laid out as each package's own guide says, and is served by a
small static server set up as a usual nginx would be (keep-alive, gzip, ETag,
one hour of caching for everything but the HTML).

Each page is loaded in Debian's Chromium, 375 px wide, in French, as a first
visit (fresh context, HTTP cache disabled) under the « 3G » profile (2 s
latency, 50 kB/s, through the DevTools protocol); the median of 3 runs of each
figure is kept: bytes on the wire (headers included), requests, the load
event and the first contentful paint. Our « Choix » is read signed in as
alfred.depot, after « Engagement », with the cookie that says the browser kept
our stylesheet cleared (a first visit gets the stylesheet in the page).

``python -m e2e.bench_peers`` runs it alone; ``e2e/bench.py`` runs it as one of
its sections (``--skip-peers`` leaves it out).
"""

from __future__ import annotations

import argparse
import base64
import email.utils
import gzip
import hashlib
import http.server
import json
import mimetypes
import os
import re
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import urllib.parse
from datetime import datetime
from pathlib import Path

from .bench import KB, NETWORKS, ROOT, Recorder, Server, kb, sqlite_url, table

PAGES = Path(__file__).resolve().parent / "peers"
# Pinned so that two runs compare: the npm spec and its tarball's sha512, as the registry
# publishes it (`npm view SPEC dist.integrity`).
PACKAGES = {
    "govuk": (
        "govuk-frontend@6.6.0",
        "sha512-xctkWrQvLnvQt7fyjQ3MGX9S0wz0x0RQuLxCeoXF+s8EjGICG81/DYQGKN5qgO+0KVT12UAaRwUsGY6fulRcRg==",
    ),
    "dsfr": (
        "@gouvfr/dsfr@1.15.3",
        "sha512-R9AALZc1LfZjtytWZMOaUIOHWTkllBZ/sZlsL8TpKZVgF3qUKXt/uNYh+L1D1Fh4p92ZqWxbtNcebsigBZe5pQ==",
    ),
}
NETWORK = "3G"
WIDTH, HEIGHT = 375, 800
RUNS = 3
PAGE_TIMEOUT_MS = 180_000


# -- the peer sites -----------------------------------------------------------------------


def npm() -> str:
    """npm, installed from Debian's packages when missing (as the Makefile does for axe)."""
    found = shutil.which("npm")
    if found is None and shutil.which("apt-get") and os.geteuid() == 0:
        quiet = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=quiet)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "npm"],
            check=True,
            env=quiet,
        )
        found = shutil.which("npm")
    if found is None:
        raise RuntimeError("npm is needed to fetch the peers' packages: apt-get install npm")
    return found


def fetch_package(spec: str, integrity: str, folder: Path) -> Path:
    """``npm pack SPEC`` into folder, checked, unpacked: the package's own folder."""
    folder.mkdir(parents=True, exist_ok=True)
    packed = subprocess.run(
        [npm(), "pack", "--json", "--silent", spec],
        cwd=folder,
        capture_output=True,
        text=True,
        check=True,
    )
    tarball = folder / json.loads(packed.stdout)[0]["filename"]
    found = "sha512-" + base64.b64encode(hashlib.sha512(tarball.read_bytes()).digest()).decode()
    if found != integrity:
        raise RuntimeError(f"{spec}: the tarball's {found} is not the pinned {integrity}")
    target = folder / tarball.name.removesuffix(".tgz")
    with tarfile.open(tarball) as archive:
        # Only plain files inside the target (the filter exists from Python 3.11.4 on).
        safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
        archive.extractall(target, **safe)  # noqa: S202
    return target / "package"


def page_text(name: str, splice=None) -> str:
    """One of e2e/peers/*.html as served: its comments (notes for us) left out."""
    text = (PAGES / name).read_text(encoding="utf-8")
    if splice is not None:
        text = splice(text)
    return re.sub(r"\s*<!--.*?-->", "", text, flags=re.S)


def build_govuk(package: Path, site: Path) -> None:
    """GOV.UK Frontend as its « install from the dist folder » guide lays it out:
    /assets (fonts, images, manifest: the stylesheet asks for /assets/...),
    /stylesheets and /javascripts, with the minified bundles only."""
    dist = package / "dist" / "govuk"
    shutil.copytree(dist / "assets", site / "assets")
    for folder, name in (
        ("stylesheets", "govuk-frontend.min.css"),
        ("javascripts", "govuk-frontend.min.js"),
    ):
        (site / folder).mkdir(parents=True, exist_ok=True)
        shutil.copy(dist / name, site / folder / name)

    def package_svg(match: re.Match) -> str:
        # The logotype and crown, exactly as the package renders its own examples.
        example = (dist / match.group(1)).read_text(encoding="utf-8")
        svg = re.search(r"<svg\b.*?</svg>", example, re.S)
        if svg is None:
            raise RuntimeError(f"no <svg> in {match.group(1)} of GOV.UK Frontend")
        return svg.group(0)

    splice = lambda text: re.sub(r"<!-- package-svg (\S+) -->", package_svg, text)  # noqa: E731
    (site / "index.html").write_text(page_text("govuk.html", splice), encoding="utf-8")


def build_dsfr(package: Path, site: Path) -> None:
    """The DSFR as its README says to use it: the full bundle (dsfr.min.css, then
    dsfr.module.min.js and dsfr.nomodule.min.js), which is what most services ship,
    rather than core + scheme + each component's files one by one. The stylesheet
    finds fonts/ and icons/ beside it; favicon/ is what the page's head links."""
    dist = package / "dist"
    target = site / "dsfr"
    target.mkdir(parents=True, exist_ok=True)
    for name in ("dsfr.min.css", "dsfr.module.min.js", "dsfr.nomodule.min.js"):
        shutil.copy(dist / name, target / name)
    for folder in ("fonts", "icons", "favicon"):
        shutil.copytree(dist / folder, target / folder)
    (site / "index.html").write_text(page_text("dsfr.html"), encoding="utf-8")


def build_sites(folder: Path) -> dict[str, Path]:
    """Both peer sites under folder: {"govuk": root, "dsfr": root}."""
    packages = folder / "packages"
    sites = {name: folder / "sites" / name for name in PACKAGES}
    build_govuk(fetch_package(*PACKAGES["govuk"], packages), sites["govuk"])
    build_dsfr(fetch_package(*PACKAGES["dsfr"], packages), sites["dsfr"])
    return sites


# -- a static server, as a usual nginx set-up serves a folder ------------------------------

COMPRESSED = {".html", ".css", ".js", ".mjs", ".json", ".svg", ".webmanifest", ".txt"}
mimetypes.add_type("font/woff2", ".woff2")
mimetypes.add_type("font/woff", ".woff")
mimetypes.add_type("application/manifest+json", ".webmanifest")
mimetypes.add_type("text/javascript", ".js")


class StaticHandler(http.server.BaseHTTPRequestHandler):
    """HTTP/1.1 with keep-alive; gzip (level 6) for text types when the browser accepts it,
    compressed once per file; an ETag and Last-Modified from the file's time and size, 304
    when they match; ``no-cache`` (always revalidated) for HTML, an hour for the rest."""

    protocol_version = "HTTP/1.1"
    root: Path
    compressed: dict

    def version_string(self) -> str:
        return "nginx"

    def do_GET(self) -> None:
        self.answer(with_body=True)

    def do_HEAD(self) -> None:
        self.answer(with_body=False)

    def log_message(self, *args) -> None:
        pass

    def file(self) -> Path | None:
        relative = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path).lstrip("/")
        path = (self.root / relative).resolve()
        if path.is_dir():
            path = path / "index.html"
        return path if path.is_relative_to(self.root) and path.is_file() else None

    def answer(self, with_body: bool) -> None:
        path = self.file()
        if path is None:
            self.reply(404, b"Not Found\n", {"Content-Type": "text/plain"}, with_body)
            return
        stat = path.stat()
        suffix = path.suffix.lower()
        mimetype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        if suffix in COMPRESSED and mimetype != "image/svg+xml":
            mimetype += "; charset=utf-8"
        etag = f'"{int(stat.st_mtime):x}-{stat.st_size:x}"'
        headers = {
            "Content-Type": mimetype,
            "Last-Modified": email.utils.formatdate(stat.st_mtime, usegmt=True),
            "ETag": etag,
            "Cache-Control": "no-cache" if suffix == ".html" else "max-age=3600",
        }
        if suffix in COMPRESSED:
            headers["Vary"] = "Accept-Encoding"
        asked = self.headers.get("If-None-Match")
        if (asked is not None and etag in [t.strip() for t in asked.split(",")]) or (
            asked is None and self.headers.get("If-Modified-Since") == headers["Last-Modified"]
        ):
            self.reply(304, b"", headers, with_body=False)
            return
        body = path.read_bytes()
        if suffix in COMPRESSED and "gzip" in self.headers.get("Accept-Encoding", ""):
            key = (path, etag)
            if key not in self.compressed:
                self.compressed[key] = gzip.compress(body, 6, mtime=0)
            body = self.compressed[key]
            headers["Content-Encoding"] = "gzip"
        self.reply(200, body, headers, with_body)

    def reply(self, status: int, body: bytes, headers: dict, with_body: bool) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if status != 304:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if with_body:
            self.wfile.write(body)


class StaticSite:
    """A folder served on 127.0.0.1 (a port of its own: GOV.UK's CSS asks for /assets/...)."""

    def __init__(self, root: Path) -> None:
        handler = type("Handler", (StaticHandler,), {"root": root.resolve(), "compressed": {}})
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


# -- the browser ----------------------------------------------------------------------------

FIRST_PAINT = "performance.getEntriesByName('first-contentful-paint').length > 0"
TIMING = """() => {
  const navigation = performance.getEntriesByType('navigation')[0];
  const paint = performance.getEntriesByName('first-contentful-paint')[0];
  return {load: navigation.loadEventStart, fcp: paint.startTime};
}"""


def visit(browser, url: str, prepare=None) -> dict:
    """One first visit of url in a fresh context, throttled; prepare(context) runs before,
    unthrottled, on a page of its own (e.g. to sign in)."""
    context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT}, locale="fr-FR")
    context.set_default_timeout(60_000)
    try:
        if prepare is not None:
            prepare(context)
        page = context.new_page()
        recorder = Recorder(context, page)
        pending: set[str] = set()

        def sent(event) -> None:
            if not event["request"]["url"].startswith("data:"):
                pending.add(event["requestId"])

        recorder.cdp.on("Network.requestWillBeSent", sent)
        recorder.cdp.on("Network.loadingFinished", lambda e: pending.discard(e["requestId"]))
        recorder.cdp.on("Network.loadingFailed", lambda e: pending.discard(e["requestId"]))
        recorder.cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
        recorder.throttle(NETWORKS[NETWORK])
        page.goto(url, wait_until="load", timeout=PAGE_TIMEOUT_MS)
        page.wait_for_function(FIRST_PAINT, timeout=PAGE_TIMEOUT_MS)
        timing = page.evaluate(TIMING)
        # Late requests (fonts, an icon) count too: wait until none has run for 0.5 s.
        quiet_since, deadline = time.monotonic(), time.monotonic() + 60
        while time.monotonic() < deadline:
            if pending:
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since >= 0.5:
                break
            page.wait_for_timeout(100)
        requests = [r for r in recorder.take() if not r.url.startswith("data:")]
    finally:
        context.close()
    by_kind: dict[str, int] = {}
    for r in requests:
        by_kind[r.kind] = by_kind.get(r.kind, 0) + r.encoded
    return {
        "bytes": sum(r.encoded for r in requests),
        "requests": len(requests),
        "load_s": round(timing["load"] / 1000, 2),
        "fcp_s": round(timing["fcp"] / 1000, 2),
        "bytes_by_kind": by_kind,
        "urls": [
            {"url": urllib.parse.urlsplit(r.url).path, "status": r.status, "wire_bytes": r.encoded}
            for r in requests
        ],
    }


def signed_in_at_choice(base: str):
    """prepare(): alfred.depot signed in through the form, « Engagement » accepted, on
    « Choix »; then the cookie that says the stylesheet was kept is cleared."""
    from playwright.sync_api import expect

    def prepare(context) -> None:
        page = context.new_page()
        page.goto(f"{base}/connexion")
        page.get_by_label("Identifiant").fill("alfred.depot")
        page.get_by_label("Mot de passe").fill("Tilleuls-2026")
        page.get_by_role("button", name="Se connecter", exact=True).click()
        # « Mes données », or the step a request in progress had reached (an earlier run).
        page.wait_for_url(lambda url: "/connexion" not in url)
        page.goto(f"{base}/demande/engagement")
        page.get_by_label("J'accepte les Conditions Générales").check()
        page.get_by_role("button", name="Suivant", exact=True).click()
        heading = page.get_by_role("heading", level=1, name="Quelle demande voulez-vous faire")
        expect(heading).to_be_visible(timeout=30_000)
        page.close()
        context.clear_cookies(name="css")

    return prepare


# -- the run --------------------------------------------------------------------------------


def label(spec: str) -> str:
    name, version = spec.rsplit("@", 1)
    return {"govuk-frontend": "GOV.UK Frontend", "@gouvfr/dsfr": "DSFR"}[name] + f" {version}"


def measure(folder: Path | None = None, runs: int = RUNS) -> dict:
    """Builds and serves the peers, starts our server, measures the four pages, prints the
    table and returns the figures."""
    from playwright.sync_api import sync_playwright

    own_folder = folder is None
    folder = Path(tempfile.mkdtemp(prefix="cmi-peers-")) if folder is None else folder
    work = folder / "peers"
    chromium = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    sites = build_sites(work)
    static = {name: StaticSite(root) for name, root in sites.items()}
    server = Server(sqlite_url(folder, "peers.sqlite3"), workers=2)
    pages = {
        "connexion": ("Connexion (ours, anonymous)", f"{server.base}/connexion", None),
        "choix": (
            "Choix (ours, signed in)",
            f"{server.base}/demande/choix",
            signed_in_at_choice(server.base),
        ),
        "govuk": (f"Choix, {label(PACKAGES['govuk'][0])}", f"{static['govuk'].base}/", None),
        "dsfr": (f"Choix, {label(PACKAGES['dsfr'][0])}", f"{static['dsfr'].base}/", None),
    }
    measured: dict[str, list[dict]] = {key: [] for key in pages}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=chromium,
                args=[
                    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1 , EXCLUDE localhost"
                ],
            )
            try:
                # Run after run, each page in turn: a slow moment of the machine falls on all.
                for _ in range(runs):
                    for key, (_name, url, prepare) in pages.items():
                        measured[key].append(visit(browser, url, prepare))
            finally:
                browser.close()
    finally:
        server.stop()
        for site in static.values():
            site.stop()
        if own_folder:
            shutil.rmtree(folder, ignore_errors=True)
        else:
            shutil.rmtree(work, ignore_errors=True)

    median = lambda key, figure: statistics.median(run[figure] for run in measured[key])  # noqa: E731
    results = {
        "network": {"name": NETWORK, **NETWORKS[NETWORK]},
        "width": WIDTH,
        "runs": runs,
        "packages": {name: spec for name, (spec, _) in PACKAGES.items()},
        "pages": {
            key: {
                "label": name,
                "path": urllib.parse.urlsplit(url).path,
                "bytes": round(median(key, "bytes")),
                "requests": round(median(key, "requests")),
                "load_s": round(median(key, "load_s"), 2),
                "fcp_s": round(median(key, "fcp_s"), 2),
                "runs": measured[key],
            }
            for key, (name, url, _prepare) in pages.items()
        },
    }
    ratio = lambda a, b: round(a / b, 2) if b else None  # noqa: E731
    results["ratios"] = {
        ours: {
            peer: {
                figure: ratio(results["pages"][ours][figure], results["pages"][peer][figure])
                for figure in ("bytes", "load_s", "fcp_s")
            }
            for peer in PACKAGES
        }
        for ours in ("connexion", "choix")
    }
    print_report(results)
    return results


def print_report(results: dict) -> None:
    network = results["network"]
    print(
        f"\nOur pages beside « Choix de la demande » in {label(results['packages']['govuk'])} "
        f"and the {label(results['packages']['dsfr'])}: first visit (cache disabled), "
        f"{results['width']} px wide, {network['name']} ({network['latency'] / 1000:g} s latency, "
        f"{network['download'] / 1000:g} kB/s), median of {results['runs']} runs"
    )
    rows = []
    for key, page in results["pages"].items():
        ratios = results["ratios"].get(key)
        cells = ["-"] * 6
        if ratios:
            cells = [
                "-" if ratios[p][f] is None else f"{ratios[p][f]:.2f}"
                for p in ("govuk", "dsfr")
                for f in ("bytes", "load_s", "fcp_s")
            ]
        rows.append(
            [
                page["label"],
                kb(page["bytes"]),
                page["requests"],
                page["load_s"],
                page["fcp_s"],
                *cells,
            ]
        )
    print(
        table(
            [
                "page",
                "KB wire",
                "requests",
                "load s",
                "FCP s",
                "bytes/GOV.UK",
                "load/GOV.UK",
                "FCP/GOV.UK",
                "bytes/DSFR",
                "load/DSFR",
                "FCP/DSFR",
            ],
            rows,
        )
    )
    print(
        f"(KB = {KB} bytes on the wire, headers included; load = navigation start to the load "
        "event; ratios are ours / the peer's: below 1, ours is lighter or sooner)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=RUNS, help="runs of each page (median)")
    args = parser.parse_args(argv)
    results = {"date": datetime.now().isoformat(timespec="seconds"), **measure(runs=args.runs)}
    out = ROOT / "bench-results"
    out.mkdir(exist_ok=True)
    path = out / f"peers-{datetime.now():%Y%m%d-%H%M%S}.json"
    path.write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"\nFigures written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
