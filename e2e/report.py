"""The QA report: every state checked, its outcome, axe's findings, RGAA criteria, screenshots.

Each run writes into a folder of its own beside the report (``run_dir``):
each test process appends its records to a JSON-lines file there and saves
its screenshots. When the run ends, the main process merges the records into
``report.json`` and ``index.html``, then puts the whole folder in the report's
place. A run that checked nothing (unit tests only, a deselected suite)
leaves the previous report whole, its screenshots included.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import unicodedata
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from . import criteria
from .html_check import KEY as HTML_KEY
from .html_check import Batch

ROOT = Path(__file__).resolve().parent.parent


def report_dir() -> Path:
    return Path(os.environ.get("E2E_REPORT", ROOT / "e2e-report"))


RUN_VARIABLE = "E2E_REPORT_RUN"


def run_dir() -> Path:
    """This run's folder: named by the main process, inherited by its test workers."""
    if RUN_VARIABLE not in os.environ:
        final = report_dir()
        os.environ[RUN_VARIABLE] = str(final.with_name(f"{final.name}.run-{os.getpid()}"))
    return Path(os.environ[RUN_VARIABLE])


def publish(run: Path, seconds: float | None = None, junit: Path | None = None) -> dict | None:
    """Merge this run's records; if it checked anything, make it the report (with the
    run's JUnit file beside it, for CI)."""
    if run.exists() and junit is not None and junit.exists():
        shutil.copyfile(junit, run / "junit.xml")
    summary = merge(run, seconds) if run.exists() else None
    if summary is None:
        shutil.rmtree(run, ignore_errors=True)
        return None
    final = report_dir()
    previous = final.with_name(f"{final.name}.old-{os.getpid()}")
    if final.exists():
        final.rename(previous)
    run.rename(final)
    shutil.rmtree(previous, ignore_errors=True)
    return summary


def slug(text: str) -> str:
    flat = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", flat.lower()).strip("-")[:80]


class Report:
    def __init__(self, folder: Path, worker: str) -> None:
        self.folder = folder
        self.records = folder / f"records-{worker}.jsonl"
        (folder / "screenshots").mkdir(parents=True, exist_ok=True)
        self._titles: dict[str, str] = {}
        # The states whose HTML waits for the Nu HTML Checker (html_check.py).
        self.html = Batch(folder, worker)

    def add(self, record: dict) -> None:
        """Write a state's record, or hold it while its HTML waits for the checker;
        True when the held batch is full (then ``check_html``)."""
        if record["checks"].get(HTML_KEY, {}).get("outcome") == "pending":
            return self.html.hold(record)
        with self.records.open("a", encoding="utf-8") as out:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
        return False

    def check_html(self) -> list[dict]:
        """Run the checker on the held states and write their records: those whose
        « valid HTML » check did not pass."""
        checked = self.html.run()
        for record in checked:
            self.add(record)
        return [r for r in checked if r["checks"][HTML_KEY]["outcome"] != "passed"]

    def screenshot(self, page, state: str, variant: str) -> str:
        name = f"screenshots/{slug(state)}--{variant}.png"
        # At CSS pixels: a phone's 2.75 device pixels per CSS pixel made each capture
        # seven times larger and three times slower, for nothing more to read.
        page.screenshot(path=str(self.folder / name), full_page=True, scale="css")
        return name

    def text(self, name: str, content: str) -> str:
        """A text this run produced (an ARIA snapshot, a transcript), kept in the run's
        folder so that the report is whole on its own."""
        relative = f"snapshots/{name}"
        (self.folder / "snapshots").mkdir(parents=True, exist_ok=True)
        (self.folder / relative).write_text(content, encoding="utf-8")
        return relative

    def title_is_unique(self, title: str, heading: str) -> bool:
        """One title, one page: two pages with different headings must not share a title."""
        base = title.removeprefix("Erreur : ")
        return self._titles.setdefault(base, heading) == heading


