"""« Mes données »: who the account acts for, their addresses, cards and requests."""

from __future__ import annotations

from flask import Blueprint, g

from models.cards import DUPLICATE, SECOND_COPY
from models.eligibility import account_cards, eligible
from models.factory import timeline
from models.people import beneficiaries_with_addresses
from models.photos import current_photos_of_account
from models.requests import CANCELLED, DRAFT, open_request, requests_of
from models.shared.clock import clock
from models.shared.i18n import lazy_gettext

from ..shared.render import login_required, render_page

bp = Blueprint("account", __name__)

# A request neither paid nor awaiting payment, in words (« Mes demandes »).
STATE_LABELS = {CANCELLED: lazy_gettext("Annulée"), DRAFT: lazy_gettext("Brouillon")}


@bp.route("/mes-donnees")
@login_required
def my_data():
    today = clock.today()
    held = account_cards(g.account)
    requests = requests_of(g.account)
    people = beneficiaries_with_addresses(g.account)
    return render_page(
        "citizen/account/my_data.html",
        nav="account",
        today=today,
        by_beneficiary={person: held.of(person) for person in people},
        photos=current_photos_of_account(g.account),
        duplicate=eligible(held, DUPLICATE, today),
        second_copy=eligible(held, SECOND_COPY, today),
        open_request=open_request(g.account),
        requests=requests,
        timelines={request.id: timeline(request) for request in requests},
        state_labels=STATE_LABELS,
    )
