"""The regression suite must fail when a violation appears: shown on a throwaway app.

The report's own tests (French names, diffs, criteria) need no browser.
"""

from __future__ import annotations

import ast
import html
import json
import os
import re
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest
from flask import Flask
from playwright.sync_api import expect
from werkzeug.serving import make_server

from . import a11y, conftest, criteria, html_check
from .a11y import Accessibility
from .conftest import VARIANTS, context_options
from .report import RUN_VARIABLE, Report, merge, publish, render_html

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
        checker.check_html()  # the held record is written once its HTML is checked
        results[path] = recorder.failures
    context.close()
    assert not any("axe" in name for name in results["/avec-etiquette"]), results
    broken = [message for name, message in results["/sans-etiquette"].items() if "axe" in name]
    assert broken and "label" in broken[0], results
    # The failed check keeps, for the report, the rule and each element it flagged.
    lines = (tmp_path / "records-essai.jsonl").read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    axe = next(r for r in records if r["state"] == "Essai /sans-etiquette")["checks"]["axe"]
    assert axe["outcome"] == "failed"
    label = next(v for v in axe["violations"] if v["id"] == "label")
    assert label["impact"] == "critical" and label["help_url"].startswith("https://")
    assert label["count"] == 1
    [node] = label["nodes"]
    assert node["target"] == "#nom" and node["html"] == '<input id="nom" name="nom">'
    assert node["name"] == "" and "label" in node["summary"]


# What a screen reader says of the controls, tables and dialogs of a page: the writer's
# corrections of the virtual screen reader, each on a small document.
SPOKEN = """<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8"><title>Essai - CMI</title></head>
<body><main id="main" tabindex="-1"><h1>Essai</h1>{body}</main>
<footer><p>Pied de page</p></footer>{outside}</body></html>"""
SELECT = """<form><label for="motif">Motif</label>
<select id="motif" name="motif"><option value="">Choisir un motif</option>
<option value="Titre perdu">Carte perdue</option><option value="Titre volé">Carte volée</option>
</select>
<button type="submit" name="action" value="valider">Valider</button></form>"""
TABLE = """<table><caption>Cartes</caption>
<tr><th scope="col">Numéro de carte</th><th scope="col">Type de carte</th></tr>
<tr><th scope="row"><span class="nowrap">0000 0000 0000 0001</span></th>
<td><span>Stationnement</span></td></tr></table>"""
DIALOG = """<dialog id="avertissement" aria-labelledby="titre-avertissement">
<h2 id="titre-avertissement">Votre session va se terminer</h2>
<p>Sans action de votre part, vous serez déconnecté(e).</p>
<button type="button">Rester connecté(e)</button></dialog>"""


@pytest.fixture(scope="module")
def spoken_app():
    app = Flask("spoken")
    documents = {
        "select": (SELECT, ""),
        "tableau": (TABLE, ""),
        "dialogue": ("<p>Le contenu de la page.</p>", DIALOG),
        "aria-modal": (
            "<p>Le contenu de la page.</p>"
            '<div role="dialog" aria-modal="true" aria-label="Confirmer">'
            "<p>Confirmer la demande ?</p></div>",
            "",
        ),
    }
    for name, (body, outside) in documents.items():
        app.add_url_rule(
            f"/{name}",
            name,
            lambda body=body, outside=outside: SPOKEN.format(body=body, outside=outside),
        )
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture
def transcript(browser, spoken_app, tmp_path, monkeypatch):
    """What the writer writes for a page in a state, in the JavaScript variant, and the
    page (``act`` brings it to the state)."""
    monkeypatch.setattr(a11y, "SNAPSHOTS", tmp_path)
    monkeypatch.setattr(a11y, "UPDATE_SNAPSHOTS", True)
    context = browser.new_context(**context_options(VARIANTS[0]))
    page = context.new_page()
    checker = Accessibility(browser, VARIANTS[0], Recorder(), Report(tmp_path, "essai"))
    checker.announced = None  # what check() sets: nothing announced

    def write(path, act=lambda _page: None):
        page.goto(spoken_app + path)
        act(page)
        checker._spoken_transcript(page, "Essai")
        return (tmp_path / "essai.js.spoken.txt").read_text(encoding="utf-8").splitlines()

    write.page = page
    yield write
    context.close()