def note_test(folder: Path, worker: str, entry: dict) -> None:
    """A test the report must name though it checked no state: not run (skipped or
    deselected, with why), or failed outside its checks. Any process may write it."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / f"tests-{worker}.jsonl").open("a", encoding="utf-8") as out:
        out.write(json.dumps(entry, ensure_ascii=False) + "\n")


def _read_lines(folder: Path, pattern: str) -> list[dict]:
    found = []
    for part in sorted(folder.glob(pattern)):
        found += [json.loads(line) for line in part.read_text(encoding="utf-8").splitlines()]
    return found


def merge(folder: Path, seconds: float | None = None) -> dict | None:
    records = _read_lines(folder, "records-*.jsonl")
    if not records:
        return None
    # Each test process may name the same test (each collects them all): once each.
    noted = {}
    for entry in _read_lines(folder, "tests-*.jsonl"):
        noted.setdefault((entry["test"], entry["outcome"]), entry)
    not_run = sorted(
        (t for t in noted.values() if t["outcome"] in ("skipped", "deselected")),
        key=lambda t: (t["reason"], t["test"]),
    )
    test_failures = sorted(
        (t for t in noted.values() if t["outcome"] == "failed"), key=lambda t: t["test"]
    )
    outcomes = Counter(
        check["outcome"] for record in records for check in record["checks"].values()
    )
    tests = sorted(
        {c for r in records for c in r["checks"].get("axe", {}).get("rgaa_criteria", [])},
        key=criteria.number_key,
    )
    batches = {
        check["batch"]: check.get("batch_seconds", 0)
        for record in records
        if (check := record["checks"].get(HTML_KEY)) and "batch" in check
    }
    summary = {
        "generated": datetime.now(UTC).isoformat(timespec="seconds"),
        "states": len({record["state"] for record in records}),
        "state_visits": len(records),
        "checks": sum(outcomes.values()),
        "passed": outcomes["passed"],
        "failed": outcomes["failed"],
        "seconds": None if seconds is None else round(seconds, 1),
        "not_run": not_run,
        "test_failures": test_failures,
        "junit": (folder / "junit.xml").exists(),
        # RGAA tests (« 11.1.1 ») that axe's rules evaluated, on any state.
        "rgaa_criteria": tests,
        "coverage": criteria.coverage(records),
        # The Nu HTML Checker's own time: one Java process per batch of states.
        "html_checker": {
            "batches": len(batches),
            "seconds": round(sum(batches.values()), 2),
            "seconds_per_batch": dict(sorted(batches.items())),
        },
        "records": sorted(records, key=lambda r: (r["state"], r["variant"])),
    }
    (folder / "report.json").write_text(
        json.dumps(summary, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    (folder / "index.html").write_text(render_html(summary), encoding="utf-8")
    return summary


e = html.escape

STATUS = {
    "automatic": "Vérifié automatiquement",
    "manual": "Liste manuelle seulement",
    "not covered": "Non couvert",
}


# The variants as the report names them (their keys name the files).
VARIANTS = {
    "desktop-js": "ordinateur, JavaScript actif",
    "desktop-nojs": "ordinateur, JavaScript inactif",
    "phone-js": "téléphone, JavaScript actif",
    "phone-nojs": "téléphone, JavaScript inactif",
}
IMPACTS = {"minor": "mineur", "moderate": "modéré", "serious": "grave", "critical": "critique"}


def variant_name(key: str) -> str:
    return VARIANTS.get(key, key)


def duration(seconds: float | None) -> str:
    """« 0,4 s », « 3 min 32 s »."""
    if seconds is None:
        return "inconnue"
    if seconds < 60:
        return f"{seconds:.1f} s".replace(".", ",")
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s"


def state_seconds(record: dict) -> float:
    """A state visit's time: its checks' and its screenshot's."""
    checks = sum(check.get("seconds", 0) for check in record["checks"].values())
    return checks + record.get("screenshot_seconds", 0)


def row_ids(records: list[dict]) -> list[str]:
    """Each state visit's anchor, unique in the page (a state may be visited twice)."""
    ids, seen = [], Counter()
    for record in records:
        base = f"etat-{slug(record['state'])}--{record['variant']}"
        seen[base] += 1
        ids.append(base if seen[base] == 1 else f"{base}-{seen[base]}")
    return ids


def _element(node: dict) -> str:
    return f"<li>{_element_text(node)}</li>"


def _element_text(node: dict) -> str:
    """One element axe flagged: where it is, its accessible name, its HTML."""
    name = node.get("name")
    if name is None:
        named = ""
    elif name:
        named = f", nom accessible «\u00a0{e(name)}\u00a0»"
    else:
        named = ", sans nom accessible"
    summary = node.get("summary", "")
    said = f"<br>{e(' '.join(summary.split()))}" if summary else ""
    return (
        f"Élément <code>{e(node.get('target', ''))}</code>{named} : "
        f"<code>{e(node.get('html', ''))}</code>{said}"
    )


