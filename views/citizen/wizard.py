"""The request wizard: one function per step, the guard and the transitions.

Without JavaScript every transition is POST, redirect, GET. With htmx the
POST is answered at once with the next step's ``<main>`` and its URL, so a
step costs one request; both render the same template.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import Blueprint, g, redirect, request, url_for
from htmx_flask import make_response
from jinja2_fragments.flask import render_block
from markupsafe import escape

from models import ordering, payments
from models import requests as card_requests
from models.addresses import address_errors, clean_address
from models.cards import DUPLICATE, REASON_LABELS, SECOND_COPY
from models.citizen.wizard import BY_KEY, STEPS, blocking_step, first_missing
from models.eligibility import Eligibility, eligible_cards
from models.pricing import price
from models.shared.clock import clock
from models.shared.i18n import _, lazy_gettext

from ..shared.render import (
    form_to_retry,
    from_htmx_2,
    login_required,
    show_errors,
    wants_fragment,
)
from .forms import KIND_CHOICES, YES_NO, ChoiceForm, DeliveryForm, EngagementForm
from .payment import handoff, start_attempt
from .selection import initial_data, selection_form
from .steps import render_step, step_context

bp = Blueprint("wizard", __name__, url_prefix="/demande")

# Under each option of « Choix de la demande », in plain words.
EXPLANATIONS = {
    DUPLICATE: lazy_gettext(
        "Une nouvelle carte, après une perte, un vol ou une destruction. Elle donne les mêmes "
        "droits, pour la même durée, que la carte qu'elle remplace. La carte remplacée est "
        "annulée dès que vous validez la demande : elle ne pourra plus être utilisée."
    ),
    SECOND_COPY: lazy_gettext(
        "Une deuxième carte de stationnement, identique à la première, par exemple pour les "
        "deux parents d'un enfant. La première carte reste valable."
    ),
}


# -- plumbing -------------------------------------------------------------------------

# What each step's page shows, by step key: for htmx transitions that render
# the next step at once. Filled by ``@shows``; checked against the registry below.
SHOW: dict[str, Callable] = {}


def shows(key: str):
    def register(show):
        SHOW[key] = show
        return show

    return register


def wizard_step(key: str):
    """Load the account's open request; send the user back to a step not yet done."""

    def decorate(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if key == "engagement":
                card_request = ordering.start_or_resume(g.account)
            else:
                card_request = card_requests.open_request(g.account)
            if card_request is None:
                # Nothing in progress: after a payment the back button lands here,
                # and must show the paid request rather than start another.
                just_paid = card_requests.recently_paid(g.account)
                if just_paid is not None:
                    return redirect(url_for("payment.summary", number=just_paid.number), 303)
                return redirect(url_for("wizard.start"), 303)
            blocker = blocking_step(card_request, key)
            if blocker is not None:
                return redirect(url_for(blocker.endpoint), 303)
            return view(card_request, *args, **kwargs)

        return wrapped

    return decorate


def answer_with(endpoint: str, show: Callable, card_request):
    """After a successful POST: redirect, or with htmx render that page now (one request)."""
    url = url_for(endpoint)
    if request.htmx:
        g.page_address = url  # the page shown, whose links (its language's) it gives
        response = show(card_requests.CardRequest.get_by_id(card_request.id))
        response.headers["HX-Push-Url"] = url
        return response
    return redirect(url, 303)


def go_to(key: str, card_request):
    return answer_with(BY_KEY[key].endpoint, SHOW[key], card_request)


def eligibility_of(card_request) -> Eligibility:
    """Read once per HTTP request, then handed to whatever shows or checks it."""
    return eligible_cards(g.account, card_request.kind, clock.today())


# -- start ----------------------------------------------------------------------------


@bp.route("")
@login_required
def start():
    card_request = ordering.start_or_resume(g.account)
    # With htmx the step is rendered at once (one request); without, a redirect.
    return go_to(first_missing(card_request).key, card_request)


# -- 1. Engagement --------------------------------------------------------------------


@shows("engagement")
def show_engagement(card_request, form=None, status=200):
    if form is None:
        form = EngagementForm(
            formdata=None, data={"accept": card_request.terms_accepted_at is not None}
        )
    return render_step(
        "citizen/wizard/engagement.html",
        card_request,
        "engagement",
        errors=bool(form.errors),
        status=status,
        form=form,
    )


@bp.route("/engagement", methods=["GET", "POST"])
@wizard_step("engagement")
def engagement(card_request):
    if not card_request.is_editable:
        return redirect(url_for(BY_KEY["selection"].endpoint), 303)
    if request.method == "GET":
        # The answer kept in the draft, or the one just refused with its error.
        return show_engagement(card_request, form_to_retry(EngagementForm))
    form = EngagementForm()
    if form.validate_on_submit():
        ordering.accept_terms(card_request)
        return go_to("choix", card_request)
    return show_errors(form, lambda form, status: show_engagement(card_request, form, status))


# -- 2. Choix de la demande -----------------------------------------------------------


@shows("choix")
def show_choice(card_request, form=None, status=200):
    if form is None:
        form = ChoiceForm(formdata=None, data={"kind": card_request.kind})
    return render_step(
        "citizen/wizard/choice.html",
        card_request,
        "choix",
        errors=bool(form.errors),
        status=status,
        form=form,
        explanations=EXPLANATIONS,
        kinds=KIND_CHOICES,
    )


@bp.route("/choix", methods=["GET", "POST"])
@wizard_step("choix")
def choice(card_request):
    if not card_request.is_editable:
        return redirect(url_for(BY_KEY["selection"].endpoint), 303)
    if request.method == "GET":
        return show_choice(card_request, form_to_retry(ChoiceForm))
    form = ChoiceForm()
    if request.form.get("action") == "precedent":
        if form.kind.data in EXPLANATIONS:
            ordering.choose_kind(card_request, form.kind.data)
        return go_to("engagement", card_request)
    if form.validate_on_submit():
        ordering.choose_kind(card_request, form.kind.data)
        return go_to("selection", card_request)
    return show_errors(form, lambda form, status: show_choice(card_request, form, status))


# -- 2 (continued). Selection and confirmation ----------------------------------------


@shows("selection")
def show_selection(
    card_request, eligibility=None, form=None, status=200, dialog=False, conflict=None
):
    if not card_request.is_editable:
        return render_step(
            "citizen/wizard/selection_recorded.html",
            card_request,
            "selection",
            page=_("Demande validée"),
            lines=card_request.lines_with_cards(),
            today=clock.today(),
        )
    if eligibility is None:
        eligibility = eligibility_of(card_request)
    if form is None and eligibility.cards:
        form = selection_form(
            eligibility.cards,
            card_request.kind,
            formdata=None,
            data=initial_data(card_request.selection, card_request.honour_declared),
        )
    extra = {"in_dialog": True, **confirm_context(card_request, eligibility)} if dialog else {}
    return render_step(
        "citizen/wizard/selection.html",
        card_request,
        "selection",
        errors=bool(form and form.errors),
        status=status,
        form=form,
        eligibility=eligibility,
        reasons=list(REASON_LABELS.items()),
        dialog=dialog,
        conflict=conflict,
        **extra,
    )


@bp.route("/selection", methods=["GET", "POST"])
@wizard_step("selection")
def selection(card_request):
    if not card_request.is_editable:
        return show_selection(card_request)
    eligibility = eligibility_of(card_request)
    if not eligibility.cards:
        return show_selection(card_request, eligibility)
    if request.method == "GET":
        kept = form_to_retry(
            lambda **kwargs: selection_form(eligibility.cards, card_request.kind, **kwargs)
        )
        return show_selection(card_request, eligibility, kept)
    form = selection_form(eligibility.cards, card_request.kind)
    if request.form.get("action") == "precedent":
        if form.is_submitted():
            ordering.save_selection(card_request, form.chosen(), form.honour.data)
        return go_to("choix", card_request)
    if not form.validate_on_submit():
        return show_errors(
            form, lambda form, status: show_selection(card_request, eligibility, form, status)
        )
    ordering.save_selection(card_request, form.chosen(), True)
    if wants_fragment():
        # With JavaScript the confirmation opens as a modal dialog over the page. A
        # page that shows errors (its form says so) comes again without them; any
        # other gets the dialog alone, its answers left as they are.
        # (htmx 2 would swap <main> with nothing: a page loaded before htmx 4 gets
        # the whole step.)
        if request.form.get(ERRORS_SHOWN) or from_htmx_2():
            response = show_selection(card_request, eligibility, dialog=True)
        else:
            response = show_confirmation_dialog(card_request, eligibility)
        # A dialog over the same page: no new entry in the browser's history.
        response.headers["HX-Push-Url"] = "false"
        return response
    return redirect(url_for("wizard.confirmation"), 303)


# Sent by the selection's form while it shows errors (selection.html).
ERRORS_SHOWN = "erreurs-affichees"


def show_confirmation_dialog(card_request, eligibility: Eligibility):
    """htmx: the confirmation dialog, into the page's slot for it (out of band)."""
    dialog = render_block(
        "citizen/wizard/selection.html",
        "dialog",
        card_request=card_request,
        in_dialog=True,
        **confirm_context(card_request, eligibility),
    )
    return make_response(f'<div id="dialog-slot" data-hx-swap-oob="true">{dialog}</div>', 200)


def confirm_context(card_request, eligibility: Eligibility) -> dict:
    """The cards about to be ordered, as the confirmation lists them."""
    by_number = eligibility.by_number()
    chosen = [
        (by_number[number], reason)
        for number, reason in sorted(card_request.selection.items())
        if number in by_number
    ]
    return {"chosen": chosen}


@bp.route("/confirmation", methods=["GET", "POST"])
@wizard_step("selection")
def confirmation(card_request):
    if not card_request.is_editable:
        # A second « Oui » (double click, other tab) goes on; the back button
        # shows the validated selection, which can no longer change.
        return go_to("livraison" if request.method == "POST" else "selection", card_request)
    if not card_request.selection or not card_request.honour_declared:
        return redirect(url_for(BY_KEY["selection"].endpoint), 303)
    if request.method == "POST":
        try:
            ordering.record(card_request, clock.today())
        except ordering.SelectionError:
            return show_selection_after_conflict(card_request)
        # Recorded now, or already by a first click or another tab: go on either way.
        return go_to("livraison", card_request)
    return render_step(
        "citizen/wizard/confirmation.html",
        card_request,
        "selection",
        page=_("Validation de la demande"),
        in_dialog=False,
        **confirm_context(card_request, eligibility_of(card_request)),
    )


CONFLICT = lazy_gettext(
    "Une des cartes choisies ne peut plus faire l'objet de cette demande : une autre demande "
    "la concerne déjà. Votre demande n'a pas été enregistrée et aucune carte n'a été révoquée."
)


def show_selection_after_conflict(card_request):
    # The cards changed since the page was shown: read them again, once.
    eligibility = eligibility_of(card_request)
    if not eligibility.cards:
        return show_selection(card_request, eligibility, status=409, conflict=CONFLICT)
    form = selection_form(
        eligibility.cards,
        card_request.kind,
        formdata=None,
        data=initial_data({}, card_request.honour_declared),
    )
    check = _("Vérifiez votre sélection.")
    form.form_errors.append(f"{CONFLICT} {check}")
    return show_selection(card_request, eligibility, form, 409)


# -- 3. Livraison ---------------------------------------------------------------------


def delivery_context(card_request) -> dict:
    beneficiaries = []
    for line in card_request.lines_with_cards():
        if line.card.beneficiary not in beneficiaries:
            beneficiaries.append(line.card.beneficiary)
    return {"beneficiaries": beneficiaries, "delivery": card_request.delivery_address}


@shows("livraison")
def show_delivery(card_request, form=None, status=200, editing=False):
    if form is None:
        data = card_request.delivery_address.as_dict()
        if editing:
            data.update(correct="non", editing="1")
        elif card_request.delivery_checked_at is not None:
            data["correct"] = "oui"
        form = DeliveryForm(formdata=None, data=data)
    return render_step(
        "citizen/wizard/delivery.html",
        card_request,
        "livraison",
        errors=bool(form.errors),
        status=status,
        form=form,
        yes_no=YES_NO,
        editing=editing,
        **delivery_context(card_request),
    )


@bp.route("/livraison", methods=["GET", "POST"])
@wizard_step("livraison")
def delivery(card_request):
    if not card_request.is_recorded:
        return go_to("paiement", card_request)
    if request.method == "GET":
        kept = form_to_retry(DeliveryForm)
        if kept is not None:
            return show_delivery(card_request, kept, editing=kept.editing.data == "1")
        return show_delivery(card_request, editing=request.args.get("modifier") == "1")
    form = DeliveryForm()
    if request.form.get("action") == "precedent":
        return go_to("selection", card_request)

    def again(form, status):
        return show_delivery(card_request, form, status, editing=form.editing.data == "1")

    if not form.validate_on_submit():
        return show_errors(form, again)
    if form.correct.data == "oui":
        ordering.check_delivery(card_request)
        return go_to("paiement", card_request)
    if form.editing.data != "1":
        # « Non » without JavaScript: the same page again, the fields now open.
        if request.htmx:
            return show_delivery(card_request, editing=True)
        return redirect(url_for(BY_KEY["livraison"].endpoint, modifier="1"), 303)
    address = clean_address(form.address_data())
    errors = address_errors(address, example_name=g.account.display_name)
    if errors:
        for field, message in errors.items():
            form[field].errors.append(message)
        return show_errors(form, again)
    ordering.change_delivery(card_request, address, remember=form.remember.data)
    return answer_with("wizard.delivery_changed", show_delivery_changed, card_request)


@bp.route("/livraison/adresse")
@wizard_step("livraison")
def delivery_address_block(card_request):
    """htmx: swap the read-only address for the editable fields, or back."""
    editing = request.args.get("correct") == "non"
    if not request.htmx:
        endpoint = BY_KEY["livraison"].endpoint
        return redirect(url_for(endpoint, modifier="1" if editing else None), 303)
    data = card_request.delivery_address.as_dict()
    form = DeliveryForm(formdata=None, data={**data, "editing": "1" if editing else ""})
    body = render_block(
        "citizen/wizard/delivery.html",
        "address",
        form=form,
        editing=editing,
        **delivery_context(card_request),
    )
    # Errors shown for fields now gone go with them, and so does « Erreur : » in the title.
    title = escape(step_context(card_request, "livraison")["title"])
    body += f'<div id="delivery-errors" data-hx-swap-oob="true"></div><title>{title}</title>'
    message = (
        _("Adresse de livraison modifiable") if editing else _("Adresse de livraison affichée")
    )
    return make_response(body, 200, trigger={"announce": message})


def show_delivery_changed(card_request):
    return render_step(
        "citizen/wizard/delivery_changed.html",
        card_request,
        "livraison",
        page=_("Adresse de livraison modifiée"),
        delivery=card_request.delivery_address,
    )


@bp.route("/livraison/modifiee")
@wizard_step("livraison")
def delivery_changed(card_request):
    return show_delivery_changed(card_request)


# -- 4. Paiement ----------------------------------------------------------------------


PAYMENT_MESSAGES = {
    "refuse": lazy_gettext(
        "Votre paiement a été refusé par votre banque. Aucune somme n'a été débitée. "
        "Vous pouvez réessayer, avec la même carte ou une autre."
    ),
    "annule": lazy_gettext(
        "Vous avez annulé le paiement. Aucune somme n'a été débitée. Votre demande est "
        "conservée : vous pouvez payer maintenant ou plus tard."
    ),
    "interrompu": lazy_gettext(
        "Un paiement a été commencé mais n'a pas été terminé. Vous pouvez le reprendre : "
        "votre demande ne sera payée qu'une fois."
    ),
}


@shows("paiement")
def show_payment(card_request, result: str | None = None):
    lines = card_request.lines_with_cards()
    latest = payments.latest_payment(card_request)
    if result not in PAYMENT_MESSAGES and latest is not None and latest.state == payments.PENDING:
        result = "interrompu"
    return render_step(
        "citizen/wizard/payment.html",
        card_request,
        "paiement",
        lines=lines,
        breakdown=price(len(lines), card_request.delivery_address.country),
        message=PAYMENT_MESSAGES.get(result),
        refunds=payments.refunds_due(card_request),
    )


# The event that sends the hand-off form (static/js/site.js).
SEND_TO_PROVIDER = "send-to-provider"


@bp.route("/paiement", methods=["GET", "POST"])
@wizard_step("paiement")
def payment(card_request):
    if request.method == "POST":
        if request.form.get("action") == "precedent":
            return go_to("livraison", card_request)
        start_attempt(card_request)
        # With htmx the hand-off form comes in this answer and sends itself: one
        # round trip, not a redirect and a whole page before the provider's. Only
        # this answer says so (static/js/site.js): the same form brought by any other
        # swap (signing in again after the back button) waits for « Continuer ».
        response = answer_with("wizard.payment_handoff", show_payment_handoff, card_request)
        if request.htmx:
            response.headers["HX-Trigger"] = SEND_TO_PROVIDER
        return response
    return show_payment(card_request, request.args.get("resultat"))


@bp.route("/paiement/envoi")
@wizard_step("paiement")
def payment_handoff(card_request):
    return show_payment_handoff(card_request)


def show_payment_handoff(card_request):
    """After « Payer »: the form that takes the browser to the provider's page.

    With JavaScript it sends itself at once (never when the back button
    brings the user here again); without, the user presses « Continuer ».
    """
    redirection = handoff(card_request)
    if redirection is None:
        return redirect(url_for(BY_KEY["paiement"].endpoint), 303)
    return render_step(
        "citizen/wizard/payment_handoff.html",
        card_request,
        "paiement",
        page=_("Vers le paiement sécurisé"),
        redirection=redirection,
        amount=payments.amount_due(card_request),
    )


# Every step the wizard's routes show has its page here (the last one is the
# paid request's own page, in ``payment``).
if set(SHOW) != {step.key for step in STEPS if step.endpoint.startswith(f"{bp.name}.")}:
    raise RuntimeError("a step of models.citizen.wizard.STEPS has no page in this module")
