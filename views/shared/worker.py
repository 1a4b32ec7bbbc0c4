"""gunicorn's threaded worker, its event loop reading each request: slow clients hold no thread.

gunicorn's own gthread worker gives a connection to one of its threads as soon
as the first bytes of a request arrive; the thread then reads the rest of the
head, and the body, blocking, for as long as the client takes. A client that
sends one header every few seconds holds a thread for ever: with 2 workers of
4 threads, eight such clients and the service answers nobody, ``/sante``
included. And a connection closed after its answer waited in the event loop
itself, up to two seconds, for the client to close its side: ten clients that
never do held a whole worker for twenty seconds.

Here each worker's event loop reads the request's head, and a body of a form's
size, itself, without blocking, and gives the request to a thread only once it
has arrived whole:

- the head must arrive within ``head_timeout`` seconds of the connection (or of
  its first byte, on a kept-alive connection), else the client gets 408 and the
  connection closes (a connection that sent nothing is just closed);
- a body of up to BUFFERED_BODY_MAX bytes (every form) must then arrive within
  ``body_timeout`` seconds plus one second per MIN_BODY_RATE bytes;
- a larger body (a photo) is read by the thread as the application asks for it:
  a read fails when no byte came for ``body_timeout`` seconds, or when the body
  so far came slower than MIN_BODY_RATE once the first ``body_timeout``
  seconds are past (the application then answers 400, and the connection
  closes). At most ``threads - 1`` such requests per worker at once, so one
  thread is always left for everything else; the others wait, unread, up to
  ``body_timeout`` seconds for a thread, then get 503;
- a connection closed after its answer lingers in the loop (LINGER seconds at
  most) while the client reads the end of the answer, instead of blocking it.

A head arrives in one or two packets even on a slow mobile network; a 5 MB photo
sent on « 3G » (50 kB/s) takes about 105 s, five times faster than MIN_BODY_RATE.
"""

from __future__ import annotations

import contextlib
import errno
import selectors
import socket
import time
from collections import deque
from collections.abc import Callable
from functools import partial

from gunicorn import util
from gunicorn.http.unreader import SocketUnreader
from gunicorn.workers import gthread

# A request head larger than this is refused (431) without waiting for its end.
HEAD_MAX = 64 * 1024
# A body up to this size is read by the event loop before a thread sees the request.
BUFFERED_BODY_MAX = 128 * 1024
# The slowest a body may come, on average, once its first ``body_timeout`` seconds are past.
MIN_BODY_RATE = 10_000  # bytes a second: a fifth of « 3G »
# A body of unknown length (chunked: no browser sends one) is given the time of one this large.
UNKNOWN_LENGTH = 8 * 1024 * 1024
RECV_SIZE = 64 * 1024
# After an answer on a connection that closes: how long, and how much, the loop still reads.
LINGER = 2.0
LINGER_MAX = 64 * 1024
# How often the loop looks for connections past their deadline.
SCAN_EVERY = 0.25

ANSWERS = {
    408: "Request Timeout",
    431: "Request Header Fields Too Large",
    503: "Service Unavailable",
}


def body_of(head: bytes) -> tuple[int, bool]:
    """The body a request head announces: its length, and whether a thread must read it
    as it comes (too large to hold, of unknown length, or awaited after « 100 Continue »).
    A head gunicorn will refuse (a Content-Length that is not one number) has no body here."""
    length, streamed = None, False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name, value = name.strip().lower(), value.strip()
        if name == b"content-length":
            if not value.isdigit() or (length is not None and int(value) != length):
                return 0, False
            length = int(value)
        elif name in (b"transfer-encoding", b"expect"):
            streamed = True
    if streamed:
        return (UNKNOWN_LENGTH if length is None else length), True
    if length is None:
        return 0, False
    return length, length > BUFFERED_BODY_MAX


