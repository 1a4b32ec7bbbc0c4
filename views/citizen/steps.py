"""One way to render a page of the wizard: its step, indicator and title from the registry."""

from __future__ import annotations

from models.citizen.wizard import BY_KEY, INDICATOR, request_label

from ..shared.render import page_title, render_page


def step_context(card_request, key: str, page: str | None = None, errors: bool = False) -> dict:
    """What every page of step ``key`` shows: the indicator and the numbered title."""
    step = BY_KEY[key]
    return {
        "card_request": card_request,
        "step": step,
        "indicator": INDICATOR,
        "title": page_title(step.heading(page), request_label(card_request), errors=errors),
        # The step line names the page as its title does (said once: the heading's description).
        "step_page": page or step.title,
        "nav": "request",
    }


def render_step(
    template: str,
    card_request,
    key: str,
    *,
    page: str | None = None,
    errors: bool = False,
    status: int = 200,
    **context,
):
    """A page of step ``key`` (``page`` names it when it is not the step's own)."""
    return render_page(
        template, status=status, **step_context(card_request, key, page, errors), **context
    )