def _rule(finding: dict, link: bool = True) -> str:
    impact = IMPACTS.get(finding.get("impact") or "", finding.get("impact") or "")
    impact = f", impact {e(impact)}" if impact else ""
    more = f" ({_rule_link(finding)})" if link and finding.get("help_url") else ""
    return f"règle <code>{e(finding['id'])}</code>{impact} : {e(finding['help'])}{more}"


def _rule_link(finding: dict) -> str:
    return (
        f'<a href="{e(finding["help_url"])}">documentation de la règle'
        f'<span class="vh"> {e(finding["id"])}</span></a>'
    )


def _failure_items(summary: dict, ids: list[str]) -> list[str]:
    items = []
    for record, anchor in zip(summary["records"], ids, strict=True):
        where = (
            f'<a href="#{anchor}">{e(record["state"])} ({e(variant_name(record["variant"]))})</a>'
        )
        for name, check in record["checks"].items():
            if check["outcome"] == "passed":
                continue
            label = e(criteria.label(name))
            findings = check.get("violations") or []
            if findings:
                for finding in findings:
                    nodes = "".join(_element(node) for node in finding.get("nodes", []))
                    left = finding.get("count", 0) - len(finding.get("nodes", []))
                    if left > 0:
                        nodes += f"<li>et {_count(left, 'autre élément', 'autres éléments')}</li>"
                    items.append(f"<li>{where} : {label}, {_rule(finding)}<ul>{nodes}</ul></li>")
                continue
            message = (check.get("message") or "").splitlines()
            first = message[0] if message else "échec"
            file = check.get("file")
            seen = ""
            if file:
                seen = f' (<a href="{e(file)}">ce que cette exécution a produit</a>)'
            items.append(f"<li>{where} : {label} : {e(first[:300])}{seen}</li>")
    for test in summary.get("test_failures", []):
        items.append(
            f"<li>Test <code>{e(test['test'])}</code> en échec hors des vérifications "
            f"d'un état : {e(test['reason'].splitlines()[0][:300])}</li>"
        )
    return items


def _failures(summary: dict, ids: list[str]) -> str:
    items = _failure_items(summary, ids)
    if not items:
        return "<h2>Aucun échec</h2><p>Toutes les vérifications de cette exécution ont réussi.</p>"
    return (
        f"<h2>Échecs ({len(items)})</h2>"
        "<p>Chaque échec mène à la ligne de son état dans le tableau des états vérifiés.</p>"
        f'<ul class="findings">{"".join(items)}</ul>'
    )


def _to_review(summary: dict, ids: list[str]) -> str:
    """axe's « incomplete » items: grouped by rule, then by element, with their states."""
    rules: dict[str, dict] = {}
    for record, anchor in zip(summary["records"], ids, strict=True):
        axe = record["checks"].get("axe", {})
        for finding in axe.get("incomplete", []):
            rule = rules.setdefault(finding["id"], {"finding": finding, "elements": {}})
            for node in finding.get("nodes", []) or [{}]:
                key = (node.get("target", ""), node.get("html", ""))
                element = rule["elements"].setdefault(key, {"node": node, "states": []})
                link = (anchor, f"{record['state']} ({variant_name(record['variant'])})")
                if link not in element["states"]:
                    element["states"].append(link)
    if not rules:
        return "<h2>À revoir à la main</h2><p>axe n'a rien laissé à revoir.</p>"
    parts = []
    for rule_id in sorted(rules):
        rule = rules[rule_id]
        elements = []
        for element in rule["elements"].values():
            states = ", ".join(f'<a href="#{a}">{e(text)}</a>' for a, text in element["states"])
            node = element["node"]
            described = _element_text(node) if node else "Élément non précisé"
            elements.append(f"<li>{described}<br>États : {states}</li>")
        visits = {a for el in rule["elements"].values() for a, _ in el["states"]}
        # A summary holds no link (an interactive element inside another).
        doc = rule["finding"].get("help_url")
        doc = f"<p>{_rule_link(rule['finding'])}</p>" if doc else ""
        parts.append(
            f"<li><details><summary>{_rule(rule['finding'], link=False)} : "
            f"{_count(len(elements), 'élément', 'éléments')}, "
            f"{_count(len(visits), 'visite', 'visites')}</summary>"
            f"{doc}<ul>{''.join(elements)}</ul></details></li>"
        )
    return (
        "<h2>À revoir à la main</h2>"
        "<p>Ce qu'axe n'a pu trancher seul (par exemple un contraste sur une image de fond) : "
        "à vérifier par une personne, règle par règle, sur les éléments et les états "
        "nommés.</p>"
        f'<ul class="findings">{"".join(parts)}</ul>'
    )


