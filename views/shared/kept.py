"""A form sent after its session ended: say so, keep its answers, give them back.

Without JavaScript nothing warns before the idle limit, and with it a sleeping device
runs no timer: the form then comes to a session that has ended. It is not acted on;
its answers (never a secret: ``models.shared.kept_answers``) are kept for the holder
whose session it was, and the browser goes to the sign-in page « session expirée »,
which carries the token of the answers. Signed in again, the holder lands on the same
page with the form filled in, not yet sent, and a message says so.

The form's token is checked against the secret of the session that ended (a citizen's
is derived from the sign-in token the browser still sends): a form posted from another
site never puts answers in someone's form.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, g, redirect, request, session, url_for
from flask_wtf.csrf import validate_csrf
from htmx_flask import make_response
from werkzeug.exceptions import HTTPException
from wtforms import ValidationError

from models.shared import kept_answers

from .render import this_address

CONSOLE_ROOT = "/gestion/"
# The sign-in page's parameters: the page to come back to, the kept answers' token.
NEXT = "next"
ANSWERS = "reprise"


def form_token_valid(secret: str | None = None) -> bool:
    """The form's token was given by the session whose secret is ``secret`` (None: the
    session's own), and, over HTTPS, the form came from this site (as CSRFProtect)."""
    previous = session.form_secret
    if secret is not None:
        session.form_secret = secret
    try:
        validate_csrf(request.form.get("csrf_token"))
    except ValidationError:
        return False
    finally:
        session.form_secret = previous
    return not request.is_secure or same_site(request.referrer) is not None


def same_site(address: str | None) -> str | None:
    """The path and query of ``address`` when it is one of this service's (under its
    script root), else None."""
    parts = urlsplit(address or "")
    if parts.scheme and (parts.scheme != request.scheme or parts.netloc != request.host):
        return None
    if not parts.path.startswith(request.script_root + "/"):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def shows_a_page(address: str) -> bool:
    """Whether GET ``address`` is a page of ours (not an action that only takes POST)."""
    path = urlsplit(address).path[len(request.script_root) :]
    try:
        current_app.url_map.bind_to_environ(request.environ).match(path, method="GET")
    except HTTPException:
        return False
    return True


def page_of_the_form(console: bool) -> str | None:
    """The page the form was on: the one the script names, else the page the browser
    says it came from, else the form's own address; only a page of the same side."""
    for candidate in (request.args.get(NEXT), request.referrer, this_address()):
        address = same_site(candidate)
        if address is None or any(ord(char) < 32 for char in address):
            continue
        in_console = address.startswith(request.script_root + CONSOLE_ROOT)
        if in_console == console and shows_a_page(address):
            return address
    return None


def answers_of_the_form() -> list[tuple[str, str]]:
    return kept_answers.worth_keeping(request.form.items(multi=True))


def session_ended(sign_in: str, holder: str | None, secret: str | None = None):
    """The answer to a form that came after the session of ``holder`` ended: its
    answers kept (when its token is that session's), then the sign-in page, which says
    the session expired and, after sign-in, comes back to the form's page."""
    console = sign_in.startswith("console.")
    page = page_of_the_form(console)
    token = None
    if holder is not None and page is not None and form_token_valid(secret):
        token = kept_answers.keep(holder, page, answers_of_the_form())
    return to_sign_in(sign_in, page, token)


def to_sign_in(sign_in: str, page: str | None, token: str | None = None):
    target = url_for(sign_in, expiree="1", next=page, reprise=token)
    if request.htmx:
        # A whole page: the header must show the signed-out state too.
        return make_response("", 204, redirect=target)
    return redirect(target, 303)


def answers_waiting() -> bool:
    """The sign-in page names answers kept for after sign-in."""
    return kept_answers.waiting(request.args.get(ANSWERS))


def give_back(holder: str, answers=None, page: str | None = None) -> str | None:
    """After sign-in: the answers kept under the sign-in page's token, if they are
    ``holder``'s, wait in the session for that page (``render.form_to_retry``); the page
    to go to. ``answers`` and ``page``: answers of a session still open (site.js)."""
    if answers is None:
        kept = kept_answers.take(request.args.get(ANSWERS), holder)
        if kept is None:
            return None
        answers, page = kept.answers, kept.page
    session["retry"] = {
        "path": urlsplit(page).path,
        "data": [list(pair) for pair in answers],
        "errors": {},
        "form_errors": [],
        "restored": True,
    }
    return page


def answers_given_back() -> bool:
    """This page shows answers kept while its holder was signed out (layout.html)."""
    return bool(g.get("answers_restored"))
