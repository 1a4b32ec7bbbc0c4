"""Rendering one template as a whole page or, for htmx, as the part that changes."""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlsplit

from flask import (
    Flask,
    current_app,
    g,
    has_request_context,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.templating import Environment
from htmx_flask import make_response
from jinja2_fragments.flask import render_block
from markupsafe import Markup
from werkzeug.datastructures import MultiDict

from models.shared.i18n import _

SERVICE_SUFFIX = "CMI"


class Templates(Environment):
    """Flask's Jinja environment, with each template's globals in one plain dict.

    Jinja chains a template's globals to the environment's (a ChainMap), and at
    every ``{% from … import … %}`` compares the page's globals with the macro
    file's, key by key through the chain: 50 µs an import, a tenth of a page with
    four. A dict made when the template loads compares at C speed. The catch,
    which Jinja's documentation already asks of everyone: the globals are set
    before any template loads (they are, by ``create_app``).
    """

    def make_globals(self, d):
        return {**self.globals, **(d or {})}


class Service(Flask):
    jinja_environment = Templates

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._plain_urls: dict[tuple[str, str], str] = {}  # (blueprint, endpoint): path

    def url_for(self, /, endpoint: str, **options) -> str:
        """Flask's, but the address of a page without values (a menu's, a form's
        action) is built once per application: each build walks the URL map, about
        15 µs, and a page links some fifteen. Only within a request, where the
        address is a path."""
        if any(value is not None for value in options.values()) or not has_request_context():
            return super().url_for(endpoint, **options)
        return kept_address(
            self._plain_urls,
            (request.blueprint or "", endpoint),
            lambda: super(Service, self).url_for(endpoint, **options),
        )


def kept_address(kept: dict, key, build) -> str:
    """``build()``'s address, kept in ``kept`` under ``key`` the first time (inside a
    request). It is kept without the script root, which comes from each request:
    one entry per key, whatever a proxy says the root is."""
    root = request.script_root
    path = kept.get(key)
    if path is None:
        url = build()
        if not url.startswith(f"{root}/"):
            return url
        path = kept[key] = url[len(root) :]
    return root + path


# The areas of the signed-in citizen's menu (shared/site_nav.html) and the addresses
# under each: the pages there pass that ``nav`` (tests/test_pages.py holds both
# together). « Mes données » and its photo pages; the wizard and a request's pages.
MENU = (("account", ("/mes-donnees",)), ("request", ("/demande", "/demandes")))


def menu_area(path: str) -> str | None:
    """« account », « request » or None: which link of the menu is the page at ``path``."""
    for area, roots in MENU:
        if any(path == root or path.startswith(root + "/") for root in roots):
            return area
    return None


def current_path() -> str:
    """The address of the page an htmx request comes from (htmx says it), within
    the service (without the script root it may be served under)."""
    path = urlsplit(request.headers.get("HX-Current-URL", "")).path
    root = request.script_root
    return path[len(root) :] if root and path.startswith(root + "/") else path


def page_address() -> str:
    """The address the browser shows with this answer: this request's, unless the
    answer says otherwise (an htmx answer that pushes another address)."""
    return g.get("page_address") or this_address()


def this_address(query: bool = True) -> str:
    """This request's address as the browser reaches it: under the script root (a
    proxy may serve the service under a path), with its query unless told not to.
    Every address given back to the browser from the request is built here."""
    own = request.full_path.rstrip("?") if query else request.path
    return request.script_root + own


def htmx_target() -> str | None:
    """The id of the element an htmx request swaps (``body`` for the whole body).

    htmx 4 names it « tag#id » (``main#main``); a page loaded before a deployment
    may still run htmx 2, which sent the id alone, until it is reloaded.
    """
    if not request.htmx:
        return None
    return (request.headers.get("HX-Target") or "").rpartition("#")[2] or None


def from_htmx_2() -> bool:
    """An htmx request from a page still running htmx 2 (loaded before a deployment,
    until it is reloaded): htmx 4 always says which element asked (HX-Source)."""
    return bool(request.htmx) and "HX-Source" not in request.headers


def wants_fragment() -> bool:
    """An htmx request that swaps ``<main>``: answer with its content only."""
    return htmx_target() == "main"


def swapped_into_body() -> bool:
    """An htmx request that swaps the ``<body>`` (signing in): the layout leaves out
    the rest of the ``<head>``, which the page has already."""
    return htmx_target() == "body"


def render_page(template: str, status: int = 200, push_url: str | None = None, **context):
    """Render ``template`` whole, or its ``title`` and ``main`` blocks for htmx.

    Both come from the same template file, so a step has one source of markup.
    """
    if push_url is not None:
        g.page_address = push_url  # the address the browser shows with this answer
    if wants_fragment():
        title = render_block(template, "title", **context)
        main = render_block(template, "main", **context)
        body = f"<title>{title}</title>\n{main}"
        area = context.get("nav")
        if g.get("account") is not None and status < 400 and menu_area(current_path()) != area:
            # The header's menu marks the current area: when the answer leaves the
            # area of the page it is swapped into, the menu comes out of band too.
            # An error stays at its address, in its area: the menu stays as it is.
            body += render_template("shared/site_nav.html", oob_nav=True, nav=area)
        # The language link, in the header, points at the page now shown.
        body += render_template("shared/language_switch.html", oob_language=True)
        response = make_response(body, status, push_url=push_url)
    else:
        response = make_response(render_template(template, **context), status)
    return response


def public_base_url() -> str:
    """The service's own address: PUBLIC_URL when set, never a Host header an
    attacker chose (links in emails and the provider's return addresses)."""
    configured = current_app.config.get("PUBLIC_URL")
    return (configured or request.host_url).rstrip("/") + "/"


def external_url(endpoint: str, **values) -> str:
    """An absolute link to one of the service's pages."""
    return public_base_url().rstrip("/") + url_for(endpoint, **values)


def page_title(*parts: str, errors: bool = False) -> str:
    """« Erreur : Connexion - CMI »: unique per page, flagged while errors show (a part
    may be a lazy text: it is written in the page's language)."""
    # Markup joins escape plain parts once and keep parts a template escaped already.
    title = Markup(" - ").join([*parts, SERVICE_SUFFIX])
    # The catalogue is the service's own text: trusted markup, like a template.
    return Markup(_("Erreur : %(title)s")) % {"title": title} if errors else title  # noqa: S704


def safe_next(target: str | None, default: str) -> str:
    """Only a path of this service (under its script root): a sign-in link must not
    send users elsewhere (and a control character, a line break say, cannot go in a
    Location header)."""
    if not target or any(ord(char) < 32 or 127 <= ord(char) < 160 for char in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    if not target.startswith(request.script_root + "/"):
        return default
    return target


def login_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        if g.account is None:
            expired = {"expiree": "1"} if g.session_expired else {}
            # Every protected address is also a page: come back to it after signing in.
            target = url_for("auth.login", next=this_address(), **expired)
            if request.htmx:
                # A whole page: the header must show the signed-out state too.
                return make_response("", 204, redirect=target)
            return redirect(target, 303)
        return view(*args, **kwargs)

    return wrapped


# -- a form with errors, without JavaScript: POST, redirect, GET as well ---------------------
#
# Answering a failed POST with the page itself leaves a POST in the browser's
# history, and the back button would later offer to send the form again. So
# the answers and their errors wait in the session for the one next GET of
# the same page. Passwords and card details never go there.

NEVER_KEPT = {"csrf_token", "password", "confirmation", "number", "security_code", "expiry"}
# The session is a cookie (4 KB at most in browsers, or the user is signed out):
# only the form's own fields are kept, each cut to KEPT_VALUE_MAX characters (its
# error already counted on the whole of it), all of them to KEPT_TOTAL_MAX.
KEPT_VALUE_MAX = 200
KEPT_TOTAL_MAX = 1500


def kept_answers(form) -> list[tuple[str, str]]:
    """The answers of ``form`` worth showing again, small enough for the cookie."""
    own = {field.name for field in form} - NEVER_KEPT
    kept, budget = [], KEPT_TOTAL_MAX
    for name, value in request.form.items(multi=True):
        if name not in own or budget <= 0:
            continue
        value = value[: min(KEPT_VALUE_MAX, budget)]
        budget -= len(value) + len(name)
        kept.append((name, value))
    return kept


def retry_later(form):
    """Keep the answers and errors of ``form``, then redirect to the same page."""
    errors = {field.name: list(field.errors) for field in form if field.errors}
    return retry_with(errors, kept_answers(form), list(form.form_errors))


def retry_with(errors: dict[str, list[str]], answers=(), form_errors=()):
    """Redirect to the same page, which shows ``errors`` next to their fields (and
    ``answers`` again): also for a form whose body was never read."""
    session["retry"] = {
        "path": request.path,
        "data": list(answers),
        # Messages may be lazy (translated when shown): the cookie keeps their text.
        "errors": {name: [str(m) for m in messages] for name, messages in errors.items()},
        "form_errors": [str(m) for m in form_errors],
    }
    return redirect(this_address(), 303)


PRIVATE = "private_answer"


def keep_private() -> None:
    """This answer carries a secret or someone's data: never kept by a browser or a
    proxy, whoever asks (``web.private_answer``)."""
    setattr(g, PRIVATE, True)


def form_to_retry(make_form):
    """The form kept by ``retry_later`` for this page, with its errors, or None."""
    kept = session.pop("retry", None)
    if not kept or kept["path"] != request.path:
        return None
    keep_private()  # what was typed (an identifiant, an e-mail) is on the page again
    # Kept while its holder was signed out (``kept``): the page says so (layout.html).
    g.answers_restored = bool(kept.get("restored"))
    form = make_form(formdata=MultiDict(kept["data"]))
    for name, errors in kept["errors"].items():
        if name in form:
            form[name].errors = list(errors)
    form.form_errors = list(kept["form_errors"])
    return form


def show_errors(form, show):
    """Errors: with htmx, the step at once (422); without, POST-redirect-GET."""
    if request.htmx:
        return show(form, 422)
    return retry_later(form)