class Connection(gthread.TConn):
    """A client's connection, with what the event loop has read of its next request."""

    def __init__(self, cfg, sock, client, server, worker: Worker) -> None:
        super().__init__(cfg, sock, client, server)
        self.worker = worker
        self.received = bytearray()
        self.scanned = 0  # how far the end of the head was looked for
        self.head_end: int | None = None  # where the body starts, once the head is whole
        self.body_length = 0
        self.deadline = 0.0  # the loop's: for what it is reading, or waiting for
        self.registered = False
        self.admitted = False  # whole (or to be streamed): the next enqueue goes to a thread
        self.streamed = False
        self.early = b""  # read by the loop before the thread made the parser
        self.body_started = 0.0
        self.body_read = 0
        self.timed_out = False
        self.drained = 0

    def init(self) -> None:
        fresh = self.parser is None
        super().init()
        if fresh:
            self.parser.unreader = BoundedUnreader(self)
        if self.early:
            self.parser.unreader.unread(self.early)
            self.early = b""

    def read_timeout(self) -> float:
        """How long the thread's next read may wait (TimeoutError: none): ``body_timeout``
        without a byte, and never past the time the bytes so far have earned."""
        if self.timed_out:
            raise TimeoutError("the request's body came too slowly")
        worker = self.worker
        earned = self.body_started + worker.body_timeout + self.body_read / MIN_BODY_RATE
        remaining = earned - time.monotonic()
        if remaining <= 0:
            self.timed_out = True
            raise TimeoutError("the request's body came too slowly")
        return min(worker.body_timeout, remaining)

    def close(self, graceful: bool = False) -> None:
        if graceful:
            self.worker.linger(self)
        else:
            super().close()


class BoundedUnreader(SocketUnreader):
    """The thread's reads of a request, each bounded by its connection's ``read_timeout``."""

    def __init__(self, connection: Connection) -> None:
        super().__init__(connection.sock)
        self.connection = connection

    def chunk(self, size_hint=None) -> bytes:
        before = self.sock.gettimeout()  # gunicorn's own, when it drains a body
        limit = self.connection.read_timeout()
        self.sock.settimeout(limit if before is None else min(before, limit))
        try:
            data = super().chunk(size_hint)
        except TimeoutError:
            self.connection.timed_out = True
            raise
        finally:
            self.sock.settimeout(before)
        self.connection.body_read += len(data)
        return data


