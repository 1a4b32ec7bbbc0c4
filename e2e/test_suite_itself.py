"""The regression suite must fail when a violation appears: shown on a throwaway app.

The report's own tests (French names, diffs, criteria) need no browser.
"""

from __future__ import annotations

import ast
import json
import os
import threading
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import expect
from werkzeug.serving import make_server

from . import a11y, criteria, html_check
from .a11y import Accessibility
from .conftest import VARIANTS, context_options
from .report import Report, merge, render_html

PAGE = """<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8"><title>Essai - CMI</title></head>
<body><a href="#main">Aller au contenu</a><header><p>En-tête</p></header>
<main id="main" tabindex="-1"><h1>Essai</h1>
<form><p>{field}</p><button type="submit">Envoyer</button></form></main>
<footer><p>Pied de page</p></footer></body></html>"""

LABELLED = '<label for="nom">Nom</label><input id="nom" name="nom">'
UNLABELLED = '<input id="nom" name="nom">'
# Valid, but for what the checker does not know yet: CSS container queries.
CONTAINERS = PAGE.format(field=LABELLED).replace(
    "</head>",
    "<style>form { container-type: inline-size; }"
    " @container (max-width: 40rem) { form p { margin: 0; } }</style></head>",
)
# An attribute HTML does not have (htmx reads « data-hx-get » too), and a stray end tag
# that only the served bytes show (the browser's parser mends it in the document).
INVALID = '<label for="nom">Nom</label><input id="nom" name="nom" hx-get="/nom"></p>'


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
    app.add_url_rule("/conteneurs", "containers", lambda: CONTAINERS)
    app.add_url_rule("/invalide", "invalid", lambda: PAGE.format(field=INVALID))
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


@pytest.mark.parametrize("variant", [VARIANTS[0], VARIANTS[1]], ids=lambda v: v.name)
def test_invalid_html_fails_its_check_and_container_queries_are_listed_apart(
    browser, throwaway_app, tmp_path, monkeypatch, variant
):
    why = html_check.missing()
    if why:
        if os.environ.get("CI"):
            pytest.fail(why + "; under CI a missing checker fails the run", pytrace=False)
        pytest.skip(why)
    # Only the HTML is checked here: the other checks pass unseen.
    for key, method in checks_run_by_a11y().items():
        if key != "valid HTML":
            monkeypatch.setattr(Accessibility, method, lambda *_args: {})
    context = browser.new_context(**context_options(variant))
    page = html_check.watch(context.new_page())
    recorder = Recorder()
    report = Report(tmp_path, "essai")
    checker = Accessibility(browser, variant, recorder, report)
    for path in ("/conteneurs", "/invalide"):
        page.goto(throwaway_app + path)
        checker.check(page, f"Essai {path}")
    context.close()
    # Held for the batch: nothing written, nothing failed yet.
    assert not report.records.exists() and recorder.failures == {}
    checker.check_html()
    records = {
        r["state"]: r["checks"]["valid HTML"]
        for r in map(json.loads, report.records.read_text().splitlines())
    }
    containers, invalid = records["Essai /conteneurs"], records["Essai /invalide"]
    source = "dom" if variant.javascript else "served"
    assert containers["source"] == invalid["source"] == source
    # The container queries: listed apart, not failed.
    assert containers["outcome"] == "passed", containers
    assert [item["message"] for item in containers["container_queries"]] == [
        "CSS: “container-type”: Property “container-type” doesn't exist.",
        "CSS: Unrecognized at-rule “@container”",
    ]
    assert containers["batch_states"] == 2 and containers["batch_seconds"] > 0
    # The invalid document: a failed check, named by its state, that says what is wrong.
    assert invalid["outcome"] == "failed"
    assert list(recorder.failures) == [f"Essai /invalide [{variant.name}] valid HTML"]
    message = recorder.failures[f"Essai /invalide [{variant.name}] valid HTML"]
    assert "Attribute “hx-get” not allowed on element “input”" in message
    assert ("“p” end tag" in message) is not variant.javascript, message
    assert all(item["line"] and item["extract"] for item in invalid["errors"])
    assert invalid["container_queries"] == []
    # The report shows the errors, and the checker's time.
    summary = merge(tmp_path)
    assert summary["html_checker"]["batches"] == 1
    assert summary["html_checker"]["seconds"] == invalid["batch_seconds"]
    page_text = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert "<li>HTML valide (Nu HTML Checker) : <strong>échec</strong>" in page_text
    assert "requêtes de conteneur CSS" in page_text


