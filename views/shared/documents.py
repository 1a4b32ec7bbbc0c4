"""Documents to download and their accessible HTML versions."""

from __future__ import annotations

from flask import Blueprint, Response, current_app

from models.shared.pdf import size_label
from models.terms import TITLE, VERSION, sections, terms_pdf

from .render import render_page

bp = Blueprint("documents", __name__, url_prefix="/documents")


def current_terms_pdf() -> bytes:
    config = current_app.config
    return terms_pdf(config["ORGANISATION_NAME"], config["CONTACT_EMAIL"])


def pdf_response(content: bytes, filename: str, cacheable: bool) -> Response:
    response = Response(content, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    response.headers["Cache-Control"] = "public, max-age=86400" if cacheable else "no-store"
    return response


@bp.route("/conditions-generales.pdf")
def terms_download():
    return pdf_response(current_terms_pdf(), "conditions-generales-cmi.pdf", cacheable=True)


@bp.route("/conditions-generales")
def terms_page():
    return render_page(
        "shared/documents/terms.html",
        terms_title=TITLE,
        version=VERSION,
        sections=sections(),
        pdf_label=size_label(len(current_terms_pdf())),
    )


def terms_link_label() -> str:
    return size_label(len(current_terms_pdf()))
