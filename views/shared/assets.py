"""Static files under content-hashed names, compressed once, cached for a year.

A file's URL changes when its content does, so browsers may keep it forever
and a repeat visit costs only the HTML.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import mimetypes
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import brotli
import rcssmin
import rjsmin
from flask import Flask, Response, abort, g, has_request_context, request, url_for
from markupsafe import Markup

from .render import kept_address
from .web import add_vary

ONE_YEAR = 365 * 24 * 3600
# Names the stylesheet the browser was sent to keep (its hashed file name).
STYLESHEET_COOKIE = "css"
COMPRESSIBLE = {".css", ".js", ".svg", ".ico", ".txt", ".json", ".html", ".pdf"}


@dataclass(frozen=True)
class Asset:
    mimetype: str
    etag: str
    identity: bytes
    gzip: bytes | None
    brotli: bytes | None


@cache
def _precompressed(content: bytes) -> tuple[bytes, bytes]:
    """Compressed once per process, at the highest settings: static files never change."""
    return gzip.compress(content, 9, mtime=0), brotli.compress(content, quality=11)


def minified(relative: str, content: bytes) -> bytes:
    """What a browser is sent of our own stylesheet and script: their comments and
    spaces are for whoever reads the source, and cost every first visit (the
    stylesheet twice: written in the first page, then kept as a file). A file
    already minified by its authors (``.min.js``) is sent as it is."""
    if relative.endswith(".min.js"):
        return content
    if relative.endswith(".css"):
        return rcssmin.cssmin(content.decode("utf-8")).encode("utf-8")
    if relative.endswith(".js"):
        return rjsmin.jsmin(content.decode("utf-8")).encode("utf-8")
    return content


def hashed_name(relative: str, content: bytes) -> str:
    digest = hashlib.sha256(content).hexdigest()[:12]
    path = Path(relative)
    return str(path.with_name(f"{path.stem}.{digest}{path.suffix}"))


class StaticAssets:
    def __init__(self, app: Flask, folder: Path) -> None:
        self.urls: dict[str, str] = {}
        self.files: dict[str, Asset] = {}
        self._addresses: dict[str, str] = {}  # relative name: path under the root
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                self._add(path.relative_to(folder).as_posix(), path.read_bytes())
        app.add_url_rule("/static/<path:filename>", "static", self.serve)
        app.jinja_env.globals["asset"] = self.url
        app.jinja_env.globals["stylesheet"] = self.stylesheet

        @app.after_request
        def remember_the_kept_stylesheet(response: Response) -> Response:
            if g.get("stylesheet_cookie"):
                add_vary(response, "Cookie")  # the page differs with that cookie
            if g.get("stylesheet_inlined") and response.status_code == 200:
                response.set_cookie(
                    STYLESHEET_COOKIE,
                    g.stylesheet_cookie,
                    max_age=ONE_YEAR,
                    secure=request.is_secure,
                    httponly=True,
                    samesite="Lax",
                )
            return response

        app.extensions["assets"] = self

    def _add(self, relative: str, content: bytes) -> None:
        content = minified(relative, content)
        name = hashed_name(relative, content)
        mimetype = mimetypes.guess_type(relative)[0] or "application/octet-stream"
        if mimetype.startswith("text/") or mimetype.endswith("javascript"):
            mimetype += "; charset=utf-8"
        compressible = Path(relative).suffix in COMPRESSIBLE
        gzipped, brotlied = _precompressed(content) if compressible else (None, None)
        self.urls[relative] = name
        self.files[name] = Asset(
            mimetype=mimetype,
            etag=name.rsplit(".", 2)[-2],
            identity=content,
            gzip=gzipped,
            brotli=brotlied,
        )

    def url(self, relative: str) -> str:
        """A file's address, built once (a page links four)."""
        if not has_request_context():
            return url_for("static", filename=self.urls[relative])
        return kept_address(
            self._addresses, relative, lambda: url_for("static", filename=self.urls[relative])
        )

    def stylesheet(self, relative: str) -> Markup:
        """The page's stylesheet. A browser that has not kept it yet gets its text in the
        page's own ``<style>`` (the page shows in one round trip: no second request
        blocks its first paint) and fetches the file meanwhile, without waiting, to keep
        it; a cookie says it did, and later pages link the kept file instead."""
        name = self.urls[relative]
        url = self.url(relative)
        g.stylesheet_cookie = self.files[name].etag  # the content's digest
        if request.cookies.get(STYLESHEET_COOKIE) == g.stylesheet_cookie:
            return Markup(f'<link rel="stylesheet" href="{url}">')  # noqa: S704
        g.stylesheet_inlined = True
        text = self.files[name].identity.decode("utf-8")
        return Markup(f'<style>{text}</style>\n<link rel="preload" href="{url}" as="style">')  # noqa: S704

    def source_hash(self, relative: str) -> str:
        """« 'sha256-…' »: what a Content-Security-Policy names to allow that text
        inline, and nothing else inline."""
        digest = hashlib.sha256(self.files[self.urls[relative]].identity).digest()
        return f"'sha256-{base64.b64encode(digest).decode()}'"

    def serve(self, filename: str) -> Response:
        asset = self.files.get(filename)
        if asset is None:
            abort(404)
        body, encoding = asset.identity, None
        accepted = request.accept_encodings
        if asset.brotli is not None and accepted["br"]:
            body, encoding = asset.brotli, "br"
        elif asset.gzip is not None and accepted["gzip"]:
            body, encoding = asset.gzip, "gzip"
        response = Response(body, content_type=asset.mimetype)
        if encoding:
            response.headers["Content-Encoding"] = encoding
        response.headers["Cache-Control"] = f"public, max-age={ONE_YEAR}, immutable"
        response.headers["Vary"] = "Accept-Encoding"
        response.set_etag(asset.etag)
        return response.make_conditional(request)