def test_only_container_queries_are_set_apart():
    def message(text, extract="", start=0, length=0):
        return {"message": text, "extract": extract, "hiliteStart": start, "hiliteLength": length}

    apart = html_check.is_container_query
    assert apart(message("CSS: “container-name”: Property “container-name” doesn't exist."))
    assert apart(message("CSS: “width”: Unknown dimension.", ".c{width:5cqi} .d", 9, 4))
    # Other CSS, and other unknown units, are errors like the others.
    assert not apart(message("CSS: “colr”: Property “colr” doesn't exist."))
    assert not apart(message("CSS: “width”: Unknown dimension.", ".c{width:5qqq} .d", 9, 4))
    assert not apart(message("CSS: Unrecognized at-rule “@contenair”"))
    assert not apart(message("Attribute “container-type” not allowed on element “div”."))


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
            "ARIA snapshot": {
                "outcome": "failed",
                "message": "what a screen reader hears changed (connexion-vide.js.yml)",
                "snapshot": "connexion-vide.js.yml",
                "diff": '--- committed\n+++ now\n@@ -1 +1 @@\n-- heading "A"\n+- heading "B"',
            },
        },
    }
    summary = {
        "generated": "2026-11-22T10:00:00+00:00",
        "states": 1,
        "state_visits": 1,
        "checks": 3,
        "passed": 1,
        "failed": 2,
        "rgaa_criteria": ["11.1.1"],
        "records": [record],
    }
    (tmp_path / "index.html").write_text(render_html(summary), encoding="utf-8")
    context = browser.new_context()
    page = context.new_page()
    page.goto((tmp_path / "index.html").as_uri())
    expect(page.get_by_role("heading", level=1)).to_have_text("Rapport d'accessibilité")
    page.locator("summary").first.click()  # the diff shown, as its reader would open it
    expect(page.locator("details pre").first).to_be_visible()
    recorder = Recorder()
    checker = Accessibility(browser, VARIANTS[0], recorder, Report(tmp_path, "rapport"))
    results = checker.axe(page)
    # On a phone the wide tables scroll in their own regions, never the page.
    for width in (375, 320):
        page.set_viewport_size({"width": width, "height": 800})
        overflow = page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"the report scrolls {overflow} px sideways at {width} px"
    regions = page.get_by_role("region")
    assert regions.count() == 4
    expect(page.get_by_role("region", name="États vérifiés, par variante")).to_be_visible()
    context.close()
    assert results["passes"], "axe evaluated nothing"
    assert results["violations"] == [], [v["id"] for v in results["violations"]]


# -- the report's words and criteria, without a browser ------------------------------------


def checks_run_by_a11y() -> dict[str, str]:
    """Each check Accessibility.check records, by its key: the method that runs it."""
    tree = ast.parse(Path(a11y.__file__).read_text(encoding="utf-8"))
    check = next(
        node
        for cls in tree.body
        if isinstance(cls, ast.ClassDef) and cls.name == "Accessibility"
        for node in cls.body
        if isinstance(node, ast.FunctionDef) and node.name == "check"
    )
    found = {}
    for node in ast.walk(check):
        if (
            isinstance(node, ast.Tuple)
            and len(node.elts) == 2
            and isinstance(node.elts[0], ast.Constant)
            and isinstance(node.elts[0].value, str)
            and isinstance(node.elts[1], ast.Attribute)
            and isinstance(node.elts[1].value, ast.Name)
            and node.elts[1].value.id == "self"
        ):
            found[node.elts[0].value] = node.elts[1].attr
    return found


def test_every_check_has_a_french_name_and_its_criteria():
    checks = checks_run_by_a11y()
    assert len(checks) >= 9 and "axe" in checks and "spoken transcript" in checks, checks
    # A new check needs its entry, a renamed one its entry renamed.
    assert set(criteria.CHECKS) == set(checks), set(criteria.CHECKS) ^ set(checks)
    for key, entry in criteria.CHECKS.items():
        assert entry.label and entry.label != key and criteria.label(key) == entry.label
        assert entry.scope, key
        assert set(entry.rgaa) <= criteria.RGAA.keys(), (key, entry.rgaa)
        assert set(entry.wcag) <= criteria.WCAG.keys(), (key, entry.wcag)
    assert set(criteria.SNAPSHOT_CHECKS) <= set(checks)
    assert criteria.label("a check nobody named") == "a check nobody named"