class Worker(gthread.ThreadWorker):
    """The gthread worker, its event loop reading requests (see the module's text)."""

    head_timeout = 10.0
    body_timeout = 30.0
    # The whole HTTP answer for a status the loop answers itself (408, 431, 503).
    answer: Callable[[int, str], bytes] = staticmethod(
        lambda status, reason: f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\n\r\n".encode()
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.reading: dict[Connection, None] = {}  # insertion-ordered set
        self.waiting: deque[Connection] = deque()  # whole heads waiting for a thread
        self.lingering: dict[Connection, None] = {}
        self.streams = 0
        self.stream_slots = max(1, self.cfg.threads - 1)
        self.next_scan = 0.0

    # -- connections in -------------------------------------------------------------------

    def accept(self, listener) -> None:
        try:
            client, address = listener.accept()
        except OSError as error:
            if error.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        self.nr_conns += 1
        self.read_request(Connection(self.cfg, client, address, listener.getsockname(), self))

    def enqueue_req(self, conn: Connection) -> None:
        """To a thread if the loop has read the request; else the loop reads it first
        (a kept-alive connection that became readable, or bytes read ahead behind the
        last request)."""
        if conn.admitted:
            conn.admitted = False
            super().enqueue_req(conn)
        else:
            self.read_request(conn)

    def read_request(self, conn: Connection) -> None:
        conn.sock.setblocking(False)
        ahead = conn.parser.unreader.take_buffered() if conn.parser is not None else b""
        conn.received = bytearray(ahead)
        conn.scanned, conn.head_end, conn.body_length = 0, None, 0
        conn.deadline = time.monotonic() + self.head_timeout
        self.reading[conn] = None
        self.on_readable(conn)  # often the whole request is there already

    def on_readable(self, conn: Connection, _sock=None) -> None:
        try:
            data = conn.sock.recv(RECV_SIZE)
        except (BlockingIOError, InterruptedError):
            data = None
        except OSError:
            self.drop(conn)
            return
        if data == b"":  # the client closed its side: serve what it sent, if whole
            if not (conn.received and self.advance(conn)):
                self.drop(conn)
            return
        if data:
            conn.received += data
        if not self.advance(conn) and not conn.registered:
            self.poller.register(conn.sock, selectors.EVENT_READ, partial(self.on_readable, conn))
            conn.registered = True

    def advance(self, conn: Connection) -> bool:
        """Look at what arrived: True once the connection left the loop's reading."""
        received = conn.received
        if conn.head_end is None:
            start = max(0, conn.scanned - 3)
            end = received.find(b"\r\n\r\n", start)
            conn.scanned = len(received)
            if end < 0:
                if received.find(b"\n\n", start) >= 0:
                    self.dispatch(conn)  # a bare LF, which gunicorn refuses from what is there
                elif len(received) > HEAD_MAX:
                    self.refuse(conn, 431)
                else:
                    return False
                return True
            conn.head_end = end + 4
            conn.body_length, streamed = body_of(bytes(received[:end]))
            if streamed:
                self.stream(conn)
                return True
            conn.deadline = time.monotonic() + self.body_timeout + conn.body_length / MIN_BODY_RATE
        if len(received) - conn.head_end >= conn.body_length:
            self.dispatch(conn)
            return True
        return False

    def stream(self, conn: Connection) -> None:
        """A body a thread reads as it comes: now if a thread is free for it, else later."""
        if self.streams < self.stream_slots:
            self.dispatch(conn, streamed=True)
            return
        self.leave_reading(conn)
        conn.deadline = time.monotonic() + self.body_timeout
        self.waiting.append(conn)

    def dispatch(self, conn: Connection, streamed: bool = False) -> None:
        self.leave_reading(conn)
        data, conn.received = bytes(conn.received), bytearray()
        if conn.parser is not None:
            conn.parser.unreader.unread(data)
        else:
            conn.early = data
        conn.data_ready = True  # gunicorn's thread does not wait for a first byte
        conn.timed_out = False
        conn.body_started, conn.body_read = time.monotonic(), 0
        conn.streamed = streamed
        self.streams += streamed
        conn.admitted = True
        self.enqueue_req(conn)

    def leave_reading(self, conn: Connection) -> None:
        if conn.registered:
            self.poller.unregister(conn.sock)
            conn.registered = False
        self.reading.pop(conn, None)

    # -- connections out ------------------------------------------------------------------

    def finish_request(self, conn: Connection, fs) -> None:
        if conn.streamed:
            conn.streamed = False
            self.streams -= 1
            while self.waiting and self.streams < self.stream_slots:
                self.dispatch(self.waiting.popleft(), streamed=True)
        super().finish_request(conn, fs)

    def _keepalive_after(self, conn: Connection, keepalive) -> bool:
        # A body cut short by its deadline leaves the rest of it on the way: no next request.
        return not conn.timed_out and super()._keepalive_after(conn, keepalive)

    def drop(self, conn: Connection) -> None:
        """Close a connection the loop was reading, without an answer."""
        self.leave_reading(conn)
        self.nr_conns -= 1
        util.close(conn.sock)

    def refuse(self, conn: Connection, status: int) -> None:
        """Answer ``status`` on a connection the loop holds, then close it."""
        self.leave_reading(conn)
        self.nr_conns -= 1
        with contextlib.suppress(OSError):
            conn.sock.send(self.answer(status, ANSWERS[status]))
        self.linger(conn)

    def linger(self, conn: Connection) -> None:
        """Close after an answer: the end of the answer leaves (FIN), and what the client
        still sends is read and thrown away until it closes too (else the kernel resets
        the connection, and the client may lose the answer), at most LINGER seconds."""
        try:
            conn.sock.shutdown(socket.SHUT_WR)
            conn.sock.setblocking(False)
        except OSError:
            util.close(conn.sock)
            return
        conn.deadline, conn.drained = time.monotonic() + LINGER, 0
        self.lingering[conn] = None
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self.on_lingering, conn))

    def on_lingering(self, conn: Connection, _sock=None) -> None:
        try:
            data = conn.sock.recv(RECV_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        conn.drained += len(data)
        if not data or conn.drained > LINGER_MAX:
            self.end_linger(conn)

    def end_linger(self, conn: Connection) -> None:
        self.lingering.pop(conn, None)
        with contextlib.suppress(KeyError, ValueError, OSError):
            self.poller.unregister(conn.sock)
        util.close(conn.sock)

    def murder_pending(self) -> None:
        """gunicorn's round of deadlines (at least once a second), with the loop's own."""
        super().murder_pending()
        now = time.monotonic()
        if now < self.next_scan:
            return
        self.next_scan = now + SCAN_EVERY
        for conn in [each for each in self.reading if each.deadline <= now]:
            if conn.received.strip():
                self.log.info("Request closed: it did not arrive in time (408)")
                self.refuse(conn, 408)
            else:
                self.drop(conn)
        while self.waiting and self.waiting[0].deadline <= now:
            self.log.warning("Request refused: no thread free for its body in time (503)")
            self.refuse(self.waiting.popleft(), 503)
        for conn in [each for each in self.lingering if each.deadline <= now]:
            self.end_linger(conn)
