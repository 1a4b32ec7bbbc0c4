"""The request wizard as data: its steps in order and the guard that keeps them in order."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .cards import DUPLICATE, SECOND_COPY
from .requests import DRAFT, PAID, CardRequest

# What the step indicator lists: « Étape N sur 5 ».
INDICATOR = ("Engagement", "Choix de la demande", "Livraison", "Paiement", "Récapitulatif")


@dataclass(frozen=True)
class Step:
    key: str
    title: str  # the page's own name, used in its <title>
    position: int  # its place in INDICATOR, from 1
    done: Callable[[CardRequest], bool]

    @property
    def indicator_label(self) -> str:
        return INDICATOR[self.position - 1]


STEPS = (
    Step("engagement", "Engagement", 1, lambda r: r.terms_accepted_at is not None),
    Step("choix", "Choix de la demande", 2, lambda r: r.kind is not None),
    # The selection and its confirmation belong to step 2 of the indicator.
    Step("selection", "Sélection des cartes", 2, lambda r: r.state != DRAFT),
    Step("livraison", "Livraison", 3, lambda r: r.delivery_checked_at is not None),
    Step("paiement", "Paiement", 4, lambda r: r.state == PAID),
    Step("recapitulatif", "Récapitulatif", 5, lambda r: False),
)
BY_KEY = {step.key: step for step in STEPS}


def first_missing(request: CardRequest) -> Step:
    """The first step not done: where the wizard resumes."""
    for step in STEPS:
        if not step.done(request):
            return step
    return STEPS[-1]


def blocking_step(request: CardRequest, key: str) -> Step | None:
    """The earlier step to go back to before ``key`` may be shown, or None.

    Typing a later step's address never skips a step.
    """
    for step in STEPS:
        if step.key == key:
            return None
        if not step.done(request):
            return step
    raise KeyError(key)


def previous(key: str) -> Step | None:
    index = [step.key for step in STEPS].index(key)
    return STEPS[index - 1] if index else None


def request_label(request: CardRequest | None) -> str:
    """How titles name the request: « Demande de duplicata »."""
    kind = request.kind if request is not None else None
    if kind == DUPLICATE:
        return "Demande de duplicata"
    if kind == SECOND_COPY:
        return "Demande de second exemplaire"
    return "Demande de duplicata ou de second exemplaire"