def test_the_criteria_lists_are_whole():
    assert len(criteria.RGAA) == 106
    themes = {number.split(".")[0] for number in criteria.RGAA}
    assert themes == {str(theme) for theme in range(1, 14)}
    assert len(criteria.WCAG) == 55
    levels = [level for _name, level in criteria.WCAG.values()]
    assert levels.count("A") == 31 and levels.count("AA") == 24
    assert "4.1.1" not in criteria.WCAG  # obsolete in WCAG 2.2
    for number, (title, wcag) in criteria.RGAA.items():
        assert title and set(wcag) <= criteria.WCAG.keys(), number
    for test, wcag in criteria.AXE_TEST_WCAG.items():
        assert ".".join(test.split(".")[:2]) in criteria.RGAA, test
        assert set(wcag) <= criteria.WCAG.keys(), test


def test_the_manual_checklist_is_read_from_its_rgaa_column():
    manual = criteria.manual_checklist()
    assert manual.rgaa["10.11"] == [14]
    assert manual.rgaa["7.1"] == [1, 4, 11]
    assert manual.rgaa["11.12"] == [4, 5, 21]  # « 11.12 (sans JS) »
    assert manual.rgaa["11.2"] == [12, 13]  # « 11.2 (2.5.3) »
    assert manual.wcag == {"2.5.3": [12]}
    assert "2.5" not in manual.rgaa  # the bracket is WCAG, not RGAA
    assert set(manual.rgaa) <= criteria.RGAA.keys()


def record(state, variant, checks):
    return {
        "state": state,
        "variant": variant,
        "path": "essai",
        "title": "Essai - CMI",
        "screenshot": f"screenshots/essai--{variant}.png",
        "checks": checks,
    }


PASSED = {"outcome": "passed"}
FAILED = {"outcome": "failed", "message": "raté"}
HAND_MADE = [
    record(
        "Essai",
        "desktop-js",
        {
            "axe": {**PASSED, "rules_passed": 3, "rgaa_criteria": ["3.2.1", "8.3.1", "11.1.1"]},
            "reflow 320 px": PASSED,
            "status region": FAILED,
        },
    ),
    record(
        "Essai",
        "phone-js",
        {"axe": {**PASSED, "rgaa_criteria": ["8.3.1"]}, "structure": FAILED},
    ),
    # A failed axe run records no criteria; wording covers none; an unknown check neither.
    record("Autre", "desktop-js", {"axe": FAILED, "wording": PASSED, "nouvelle": PASSED}),
    # axe's own WCAG tags, when recorded, win over the table.
    record(
        "Autre",
        "phone-js",
        {"axe": {**PASSED, "rgaa_criteria": ["12.7.1"], "wcag_criteria": ["wcag258"]}},
    ),
]
HAND_MANUAL = criteria.Manual(rgaa={"10.11": [14], "13.1": [8], "3.2": [2]}, wcag={"2.5.3": [12]})


