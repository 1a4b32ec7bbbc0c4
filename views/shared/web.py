"""What every request shares: database connection, signed-in account, headers, compression."""

from __future__ import annotations

import gzip
import hashlib
import hmac
import re
from urllib.parse import urlsplit

import brotli
from flask import Flask, Response, abort, current_app, g, redirect, request, session, url_for
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from peewee import InterfaceError, OperationalError

from models.citizen import auth
from models.operator import agents
from models.shared import kept_answers
from models.shared.db import database

from . import kept
from .easy_read import SESSION_KEY as EASY_READ
from .language import SESSION_KEY as LANGUAGE
from .language import settle_account_language
from .render import PRIVATE, this_address

COMPRESSED_TYPES = {
    "text/html",
    "text/plain",
    "text/css",
    "application/json",
    "application/javascript",
    "image/svg+xml",
}
MIN_COMPRESS_SIZE = 300
STYLESHEET = "css/site.css"
# Sent with every answer, the server's own error answers included (see ``server``).
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
# What only a document obeys (its policy, framing, opener, features, referrer). An htmx
# answer is a part swapped into a page that already has them: it goes without, a few
# hundred bytes less on every step.
DOCUMENT_ONLY = {
    "Content-Security-Policy",
    "Referrer-Policy",
    "X-Frame-Options",
    "Cross-Origin-Opener-Policy",
    "Permissions-Policy",
}


# Who is signed in: a random token of its own cookie, the only thing the browser holds
# of it (the server keeps its digest). Unsigned (a guessed token finds nothing) and
# short, because signing in sets it on an htmx answer: 76 bytes, where the signed
# session cookie with it came to 260.
SIGN_IN_COOKIE = "cmi_sid"
FORM_SECRET = "csrf_token"  # noqa: S105 (the session's key for it, as Flask-WTF names it)


class CookieSession(SecureCookieSession):
    """The signed session cookie (form secret, reader's choices). While someone is signed
    in, the form secret is derived from their sign-in token instead of the stored one:
    it changes at each sign-in, as the token does, without this cookie being written
    again."""

    form_secret: str | None = None

    def __contains__(self, key) -> bool:
        return (key == FORM_SECRET and self.form_secret is not None) or super().__contains__(key)

    def __getitem__(self, key):
        if key == FORM_SECRET and self.form_secret is not None:
            return self.form_secret
        return super().__getitem__(key)

    def get(self, key, default=None):
        return self[key] if key in self else default  # noqa: SIM401 (dict.get skips both)


class SessionInterface(SecureCookieSessionInterface):
    """The session cookie is Secure whenever the request came over HTTPS."""

    session_class = CookieSession

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config.get("SESSION_COOKIE_SECURE")) or request.is_secure

    def save_session(self, app: Flask, session, response: Response) -> None:
        super().save_session(app, session, response)
        if "sign_in_token" in g:  # signed in (a new token) or out ("") by this request
            options = {
                "path": "/",
                "secure": self.get_cookie_secure(app),
                "httponly": True,
                "samesite": "Lax",
            }
            if g.sign_in_token:
                response.set_cookie(SIGN_IN_COOKIE, g.sign_in_token, **options)
            else:
                response.delete_cookie(SIGN_IN_COOKIE, **options)
        # Last of all (Flask names the cookie in Vary here): an answer nothing may keep
        # has no variants to choose between, and the header would cost its 60 bytes on
        # every step of the flow.
        if "no-store" in response.headers.get("Cache-Control", ""):
            response.headers.pop("Vary", None)


def origin(url: str | None) -> str | None:
    """« https://pay.example.org » of « https://pay.example.org/paypage?x=1 »."""
    parts = urlsplit(url or "")
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None


def content_security_policy(app: Flask, form_targets: list[str] | None = None) -> str:
    """The policy of every page; forms may go to this site, and to the payment provider."""
    provider = origin(app.config.get("PAYMENT_URL"))
    form_targets = " ".join(["'self'", *filter(None, [provider, *(form_targets or [])])])
    return "; ".join(
        [
            # Scripts and requests (htmx's) fall back on it: from this site only.
            "default-src 'self'",
            # The stylesheet is written in each page (see layout.html): its hash, and the
            # file itself for pages that link it; never any other inline style.
            f"style-src 'self' {app.extensions['assets'].source_hash(STYLESHEET)}",
            "img-src 'self' data:",
            "object-src 'none'",
            "base-uri 'none'",
            f"form-action {form_targets}",
            "frame-ancestors 'none'",
        ]
    )


