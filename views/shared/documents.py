"""Documents to download and their accessible HTML versions.

Each PDF is printed from HTML, by the same template (or the same part of one)
as its web page where it has one, and comes out tagged (PDF/UA-1): headings,
paragraphs and lists in a structure tree, in reading order, its language and
title set, its fonts embedded.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from functools import cache

from flask import Blueprint, Response, current_app, render_template

from models.attestation import Attestation
from models.letters import Letter
from models.shared.i18n import _, force_locale, language, short_date
from models.shared.pdf import pdf_from_html, size_label
from models.terms import sections, terms_title, terms_version

from .render import render_page

bp = Blueprint("documents", __name__, url_prefix="/documents")


def render_pdf(template: str, **context) -> bytes:
    return pdf_from_html(render_template(template, **context))


def attestation_pdf(attestation: Attestation) -> bytes:
    return render_pdf(
        "citizen/payment/attestation_pdf.html",
        attestation=attestation,
        document_title=attestation.document_title,
        author=attestation.organisation[0],
    )


def current_terms_pdf() -> bytes:
    config = current_app.config
    return _terms_pdf(language(), config["ORGANISATION_NAME"], config["CONTACT_EMAIL"], sections())


@cache
def _terms_pdf(language: str, organisation: str, contact: str, text) -> bytes:
    """Printed once per language and text: the file changes only when its words do."""
    with force_locale(language):
        return render_pdf(
            "shared/documents/terms_pdf.html",
            document_title=terms_title(),
            author=organisation,
            **_terms_context(text),
        )


def _terms_context(text) -> dict:
    return {"terms_title": terms_title(), "version": terms_version(), "sections": text}


def credentials_letters_html(
    letters: Iterable[Letter],
    day: date,
    public_url: str,
    organisation: str,
    contact: str,
    large_print: bool = False,
) -> str:
    """The letters of one file, one page each, or (``large_print``) in 16 pt on as many
    pages as each needs (needs an app context)."""
    return render_template(
        "shared/documents/credentials_letters.html",
        document_title=_("Vos codes de connexion - Carte mobilité inclusion"),
        author=organisation,
        letters=list(letters),
        day=short_date(day),
        public_url=public_url,
        organisation=organisation,
        contact=contact,
        large_print=large_print,
    )


def credentials_letters(
    letters: Iterable[Letter],
    day: date,
    public_url: str,
    organisation: str,
    contact: str,
    large_print: bool = False,
) -> bytes:
    """The letters as one PDF (needs an app context)."""
    return pdf_from_html(
        credentials_letters_html(letters, day, public_url, organisation, contact, large_print)
    )


def pdf_response(content: bytes, filename: str, cacheable: bool) -> Response:
    response = Response(content, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    response.headers["Cache-Control"] = "public, max-age=86400" if cacheable else "no-store"
    if cacheable:
        # A copy kept for a link is never the answer to htmx asking for it (which
        # is told to open the address itself: views/shared/web.py).
        response.headers["Vary"] = "Accept-Language, Cookie, HX-Request"
    return response


@bp.route("/conditions-generales.pdf")
def terms_download():
    return pdf_response(current_terms_pdf(), _("conditions-generales-cmi.pdf"), cacheable=True)


@bp.route("/conditions-generales")
def terms_page():
    return render_page(
        "shared/documents/terms.html",
        pdf_label=size_label(len(current_terms_pdf())),
        **_terms_context(sections()),
    )


def terms_link_label() -> str:
    return size_label(len(current_terms_pdf()))