REASONS = {
    "deselected": "non sélectionné pour cette exécution",
}


def _not_run(summary: dict) -> str:
    tests = summary.get("not_run", [])
    if not tests:
        return "<h2>Non exécuté</h2><p>Tous les tests sélectionnés ont été exécutés.</p>"
    groups: dict[str, list[str]] = {}
    for test in tests:
        groups.setdefault(test["reason"] or REASONS.get(test["outcome"], ""), []).append(
            test["test"]
        )
    items = "".join(
        f"<li>{e(reason)} : <details><summary>{_count(len(names), 'test', 'tests')}"
        f"</summary><ul>{''.join(f'<li><code>{e(n)}</code></li>' for n in names)}</ul>"
        "</details></li>"
        for reason, names in groups.items()
    )
    return (
        f"<h2>Non exécuté ({_count(len(tests), 'test', 'tests')})</h2>"
        "<p>Ces tests n'ont vérifié aucun état pendant cette exécution, pour la raison "
        f'dite :</p><ul class="findings">{items}</ul>'
    )


def _files(record: dict) -> str:
    """The state's screenshot, and the ARIA snapshot and transcript this run produced."""
    context = (
        f'<span class="vh"> : {e(record["state"])}, {e(variant_name(record["variant"]))}</span>'
    )
    links = [f'<a href="{e(record["screenshot"])}">Capture d\'écran{context}</a>']
    for key, word in (("ARIA snapshot", "Instantané ARIA"), ("spoken transcript", "Transcription")):
        file = record["checks"].get(key, {}).get("file")
        if file:
            links.append(f'<a href="{e(file)}">{word}{context}</a>')
    return "<ul>" + "".join(f"<li>{link}</li>" for link in links) + "</ul>"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'s' if count > 1 else ''}"


def _check_item(name: str, check: dict) -> str:
    label = criteria.label(name)
    ok = check["outcome"] == "passed"
    word = "réussi" if ok else "non vérifié" if check["outcome"] == "skipped" else "échec"
    extra = ""
    if name == "axe" and ok:
        extra = (
            f" ({check.get('rules_passed', 0)} règles vérifiées, "
            f"{len(check.get('incomplete', []))} à revoir à la main)"
        )
    apart = check.get("container_queries", [])
    if name == HTML_KEY and ok and apart:
        extra = (
            f" ({_plural(len(apart), 'remarque')} sur les requêtes de conteneur CSS, "
            "que le validateur ne connaît pas encore : non comptées)"
        )
    diff = "" if ok else check.get("diff", "")
    if not ok:
        message = check.get("message", "")
        # With its diff kept whole below, the message's first line says enough.
        extra = " : " + (message.splitlines()[0] if diff and message else message[:300])
    details = ""
    if diff:
        reviewed = (
            f"la version relue {check['snapshot']}" if "snapshot" in check else "la version relue"
        )
        details = (
            f"<details><summary>{e(label)} : différences avec {e(reviewed)} "
            "(«\u00a0-\u00a0» : version relue, «\u00a0+\u00a0» : cette exécution)</summary>"
            f"<pre>{e(diff)}</pre></details>"
        )
    if name == HTML_KEY and check.get("errors"):
        extra = f" : {_plural(check.get('errors_count', 0), 'erreur')} du validateur"
        items = "".join(
            f"<li>ligne {e(str(item['line']))} : {e(item['message'])}"
            f"<pre>{e(' '.join(item['extract'].split()))}</pre></li>"
            for item in check["errors"]
        )
        details = f"<details><summary>{e(label)} : les erreurs</summary><ul>{items}</ul></details>"
    took = f" ({duration(check['seconds'])})" if "seconds" in check else ""
    return f"<li>{e(label)} : <strong>{word}</strong>{e(extra)}{took}{details}</li>"


def _state_criteria(record: dict) -> str:
    rgaa, wcag = criteria.record_criteria(record)
    parts = []
    if rgaa:
        parts.append(f"<p>RGAA : {e(', '.join(rgaa))}</p>")
    if wcag:
        parts.append(f"<p>WCAG : {e(', '.join(wcag))}</p>")
    return "".join(parts) or "<p>Aucun</p>"


def _count(count: int, one: str, many: str) -> str:
    return f"{count} {one if count <= 1 else many}"


