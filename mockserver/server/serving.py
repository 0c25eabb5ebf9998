"""Serving a WSGI app over HTTP/1.1: in the foreground for `mockserver serve` (in one
process or several), or on a background thread for test suites.

Each connection is served by a thread of its own, with waitress's request parser and
response writer (its tasks) but not its event loop. Every connection has deadlines that
trickled bytes cannot push back, there is a bound on how many are open, a body over the
limit is refused from its headers before it is buffered, and the parser's refusals are
in the API's Error shape.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import signal
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http import HTTPStatus

from waitress.adjustments import Adjustments
from waitress.parser import HTTPRequestParser
from waitress.task import ErrorTask, WSGITask
from waitress.utilities import (
    BadRequest,
    InternalServerError,
    RequestEntityTooLarge,
    RequestHeaderFieldsTooLarge,
    ServerNotImplemented,
)

from mockserver import settings
from mockserver.controls.faults import DROP_CONNECTION
from mockserver.errors import ApiError, envelope, internal_error, new_request_id, payload_too_large

SERVER_IDENT = "mudbase-mock"

access_log = logging.getLogger("mockserver.access")
server_log = logging.getLogger("mockserver.server")


@dataclass(frozen=True)
class ConnectionLimits:
    """How many clients, and how slow, the server puts up with (seconds)."""

    max_connections: int = settings.MAX_CONNECTIONS
    idle_timeout: float = settings.IDLE_TIMEOUT  # a kept-alive connection between requests
    header_timeout: float = settings.HEADER_TIMEOUT  # first byte of a request to the end of its headers
    body_timeout: float = settings.BODY_TIMEOUT  # end of the headers to the end of the body
    request_timeout: float = settings.REQUEST_TIMEOUT  # first byte of a request to its answer


class _ErrorTask(ErrorTask):
    """waitress's own refusals, before the app sees the request, in the Error shape."""

    dropped = None  # a refusal is always sent (see _Task)

    def execute(self) -> None:
        error = _WAITRESS_ERRORS.get(type(self.request.error), internal_error)()
        request_id = new_request_id()
        path = getattr(self.request, "path", None) or ""  # none when waitress itself failed
        body = json.dumps(envelope(error, path, request_id), sort_keys=True).encode()
        self.status = f"{error.status} {HTTPStatus(error.status).phrase}"
        self.response_headers.extend([("Content-Type", "application/json"), ("X-Request-Id", request_id)])
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)
        address = self.channel.addr[0] if self.channel.addr else "-"
        escaped = path.encode("unicode_escape").decode("ascii")
        method = getattr(self.request, "command", None) or "-"
        access_log.info("%s %s %s %d -", address, method, escaped or "-", error.status)


_WAITRESS_ERRORS = {
    RequestEntityTooLarge: payload_too_large,
    BadRequest: lambda: ApiError(400, "BAD_REQUEST", "Malformed request", "The request is not valid HTTP/1.1"),
    RequestHeaderFieldsTooLarge: lambda: ApiError(
        431, "HEADERS_TOO_LARGE", "Request headers too large", "The request line and headers are too large"
    ),
    ServerNotImplemented: lambda: ApiError(
        501, "NOT_IMPLEMENTED", "Not implemented", "Transfer-Encoding other than chunked is not supported"
    ),
}


class _Task(WSGITask):
    """A request whose answer the app may replace with nothing (a fault rule, faults.py):
    the connection is then closed without a byte sent, with a TCP reset (RST, as SO_LINGER
    0 makes close() send) or cleanly (FIN: "empty reply from server")."""

    dropped: str | None = None

    def get_environment(self) -> dict:
        environ = super().get_environment()
        environ[DROP_CONNECTION] = self._drop
        del environ["wsgi.file_wrapper"]  # its buffers are written by waitress's loop, not here
        return environ

    def _drop(self, how: str) -> None:
        self.dropped = how

    def write(self, data: bytes) -> None:
        if self.dropped is None:
            super().write(data)

    def finish(self) -> None:
        if self.dropped is None:
            super().finish()
            return
        self.close_on_finish = True  # the channel closes the socket once nothing is left to send
        if self.dropped == "reset":
            self.channel.socket.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


