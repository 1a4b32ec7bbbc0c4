"""Every check the accessibility regression suite runs on a state of a page.

A browser test walks a real flow and calls ``a11y.check(page, "Page : état")``
at each state it reaches. Each check is a named subtest, so a report line
reads « Connexion : erreurs [phone-nojs] axe », and its outcome goes to the
QA report (see ``report.py``).
"""

from __future__ import annotations

import os
import re
import time
import urllib.parse
from contextlib import contextmanager
from functools import cache
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page

from . import html_check
from .report import Report, slug

# What must pass. Tags are case-sensitive: an unknown tag runs no rule at all.
REQUIRED_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "RGAAv4"]
ADVISORY_TAGS = ["best-practice"]
ROOT = Path(__file__).resolve().parent.parent
SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE_SNAPSHOTS = os.environ.get("UPDATE_SNAPSHOTS") == "1"


def pinned_axe() -> Axe:
    """The axe-core release pinned in e2e/axe-core.pin, as `make axe` fetched it (the
    copy bundled with axe-playwright-python is older and is never used)."""
    version = (Path(__file__).parent / "axe-core.pin").read_text().split()[0]
    default = ROOT / ".venv" / f"axe-core-{version}.min.js"
    path = Path(os.environ.get("AXE_CORE", default))
    if not path.exists():
        raise RuntimeError(f"axe-core {version} is missing ({path}): run `make axe`")
    script = path.read_text(encoding="utf-8")
    assert script.startswith(f"/*! axe v{version}\n"), f"{path} is not axe-core {version}"
    return Axe(axe_script=script)


_axe = pinned_axe()

# What the structure check expects each language to say.
WORDS = {
    "fr": {"error": "Erreur : ", "skip": "Aller au contenu"},
    "en": {"error": "Error: ", "skip": "Skip to main content"},
}

# Values that change from run to run, replaced before ARIA snapshots and transcripts are
# compared. Dates are not among them: the service runs on the run's day, not the real
# one (`RUN_STARTS_AT`), so each page says the same date at every run. Its clock runs on
# from there (sessions end, locks last 15 minutes), so a time of day says how far into
# the run a state was reached: only the hours and minutes are masked, never the date.
VOLATILE = [
    (re.compile(r"\b(?:[01]\d|2[0-3]):[0-5]\d\b"), "HH:MM"),
    (re.compile(r"(Numéro d'autorisation[^\n]*\n[^\n]*?)\d{6}"), r"\1NNNNNN"),
    (re.compile(r"(Numéro d'autorisation\nend of term\ndefinition\n)\d{6}"), r"\1NNNNNN"),
    (re.compile(r"/url: \S+"), "/url: URL"),
    (re.compile(r"(- code: )[A-Z2-7 ]{20,}"), r"\1CLÉ SECRÈTE"),  # a new agent's TOTP key
    (re.compile(r"^(?:[A-Z2-7]{4} ){7}[A-Z2-7]{4}$", re.M), "CLÉ SECRÈTE"),  # the same, spoken
]  # fmt: skip


def _finding(rule: dict) -> dict:
    """What the report keeps of one axe rule that found something: the rule, and for
    each element it flagged (at most 20) where it is, what it is and what is wrong."""
    return {
        "id": rule["id"],
        "impact": rule.get("impact"),
        "help": rule["help"],
        "help_url": rule.get("helpUrl"),
        "count": len(rule["nodes"]),
        "nodes": [
            {
                "target": " ".join(str(part) for part in node.get("target", [])),
                "html": _cut(node.get("html", ""), 200),
                "name": node.get("name"),
                "summary": (node.get("failureSummary") or "").strip(),
            }
            for node in rule["nodes"][:20]
        ],
    }