def _coverage_sentence(totals: dict) -> str:
    """« 38 critères vérifiés automatiquement, 41 seulement dans la liste manuelle, … »"""
    return (
        _count(totals["automatic"], "vérifié automatiquement", "vérifiés automatiquement")
        + ", "
        + _count(
            totals["manual_only"],
            "seulement dans la liste manuelle",
            "seulement dans la liste manuelle",
        )
        + ", "
        + _count(totals["not_covered"], "non couvert", "non couverts")
        + f", sur {totals['criteria']} ({totals['manual']} dans la liste manuelle, dont "
        + _count(
            totals["automatic_and_manual"],
            "aussi vérifié automatiquement",
            "aussi vérifiés automatiquement",
        )
        + ")."
    )


def _coverage_rows(rows: list[dict], wcag: bool) -> str:
    out = []
    for row in rows:
        checks = "".join(
            f"<li>{e(criteria.label(key))} : {_plural(count, 'visite')}</li>"
            for key, count in row["checks"].items()
        )
        visits = ""
        if row["visits"]:
            visits = f"{row['visits']}"
            if row["failed_visits"]:
                visits += f", dont {row['failed_visits']} en échec"
        items = ", ".join(f"n° {item}" for item in row["manual_items"])
        title = f"{row['name']} ({row['level']})" if wcag else row["title"]
        out.append(
            "<tr>"
            f'<th scope="row">{e(row["number"])}</th>'
            f"<td>{e(title)}</td>"
            f"<td>{STATUS[row['status']]}</td>"
            f"<td>{f'<ul>{checks}</ul>' if checks else ''}</td>"
            f"<td>{e(visits)}</td>"
            f"<td>{e(items)}</td>"
            "</tr>"
        )
    return "".join(out)


def _scrolling(caption: str, table: str) -> str:
    """A wide table scrolls within its own region (named after its caption, reachable
    with the keyboard), never the page: a 320 px screen keeps the text beside it."""
    return f'<div class="wide" role="region" aria-label="{e(caption)}" tabindex="0">{table}</div>'


def _coverage_table(rows: list[dict], caption: str, wcag: bool) -> str:
    return _scrolling(
        caption,
        f"""<table>
<caption>{e(caption)}</caption>
<thead><tr><th scope="col">Critère</th><th scope="col">{"Nom (niveau)" if wcag else "Intitulé"}</th>
<th scope="col">Couverture</th><th scope="col">Vérifications automatiques (visites)</th>
<th scope="col">Visites</th><th scope="col">Liste manuelle (points)</th></tr></thead>
<tbody>
{_coverage_rows(rows, wcag)}
</tbody></table>""",
    )


def _checks_table() -> str:
    rows = []
    for key, check in criteria.CHECKS.items():
        none = "selon l'état" if key == "axe" else "aucun"
        rows.append(
            "<tr>"
            f'<th scope="row">{e(check.label)}</th>'
            f"<td><code>{e(key)}</code></td>"
            f"<td>{e(', '.join(check.rgaa) or none)}</td>"
            f"<td>{e(', '.join(check.wcag) or none)}</td>"
            f"<td>{e(check.scope)}</td>"
            "</tr>"
        )
    caption = "Vérifications automatiques et critères qu'elles couvrent"
    return _scrolling(
        caption,
        f"""<table>
<caption>{e(caption)}</caption>
<thead><tr><th scope="col">Vérification</th><th scope="col">Clé</th>
<th scope="col">RGAA 4.1</th><th scope="col">WCAG 2.2</th><th scope="col">Ce qui est vérifié</th>
</tr></thead>
<tbody>
{"".join(rows)}
</tbody></table>""",
    )


def _html_checker_sentence(summary: dict) -> str:
    timing = summary.get("html_checker") or {}
    if not timing.get("batches"):
        return ""
    return (
        f"<p>Validateur HTML (Nu HTML Checker) : {_plural(timing['batches'], 'lot')} "
        f"d'états, {e(str(timing['seconds']).replace('.', ','))} s en tout.</p>"
    )