class _Connection:
    """One client's connection, served start to end by a thread of its own: it reads each
    request with waitress's parser, runs it through waitress's task (the HTTP/1.1 rules:
    Date, Connection, Content-Length or chunked, HEAD), and sends the answer itself.

    waitress's own loop handed every request from its thread to a task thread and the
    answer back, passing the GIL on each hand-off: about 750 us of CPU a request, more
    than the mock's own work (one process, getChatDetails: 1,550 req/s on waitress, 2,060
    served here). What the task calls on its "channel" is below."""

    def __init__(self, server: Server, sock: socket.socket, addr) -> None:
        self.server = server
        self.adj = server.adj
        self.socket = sock
        self.addr = addr
        self._unsent: list[bytes] = []
        self._unsent_bytes = 0
        # Blocking, with the kernel's timeouts (SO_RCVTIMEO, SO_SNDTIMEO) for the deadlines:
        # a Python timeout polls before each recv and send and switches the socket's mode
        # on each settimeout, two more system calls and one more release of the GIL each
        # (a trivial app, wrk -c16: 137 -> 54 us of system time a request, 4,640 -> 6,000 req/s).
        sock.settimeout(None)
        self._idle_timeout = self._send_timeout = _set_timeout(sock, socket.SO_SNDTIMEO, server.limits.idle_timeout)

    def write_soon(self, data: bytes) -> int:
        if data:
            self._unsent.append(bytes(data))
            self._unsent_bytes += len(data)
            if self._unsent_bytes >= _SEND_AT:
                self.flush()
        return len(data)

    def check_client_disconnected(self) -> bool:
        return False  # nothing is read while the app runs

    def flush(self) -> None:
        if self._unsent:
            data = b"".join(self._unsent)
            self._unsent, self._unsent_bytes = [], 0
            self._send(data)

    def _send(self, data: bytes) -> None:
        """Send all of `data` within the idle timeout (the kernel's timeout bounds each
        send; this, all of them together)."""
        deadline = time.monotonic() + self._idle_timeout
        view = memoryview(data)
        while True:
            try:
                view = view[self.socket.send(view) :]
            except BlockingIOError:  # the kernel's timeout: nothing sent in time
                raise TimeoutError("the client did not read the answer in time") from None
            if not view:
                break
            remaining = deadline - time.monotonic()  # a part sent: the rest within what is left
            if remaining <= 0:
                raise TimeoutError("the client did not read the answer in time")  # an OSError: it ends
            self._send_timeout = _set_timeout(self.socket, socket.SO_SNDTIMEO, remaining)
        if self._send_timeout != self._idle_timeout:  # as it was, for the next answer
            self._send_timeout = _set_timeout(self.socket, socket.SO_SNDTIMEO, self._idle_timeout)

    def serve(self) -> None:
        leftover = b""
        linger = False
        try:
            while not self.server.stopping:
                request, leftover = self._read(leftover)
                if request is None:
                    break
                try:
                    keep, linger = self._answer(request)
                finally:
                    request.close()  # its body's buffer
                if not keep:
                    break
        except OSError:  # the client went away, or a send timed out
            linger = False
        finally:
            self.server.forget(self)
            if linger:
                self._drain()
            with contextlib.suppress(OSError):
                self.socket.close()

    def _read(self, data: bytes) -> tuple[HTTPRequestParser | None, bytes]:
        """The next request on the connection and the bytes read past it; no request when
        the client left or missed a deadline."""
        limits = self.server.limits
        request = HTTPRequestParser(self.adj)
        deadline = time.monotonic() + limits.idle_timeout  # for the first byte
        started = None  # when the request's first byte came
        reading_body = False
        while True:
            while data:
                now = time.monotonic()
                if started is None:
                    started = now
                    deadline = now + min(limits.header_timeout, limits.request_timeout)
                consumed = request.received(data)
                data = data[consumed:]
                if request.headers_finished and not reading_body:
                    reading_body = True
                    deadline = min(now + limits.body_timeout, started + limits.request_timeout)
                if request.expect_continue and request.headers_finished:
                    request.expect_continue = False
                    self._send(b"HTTP/1.1 100 Continue\r\n\r\n")
                if request.completed:
                    if request.empty:  # blank lines before a request
                        request, started, reading_body = HTTPRequestParser(self.adj), None, False
                        continue
                    return request, data
                if not consumed:
                    break
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None, b""
            _set_timeout(self.socket, socket.SO_RCVTIMEO, remaining)
            try:
                data = self.socket.recv(_READ_SIZE)
            except BlockingIOError:  # the kernel's timeout
                return None, b""
            if not data:
                return None, b""

    def _answer(self, request: HTTPRequestParser) -> tuple[bool, bool]:
        """Answer `request`: whether to keep the connection, and whether to drain what the
        client still sends before closing it (so that it reads the answer, not a reset)."""
        task = (_ErrorTask if request.error else _Task)(self, request)
        try:
            task.service()
        except OSError:
            return False, False
        except Exception:
            server_log.exception("Exception while serving %s", request.path)
            if task.wrote_header:
                return False, False
            failed = HTTPRequestParser(self.adj)
            failed.error = InternalServerError("The server encountered an unexpected internal server error")
            failed.version = request.version
            task = _ErrorTask(self, failed)
            task.service()
        self.flush()
        if task.close_on_finish:
            return False, task.dropped is None
        return True, False

    def _drain(self) -> None:
        # Closed with unread bytes, a socket sends a reset, which can reach the client
        # before the answer does: stop sending, then read until it closes (bounded).
        with contextlib.suppress(OSError):
            self.socket.shutdown(socket.SHUT_WR)
            _set_timeout(self.socket, socket.SO_RCVTIMEO, _DRAIN_SECONDS)  # its end: BlockingIOError
            for _ in range(_DRAIN_READS):
                if not self.socket.recv(_READ_SIZE):
                    break


