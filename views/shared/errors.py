"""Error pages: every failure answers a page in the service's layout, never a stack trace."""

from __future__ import annotations

import re

from flask import Flask, Response, request
from flask_wtf.csrf import CSRFError
from peewee import InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException

from models.shared.i18n import _, lazy_gettext

from .render import render_page, this_address
from .server import error_answer

# Translated when a page shows them (lazy): the reader's language, not the server's.
ERROR_PAGES = {
    400: (
        lazy_gettext("Demande incorrecte"),
        [lazy_gettext("Le formulaire envoyé n'a pas pu être lu. Réessayez.")],
    ),
    403: (lazy_gettext("Accès refusé"), [lazy_gettext("Vous n'avez pas accès à cette page.")]),
    404: (
        lazy_gettext("Page non trouvée"),
        [
            lazy_gettext("Si vous avez saisi l'adresse de la page, vérifiez qu'elle est correcte."),
            lazy_gettext(
                "Si vous avez suivi un lien, il ne mène vers aucune page que vous pouvez voir."
            ),
        ],
    ),
    405: (
        lazy_gettext("Page non trouvée"),
        [lazy_gettext("Cette adresse ne s'utilise pas de cette façon.")],
    ),
    413: (
        lazy_gettext("Envoi trop volumineux"),
        [lazy_gettext("Les informations envoyées sont trop longues.")],
    ),
    503: (
        lazy_gettext("Le service est momentanément indisponible"),
        [
            lazy_gettext(
                "Votre demande en cours est conservée : rien de ce que vous avez déjà "
                "validé n'est perdu."
            ),
            lazy_gettext("Réessayez dans quelques minutes."),
        ],
    ),
    500: (
        lazy_gettext("Désolé, le service rencontre un problème"),
        [
            lazy_gettext("Votre demande en cours est conservée. Réessayez dans quelques minutes."),
            lazy_gettext("Si le problème continue, contactez-nous."),
        ],
    ),
}


def render_error(status: int, retry_url: str | None = None, retry_label: str | None = None):
    heading, paragraphs = ERROR_PAGES.get(status, ERROR_PAGES[500])
    try:
        return render_page(
            "shared/pages/error.html",
            status=status,
            heading=str(heading),
            paragraphs=[str(paragraph) for paragraph in paragraphs],
            retry_url=retry_url,
            retry_label=retry_label,
        )
    except Exception:
        # The request cannot even build a link (a Host header no server has, say):
        # a page of its own, with nothing to build.
        body = error_answer(status, ERROR_REASONS.get(status, "Error")).partition(b"\r\n\r\n")[2]
        return Response(body, status, content_type="text/html; charset=utf-8")


ERROR_REASONS = {400: "Bad Request", 404: "Not Found", 500: "Internal Server Error"}

# What says the database is out of reach for now (refused, dropped, locked, too
# slow), as opposed to a mistake in a query, which is a 500 like any other.
UNAVAILABLE = re.compile(
    r"database is locked|could not connect|connection|server closed|terminat|timeout|"
    r"canceling statement|the database system is|no route to host|timed out",
    re.IGNORECASE,
)


def database_unavailable(error: Exception) -> bool:
    return isinstance(error, InterfaceError) or bool(UNAVAILABLE.search(str(error)))


def register_error_pages(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(_error):
        return render_page(
            "shared/pages/error.html",
            status=400,
            heading=_("La page a expiré"),
            paragraphs=[
                _(
                    "Pour protéger vos données, ce formulaire n'a pas été pris en compte : "
                    "il a été envoyé depuis une page trop ancienne ou depuis une autre session."
                ),
                _("Rien n'a été modifié. Rechargez la page, puis recommencez."),
            ],
            retry_url=this_address(query=False) if request.method == "POST" else None,
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        return render_error(error.code or 500)

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    def database_error(error: Exception):
        app.logger.error("Database error", exc_info=error)
        if not database_unavailable(error):
            return render_error(500)
        # Refused, dropped or locked past its wait: the request may simply be tried again.
        again = this_address() if request.method == "GET" else None
        response = render_error(503, again, _("Réessayer"))
        response.headers["Retry-After"] = str(app.config["RETRY_AFTER_SECONDS"])
        return response

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        app.logger.exception("Unexpected error", exc_info=error)
        return render_error(500)
