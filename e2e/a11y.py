"""Accessibility checks run on each state a test reaches."""

from __future__ import annotations

import re

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page

# What must pass. Tags are case-sensitive: an unknown tag runs no rule at all.
REQUIRED_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "RGAAv4"]
ADVISORY_TAGS = ["best-practice"]

_axe = Axe()


def _describe(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"][:5]:
            lines.append(f"    {node['target']}: {node.get('failureSummary', '').strip()}")
    return "\n".join(lines)


class Accessibility:
    def __init__(self, browser: Browser, variant) -> None:
        self.browser = browser
        self.variant = variant

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
        if self.variant.javascript:
            return _axe.run(page, options=options).response
        html = page.content()
        url = page.url
        viewport = page.viewport_size
        context = self.browser.new_context(viewport=viewport, java_script_enabled=True)
        try:
            twin = context.new_page()
            twin.route(re.compile(r".*\.js(\?.*)?$"), lambda route: route.abort())
            twin.route(url, lambda route: route.fulfill(body=html, content_type="text/html"))
            twin.goto(url)
            return _axe.run(twin, options=options).response
        finally:
            context.close()

    def check(self, page: Page) -> dict:
        """Fail on any WCAG/RGAA violation; best practices are reported, not failed."""
        results = self.axe(page)
        evaluated = len(results["passes"]) + len(results["inapplicable"])
        assert evaluated > 0, "axe evaluated no rule: check the tags"
        required = [v for v in results["violations"] if set(v["tags"]) & set(REQUIRED_TAGS)]
        assert not required, f"axe violations on {page.url}:\n{_describe(required)}"
        self.check_page_basics(page)
        return results

    @staticmethod
    def check_page_basics(page: Page) -> None:
        assert page.locator("html").get_attribute("lang") == "fr"
        assert page.locator("h1").count() == 1, "exactly one h1"
        title = page.title()
        errors_shown = page.locator("#error-summary").count() > 0
        assert title.startswith("Erreur : ") == errors_shown, title
        assert title.endswith(" - CMI"), title
