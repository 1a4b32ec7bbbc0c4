"""A browser without JavaScript over real HTTP: cookies, forms, compressed answers.

Used where the Flask test client is not enough: requests that really run side
by side against a served app (``test_concurrency``), and the benchmark's
simulated users (``e2e/bench.py``).
"""

from __future__ import annotations

import gzip
import http.client
import re
import threading
import time
import urllib.parse
from dataclasses import dataclass
from http.cookies import SimpleCookie

import brotli

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def form_token(html: str) -> str:
    """The CSRF token of the first form of a page ("" if it has none)."""
    match = TOKEN.search(html)
    return match.group(1) if match else ""


@dataclass
class Answer:
    status: int
    location: str | None
    text: str


def decode(data: bytes, encoding: str | None) -> str:
    if encoding == "br":
        data = brotli.decompress(data)
    elif encoding == "gzip":
        data = gzip.decompress(data)
    return data.decode("utf-8", "replace")


class HttpClient:
    """One user's browser: its cookies, and its answers' latencies and server errors.

    ``keep_alive``: one connection reused for every request (one thread per
    client); otherwise a connection per request, so that several threads can
    send this client's requests at the same moment.
    """

    def __init__(self, port: int, keep_alive: bool = False, timeout: float = 60) -> None:
        self.port = port
        self.timeout = timeout
        self.keep_alive = keep_alive
        self.cookies: dict[str, str] = {}
        self.latencies: list[float] = []
        self.errors = 0
        self._lock = threading.Lock()
        self._connection: http.client.HTTPConnection | None = None

    def _connect(self) -> http.client.HTTPConnection:
        if not self.keep_alive:
            return http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        if self._connection is None:
            self._connection = http.client.HTTPConnection(
                "127.0.0.1", self.port, timeout=self.timeout
            )
        return self._connection

    def _drop(self, connection: http.client.HTTPConnection) -> None:
        connection.close()
        if connection is self._connection:
            self._connection = None

    def request(
        self, method: str, path: str, form: dict | None = None, follow: bool = False
    ) -> Answer:
        headers = {"Accept-Encoding": "gzip, br"}
        with self._lock:
            if self.cookies:
                headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection = self._connect()
        started = time.perf_counter()
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException):
            self._drop(connection)
            self.errors += 1
            return Answer(0, None, "")
        finally:
            if not self.keep_alive:
                connection.close()
        self.latencies.append(time.perf_counter() - started)
        for header in response.headers.get_all("Set-Cookie") or []:
            cookie = SimpleCookie()
            cookie.load(header)
            with self._lock:
                for name, morsel in cookie.items():
                    self.cookies[name] = morsel.value
        if response.status >= 500:
            self.errors += 1
        answer = Answer(
            response.status,
            response.getheader("Location"),
            decode(data, response.getheader("Content-Encoding")),
        )
        if follow and answer.location and answer.status in (301, 302, 303):
            target = urllib.parse.urlsplit(answer.location)
            query = f"?{target.query}" if target.query else ""
            return self.request("GET", target.path + query, follow=True)
        return answer

    def get(self, path: str, follow: bool = False) -> Answer:
        return self.request("GET", path, follow=follow)

    def post(self, path: str, form: dict, follow: bool = False) -> Answer:
        return self.request("POST", path, form, follow=follow)

    def submit(self, path: str, form: dict, follow: bool = False) -> Answer:
        """Open the page at ``path``, then post ``form`` with the page's token."""
        page = self.get(path)
        assert page.status == 200, (path, page.status, page.location)
        return self.post(path, {"csrf_token": form_token(page.text), **form}, follow=follow)
