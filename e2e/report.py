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


def publish(run: Path) -> dict | None:
    """Merge this run's records; if it checked anything, make it the report."""
    summary = merge(run) if run.exists() else None
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

    def add(self, record: dict) -> None:
        with self.records.open("a", encoding="utf-8") as out:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")

    def screenshot(self, page, state: str, variant: str) -> str:
        name = f"screenshots/{slug(state)}--{variant}.png"
        page.screenshot(path=str(self.folder / name), full_page=True)
        return name

    def title_is_unique(self, title: str, heading: str) -> bool:
        """One title, one page: two pages with different headings must not share a title."""
        base = title.removeprefix("Erreur : ")
        return self._titles.setdefault(base, heading) == heading


def merge(folder: Path) -> dict | None:
    records = []
    for part in sorted(folder.glob("records-*.jsonl")):
        records += [json.loads(line) for line in part.read_text(encoding="utf-8").splitlines()]
    if not records:
        return None
    outcomes = Counter(
        check["outcome"] for record in records for check in record["checks"].values()
    )
    criteria = sorted(
        {c for r in records for c in r["checks"].get("axe", {}).get("rgaa_criteria", [])},
        key=lambda c: [int(part) for part in c.split(".")],
    )
    summary = {
        "generated": datetime.now(UTC).isoformat(timespec="seconds"),
        "states": len({record["state"] for record in records}),
        "state_visits": len(records),
        "checks": sum(outcomes.values()),
        "passed": outcomes["passed"],
        "failed": outcomes["failed"],
        "rgaa_criteria": criteria,
        "records": sorted(records, key=lambda r: (r["state"], r["variant"])),
    }
    (folder / "report.json").write_text(
        json.dumps(summary, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    (folder / "index.html").write_text(render_html(summary), encoding="utf-8")
    return summary


def render_html(summary: dict) -> str:
    e = html.escape
    rows = []
    for record in summary["records"]:
        cells = []
        for name, check in record["checks"].items():
            ok = check["outcome"] == "passed"
            word = "réussi" if ok else "échec"
            extra = ""
            if name == "axe" and ok:
                extra = (
                    f" ({check['rules_passed']} règles vérifiées, "
                    f"{len(check.get('incomplete', []))} à revoir à la main)"
                )
            if not ok:
                extra = f" : {check.get('message', '')[:300]}"
            cells.append(f"<li>{e(name)} : <strong>{word}</strong>{e(extra)}</li>")
        failed = any(c["outcome"] != "passed" for c in record["checks"].values())
        rows.append(
            "<tr>"
            f'<th scope="row">{e(record["state"])}</th>'
            f"<td>{e(record['variant'])}</td>"
            f"<td>{'Échec' if failed else 'Réussi'}</td>"
            f"<td><ul>{''.join(cells)}</ul></td>"
            f'<td><a href="{e(record["screenshot"])}">Capture d\'écran<span class="vh"> : '
            f"{e(record['state'])}, {e(record['variant'])}</span></a></td>"
            "</tr>"
        )
    criteria = ", ".join(summary["rgaa_criteria"])
    return f"""<!DOCTYPE html>
<html lang="fr">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Rapport d'accessibilité - CMI</title>
<style>
body {{ font: 1rem/1.5 system-ui, sans-serif; margin: 0; color: #161616; }}
main {{ max-width: 80rem; margin: 0 auto; padding: 1rem; }}
table {{ border-collapse: collapse; width: 100%; }}
th, td {{ border-bottom: 1px solid #bbb; padding: 0.5rem; text-align: left; vertical-align: top; }}
a {{ color: #000091; }}
a:focus {{ outline: 3px solid #161616; outline-offset: 2px; }}
.vh {{ position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); }}
</style></head>
<body><main>
<h1>Rapport d'accessibilité</h1>
<p>Généré le {e(summary["generated"])}. {summary["states"]} états, {summary["state_visits"]}
visites (état et variante), {summary["checks"]} vérifications : {summary["passed"]} réussies,
{summary["failed"]} en échec.</p>
<p>Critères RGAA 4.1 touchés par les règles automatiques : {e(criteria)}.</p>
<p>Données complètes : <a href="report.json">report.json</a>.</p>
<table>
<caption>États vérifiés, par variante (écran et JavaScript)</caption>
<thead><tr><th scope="col">État</th><th scope="col">Variante</th><th scope="col">Résultat</th>
<th scope="col">Vérifications</th><th scope="col">Capture</th></tr></thead>
<tbody>
{"".join(rows)}
</tbody></table>
</main></body></html>
"""