def test_a_select_is_spoken_with_its_chosen_option_and_a_button_with_its_name(transcript):
    lines = transcript(
        "/select", lambda page: page.get_by_label("Motif").select_option("Titre perdu")
    )
    assert "combobox, Motif, Carte perdue, has popup listbox, not expanded" in lines, lines
    assert "option, Carte perdue, selected, position 2, set size 3" in lines, lines
    assert "option, Carte volée, not selected, position 3, set size 3" in lines, lines
    assert not [line for line in lines if "Titre" in line], lines
    assert "button, Valider" in lines and not [line for line in lines if "valider" in line]
    # What the form sends is the page's own again once the transcript is written.
    values = transcript.page.evaluate(
        "() => [document.querySelector('button').value, document.querySelector('select').value]"
    )
    assert values == ["valider", "Titre perdu"]


def test_a_table_cell_is_read_once(transcript):
    lines = transcript("/tableau")
    start = lines.index("rowheader, 0000 0000 0000 0001")
    assert lines[start + 1 : start + 3] == [
        "cell, Stationnement",
        "end of row, 0000 0000 0000 0001 Stationnement",
    ], lines
    assert lines.count("0000 0000 0000 0001") == 0 and lines.count("Stationnement") == 0, lines


def test_an_open_modal_dialog_is_read_instead_of_main(transcript):
    lines = transcript(
        "/dialogue",
        lambda page: page.evaluate("document.getElementById('avertissement').showModal()"),
    )
    assert lines[0] == "Focus : button, Rester connecté(e)", lines
    assert lines[1] == (
        "--- lecture de la boîte de dialogue modale (le reste de la page est inerte), "
        "du début à la fin ---"
    )
    assert lines[2].startswith("dialog, Votre session va se terminer"), lines
    assert "heading, Votre session va se terminer, level 2" in lines
    assert lines[-2:] == [
        "button, Rester connecté(e)",
        lines[2].replace("dialog", "end of dialog", 1),
    ]
    assert not [line for line in lines if "contenu de la page" in line or line == "main"], lines
    # Closed, the page is read from <main> again.
    lines = transcript("/dialogue")
    assert lines[0] == "--- lecture de <main>, du début à la fin ---" and lines[1] == "main"
    assert "Le contenu de la page." in lines and lines[-1] == "end of main"
    lines = transcript("/aria-modal")
    assert lines[0].startswith("--- lecture de la boîte de dialogue modale"), lines
    assert lines[1:] == [
        "dialog, Confirmer, modal",
        "paragraph",
        "Confirmer la demande ?",
        "end of paragraph",
        "end of dialog, Confirmer, modal",
    ], lines


def test_dates_are_read_as_the_page_says_them_and_only_a_time_of_day_is_masked():
    said = (
        "Payée le 22/11/2026 à 10:31. Valable jusqu'au 31 décembre 2026. "
        "Paid on 22 Nov 2026 at 10:31. Réessayez à partir de 10:46."
    )
    for pattern, replacement in a11y.VOLATILE:
        said = pattern.sub(replacement, said)
    assert said == (
        "Payée le 22/11/2026 à HH:MM. Valable jusqu'au 31 décembre 2026. "
        "Paid on 22 Nov 2026 at HH:MM. Réessayez à partir de HH:MM."
    )


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
            "axe": {
                "outcome": "failed",
                "message": "axe violations",
                "violations": [AXE_LABEL],
                "incomplete": [AXE_CONTRAST],
            },
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
        "not_run": [NOT_RUN],
        # A long word, as in Playwright's messages, wraps at 320 px.
        "test_failures": [
            {
                "test": "e2e/test_photo.py::test_x[desktop-js]",
                "outcome": "failed",
                "reason": "exécution : playwright._impl._errors.TimeoutError: "
                "Locator.set_input_files",
            }
        ],
    }
    (tmp_path / "index.html").write_text(render_html(summary), encoding="utf-8")
    context = browser.new_context()
    page = context.new_page()
    page.goto((tmp_path / "index.html").as_uri())
    expect(page.get_by_role("heading", level=1)).to_have_text("Rapport d'accessibilité")
    for summary_line in page.locator("summary").all():  # opened, as its reader would
        summary_line.click()
    expect(page.locator("details pre").first).to_be_visible()
    # A failure's link leads to its state's row.
    page.get_by_role("link", name="Connexion : vide (ordinateur, JavaScript actif)").first.click()
    assert page.evaluate("location.hash") == "#etat-connexion-vide--desktop-js"
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
    assert page.count("<h2>") == 8


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


