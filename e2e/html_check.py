"""The Nu HTML Checker on every state the suite checks (RGAA 8.2, valid source code).

``Accessibility.check`` saves the HTML of each state into the run's folder and holds
its record; once a batch is full (``BATCH_SIZE`` states) and when the test process
ends, one Java process checks the whole batch, and each record gets the outcome of
its « valid HTML » check before it is written. The checker's seconds per batch go
into the records, and the report sums them.

Which HTML is checked:

- JavaScript off: the document the service served, byte for byte (the browser's
  parser would repair a misnested tag in what it shows, and hide it);
- JavaScript on: the document after htmx's swaps and the service's script,
  serialized: the user has that document, which no single answer of the service
  holds (a swap answers with a fragment), and what scripts added to it (attributes,
  ids) is checked there. Its parse errors, if any, are the JavaScript-off variant's
  to find: both variants render the same templates.

The checker does not know CSS container queries yet: what it says about them
(``container-type``, ``@container``, the ``cq*`` units) is listed apart as
information, never failed. Any other CSS message is an error like the others.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
import weakref
from pathlib import Path

from playwright.sync_api import Error, Page, Response

ROOT = Path(__file__).resolve().parent.parent
PIN = Path(__file__).parent / "vnu-jar.pin"
KEY = "valid HTML"
BATCH_SIZE = 20
# What the report keeps of each finding.
MAX_FINDINGS = 30


def pinned_version() -> str:
    return PIN.read_text(encoding="utf-8").split()[0]


def jar_path() -> Path:
    return Path(os.environ.get("VNU_JAR", ROOT / ".venv" / "vnu.jar"))


def missing() -> str | None:
    """Why the checker cannot run here, or None."""
    if not shutil.which("java"):
        return "Java is missing (Debian's default-jre-headless): run `make vnu`"
    if not jar_path().exists():
        return f"the Nu HTML Checker is missing ({jar_path()}): run `make vnu`"
    return None


# CSS the checker cannot judge yet: container queries (CSS Containment Module Level 3).
CONTAINER_PROPERTY = re.compile(
    r"CSS: “(container|container-type|container-name)”: "
    r"Property “\1” doesn't exist\."
)
CONTAINER_RULE = re.compile(r"CSS: Unrecognized at-rule “@container”")
# « 5cqi » is reported as an unknown dimension, named only by the highlighted text.
UNKNOWN_DIMENSION = re.compile(r"CSS: “[a-z-]+”: Unknown dimension\.")
CONTAINER_UNIT = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)cq(i|b|w|h|min|max)")


def is_container_query(message: dict) -> bool:
    """A finding about container queries, which the checker does not know yet."""
    text = message.get("message", "")
    if CONTAINER_PROPERTY.fullmatch(text) or CONTAINER_RULE.fullmatch(text):
        return True
    if UNKNOWN_DIMENSION.fullmatch(text):
        return CONTAINER_UNIT.fullmatch(highlighted(message)) is not None
    return False


def highlighted(message: dict) -> str:
    extract = message.get("extract", "")
    start = message.get("hiliteStart", 0)
    return extract[start : start + message.get("hiliteLength", 0)]


def finding(message: dict) -> dict:
    return {
        "message": message.get("message", ""),
        "line": message.get("lastLine", message.get("firstLine")),
        "extract": message.get("extract", ""),
    }


def describe(findings: list[dict]) -> str:
    lines = [f"{len(findings)} errors of the Nu HTML Checker:"]
    for item in findings:
        lines.append(f"- line {item['line']}: {item['message']}")
        lines.append(f"    {' '.join(item['extract'].split())}")
    return "\n".join(lines)


# The last document each watched page received, for the JavaScript-off states.
_DOCUMENTS: weakref.WeakKeyDictionary[Page, Response] = weakref.WeakKeyDictionary()


def watch(page: Page) -> Page:
    """Remember the documents this page receives (call it before its first visit)."""

    def received(response: Response) -> None:
        if response.request.resource_type == "document" and response.frame == page.main_frame:
            _DOCUMENTS[page] = response

    page.on("response", received)
    _DOCUMENTS.pop(page, None)
    return page


def served_html(page: Page) -> str | None:
    """The document the page shows, as the service served it; None when the page was
    not watched, or shows a document it did not receive (one the browser kept)."""
    response = _DOCUMENTS.get(page)
    if response is None or response.url != page.url.split("#", 1)[0]:
        return None
    try:
        return response.body().decode("utf-8")
    except Error:  # a redirection has no body: the page is not that one
        return None


class Batch:
    """The states of one test process whose HTML waits for the checker."""

    def __init__(self, folder: Path, worker: str, size: int = BATCH_SIZE) -> None:
        self.folder = folder / "html"
        self.worker = worker
        self.size = size
        self.held: list[tuple[dict, Path]] = []
        self.count = 0  # files saved, which names each one
        self.batches = 0

    def save(self, html: str, source: str) -> dict:
        """Keep one state's HTML for the next batch: what its record says until then."""
        self.folder.mkdir(parents=True, exist_ok=True)
        self.count += 1
        path = self.folder / f"{self.worker}-{self.count:04d}.html"
        path.write_text(html, encoding="utf-8")
        return {"outcome": "pending", "html": f"html/{path.name}", "source": source}

    def hold(self, record: dict) -> bool:
        """Hold a record until its batch is checked; True when the batch is full."""
        path = self.folder.parent / record["checks"][KEY]["html"]
        self.held.append((record, path))
        return len(self.held) >= self.size

    def run(self) -> list[dict]:
        """Check the held states in one Java process: their records, each with its
        « valid HTML » outcome (the caller writes them and reports the failures)."""
        held, self.held = self.held, []
        if not held:
            return []
        self.batches += 1
        name = f"{self.worker}-{self.batches}"
        why = missing()
        if why:
            outcome = "failed" if os.environ.get("CI") else "skipped"
            for record, _path in held:
                record["checks"][KEY].update(outcome=outcome, message=why, batch=name)
            return [record for record, _path in held]
        started = time.monotonic()
        done = subprocess.run(
            [
                "java",
                "-jar",
                str(jar_path()),
                "--format",
                "json",
                "--exit-zero-always",
                *(str(path) for _record, path in held),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        seconds = round(time.monotonic() - started, 2)
        try:
            results = json.loads(done.stderr or done.stdout)
        except json.JSONDecodeError as error:
            raise RuntimeError(f"the Nu HTML Checker said: {done.stderr[-2000:]}") from error
        version = results.get("version", "").split()[0]
        assert version == pinned_version(), f"the checker is {version}, not {pinned_version()}"
        by_file: dict[str, list[dict]] = {}
        for message in results.get("messages", []):
            # « file:/…/html/gw0-0001.html »: the file's name is unique in the run.
            by_file.setdefault(message.get("url", "").rsplit("/", 1)[-1], []).append(message)
        for record, path in held:
            messages = by_file.get(path.name, [])
            errors = [m for m in messages if m.get("type") in ("error", "non-document-error")]
            apart = [m for m in errors if is_container_query(m)]
            failures = [finding(m) for m in errors if m not in apart]
            check = record["checks"][KEY]
            check.update(
                outcome="failed" if failures else "passed",
                errors=failures[:MAX_FINDINGS],
                errors_count=len(failures),
                container_queries=[finding(m) for m in apart][:MAX_FINDINGS],
                warnings=len([m for m in messages if m.get("subType") == "warning"]),
                batch=name,
                batch_states=len(held),
                batch_seconds=seconds,
                checker=version,
            )
            if failures:
                check["message"] = describe(failures[:MAX_FINDINGS])[:2000]
        return [record for record, _path in held]
