"""The regression suite must fail when a violation appears: shown on a throwaway app."""

from __future__ import annotations

import threading

import pytest
from flask import Flask
from playwright.sync_api import expect
from werkzeug.serving import make_server

from .a11y import Accessibility
from .conftest import VARIANTS, context_options
from .report import Report, render_html

PAGE = """<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8"><title>Essai - CMI</title></head>
<body><a href="#main">Aller au contenu</a><header><p>En-tête</p></header>
<main id="main" tabindex="-1"><h1>Essai</h1>
<form><p>{field}</p><button type="submit">Envoyer</button></form></main>
<footer><p>Pied de page</p></footer></body></html>"""

LABELLED = '<label for="nom">Nom</label><input id="nom" name="nom">'
UNLABELLED = '<input id="nom" name="nom">'


class Recorder:
    """Stands in for pytest's subtests: keeps each check's failure instead of reporting it."""

    def __init__(self):
        self.failures: dict[str, str] = {}

    def test(self, msg):
        recorder = self

        class Context:
            def __enter__(self):
                return self

            def __exit__(self, kind, error, _traceback):
                if error is not None:
                    recorder.failures[msg] = str(error)
                return True

        return Context()


@pytest.fixture(scope="module")
def throwaway_app():
    app = Flask("throwaway")
    app.add_url_rule("/avec-etiquette", "ok", lambda: PAGE.format(field=LABELLED))
    app.add_url_rule("/sans-etiquette", "broken", lambda: PAGE.format(field=UNLABELLED))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.mark.parametrize("variant", [VARIANTS[0], VARIANTS[1]], ids=lambda v: v.name)
def test_a_missing_label_fails_the_axe_check(browser, throwaway_app, tmp_path, variant):
    context = browser.new_context(**context_options(variant))
    page = context.new_page()
    results = {}
    for path in ("/avec-etiquette", "/sans-etiquette"):
        recorder = Recorder()
        checker = Accessibility(browser, variant, recorder, Report(tmp_path, "essai"))
        page.goto(throwaway_app + path)
        checker.check(page, f"Essai {path}")
        results[path] = recorder.failures
    context.close()
    assert not any("axe" in name for name in results["/avec-etiquette"]), results
    broken = [message for name, message in results["/sans-etiquette"].items() if "axe" in name]
    assert broken and "label" in broken[0], results


def test_the_report_page_is_accessible(browser, tmp_path):
    record = {
        "state": "Connexion : vide",
        "variant": "desktop-js",
        "path": "connexion",
        "title": "Connexion - CMI",
        "screenshot": "screenshots/connexion-vide--desktop-js.png",
        "checks": {
            "axe": {"outcome": "passed", "rules_passed": 30, "incomplete": []},
            "reflow 320 px": {"outcome": "failed", "message": "scrolls 12 px"},
        },
    }
    summary = {
        "generated": "2026-11-22T10:00:00+00:00",
        "states": 1,
        "state_visits": 1,
        "checks": 2,
        "passed": 1,
        "failed": 1,
        "rgaa_criteria": ["11.1.1"],
        "records": [record],
    }
    (tmp_path / "index.html").write_text(render_html(summary), encoding="utf-8")
    context = browser.new_context()
    page = context.new_page()
    page.goto((tmp_path / "index.html").as_uri())
    expect(page.get_by_role("heading", level=1)).to_have_text("Rapport d'accessibilité")
    recorder = Recorder()
    checker = Accessibility(browser, VARIANTS[0], recorder, Report(tmp_path, "rapport"))
    results = checker.axe(page)
    context.close()
    assert results["passes"], "axe evaluated nothing"
    assert results["violations"] == [], [v["id"] for v in results["violations"]]