# -- a report a QA lead can act on --------------------------------------------------------

AXE_LABEL = {
    "id": "label",
    "impact": "critical",
    "help": "Form elements must have labels",
    "help_url": "https://dequeuniversity.com/rules/axe/4.14/label",
    "count": 1,
    "nodes": [
        {
            "target": "#nom",
            "html": '<input id="nom" name="nom">',
            "name": "",
            "summary": "Fix any of the following:\n  Form element does not have an implicit label",
        }
    ],
}
AXE_CONTRAST = {
    "id": "color-contrast",
    "impact": "serious",
    "help": "Elements must meet minimum color contrast ratio thresholds",
    "help_url": "https://dequeuniversity.com/rules/axe/4.14/color-contrast",
    "count": 1,
    "nodes": [
        {
            "target": ".bandeau > p",
            "html": "<p>Sur image</p>",
            "name": "Sur image",
            "summary": "Element's background color could not be determined",
        }
    ],
}
NOT_RUN = {
    "test": "e2e/test_console.py::test_an_agent_unlocks_an_account[desktop-js]",
    "outcome": "skipped",
    "reason": "les états de la console se préparent dans la base du service lancé par la suite",
}


def test_failures_come_first_with_their_element_name_and_rule():
    records = [
        record(
            "Connexion : erreurs",
            "desktop-js",
            {
                "axe": {
                    **FAILED,
                    "seconds": 0.31,
                    "violations": [AXE_LABEL],
                    "incomplete": [AXE_CONTRAST],
                },
                "reflow 320 px": {**PASSED, "seconds": 0.2},
            },
        ),
        record(
            "Connexion : erreurs",
            "phone-nojs",
            {"axe": {**PASSED, "seconds": 0.5, "incomplete": [AXE_CONTRAST]}},
        ),
        record("Accueil", "desktop-js", {"structure": {**PASSED, "seconds": 0.1}}),
    ]
    records[0]["screenshot_seconds"] = 0.49
    summary = {
        **summary_of(records),
        "seconds": 212.4,
        "not_run": [NOT_RUN],
        "test_failures": [
            {"test": "e2e/test_flows.py::test_x", "outcome": "failed", "reason": "préparation : X"}
        ],
    }
    page = render_html(summary)
    order = [page.index(f"<h2>{h}") for h in ("Échecs", "À revoir", "Non exécuté", "États")]
    assert order == sorted(order), order
    failures = page[order[0] : order[1]]
    assert "<h2>Échecs (2)</h2>" in failures
    # What failed, where: the state's row, the check, the rule, the element and its name.
    assert (
        '<a href="#etat-connexion-erreurs--desktop-js">Connexion : erreurs '
        "(ordinateur, JavaScript actif)</a> : Règles automatiques axe-core"
    ) in failures
    assert "règle <code>label</code>, impact critique : Form elements must have labels" in failures
    assert "Élément <code>#nom</code>, sans nom accessible : " in failures
    assert "<code>&lt;input id=&quot;nom&quot; name=&quot;nom&quot;&gt;</code>" in failures
    assert 'href="https://dequeuniversity.com/rules/axe/4.14/label"' in failures
    assert "Test <code>e2e/test_flows.py::test_x</code> en échec" in failures
    assert '<tr id="etat-connexion-erreurs--desktop-js">' in page
    # axe's undecided items: one rule, one element, the two states where it appears.
    review = page[order[1] : order[2]]
    assert review.count("<code>color-contrast</code>") == 1
    assert "Élément <code>.bandeau &gt; p</code>, nom accessible «\u00a0Sur image\u00a0»" in review
    assert "1 élément, 2 visites" in review
    assert '<a href="#etat-connexion-erreurs--phone-nojs">' in review
    # What did not run, and why.
    missing = page[order[2] : order[3]]
    assert "<h2>Non exécuté (1 test)</h2>" in missing
    assert f"{NOT_RUN['reason']} : <details>" in missing
    assert f"<code>{NOT_RUN['test']}</code>" in missing
    # Times: the run's, each state's, each check's; the variants named in French.
    assert "Durée de l'exécution : 3 min 32 s." in page
    assert "<td>1,0 s</td>" in page  # 0.31 + 0.2 + 0.49
    assert "<strong>réussi</strong> (0,2 s)" in page
    assert "<td>téléphone, JavaScript inactif</td>" in page
    assert "desktop-js</td>" not in page and "phone-nojs</td>" not in page