def render_html(summary: dict) -> str:
    rows = []
    ids = row_ids(summary["records"])
    for record, anchor in zip(summary["records"], ids, strict=True):
        cells = [_check_item(name, check) for name, check in record["checks"].items()]
        failed = any(c["outcome"] != "passed" for c in record["checks"].values())
        rows.append(
            f'<tr id="{anchor}">'
            f'<th scope="row">{e(record["state"])}</th>'
            f"<td>{e(variant_name(record['variant']))}</td>"
            f"<td>{'Échec' if failed else 'Réussi'}</td>"
            f"<td>{duration(state_seconds(record))}</td>"
            f"<td><ul>{''.join(cells)}</ul></td>"
            f"<td>{_state_criteria(record)}</td>"
            f"<td>{_files(record)}</td>"
            "</tr>"
        )
    took = duration(summary.get("seconds"))
    outside = ""
    if summary.get("test_failures"):
        failing = _count(len(summary["test_failures"]), "test", "tests")
        outside = f", et {failing} en échec hors des vérifications"
    junit = ' ; pour l\'intégration continue : <a href="junit.xml">junit.xml</a>'
    junit = junit if summary.get("junit") else ""
    tests = ", ".join(summary.get("rgaa_criteria", [])) or "aucun"
    cover = summary.get("coverage") or criteria.coverage(summary["records"])
    totals = cover["totals"]
    rgaa_table = _coverage_table(
        cover["rgaa"], "Critères RGAA 4.1 : vérification automatique, liste manuelle", False
    )
    wcag_table = _coverage_table(
        cover["wcag"],
        "Critères de succès WCAG 2.2 A et AA : vérification automatique, liste manuelle",
        True,
    )
    return f"""<!DOCTYPE html>
<html lang="fr">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Rapport d'accessibilité - CMI</title>
<style>
body {{ font: 1rem/1.5 system-ui, sans-serif; margin: 0; color: #161616; }}
main {{ max-width: 80rem; margin: 0 auto; padding: 1rem; }}
table {{ border-collapse: collapse; width: 100%; margin-bottom: 2rem; }}
.wide {{ overflow-x: auto; position: relative; }}
.wide:focus {{ outline: 3px solid #161616; outline-offset: 2px; }}
caption {{ text-align: left; font-weight: bold; padding: 0.5rem 0; }}
th, td {{ border-bottom: 1px solid #bbb; padding: 0.5rem; text-align: left; vertical-align: top; }}
td p, td ul {{ margin: 0; }}
pre {{ white-space: pre-wrap; overflow-wrap: anywhere; background: #f6f6f6; padding: 0.5rem; }}
summary {{ cursor: pointer; }}
a, summary {{ color: #000091; }}
a:focus, summary:focus {{ outline: 3px solid #161616; outline-offset: 2px; }}
.findings > li {{ margin-bottom: 0.75rem; overflow-wrap: anywhere; }}
code {{ overflow-wrap: anywhere; }}
tr:target {{ outline: 3px solid #000091; }}
.vh {{ position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); }}
</style></head>
<body><main>
<h1>Rapport d'accessibilité</h1>
<p>Généré le {e(summary["generated"])}. {summary["states"]} états, {summary["state_visits"]}
visites (état et variante), {summary["checks"]} vérifications : {summary["passed"]} réussies,
{summary["failed"]} en échec{outside}. Durée de l'exécution : {took}.</p>
{_failures(summary, ids)}
{_to_review(summary, ids)}
{_not_run(summary)}
<h2>Synthèse</h2>
<p>Critères RGAA 4.1 : {e(_coverage_sentence(totals["rgaa"]))}</p>
<p>Critères de succès WCAG 2.2 de niveaux A et AA : {e(_coverage_sentence(totals["wcag"]))}</p>
<p>Une vérification automatique ne couvre d'un critère que ce qu'une machine en voit,
sur les états visités : elle ne remplace pas la liste manuelle
(<code>e2e/MANUAL_CHECKLIST.md</code>).</p>
{_html_checker_sentence(summary)}
<p>Données complètes : <a href="report.json">report.json</a>{junit}.</p>
<h2>États vérifiés</h2>
<div class="wide" role="region" aria-label="États vérifiés, par variante" tabindex="0">
<table>
<caption>États vérifiés, par variante (écran et JavaScript)</caption>
<thead><tr><th scope="col">État</th><th scope="col">Variante</th><th scope="col">Résultat</th>
<th scope="col">Durée</th><th scope="col">Vérifications (durée de chacune)</th>
<th scope="col">Critères couverts</th><th scope="col">Fichiers</th></tr></thead>
<tbody>
{"".join(rows)}
</tbody></table>
</div>
<h2>Vérifications automatiques</h2>
{_checks_table()}
<p>Tests RGAA 4.1 évalués par les règles axe-core, sur l'ensemble des états : {e(tests)}.</p>
<h2>Couverture des critères RGAA 4.1</h2>
{rgaa_table}
<h2>Couverture des critères de succès WCAG 2.2 (A et AA)</h2>
{wcag_table}
</main></body></html>
"""
