"""Pages that say the same to everyone: home, accessibility, legal notice, contact."""

from __future__ import annotations

from flask import Blueprint, current_app, g, redirect, url_for

from models import retention

from .render import render_page

bp = Blueprint("pages", __name__)


@bp.route("/")
def home():
    if g.account is not None:
        return redirect(url_for("account.my_data"), 303)
    return render_page("shared/pages/home.html")


@bp.route("/accessibilite")
def accessibility():
    return render_page("shared/pages/accessibility.html")


@bp.route("/mentions-legales")
def legal():
    retention_figures = {
        "abandoned_days": retention.ABANDONED_AFTER.days,
        "keep_months": current_app.config["RETENTION_MONTHS"],
    }
    return render_page("shared/pages/legal.html", retention=retention_figures)


@bp.route("/contact")
def contact():
    return render_page("shared/pages/contact.html")