def test_a_run_without_failure_says_so():
    page = render_html(summary_of([record("Accueil", "desktop-js", {"structure": PASSED})]))
    assert "<h2>Aucun échec</h2>" in page
    assert "Tous les tests sélectionnés ont été exécutés" in page


class WrittenPage(FakePage):
    def screenshot(self, path, **_options):
        Path(path).write_bytes(b"png")


def test_the_published_report_holds_every_file_it_links_to(tmp_path, monkeypatch):
    """The run's snapshots and transcripts, its screenshots and its JUnit file: the
    report folder is whole on its own (read on a QA machine, away from the repository)."""
    monkeypatch.setattr(a11y, "SNAPSHOTS", tmp_path / "committed")
    monkeypatch.setattr(a11y, "UPDATE_SNAPSHOTS", False)
    (tmp_path / "committed").mkdir()
    (tmp_path / "committed" / "essai.js.yml").write_text('- paragraph: "Avant"\n')
    for key, method in checks_run_by_a11y().items():
        if key != "ARIA snapshot":
            monkeypatch.setattr(Accessibility, method, lambda *_args: {})
    run = tmp_path / "rapport.run"
    checker = Accessibility(None, VARIANTS[0], Recorder(), Report(run, "essai"))
    checker.check(WrittenPage('- paragraph: "Après"'), "Essai")
    junit = tmp_path / "junit.xml"
    junit.write_text('<testsuites><testsuite name="pytest" failures="1"/></testsuites>')
    monkeypatch.setenv("E2E_REPORT", str(tmp_path / "rapport"))

    summary = publish(run, seconds=12.5, junit=junit)

    final = tmp_path / "rapport"
    assert not run.exists() and summary["seconds"] == 12.5
    assert (final / "junit.xml").read_text() == junit.read_text()
    assert (final / "snapshots" / "essai.js.yml").read_text() == '- paragraph: "Après"\n'
    page = (final / "index.html").read_text(encoding="utf-8")
    assert '<a href="snapshots/essai.js.yml">Instantané ARIA' in page
    assert '<a href="junit.xml">junit.xml</a>' in page
    links = re.findall(r'href="([^"#][^"]*)"', page)
    local = [link for link in links if not link.startswith("http")]
    assert len(local) == 5, local  # report.json, junit.xml, screenshot, snapshot twice
    for link in local:
        assert (final / link).exists(), link


def test_skipped_and_deselected_tests_are_said_not_run(tmp_path, monkeypatch):
    """What pytest tells the suite's hooks (in each test process) reaches the report."""
    run = tmp_path / "run"
    monkeypatch.setenv(RUN_VARIABLE, str(run))
    skipped = pytest.TestReport(
        "e2e/test_console.py::test_a[desktop-js]",
        ("e2e/test_console.py", 1, "test_a"),
        {},
        "skipped",
        ("e2e/test_console.py", 30, "Skipped: les états de la console se préparent ailleurs"),
        "setup",
    )
    conftest.pytest_runtest_logreport(skipped)
    conftest.pytest_runtest_logreport(skipped)  # the main process hears it again
    left_out = SimpleNamespace(nodeid="e2e/test_flows.py::test_b", stash=pytest.Stash())
    left_out.stash[conftest.NOT_RUN_REASON] = conftest.ONLY_IN_PROCESS
    conftest.pytest_deselected([left_out])
    Report(run, "essai").add(record("Accueil", "desktop-js", {"structure": PASSED}))

    page = render_html(merge(run))
    assert "<h2>Non exécuté (2 tests)</h2>" in page
    assert "les états de la console se préparent ailleurs : <details>" in page
    assert "<code>e2e/test_console.py::test_a[desktop-js]</code>" in page
    assert f"{html.escape(conftest.ONLY_IN_PROCESS)} : <details>" in page
