"""Request bodies: small everywhere (MAX_CONTENT_LENGTH), larger on a route that takes a file.

The limit is known once the route is matched, before anything reads the body
(the form token included): a body announced larger than it is refused at once
(413), without being parsed or kept; one that turns out larger while read
stops there.

A browser sends its whole request before it reads the answer: if the server
answers and closes the connection while the body is still coming, the browser
shows « connection reset » instead of the answer. So the rest of a refused
body is read and thrown away, chunk by chunk, up to DISCARD_MAX; a body
announced larger than that is not read at all (and its sender gets the reset),
nor the rest of one that stops coming (the server's deadline for a body).
With JavaScript, the page checks a file's size before sending it (site.js),
and sends only the fact that it was too large.
"""

from __future__ import annotations

from collections.abc import Callable

import flask
from flask import current_app, request

# The multipart envelope and the form's other fields, beside the file itself.
FORM_OVERHEAD = 64 * 1024
# A refused body read and thrown away so that the browser reads the answer, up to this.
DISCARD_MAX = 32 * 1024 * 1024
CHUNK = 64 * 1024


def init_uploads(app: flask.Flask) -> None:
    """Per-route body limits, on whatever request class the app has by now (call it
    after the extensions that set their own, htmx's included)."""

    class Request(app.request_class):
        @property
        def max_content_length(self) -> int | None:
            if self._max_content_length is None and current_app and self.endpoint:
                view = current_app.view_functions.get(self.endpoint)
                limit = getattr(view, "max_upload_bytes", None)
                if limit is not None:
                    return limit + FORM_OVERHEAD
            return super().max_content_length

        @max_content_length.setter
        def max_content_length(self, value: int | None) -> None:
            self._max_content_length = value

    app.request_class = Request


def accepts_upload(max_bytes: int) -> Callable:
    """A view that takes a file of up to ``max_bytes`` (put it right under ``route``)."""

    def mark(view):
        view.max_upload_bytes = max_bytes
        return view

    return mark


def discard_refused_body() -> int:
    """Read the rest of a refused body without keeping it; the bytes read."""
    length = request.content_length
    stream = request.environ.get("wsgi.input")
    if not length or length > DISCARD_MAX or stream is None:
        return 0
    read = 0
    while read < length:
        try:
            chunk = stream.read(min(CHUNK, length - read))
        except OSError:  # the body stopped coming (the server's time-out), or the client left
            break
        if not chunk:
            break
        read += len(chunk)
    return read