def _cut(text: str, size: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= size else text[: size - 1] + "…"


def _describe(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"][:5]:
            lines.append(f"    {node['target']}: {node.get('failureSummary', '').strip()}")
    return "\n".join(lines)


class Accessibility:
    """The checks of one test, for one way of using the service (a variant)."""

    def __init__(self, browser: Browser, variant, subtests, report: Report) -> None:
        self.browser = browser
        self.variant = variant
        self.subtests = subtests
        self.report = report

    # -- the entry point -----------------------------------------------------------

    def check(self, page: Page, state: str | None = None, announced: str | None = None) -> None:
        """Run every check on what the page shows now, and record the outcome.

        ``announced``: what the status region may say in this state (it says
        nothing otherwise: old news must not trail at the end of the page).
        """
        # A state reached by a link or a form is checked once its page has loaded (a
        # copy of a page still arriving is an empty document).
        page.wait_for_load_state("load")
        state = state or page.title()
        self.announced = announced
        record = {
            "state": state,
            "variant": self.variant.name,
            "path": re.sub(r"\?.*", "", page.url.split("//", 1)[-1].split("/", 1)[-1]),
            "title": page.title(),
            "checks": {},
        }
        checks = [
            # First: the HTML as it is before the other checks touch the page.
            ("valid HTML", self._save_html),
            ("axe", self._axe_check),
            ("structure", self._structure),
            ("status region", self._status_region),
            ("wording", self._wording),
        ]
        if not self.variant.phone:
            # Once per state and JavaScript mode is enough for these.
            checks += [
                ("reflow 320 px", self._reflow),
                ("text 200 % at 320 px", self._text_200),
                ("forced colours and reduced motion", self._forced_colors),
                ("ARIA snapshot", self._aria_snapshot),
                ("spoken transcript", self._spoken_transcript),
            ]
        if self.variant.javascript:
            # Where the focus is in this state, once htmx has settled (it moves the focus
            # then), before the checks move it (the keyboard and forced-colours checks
            # tab through the page).
            page.wait_for_function(
                "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')"
            )
            page.evaluate(
                "() => new Promise(done => requestAnimationFrame(() => {"
                " window.__focusInState = document.activeElement; done(); }))"
            )
        for name, run in checks:
            started = time.monotonic()
            outcome = {"outcome": "passed"}
            with self.subtests.test(msg=f"{state} [{self.variant.name}] {name}"):
                try:
                    details = run(page, state)
                    if details:
                        outcome.update(details)
                except BaseException as error:
                    outcome = {"outcome": "failed", "message": str(error)[:2000]}
                    # What a failed check keeps whole for the report (a snapshot's diff).
                    outcome.update(getattr(error, "details", {}))
                    raise
                finally:
                    outcome["seconds"] = round(time.monotonic() - started, 2)
                    record["checks"][name] = outcome
        started = time.monotonic()
        record["screenshot"] = self.report.screenshot(page, state, self.variant.name)
        record["screenshot_seconds"] = round(time.monotonic() - started, 2)
        if self.report.add(record):
            self.check_html()

    # -- the Nu HTML Checker (html_check.py) ----------------------------------------------

    def _save_html(self, page: Page, _state: str) -> dict:
        """Keep this state's HTML for the checker's next batch: JavaScript off, the
        document as served; on, the document after htmx's swaps, serialized."""
        served = None if self.variant.javascript else html_check.served_html(page)
        if served is not None:
            return self.report.html.save(served, "served")
        return self.report.html.save(page.content(), "dom")

    def check_html(self) -> None:
        """Run the checker on the states held so far: each state's errors fail its
        « valid HTML » check (reported here, by the state's name)."""
        for record in self.report.check_html():
            check = record["checks"][html_check.KEY]
            with self.subtests.test(msg=f"{record['state']} [{record['variant']}] valid HTML"):
                if check["outcome"] == "skipped":
                    pytest.skip(check["message"])
                raise AssertionError(check["message"])

    # -- axe ---------------------------------------------------------------------------

    def axe(self, page: Page) -> dict:
        """axe's results for what the page shows now.

        axe cannot run where scripts are disabled (its queue never resolves), so
        for the JavaScript-off variant the exact HTML the browser shows is
        re-opened in a scripting context whose own page scripts are blocked.
        """
        options = {
            "runOnly": {"type": "tag", "values": REQUIRED_TAGS + ADVISORY_TAGS},
            "resultTypes": ["violations", "incomplete"],
        }
        with self.scripting(page) as target:
            # axe-playwright-python's run() injects axe again at every call and brings
            # back every node of every rule: here axe is injected once per document,
            # and only what the report uses comes back (0.5 s a state became 0.1 s).
            if not target.evaluate("() => typeof window.axe === 'object'"):
                target.evaluate(_axe.axe_script)
            return target.evaluate(AXE_RUN_JS, options)

    @contextmanager
    def scripting(self, page: Page):
        """A page where the suite's own scripts run: this one, or for the JavaScript-off
        variant the exact HTML it shows, re-opened where only the page's scripts are
        blocked."""
        if self.variant.javascript:
            yield page
            return
        html = page.content()
        url = page.url
        twin = _twin(self.browser, page.viewport_size)
        if _origin(twin.url) == _origin(url):
            # The same window, a new document: what the suite injected (axe, the
            # screen reader) stays loaded and warm from one state to the next.
            twin.evaluate(REWRITE_JS, {"html": html, "url": url})
        else:
            twin.route(url, lambda route: route.fulfill(body=html, content_type="text/html"))
            try:
                twin.goto(url)
            finally:
                twin.unroute(url)
        yield twin

    def _axe_check(self, page: Page, _state: str) -> dict:
        results = self.axe(page)
        evaluated = len(results["passes"]) + len(results["inapplicable"])
        assert evaluated > 0, "axe evaluated no rule: check the tags"
        required = [v for v in results["violations"] if set(v["tags"]) & set(REQUIRED_TAGS)]
        advisory = [v for v in results["violations"] if v not in required]
        tags = {
            tag
            for kind in ("passes", "violations", "incomplete")
            for rule in results[kind]
            for tag in rule["tags"]
        }
        criteria = sorted(
            {tag[5:] for tag in tags if tag.startswith("RGAA-")},
            key=lambda c: [int(part) for part in c.split(".")],
        )
        # « wcag1410 » is success criterion 1.4.10 (« wcag21aa » is a level, not one).
        wcag = sorted(
            {
                f"{m[1]}.{m[2]}.{m[3]}"
                for tag in tags
                if (m := re.fullmatch(r"wcag(\d)(\d)(\d+)", tag))
            },
            key=lambda c: [int(part) for part in c.split(".")],
        )
        details = {
            "rules_passed": len(results["passes"]),
            "rules_inapplicable": len(results["inapplicable"]),
            "violations": [_finding(v) for v in required],
            "best_practice": [_finding(v) for v in advisory],
            "incomplete": [_finding(v) for v in results["incomplete"]],
            "rgaa_criteria": criteria,
            "wcag_criteria": wcag,
        }
        if required:
            # A failed check keeps its findings, element by element, for the report.
            error = AssertionError(f"axe violations on {page.url}:\n{_describe(required)}")
            error.details = details
            raise error
        return details

    # -- page structure ------------------------------------------------------------------

    def _structure(self, page: Page, _state: str) -> None:
        language = page.locator("html").get_attribute("lang")
        assert language in WORDS, f"lang={language!r}"
        words = WORDS[language]
        assert page.locator("h1").count() == 1, "exactly one h1"
        title = page.title()
        errors_shown = page.locator("#error-summary").count() > 0
        assert title.startswith(words["error"]) == errors_shown, title
        assert title.endswith(" - CMI"), title
        heading = page.locator("h1").inner_text()
        assert self.report.title_is_unique(title, heading), f"title used by another page: {title}"
        skip = page.get_by_role("link", name=words["skip"])
        assert skip.count() == 1 and skip.get_attribute("href") == "#main"
        assert page.locator("main#main").count() == 1
        for link in page.locator("#error-summary a").all():
            target = link.get_attribute("href")
            assert target and target.startswith("#"), target
            field = page.locator(target)
            assert field.count() == 1, f"error link {target} points nowhere"
            tag = field.evaluate("el => el.tagName")
            assert tag in ("INPUT", "SELECT", "TEXTAREA"), f"{target} is a {tag}"
            # Followed with the keyboard, the link puts the focus on its field.
            link.focus()
            page.keyboard.press("Enter")
            focused = page.evaluate("() => document.activeElement && document.activeElement.id")
            assert focused == target[1:], f"error link {target} left the focus on #{focused}"
        if errors_shown:
            # Leave the page as it was: focus back on the summary, no #fragment in the URL.
            page.evaluate(
                "() => { history.replaceState(history.state, '',"
                " location.pathname + location.search);"
                " document.getElementById('error-summary').focus(); }"
            )

    def _status_region(self, page: Page, _state: str) -> dict:
        """The polite status region says something about this state, or nothing."""
        region = page.locator("#announcer")
        said = (region.text_content() or "") if region.count() else ""
        allowed = {"", self.announced or ""}
        assert said.strip() in allowed, f"the status region still says « {said.strip()} »"
        return {"said": said.strip()}

    # Words of a page that a screen reader user stumbles on, where a rule can see them.
    NO_ELISION = re.compile(r"\b[Dd]e (?=[AEIOUYÀÂÉÈÊËÎÏÔÙÛ][a-zà-ÿ])")
    CAPITALS = re.compile(r"\b(?:[A-ZÀ-Ý]{2,}[ ,:;'’]+){3,}[A-ZÀ-Ý]{2,}\b")

    def _wording(self, page: Page, _state: str) -> dict:
        """« d'Inès », not « de Inès »; no sentence in capitals."""
        # What is not prose (a code, a key to type) is left out.
        text = page.evaluate(
            """() => {
              const main = document.querySelector('main').cloneNode(true);
              main.querySelectorAll('code, kbd, samp').forEach(el => el.remove());
              document.body.appendChild(main);
              main.hidden = false;
              const text = main.innerText;
              main.remove();
              return text;
            }"""
        )
        problems = [f"« {m.group(0)}… » (elision)" for m in self.NO_ELISION.finditer(text)]
        problems += [f"« {m.group(0)} » (capitals)" for m in self.CAPITALS.finditer(text)]
        assert not problems, "; ".join(problems[:5])
        return {}

    # -- layout under magnification ---------------------------------------------------------

    def _reflow(self, page: Page, _state: str) -> dict:
        """WCAG 1.4.10: at 320 CSS px nothing scrolls sideways."""
        original = page.viewport_size
        page.set_viewport_size({"width": 320, "height": 640})
        try:
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
        finally:
            page.set_viewport_size(original)
        assert overflow <= 0, f"the page scrolls {overflow} px sideways at 320 px"
        return {"overflow_px": overflow}

    def _text_200(self, page: Page, _state: str) -> dict:
        """WCAG 1.4.4 and 1.4.10 together: text at 200 % on a 320 px screen (a phone with
        large text), nothing scrolls sideways, controls still whole and apart."""
        original = page.viewport_size
        page.set_viewport_size({"width": 320, "height": 640})
        try:
            problems = self._controls_at_200(page)
        finally:
            page.set_viewport_size(original)
        assert not problems, "at 200 % text, 320 px wide: " + "; ".join(problems[:10])
        return {}

    def _controls_at_200(self, page: Page) -> list[str]:
        return page.evaluate(
            """() => {
              const root = document.documentElement;
              const before = root.style.fontSize;
              root.style.fontSize = '200%';
              const width = root.clientWidth;
              const name = el => (el.textContent || el.name || el.id).trim().slice(0, 40);
              // With a modal dialog open, the page behind it is inert: its controls are
              // neither reachable nor on top, so only the dialog's count.
              const modal = document.querySelector('dialog:modal, [aria-modal=true]');
              const controls = [...(modal || document.querySelector('main')).querySelectorAll(
                'a[href], button, input:not([type=hidden]), select')]
                .filter(el => el.getClientRects().length
                              && !el.classList.contains('visually-hidden')
                              && getComputedStyle(el).visibility !== 'hidden');
              // Inline links wrap over lines: compare each line box, not the whole box.
              const boxes = controls.map(el => [el, [...el.getClientRects()]]);
              const found = [];
              for (const [el, rects] of boxes) {
                if (rects.some(r => r.right > width + 1 || r.left < -1))
                  found.push('cut off: ' + name(el));
              }
              const meet = (p, q) => Math.min(p.right, q.right) - Math.max(p.left, q.left) > 2
                                  && Math.min(p.bottom, q.bottom) - Math.max(p.top, q.top) > 2;
              for (let i = 0; i < boxes.length; i++)
              for (let j = i + 1; j < boxes.length; j++) {
                const [a, p] = boxes[i], [b, q] = boxes[j];
                if (a.contains(b) || b.contains(a)) continue;
                if (p.some(x => q.some(y => meet(x, y))))
                  found.push('overlap: ' + name(a) + ' / ' + name(b));
              }
              if (root.scrollWidth > width)
                found.push('page ' + root.scrollWidth + ' px wide');
              root.style.fontSize = before;
              return found;
            }"""
        )

    def _forced_colors(self, page: Page, _state: str) -> dict:
        """Forced colours and reduced motion: focus still visible, buttons still outlined.

        Focus moves with the Tab key, as a keyboard user's would, through the
        first controls of <main>.
        """
        page.emulate_media(forced_colors="active", reduced_motion="reduce")
        invisible, checked = [], 0
        try:
            page.evaluate("document.getElementById('main').focus({preventScroll: true})")
            for _ in range(12):
                page.keyboard.press("Tab")
                focused = page.evaluate(
                    """() => {
                      const el = document.activeElement;
                      if (!el || !el.closest('main')) return null;
                      const style = getComputedStyle(el);
                      return {name: (el.textContent || el.name || el.id).trim().slice(0, 40),
                              visible: style.outlineStyle !== 'none'
                                       && parseFloat(style.outlineWidth) >= 2};
                    }"""
                )
                if focused is None:
                    break
                checked += 1
                if not focused["visible"]:
                    invisible.append(focused["name"])
            flat = page.evaluate(
                """() => [...document.querySelectorAll('main button')]
                    .filter(el => el.getClientRects().length
                            && !el.classList.contains('button--link')
                            && parseFloat(getComputedStyle(el).borderTopWidth) < 1)
                    .map(el => el.textContent.trim())"""
            )
        finally:
            page.emulate_media(forced_colors="none", reduced_motion="no-preference")
            page.evaluate("document.activeElement && document.activeElement.blur()")
        assert not invisible, f"focus not visible on: {invisible}"
        assert not flat, f"buttons without a border: {flat}"
        return {"focus_stops_checked": checked}

    # -- what a screen reader hears --------------------------------------------------------

    def _aria_snapshot(self, page: Page, state: str) -> dict:
        # <main> only: the header names who is signed in, the rest is the same everywhere.
        snapshot = page.locator("main").aria_snapshot()
        for pattern, replacement in VOLATILE:
            snapshot = pattern.sub(replacement, snapshot)
        mode = "js" if self.variant.javascript else "nojs"
        return self._compare(SNAPSHOTS / f"{slug(state)}.{mode}.yml", snapshot, "ARIA snapshot")

    def _spoken_transcript(self, page: Page, state: str) -> dict:
        """What a screen reader says in this state: where the focus is (an htmx swap
        moves it), what the status region announced, then <main> (or the modal dialog
        open over it) read from the top, phrase by phrase, by a virtual screen reader
        running in the browser."""
        with self.scripting(page) as target:
            if not target.evaluate("() => typeof window.VirtualScreenReader === 'object'"):
                target.evaluate(_screen_reader_script())
            heard = target.evaluate(TRANSCRIPT_JS)
        lines = []
        if self.variant.javascript and heard["focus"]:
            lines.append(f"Focus : {heard['focus']}")
        # What the test declares was announced (the status region check holds the page
        # to it): the region itself says it only 100 ms after a swap, for 8 s.
        if self.announced:
            lines.append(f"Annonce : {self.announced}")
        if heard["modal"]:
            header = "--- lecture de la boîte de dialogue modale (le reste de la page est inerte)"
        else:
            header = "--- lecture de <main>"
        lines += [f"{header}, du début à la fin ---", *heard["reading"]]
        transcript = "\n".join(lines)
        for pattern, replacement in VOLATILE:
            transcript = pattern.sub(replacement, transcript)
        mode = "js" if self.variant.javascript else "nojs"
        return self._compare(
            SNAPSHOTS / f"{slug(state)}.{mode}.spoken.txt", transcript, "transcript"
        )

    def _compare(self, path: Path, text: str, kind: str) -> dict:
        """``text`` against its committed file (or the file rewritten, on request)."""
        # What this run produced, kept in the report's folder for the report to link to.
        kept = {"snapshot": path.name, "file": self.report.text(path.name, text + "\n")}
        if UPDATE_SNAPSHOTS:
            path.parent.mkdir(exist_ok=True)
            path.write_text(text + "\n", encoding="utf-8")
            return {**kept, "written": True}
        # A new state has no snapshot yet: writing one here would pass unseen.
        if not path.exists():
            error = AssertionError(
                f"no committed {kind} {path.name}: run UPDATE_SNAPSHOTS=1 make test, "
                "read the new file, then commit it\n" + text
            )
            error.details = {**kept, "diff": _diff("", text)}
            raise error
        expected = path.read_text(encoding="utf-8").rstrip("\n")
        if text != expected:
            # The record keeps the whole diff (the message is cut to 2000 characters).
            diff = _diff(expected, text)
            error = AssertionError(
                f"what a screen reader hears changed ({path.name}); if intended, run "
                "UPDATE_SNAPSHOTS=1 make test and review the diff\n" + diff
            )
            error.details = {**kept, "diff": diff}
            raise error
        return kept


# Run in the page: the virtual screen reader reads the focused element (as moving the
# focus there announces it), then <main> (or the modal dialog open over the page) from
# its start to its end. What it says is corrected where it says what no screen reader
# says (see the comments).
TRANSCRIPT_JS = """async () => {
  const {virtual} = window.VirtualScreenReader;
  // The reader reads states from attributes: give them the fields' current state
  // (what the user ticked, chose or typed), which the properties alone hold.
  document.querySelectorAll('input, option').forEach(el => {
    if (el.tagName === 'OPTION') el.toggleAttribute('selected', el.selected);
    else if (['checkbox', 'radio'].includes(el.type)) el.toggleAttribute('checked', el.checked);
    else if (!['password', 'file', 'hidden'].includes(el.type)) el.setAttribute('value', el.value);
  });
  // The reader speaks an element's `value` property after its name. A button's value is
  // what its form sends, never spoken; a select is spoken with its chosen option's text,
  // not the value its form sends. Shadowed on the elements while they are read (their
  // form still sends theirs), then given back.
  const shadowed = [];
  const speak = (el, value) => {
    Object.defineProperty(el, 'value', {configurable: true, get: () => value});
    shadowed.push(el);
  };
  const buttons = 'button, input[type=submit], input[type=reset], input[type=button]';
  document.querySelectorAll(buttons + ', input[type=image]').forEach(el => speak(el, ''));
  document.querySelectorAll('option')
    .forEach(el => speak(el, el.label.trim().replace(/\\s+/g, ' ')));
  const read = async container => {
    await virtual.start({container, displayCursor: false});
    const spoken = [{phrase: await virtual.lastSpokenPhrase(), node: virtual.activeNode,
                     item: await virtual.itemText()}];
    for (let i = 0; i < 3000; i++) {
      const last = spoken[spoken.length - 1];
      if (i > 0 && last.node === container && last.phrase.startsWith('end of')) break;
      await virtual.next();
      spoken.push({phrase: await virtual.lastSpokenPhrase(), node: virtual.activeNode,
                   item: await virtual.itemText()});
    }
    await virtual.stop();
    // An element whose content is only text that its name already says (a cell holding
    // a <span>) is read once, as a screen reader does: the reader reads it whole only
    // when the text is its one child.
    const squash = text => text.replace(/\\s+/g, '');
    const reading = [];
    for (let i = 0; i < spoken.length; i++) {
      const {phrase, node, item} = spoken[i];
      reading.push(phrase);
      if (!node || node.nodeType !== 1 || !item || phrase.startsWith('end of')) continue;
      let j = i + 1;
      while (j < spoken.length && spoken[j].node && spoken[j].node.nodeType === 3) j++;
      if (j > i + 1 && j < spoken.length && spoken[j].node === node
          && squash(spoken.slice(i + 1, j).map(e => e.phrase).join('')) === squash(item)) i = j;
    }
    return reading;
  };
  try {
    const before = document.activeElement;
    const active = window.__focusInState || before;
    let focus = null;
    if (active && active !== document.body && active !== document.documentElement) {
      await virtual.start({container: active, displayCursor: false});
      focus = await virtual.lastSpokenPhrase();
      await virtual.stop();
    }
    // A modal dialog open (showModal, or aria-modal): a screen reader reads it alone, the
    // rest of the page is inert. Otherwise <main> only, as the ARIA snapshot: the header
    // and footer are the same everywhere but for who is signed in.
    const modal = [...document.querySelectorAll('dialog, [role=dialog], [role=alertdialog]')]
      .filter(el => el.matches('dialog:modal')
                    || (el.getAttribute('aria-modal') === 'true' && el.getClientRects().length))
      .at(-1);
    const reading = await read(modal || document.querySelector('main'));
    if (before && before.focus && document.activeElement !== before) before.focus();
    return {focus, reading, modal: !!modal};
  } finally {
    shadowed.forEach(el => delete el.value);
  }
}"""


# axe on the document, brought back brief: the rules that passed or did not apply as
# their id and tags only (the report counts them and reads their criteria).
AXE_RUN_JS = """async options => {
  const results = await axe.run(document, {...options, elementRef: true});
  const brief = rules => rules.map(rule => ({id: rule.id, tags: rule.tags}));
  // Each node found keeps its element's accessible name, as axe computes it, in
  // place of the element itself (which cannot leave the page).
  const flagged = [...results.violations, ...results.incomplete];
  axe.setup(document);
  try {
    for (const rule of flagged) for (const node of rule.nodes) {
      try { node.name = axe.commons.text.accessibleText(node.element) || ''; }
      catch (error) { node.name = null; }
    }
  } finally {
    axe.teardown();
  }
  for (const rule of flagged) for (const node of rule.nodes) delete node.element;
  return {
    passes: brief(results.passes),
    inapplicable: brief(results.inapplicable),
    violations: results.violations,
    incomplete: results.incomplete,
  };
}"""


# One scripting page per browser and screen size, kept for the whole run: a new
# context for every state cost a second of each JavaScript-off state. Each state's
# HTML is written into it as a new document of the same window (at the state's
# address), once its stylesheet has loaded.
_TWINS: dict[tuple, Page] = {}
REWRITE_JS = """async ({html, url}) => {
  history.replaceState(null, '', url);
  document.open();
  document.write(html);
  document.close();
  if (document.readyState !== 'complete') {
    await new Promise(done => {
      window.addEventListener('load', done, {once: true});
      setTimeout(done, 5000);
    });
  }
}"""


def _origin(url: str) -> tuple[str, str]:
    parts = urllib.parse.urlsplit(url)
    return parts.scheme, parts.netloc


def _twin(browser: Browser, viewport: dict) -> Page:
    key = (id(browser), viewport["width"], viewport["height"])
    twin = _TWINS.get(key)
    if twin is None or twin.is_closed():
        context = browser.new_context(viewport=viewport, java_script_enabled=True)
        twin = context.new_page()
        # The page's own scripts stay off, as in the variant it copies.
        twin.route(re.compile(r".*\.js(\?.*)?$"), lambda route: route.abort())
        _TWINS[key] = twin
    return twin


@cache
def _screen_reader_script() -> str:
    path = Path(os.environ.get("VIRTUAL_SCREEN_READER", ROOT / ".venv/virtual-screen-reader.js"))
    if not path.exists():
        raise RuntimeError(f"the virtual screen reader is missing ({path}): run `make sr`")
    return path.read_text(encoding="utf-8")


def _diff(expected: str, actual: str) -> str:
    import difflib

    return "\n".join(
        difflib.unified_diff(
            expected.splitlines(), actual.splitlines(), "committed", "now", lineterm="", n=1
        )
    )