def test_the_criteria_totals_on_hand_made_records():
    cover = criteria.coverage(HAND_MADE, HAND_MANUAL)
    rgaa = {row["number"]: row for row in cover["rgaa"]}
    wcag = {row["number"]: row for row in cover["wcag"]}
    structure = {"8.3", "8.4", "8.5", "8.6", "9.1", "9.2", "11.10", "12.7"}
    automatic = {"3.2", "7.5", "10.11", "11.1"} | structure
    assert {n for n, row in rgaa.items() if row["status"] == "automatic"} == automatic
    assert {n for n, row in rgaa.items() if row["status"] == "manual"} == {"13.1"}
    assert cover["totals"]["rgaa"] == {
        "criteria": 106,
        "automatic": 12,
        "manual": 3,
        "manual_only": 1,
        "automatic_and_manual": 2,
        "not_covered": 93,
    }
    # 8.3: axe on both visits, structure (failed) on the phone's.
    assert rgaa["8.3"]["checks"] == {"axe": 2, "structure": 1}
    assert (rgaa["8.3"]["visits"], rgaa["8.3"]["failed_visits"]) == (2, 1)
    assert (rgaa["7.5"]["visits"], rgaa["7.5"]["failed_visits"]) == (1, 1)
    assert rgaa["12.7"]["checks"] == {"axe": 1, "structure": 1}
    assert rgaa["12.7"]["visits"] == 2
    assert rgaa["10.11"]["manual_items"] == ["14"]
    assert rgaa["1.1"]["status"] == "not covered" and rgaa["1.1"]["visits"] == 0

    auto_wcag = {"1.4.3", "3.1.1", "4.1.2", "1.4.10", "4.1.3", "1.3.1", "2.4.1", "2.4.2"}
    auto_wcag |= {"3.3.1", "2.5.8"}
    assert {n for n, row in wcag.items() if row["status"] == "automatic"} == auto_wcag
    assert {n for n, row in wcag.items() if row["status"] == "manual"} == {
        "2.5.3",
        "2.2.1",
        "2.2.2",
    }
    assert cover["totals"]["wcag"] == {
        "criteria": 55,
        "automatic": 10,
        "manual": 5,
        "manual_only": 3,
        "automatic_and_manual": 2,
        "not_covered": 42,
    }
    assert wcag["1.4.10"]["manual_items"] == ["14 (RGAA 10.11)"]
    assert wcag["2.5.3"]["manual_items"] == ["12"]
    assert wcag["3.1.1"]["checks"] == {"axe": 2, "structure": 1}

    assert criteria.record_criteria(HAND_MADE[0]) == (
        ["3.2", "7.5", "8.3", "10.11", "11.1"],
        ["1.4.3", "1.4.10", "3.1.1", "4.1.2", "4.1.3"],
    )
    assert criteria.record_criteria(HAND_MADE[2]) == ([], [])


def summary_of(records):
    return {
        "generated": "2026-11-22T10:00:00+00:00",
        "states": len({r["state"] for r in records}),
        "state_visits": len(records),
        "checks": 0,
        "passed": 0,
        "failed": 0,
        "rgaa_criteria": [],
        "coverage": criteria.coverage(records, HAND_MANUAL),
        "records": records,
    }


def test_the_report_names_checks_and_criteria_in_french():
    page = render_html(summary_of(HAND_MADE))
    assert '<html lang="fr">' in page
    assert "<li>Règles automatiques axe-core (WCAG 2.2 AA, RGAA 4.1) : <strong>réussi" in page
    assert "<li>Pas de défilement horizontal à 320 px : <strong>réussi" in page
    assert "<li>Région de statut (seulement le message attendu) : <strong>échec" in page
    assert "<li>nouvelle : <strong>réussi" in page  # an unknown check keeps its key
    assert "<li>reflow 320 px" not in page
    assert (
        "12 vérifiés automatiquement, 1 seulement dans la liste manuelle, 93 non couverts, "
        "sur 106 (3 dans la liste manuelle, dont 2 aussi vérifiés automatiquement)"
    ) in page
    wcag = "10 vérifiés automatiquement, 3 seulement dans la liste manuelle, 42 non couverts"
    assert wcag in page
    # Each state row says what its checks covered.
    assert "<p>RGAA : 3.2, 7.5, 8.3, 10.11, 11.1</p><p>WCAG : 1.4.3, 1.4.10, 3.1.1" in page
    # Each criterion, and which checks covered it.
    assert '<th scope="row">8.3</th><td>Langue par défaut présente</td>' in page
    assert "<li>Règles automatiques axe-core (WCAG 2.2 AA, RGAA 4.1) : 2 visites</li>" in page
    assert '<th scope="row">2.5.8</th><td>Target Size (Minimum) (AA)</td>' in page
    for caption in ("États vérifiés", "Critères RGAA 4.1", "Critères de succès WCAG 2.2"):
        assert f"<caption>{caption}" in page
    assert page.count("<h2>") == 4


LONG_DIFF = "\n".join(
    ["--- committed", "+++ now", "@@ -1,40 +1,40 @@"]
    + [f'-- paragraph: "Ligne {n} <ancienne> & cie"' for n in range(40)]
    + [f'+- paragraph: "Ligne {n} <nouvelle> & cie"' for n in range(40)]
)


