"""The production server: gunicorn with threaded workers, and its own error answers.

gunicorn answers some malformed requests itself, before the application sees
them (a request line or headers too long: 414, 431; a request it cannot
parse: 400), and its workers' event loops answer requests that come too slowly
(408) or wait too long for a thread (503, see ``worker``). Those answers carry
the same security headers as the service's and say what happened in French.
"""

from __future__ import annotations

import html
import os
import re

from flask import Flask
from gunicorn import util
from gunicorn.app.base import BaseApplication

from .web import SECURITY_HEADERS
from .worker import Worker

MESSAGES = {
    400: "La demande envoyée n'a pas pu être lue.",
    403: "Cette demande n'est pas autorisée.",
    408: "La demande est arrivée trop lentement. Vérifiez votre connexion, puis réessayez.",
    414: "L'adresse de la page est trop longue.",
    417: "La demande envoyée n'a pas pu être lue.",
    431: "La demande envoyée est trop volumineuse (en-têtes trop longs).",
    500: "Le service rencontre un problème. Réessayez dans quelques minutes.",
    501: "La demande envoyée n'a pas pu être lue.",
    503: "Le service est momentanément indisponible. Réessayez dans quelques minutes.",
}
# Seconds a client is told to wait when no thread was free in time for its request.
RETRY_AFTER = 60


def error_answer(status: int, reason: str) -> bytes:
    """A whole HTTP answer for an error gunicorn meets before the application."""
    message = MESSAGES.get(status, MESSAGES[400])
    body = (
        '<!DOCTYPE html>\n<html lang="fr">\n<head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(message)} - CMI</title></head>\n"
        f"<body><main><h1>{html.escape(message)}</h1>"
        '<p><a href="/">Aller à l\'accueil du service</a></p></main></body>\n</html>\n'
    ).encode()
    headers = {
        **SECURITY_HEADERS,
        "Content-Security-Policy": "default-src 'none'; base-uri 'none'; frame-ancestors 'none'",
        "Content-Type": "text/html; charset=utf-8",
        "Content-Length": str(len(body)),
        "Cache-Control": "no-store",
        **({"Retry-After": str(RETRY_AFTER)} if status == 503 else {}),
        "Connection": "close",
    }
    head = f"HTTP/1.1 {status} {reason}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    return head.encode("latin-1") + b"\r\n" + body


def write_error(sock, status_int: int, reason: str, _message: str) -> None:
    util.write_nonblock(sock, error_answer(status_int, reason))


LOG_CONFIG = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "views.shared.logs.JsonFormatter"}},
    "handlers": {
        "stderr": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "stream": "ext://sys.stderr",
        }
    },
    "root": {"handlers": ["stderr"], "level": "INFO"},
    "loggers": {
        "gunicorn.error": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        "werkzeug": {"level": "WARNING"},
    },
}


def control_socket_path(host: str, port: int) -> str:
    """Where ``gunicornc -s PATH`` reaches this instance: a socket of its own, named after
    the address it serves. gunicorn's default is one path for every instance a user runs
    on the host: the last one started took it from the others, and the first one
    stopped removed it."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and os.path.isdir(runtime):
        folder = runtime
    else:
        folder = os.path.join(os.path.expanduser("~"), ".gunicorn")
    name = re.sub(r"[^A-Za-z0-9.-]", "_", host)
    return os.path.join(folder, f"cmi-{name}-{port}.ctl")


def serve(
    app: Flask,
    host: str,
    port: int,
    workers: int,
    threads: int,
    head_timeout: float = Worker.head_timeout,
    body_timeout: float = Worker.body_timeout,
) -> None:
    # gunicorn writes its own error answers through util.write_error; the workers'
    # event loops, theirs through Worker.answer.
    util.write_error = write_error
    Worker.answer = staticmethod(error_answer)
    Worker.head_timeout, Worker.body_timeout = head_timeout, body_timeout

    class Server(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("threads", threads)
            self.cfg.set("worker_class", Worker)  # gthread, its loop reading requests
            self.cfg.set("preload_app", True)
            # One JSON line per request comes from the application (views.shared.logs),
            # with the route's pattern: gunicorn's own line would hold tokens.
            self.cfg.set("accesslog", None)
            self.cfg.set("logconfig_dict", LOG_CONFIG)
            self.cfg.set("timeout", 30)
            # A browser pausing between two steps keeps its connection: shorter, and the
            # server may close it just as the next request leaves (a reset on the client).
            self.cfg.set("keepalive", 5)
            self.cfg.set("control_socket", control_socket_path(host, port))

        def load(self):
            return app

    Server().run()
