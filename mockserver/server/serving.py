"""Serving an app with waitress, a production WSGI server: in the foreground for
`mockserver serve`, or on a background thread for test suites.

waitress alone lets slow clients hold connections forever (each trickled byte resets
its inactivity timer, and past its connection limit nobody else gets in), and spools
large bodies to disk before they are refused. Here every connection has deadlines, a
body over the limit is refused before it is buffered, and waitress's own refusals are
in the API's Error shape.
"""

from __future__ import annotations

import contextlib
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

from waitress import wasyncore
from waitress.adjustments import Adjustments
from waitress.channel import HTTPChannel
from waitress.server import MultiSocketServer, TcpWSGIServer
from waitress.task import ErrorTask, ThreadedTaskDispatcher, WSGITask
from waitress.utilities import (
    BadRequest,
    RequestEntityTooLarge,
    RequestHeaderFieldsTooLarge,
    ServerNotImplemented,
)

from mockserver import settings
from mockserver.controls.faults import DROP_CONNECTION
from mockserver.errors import ApiError, envelope, internal_error, new_request_id, payload_too_large

SERVER_IDENT = "mudbase-mock"

access_log = logging.getLogger("mockserver.access")


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


class _Channel(HTTPChannel):
    """A connection whose requests have deadlines that trickled bytes cannot push back."""

    error_task_class = _ErrorTask
    task_class = _Task

    def received(self, data: bytes) -> bool:
        now = time.monotonic()
        result = super().received(data)
        with self.requests_lock:
            for request in (*self.requests, self.request):
                if request is None:
                    continue
                if not hasattr(request, "mock_started"):
                    request.mock_started = now
                if request.headers_finished and not hasattr(request, "mock_headers_done"):
                    request.mock_headers_done = now
        return result

    def writable(self) -> bool:
        # Not while the request's task holds the buffer's lock: it sends what it writes
        # itself (write_soon), and wakes the loop if bytes are left. waitress's says
        # writable whenever the buffer holds bytes, so the loop spun on poll() (a socket is
        # always ready for writing) while the task, holding the lock, waited for the GIL
        # the loop held: about 5 ms (the switch interval) for each write. One process, one
        # thread, getChatDetails: 280 turns of the loop a request, 9 ms of CPU.
        if self.will_close or self.close_when_flushed:
            return True
        if not self.total_outbufs_len:
            return False
        if not self.requests:
            return True
        if not self.outbuf_lock.acquire(blocking=False):
            return False
        self.outbuf_lock.release()
        return True

    def overdue(self, now: float, limits: ConnectionLimits) -> bool:
        with self.requests_lock:
            receiving, queued = self.request, list(self.requests)
        if receiving is not None and hasattr(receiving, "mock_started"):
            if not receiving.headers_finished and now - receiving.mock_started > limits.header_timeout:
                return True
            if receiving.headers_finished and now - receiving.mock_headers_done > limits.body_timeout:
                return True
        started = [request.mock_started for request in (*queued, receiving) if hasattr(request, "mock_started")]
        return bool(started) and now - min(started) > limits.request_timeout


DEFAULT_LIMITS = ConnectionLimits()


class _Server(TcpWSGIServer):
    channel_class = _Channel
    limits = DEFAULT_LIMITS

    def maintenance(self, now: float) -> None:
        super().maintenance(now)  # waitress's own: idle connections, after adj.channel_timeout
        clock = time.monotonic()
        for channel in list(self.active_channels.values()):
            if channel.overdue(clock, self.limits):
                channel.will_close = True


def create_server(
    app,
    host: str,
    port: int,
    threads: int = 8,
    limits: ConnectionLimits = DEFAULT_LIMITS,
    max_body_bytes: int = settings.MAX_BODY_BYTES,
    sock: socket.socket | None = None,
):
    """A bound waitress server; port 0 picks a free port (see `.effective_port`). With
    `sock`, it accepts on that listening socket instead of binding host and port.
    `max_body_bytes`: the validating proxy forwards larger bodies than the mock takes."""
    adj = Adjustments(
        **({"sockets": [sock]} if sock else {"host": host, "port": port}),
        threads=threads,
        ident=SERVER_IDENT,
        connection_limit=limits.max_connections,
        channel_timeout=limits.idle_timeout,
        cleanup_interval=1,  # how often the deadlines are looked at
        asyncore_use_poll=True,  # select() cannot watch more than 1024 sockets
        # waitress refuses a Content-Length >= max_request_body_size while reading the
        # headers, and a chunked body once it has read that much (framing included, hence
        # the slack; the app enforces the exact limit). What the mock accepts stays in
        # memory, never in a temporary file; the proxy's larger bodies go to one.
        max_request_body_size=max_body_bytes + 64 * 1024,
        inbuf_overflow=settings.MAX_BODY_BYTES + 128 * 1024,
    )
    map_: dict = {}
    dispatcher = ThreadedTaskDispatcher()
    dispatcher.set_thread_count(adj.threads)
    if sock:
        info = (sock.family, sock.type, sock.proto, sock.getsockname())
        servers = [_Server(app, map_, True, sock, dispatcher=dispatcher, adj=adj, sockinfo=info, bind_socket=False)]
    else:
        servers = [_Server(app, map_, dispatcher=dispatcher, adj=adj, sockinfo=info) for info in adj.listen]
    for server in servers:
        server.limits = limits
    if len(servers) == 1:
        return servers[0]
    listening = [(server.effective_host, server.effective_port) for server in servers]
    return MultiSocketServer(map_, adj, listening, dispatcher)


@contextmanager
def serve_in_background(
    app,
    host: str = "127.0.0.1",
    port: int = 0,
    threads: int = 8,
    limits: ConnectionLimits = DEFAULT_LIMITS,
    max_body_bytes: int = settings.MAX_BODY_BYTES,
) -> Iterator[str]:
    """Serve `app` on a thread; yields its base URL and stops it cleanly on exit."""
    server = create_server(app, host, port, threads, limits, max_body_bytes)
    thread = threading.Thread(target=server.run, name="mockserver", daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.effective_port}"
    finally:
        # Finish in-flight requests, then close every socket from the loop's own
        # thread (closing them from here races its select()); the loop ends with them.
        server.task_dispatcher.shutdown()
        try:
            server.trigger.pull_trigger(lambda: _close_all(server._map))
        except OSError:  # the loop's wake-up pipe is gone (seen once under load): close from here
            _close_all(server._map)
        thread.join(timeout=10)


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket listening on host and port (0: a free one), for serve_in_processes."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return socket.create_server((host, port), family=family, backlog=1024)


def serve_in_processes(
    app,
    sock: socket.socket,
    workers: int,
    threads: int,
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
                code = _run_worker(app, sock, threads, limits, parent)
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


def _run_worker(app, sock: socket.socket, threads: int, limits: ConnectionLimits, parent: int) -> int:
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
    server = create_server(app, "", 0, threads, limits, sock=sock)
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


def _close_all(map_: dict) -> None:
    """Close every socket, and the buffers of connections stopped mid-request or
    mid-answer: waitress spools large bodies to temporary files, which its close_all
    (sockets only) would leave to the garbage collector."""
    for dispatcher in list(map_.values()):
        if isinstance(dispatcher, HTTPChannel):
            with dispatcher.requests_lock:
                unfinished = [*dispatcher.requests, dispatcher.request]
            for request in unfinished:
                if request is not None:
                    request.close()  # its body buffer
            dispatcher.handle_close()  # its answer's buffers, then the socket
    wasyncore.close_all(map_)