def test_a_failed_snapshot_shows_its_whole_diff():
    records = [
        record(
            "Essai",
            "desktop-js",
            {
                "ARIA snapshot": {
                    "outcome": "failed",
                    "message": "what a screen reader hears changed (essai.js.yml); if intended"
                    "\n" + LONG_DIFF[:1900],
                    "snapshot": "essai.js.yml",
                    "diff": LONG_DIFF,
                },
                "spoken transcript": {"outcome": "failed", "message": "x", "diff": "-a\n+b"},
            },
        )
    ]
    page = render_html(summary_of(records))
    assert len(LONG_DIFF) > 2000
    escaped = LONG_DIFF.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    escaped = escaped.replace('"', "&quot;")
    assert f"<pre>{escaped}</pre></details>" in page
    assert "<details><summary>Arbre d&#x27;accessibilité (instantané ARIA) : différences" in page
    assert "la version relue essai.js.yml" in page
    assert "<details><summary>Transcription orale (lecteur d&#x27;écran virtuel) : " in page
    assert "<pre>-a\n+b</pre>" in page
    assert "<nouvelle>" not in page  # escaped
    # The message shows its first line only: the diff is not shown twice.
    assert page.count("Ligne 39 &lt;nouvelle&gt;") == 1


class FakePage:
    """Enough of a page for Accessibility.check to run its ARIA snapshot."""

    url = "http://127.0.0.1/essai?x=1"
    viewport_size: dict = {"width": 1280, "height": 800}  # noqa: RUF012

    def __init__(self, snapshot):
        self.snapshot = snapshot

    def title(self):
        return "Essai - CMI"

    def wait_for_load_state(self, _state):
        pass

    def wait_for_function(self, _script):
        pass

    def evaluate(self, _script):
        return None

    def locator(self, selector):
        assert selector == "main"
        snapshot = self.snapshot

        class Main:
            def aria_snapshot(self):
                return snapshot

        return Main()

    def screenshot(self, **_options):
        pass


def test_a_failed_snapshot_keeps_its_whole_diff_in_the_record(tmp_path, monkeypatch):
    committed = [f'- paragraph: "Ligne {n}"' for n in range(200)]
    now = [line.replace("Ligne", "Phrase") for line in committed]
    monkeypatch.setattr(a11y, "SNAPSHOTS", tmp_path / "snapshots")
    monkeypatch.setattr(a11y, "UPDATE_SNAPSHOTS", False)
    (tmp_path / "snapshots").mkdir()
    (tmp_path / "snapshots" / "essai.js.yml").write_text("\n".join(committed) + "\n")
    # Every other check passes unseen: only the snapshot comparison runs.
    for key, method in checks_run_by_a11y().items():
        if key != "ARIA snapshot":
            monkeypatch.setattr(Accessibility, method, lambda *_args: {})
    recorder = Recorder()
    report = Report(tmp_path / "run", "essai")
    checker = Accessibility(None, VARIANTS[0], recorder, report)
    checker.check(FakePage("\n".join(now)), "Essai")
    checker.check(FakePage("\n".join(now)), "Nouvel état")  # no committed snapshot
    records = [json.loads(line) for line in report.records.read_text().splitlines()]
    changed, new = (r["checks"]["ARIA snapshot"] for r in records)
    assert changed["outcome"] == "failed" and len(changed["message"]) == 2000
    assert changed["diff"] == a11y._diff("\n".join(committed), "\n".join(now))
    assert changed["diff"].count("Phrase") == 200 and changed["snapshot"] == "essai.js.yml"
    assert new["outcome"] == "failed" and new["diff"].count("\n+- paragraph") == 200
    assert list(recorder.failures) == [
        "Essai [desktop-js] ARIA snapshot",
        "Nouvel état [desktop-js] ARIA snapshot",
    ]
    # Merged into the report: the page shows the diff whole.
    summary = merge(tmp_path / "run")
    assert summary["coverage"]["totals"]["rgaa"]["criteria"] == 106
    page = (tmp_path / "run" / "index.html").read_text(encoding="utf-8")
    assert page.count("Phrase 199") == 2
