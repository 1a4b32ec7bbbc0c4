"""« Mes données »: who the account acts for, their addresses, cards and requests."""

from __future__ import annotations

from flask import Blueprint, g

from models.cards import DUPLICATE, SECOND_COPY, cards_of, eligible_cards
from models.clock import clock
from models.requests import open_request, requests_of

from .render import login_required, render_page

bp = Blueprint("account", __name__)


@bp.route("/mes-donnees")
@login_required
def my_data():
    today = clock.today()
    cards = cards_of(g.account)
    by_beneficiary = {}
    for beneficiary in g.account.beneficiaries():
        by_beneficiary[beneficiary] = [c for c in cards if c.beneficiary_id == beneficiary.id]
    return render_page(
        "account/my_data.html",
        nav="account",
        today=today,
        by_beneficiary=by_beneficiary,
        duplicate=eligible_cards(g.account, DUPLICATE, today, cards),
        second_copy=eligible_cards(g.account, SECOND_COPY, today, cards),
        open_request=open_request(g.account),
        requests=requests_of(g.account),
    )
