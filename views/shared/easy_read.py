"""« Facile à lire et à comprendre »: a reader who asks once for the easy-to-read
texts gets them on every page that has them, for the rest of the session.

The choice is a plain link (``?facile=1``, ``?facile=0``): it works without
JavaScript, and changes nothing but the words shown.
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Flask, request, session

from .render import this_address

PARAMETER = "facile"
SESSION_KEY = "easy_read"


def easy_read() -> bool:
    """Whether this reader chose the easy-to-read texts."""
    return bool(session.get(SESSION_KEY))


def easy_read_url(wanted: bool) -> str:
    """This page's address with the easy-to-read texts on (or off): its own path and
    query, nothing of them read as an option of url_for (« endpoint », « _external »)."""
    args = [(k, v) for k, v in request.args.items(multi=True) if k != PARAMETER]
    args.append((PARAMETER, "1" if wanted else "0"))
    return this_address(query=False) + "?" + urlencode(args)


def init_easy_read(app: Flask) -> None:
    @app.before_request
    def remember_the_choice() -> None:
        choice = request.args.get(PARAMETER)
        if request.method != "GET" or choice not in ("0", "1"):
            return
        if choice == "1":
            session[SESSION_KEY] = True
        else:
            session.pop(SESSION_KEY, None)

    app.jinja_env.globals.update(easy_read=easy_read, easy_read_url=easy_read_url)