def init_web(app: Flask) -> None:
    app.session_interface = SessionInterface()
    csp = content_security_policy(app)

    @app.before_request
    def refuse_unreadable_addresses() -> None:
        # A NUL in an address is never a page of ours, and PostgreSQL refuses it in
        # any query: answer « Demande incorrecte » before anything reads it.
        if "\x00" in request.path or any(
            "\x00" in key or "\x00" in value for key, value in request.args.items(multi=True)
        ):
            abort(400)

    @app.before_request
    def open_connection() -> None:
        if request.endpoint in ("health.check", "static"):
            return None  # the check connects by itself; a file reads neither base nor session
        # Close only what this request opened (a test or CLI may hold a connection).
        # A connection per request: after a database restart the next request
        # simply connects again.
        g.opened_connection = database.connect(reuse_if_open=True)
        load_signed_in_account()
        if request.method == "POST" and g.session_expired:
            # Before the form's token is checked: it was the session's that just ended.
            return after_session_ended()
        return None

    @app.teardown_request
    def close_connection(_error) -> None:
        if g.get("opened_connection") and not database.is_closed():
            try:
                database.close()
            except (OperationalError, InterfaceError):
                # The server dropped it, maybe inside a transaction: forget it.
                database.dispose()

    @app.after_request
    def secure_and_compress(response: Response) -> Response:
        headers = response.headers
        if request.endpoint == "static" and response.status_code < 400:
            # Our own files, none of them a document that runs anything (the icon's
            # SVG draws two shapes): only the type is pinned, 400 bytes less each. A
            # missing file's error page is a page: it gets every header below.
            name = "X-Content-Type-Options"
            headers.setdefault(name, SECURITY_HEADERS[name])
            return compress(response)
        part = bool(request.htmx) and response.mimetype == "text/html"
        # A redirect shows nothing either; its Referrer-Policy still governs the request
        # that follows it, so that one stays.
        redirect = 300 <= response.status_code < 400
        for name, value in [("Content-Security-Policy", csp), *SECURITY_HEADERS.items()]:
            if part and name in DOCUMENT_ONLY:
                continue
            if redirect and name in DOCUMENT_ONLY and name != "Referrer-Policy":
                continue
            headers.setdefault(name, value)
        if request.is_secure:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        if response.mimetype == "text/html":
            add_vary(response, "HX-Request", "HX-Target", "Cookie")
            if revalidated(response):
                return compress(response.make_conditional(request))
            # Personal pages: never stored by the browser or a proxy, and the
            # back button asks the server again rather than showing a stale step.
            headers.setdefault("Cache-Control", "no-store")
        if private_answer():
            headers["Cache-Control"] = "no-store"  # whatever its type, whoever asks
        return compress(response)  # no Vary on no-store answers: SessionInterface

    # Registered last, so it runs before the one above.
    @app.after_request
    def open_files_in_the_browser(response: Response) -> Response:
        """A file (a PDF, a CSV) asked for by htmx, a boosted link to it: its bytes would
        be swapped into the page as text. The browser is told to open the address
        itself, which shows or saves the file. Links to files say data-hx-boost="false" and
        never come here; this holds for any that does not."""
        if (
            request.htmx
            and request.method == "GET"
            and 200 <= response.status_code < 300
            and response.mimetype != "text/html"
        ):
            return Response(status=204, headers={"HX-Redirect": this_address()})
        return response


def private(view):
    """A route whose answers carry a secret or someone's data even when nobody is
    signed in: never kept by a browser or a proxy (``no-store``, no validator)."""
    view.private = True
    return view


def private_answer() -> bool:
    """Whether this answer must never be kept, whoever asks: the route says so
    (``private``), or the answer does (``render.keep_private``), or the address carries a
    token (any value in the path but a number: an enrolment, reset or payment link;
    the page it opens is someone's, and the token itself is a secret)."""
    if g.get(PRIVATE):
        return True
    if getattr(current_app.view_functions.get(request.endpoint), "private", False):
        return True
    return any(not isinstance(value, int) for value in (request.view_args or {}).values())


# A form's token changes at each page, but any token given to the same session stays
# valid: for that session, a page that differs only by it is the same page.
FORM_TOKEN = re.compile(rb'(name="csrf_token" value=")[^"]*"')


def revalidated(response: Response) -> bool:
    """A public page (nobody signed in) may be kept by the browser and asked again with
    its validator: unchanged, it answers « 304 Not Modified » with no body."""
    if (
        request.method != "GET"
        or response.status_code != 200
        or g.get("account") is not None
        or g.get("agent") is not None
        or "Cache-Control" in response.headers
        or response.direct_passthrough
        or private_answer()
    ):
        return False
    # Any token signed for the session's own secret stays valid: the validator names
    # that secret (a browser may revalidate a page kept for another session).
    body = FORM_TOKEN.sub(rb"\1\"", response.get_data())
    secret = str(session.get("csrf_token", "")).encode()
    response.set_etag(hashlib.sha256(secret + b"\0" + body).hexdigest()[:20], weak=True)
    # Kept, never shown again without asking (the server says whether it changed).
    response.headers["Cache-Control"] = "no-cache"
    return True


