"""The request wizard as data: one registry of its steps, read by the guard, the
step indicator, the page titles and the routes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..cards import DUPLICATE, SECOND_COPY
from ..requests import DRAFT, CardRequest
from ..shared.i18n import _, lazy_gettext

# What the step indicator lists: « Étape N sur 5 ». Each step's name is written once,
# here (translated when shown); the steps below, the headings and the titles use it.
INDICATOR = (
    lazy_gettext("Engagement"),
    lazy_gettext("Choix de la demande"),
    lazy_gettext("Livraison"),
    lazy_gettext("Paiement"),
    lazy_gettext("Récapitulatif"),
)
ENGAGEMENT, CHOICE, DELIVERY, PAYMENT, SUMMARY = INDICATOR


@dataclass(frozen=True)
class Step:
    key: str
    endpoint: str  # the route that shows it
    title: str  # the page's own name, used in its <title> (a lazy string: translated when shown)
    position: int  # its place in INDICATOR, from 1
    done: Callable[[CardRequest], bool]

    @property
    def indicator_label(self) -> str:
        return INDICATOR[self.position - 1]

    def heading(self, page: str | None = None) -> str:
        """« Étape 2 sur 5 : Choix de la demande », or the name of one of its pages."""
        return _(
            "Étape %(position)s sur %(total)s : %(page)s",
            position=self.position,
            total=len(INDICATOR),
            page=page or self.title,
        )


STEPS = (
    Step("engagement", "wizard.engagement", ENGAGEMENT, 1, lambda r: bool(r.terms_accepted_at)),
    Step("choix", "wizard.choice", CHOICE, 2, lambda r: r.kind is not None),
    # The selection and its confirmation belong to step 2 of the indicator.
    Step(
        "selection",
        "wizard.selection",
        lazy_gettext("Sélection des cartes"),
        2,
        lambda r: r.state != DRAFT,
    ),
    Step("livraison", "wizard.delivery", DELIVERY, 3, lambda r: r.delivery_checked_at is not None),
    Step("paiement", "wizard.payment", PAYMENT, 4, lambda r: r.is_paid),
    # The last step is the paid request's own page: it has its number in its address.
    Step("recapitulatif", "payment.summary", SUMMARY, 5, lambda r: False),
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


def request_label(request: CardRequest | None) -> str:
    """How titles name the request: « Demande de duplicata »."""
    kind = request.kind if request is not None else None
    if kind == DUPLICATE:
        return _("Demande de duplicata")
    if kind == SECOND_COPY:
        return _("Demande de second exemplaire")
    return _("Demande de duplicata ou de second exemplaire")