def _set_timeout(sock: socket.socket, option: int, seconds: float) -> float:
    """Set the kernel's receive or send timeout of `sock`, from 1 ms (0 is none) to a year
    (`--idle-timeout inf` is no number of seconds); the timeout set."""
    seconds = min(max(seconds, 0.001), _LONGEST_TIMEOUT)
    whole = int(seconds)
    sock.setsockopt(socket.SOL_SOCKET, option, _TIMEVAL.pack(whole, int((seconds - whole) * 1_000_000)))
    return seconds


_TIMEVAL = struct.Struct("@ll")  # struct timeval: seconds, microseconds
_LONGEST_TIMEOUT = 365 * 24 * 3600.0
_READ_SIZE = 64 * 1024
_SEND_AT = 256 * 1024  # an answer larger than this is sent as it is written
_DRAIN_SECONDS = 1.0
_DRAIN_READS = 32  # 2 MiB


DEFAULT_LIMITS = ConnectionLimits()


class Server:
    """Accepts connections on a listening socket, each served by a thread of its own: at
    most `limits.max_connections` at once, the others wait in the socket's backlog."""

    def __init__(self, app, sock: socket.socket, limits: ConnectionLimits, max_body_bytes: int, owns_socket: bool):
        self.application = app
        self.socket = sock
        self.limits = limits
        self.adj = Adjustments(
            ident=SERVER_IDENT,
            # waitress's parser refuses a Content-Length >= max_request_body_size from the
            # headers, and a chunked body once it has read that much (framing included,
            # hence the slack; the app enforces the exact limit). What the mock accepts
            # stays in memory, never in a temporary file; the proxy's larger bodies go to one.
            max_request_body_size=max_body_bytes + 64 * 1024,
            inbuf_overflow=settings.MAX_BODY_BYTES + 128 * 1024,
        )
        self.server_name = self.adj.server_name
        self.effective_port = sock.getsockname()[1]
        self.stopping = False
        self._owns_socket = owns_socket
        self._slots = threading.BoundedSemaphore(limits.max_connections)
        self._lock = threading.Lock()
        self._connections: dict[_Connection, threading.Thread] = {}

    def run(self) -> None:
        while not self.stopping:
            if not self._slots.acquire(timeout=1):
                continue
            try:
                sock, addr = self.socket.accept()
            except OSError as exc:
                self._slots.release()
                if self.stopping or exc.errno in (errno.EBADF, errno.EINVAL):
                    return
                server_log.warning("accept failed: %s", exc)
                time.sleep(0.1)  # out of file descriptors: let connections end
                continue
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            connection = _Connection(self, sock, addr)
            thread = threading.Thread(target=connection.serve, name=f"connection {addr[0]}:{addr[1]}", daemon=True)
            with self._lock:
                self._connections[connection] = thread
            thread.start()

    def forget(self, connection: _Connection) -> None:
        with self._lock:
            del self._connections[connection]
        self._slots.release()

    def close(self, wait: float = 0) -> None:
        """Stop accepting; each connection ends once its request in flight is answered
        (waiting for that at most `wait` seconds)."""
        self.stopping = True
        if self._owns_socket:  # a worker's is shared with the other workers
            with contextlib.suppress(OSError):
                self.socket.shutdown(socket.SHUT_RDWR)  # wakes accept()
        with contextlib.suppress(OSError):
            self.socket.close()
        with self._lock:
            connections = dict(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.socket.shutdown(socket.SHUT_RD)  # a waiting read ends; an answer is still sent
        ends = time.monotonic() + wait
        for thread in connections.values():
            thread.join(timeout=max(0.0, ends - time.monotonic()))


def create_server(
    app,
    host: str,
    port: int,
    limits: ConnectionLimits = DEFAULT_LIMITS,
    max_body_bytes: int = settings.MAX_BODY_BYTES,
    sock: socket.socket | None = None,
) -> Server:
    """A server listening on host and port (0 picks a free one: see `.effective_port`), or
    with `sock` on that listening socket. `max_body_bytes`: the validating proxy forwards
    larger bodies than the mock takes."""
    owns = sock is None
    return Server(app, sock or listening_socket(host, port), limits, max_body_bytes, owns)


@contextmanager
def serve_in_background(
    app,
    host: str = "127.0.0.1",
    port: int = 0,
    limits: ConnectionLimits = DEFAULT_LIMITS,
    max_body_bytes: int = settings.MAX_BODY_BYTES,
) -> Iterator[str]:
    """Serve `app` on a thread; yields its base URL and stops it cleanly on exit."""
    server = create_server(app, host, port, limits, max_body_bytes)
    thread = threading.Thread(target=server.run, name="mockserver", daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.effective_port}"
    finally:
        server.close(wait=10)
        thread.join(timeout=10)


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket listening on host and port (0: a free one), for serve_in_processes."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return socket.create_server((host, port), family=family, backlog=1024)


def serve_in_processes(
    app,
    sock: socket.socket,
    workers: int,
    limits: ConnectionLimits,
    started: Callable[[], None] | None = None,
) -> int:
    """Serve `app` from `workers` forked processes that accept on one listening socket
    (the kernel hands each connection to one of them), each calling `started` once
    forked; returns the exit code.

    The processes share nothing but the socket, so the app's state must live outside
    them (a shared store, and sharing.py's state process). SIGTERM or SIGINT stops them all; when one dies, the others
    are stopped too, so that a supervisor restarts the whole mock."""
    parent = os.getpid()
    children: set[int] = set()
    for _ in range(workers):
        pid = os.fork()
        if pid == 0:  # the worker: it serves, and never returns to the caller
            code = 1
            try:
                if started is not None:
                    started()
                code = _run_worker(app, sock, limits, parent)
            finally:
                os._exit(code)
        children.add(pid)
    sock.close()
    stopping = False

    def stop(*_signal) -> None:
        nonlocal stopping
        stopping = True
        for pid in children:
            with contextlib.suppress(ProcessLookupError):  # ended already, by the same signal
                os.kill(pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    exit_code = 0
    while children:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            break
        children.discard(pid)
        if not stopping:
            logging.getLogger("mockserver").error(
                "worker process %d ended (wait status %d); stopping the others", pid, status
            )
            exit_code = 1
            stop()
    return exit_code


def _run_worker(app, sock: socket.socket, limits: ConnectionLimits, parent: int) -> int:
    def leave(*_signal) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, leave)
    signal.signal(signal.SIGINT, leave)

    def watch_parent() -> None:
        # A parent killed outright cannot stop its workers; they notice and leave.
        while os.getppid() == parent:
            time.sleep(1)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch_parent, name="parent-watch", daemon=True).start()
    server = create_server(app, "", 0, limits, sock=sock)
    try:
        server.run()
    except SystemExit:
        pass
    except Exception:
        logging.getLogger("mockserver").exception("worker process %d failed", os.getpid())
        return 1
    finally:
        server.close()
    return 0