def add_vary(response: Response, *names: str) -> None:
    present = {value.strip().lower() for value in response.headers.get("Vary", "").split(",")}
    missing = [name for name in names if name.lower() not in present]
    if missing:
        current = response.headers.get("Vary")
        response.headers["Vary"] = ", ".join(filter(None, [current, *missing]))


def compress(response: Response) -> Response:
    """Brotli when the browser takes it, else gzip; for every status, errors included."""
    if (
        response.direct_passthrough
        or response.is_streamed
        or "Content-Encoding" in response.headers
        or response.mimetype not in COMPRESSED_TYPES
    ):
        return response
    add_vary(response, "Accept-Encoding", "Save-Data")
    body = response.get_data()
    if len(body) < MIN_COMPRESS_SIZE:
        return response
    # Save-Data: spend more server time to send fewer bytes.
    save_data = request.headers.get("Save-Data", "").strip().lower() == "on"
    accepted = request.accept_encodings
    if accepted["br"]:
        response.set_data(brotli.compress(body, quality=11 if save_data else 5))
        response.headers["Content-Encoding"] = "br"
    elif accepted["gzip"]:
        response.set_data(gzip.compress(body, 9 if save_data else 6))
        response.headers["Content-Encoding"] = "gzip"
    return response


def client_address() -> str:
    """Where the request came from, as the limits count it: the proxy's
    ``X-Forwarded-For`` when ``PROXY_HOPS`` says there is one (ProxyFix), else the peer."""
    return request.remote_addr or "inconnue"


def form_secret(token: str) -> str:
    """The form secret of the session signed in with ``token``."""
    key = current_app.secret_key.encode()
    return hmac.new(key, b"form-secret\0" + token.encode(), hashlib.sha256).hexdigest()[:40]


def sign_in_token() -> str | None:
    """The token of whoever is signed in, as this request stands."""
    if "sign_in_token" in g:
        return g.sign_in_token or None
    return request.cookies.get(SIGN_IN_COOKIE) or None


def forget_sign_in() -> None:
    """End the citizen's session this browser holds, and take its cookie back."""
    token = sign_in_token()
    if token:
        auth.close_session(token)
    if token or SIGN_IN_COOKIE in request.cookies:
        g.sign_in_token = ""
    session.form_secret = None


def load_signed_in_account() -> None:
    g.account = None
    g.session_expired = False
    g.session_expires_at = None
    token = request.cookies.get(SIGN_IN_COOKIE)
    if not token:
        return
    if session.get("agent_sid"):
        # One or the other in a browser: each sign-in ends the other's session, but two
        # run at once in two tabs could leave both; the agent's then ends the citizen's.
        forget_sign_in()
        return
    found = auth.touch_session(token)
    if found.account is None:
        g.sign_in_token = ""
        g.session_expired = found.expired
        g.ended_account_id = found.ended_account_id
        return
    g.account = found.account
    g.session_expires_at = found.expires_at
    session.form_secret = form_secret(token)


# Posts that need no session: signing in, the provider's (sealed) returns.
NO_SESSION_POSTS = {"auth.login", "payment.browser_return", "payment.notification"}


def after_session_ended():
    """A citizen's form came after their session ended (``kept``): none is acted on."""
    if request.blueprint == "console" or request.endpoint in NO_SESSION_POSTS:
        return None
    if request.endpoint == "auth.logout":
        return redirect(url_for("auth.signed_out"), 303)  # out already
    holder = kept_answers.holder_of("citizen", g.ended_account_id)
    secret = form_secret(request.cookies[SIGN_IN_COOKIE])
    return kept.session_ended("auth.login", holder, secret)


# A reader's own choices, not who they are: they outlive signing in and out.
READER_CHOICES = (EASY_READ, LANGUAGE)


def _clear_but_reader_choices() -> None:
    kept = {key: session[key] for key in READER_CHOICES if key in session}
    session.clear()
    session.update(kept)


def start_session(account) -> None:
    """A fresh session on sign-in: nothing from before it survives (fixation)."""
    forget_sign_in()
    if session.get("agent_sid"):  # an agent's session in this browser ends too
        agents.close_session(session["agent_sid"])
    # The stored form secret may stay: a signed-in session never reads it (its own is
    # derived from the new token). Anything else goes.
    if set(session) - {*READER_CHOICES, FORM_SECRET}:
        _clear_but_reader_choices()
    # Flask-WTF caches the signed form token for the request: forget it too, or
    # a page rendered in this same response would carry the old session's token.
    g.pop("csrf_token", None)
    g.sign_in_token = auth.open_session(account)
    session.form_secret = form_secret(g.sign_in_token)
    g.account = account
    settle_account_language(account)


def end_session() -> None:
    forget_sign_in()
    if session.get("agent_sid"):
        agents.close_session(session["agent_sid"])
    _clear_but_reader_choices()
    g.pop("csrf_token", None)
    g.account = None
