"""One request and its answer, whichever way the connection is served: waitress's parser
reads the request within its deadlines, and waitress's task (the HTTP/1.1 rules: Date,
Connection, Content-Length or chunked, HEAD) runs the app and writes the answer to the
connection (its "channel": addr, adj, server, write_soon, check_client_disconnected)."""

from __future__ import annotations

import json
import logging
import socket
import struct
import time
from collections.abc import Callable
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
from mockserver.controls.faults import DROP_CONNECTION, HOLD_ANSWER
from mockserver.errors import ApiError, envelope, internal_error, new_request_id, payload_too_large

SERVER_IDENT = "mudbase-mock"
READ_SIZE = 64 * 1024
# Closed with unread bytes, a socket sends a reset, which can reach the client before
# the answer does: a connection closed after an answer reads what the client still sends
# first, for at most this long and this much.
DRAIN_SECONDS = 1.0
DRAIN_BYTES = 2 * 1024 * 1024

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


DEFAULT_LIMITS = ConnectionLimits()


def adjustments(max_body_bytes: int) -> Adjustments:
    return Adjustments(
        ident=SERVER_IDENT,
        # waitress's parser refuses a Content-Length >= max_request_body_size from the
        # headers, and a chunked body once it has read that much (framing included, hence
        # the slack; the app enforces the exact limit). What the mock accepts stays in
        # memory, never in a temporary file; the proxy's larger bodies go to one.
        max_request_body_size=max_body_bytes + 64 * 1024,
        inbuf_overflow=settings.MAX_BODY_BYTES + 128 * 1024,
    )


class Listening:
    """A server on a listening socket, with what waitress's task reads of it: the
    application, adj, server_name and effective_port."""

    def __init__(self, app, sock: socket.socket, limits: ConnectionLimits, max_body_bytes: int, owns_socket: bool):
        self.application = app
        self.socket = sock
        self.limits = limits
        self.adj = adjustments(max_body_bytes)
        self.server_name = self.adj.server_name
        self.effective_port = sock.getsockname()[1]
        self.stopping = False
        self._owns_socket = owns_socket


class RequestReader:
    """Bytes in, requests out, each within its deadlines: `limits.idle_timeout` for its
    first byte, then the header timeout to the end of its headers, then the body timeout,
    and the request timeout for all of it. `deadline` is the one that applies now."""

    def __init__(self, adj: Adjustments, limits: ConnectionLimits, send_continue: Callable[[], None]) -> None:
        self.adj = adj
        self.limits = limits
        self.send_continue = send_continue  # answers Expect: 100-continue
        self.restart()

    def restart(self) -> None:
        """Wait for the next request (after an answer is sent)."""
        self.request = HTTPRequestParser(self.adj)
        self.deadline = time.monotonic() + self.limits.idle_timeout
        self._started: float | None = None
        self._reading_body = False

    def feed(self, data: bytes) -> tuple[HTTPRequestParser | None, bytes]:
        """Parse `data`: the request, once complete, and the bytes past it (call `restart`
        before the next); None and b"" while it is not."""
        limits = self.limits
        while data:
            now = time.monotonic()
            if self._started is None:
                self._started = now
                self.deadline = now + min(limits.header_timeout, limits.request_timeout)
            request = self.request
            consumed = request.received(data)
            data = data[consumed:]
            if request.headers_finished and not self._reading_body:
                self._reading_body = True
                self.deadline = min(now + limits.body_timeout, self._started + limits.request_timeout)
            if request.expect_continue and request.headers_finished:
                request.expect_continue = False
                self.send_continue()
            if request.completed:
                if request.empty:  # blank lines before a request
                    self.restart()
                    continue
                return request, data
            if not consumed:
                break
        return None, b""


CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"


class ErrorAnswer(ErrorTask):
    """waitress's own refusals, before the app sees the request, in the Error shape."""

    dropped = None  # a refusal is always sent (see Answer)
    held = 0.0

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


class Answer(WSGITask):
    """The app's answer, which the app may hold back for a while (`held` seconds: latency
    and delay rules, faults.py) or replace with nothing (`dropped`, a fault rule): the
    connection is then closed without a byte sent, with a TCP reset (RST, as SO_LINGER 0
    makes close() send) or cleanly (FIN: "empty reply from server")."""

    dropped: str | None = None
    held = 0.0

    def get_environment(self) -> dict:
        environ = super().get_environment()
        environ[DROP_CONNECTION] = self._drop
        environ[HOLD_ANSWER] = self._hold
        del environ["wsgi.file_wrapper"]  # the answer is written by the connection, from memory
        return environ

    def _drop(self, how: str) -> None:
        self.dropped = how

    def _hold(self, seconds: float) -> None:
        self.held += seconds

    def write(self, data: bytes) -> None:
        if self.dropped is None:
            super().write(data)

    def finish(self) -> None:
        if self.dropped is None:
            super().finish()
            return
        self.close_on_finish = True
        if self.dropped == "reset":
            self.channel.socket.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def answer(channel, request: HTTPRequestParser) -> WSGITask | None:
    """Run `request` through its task, which writes the answer to `channel`; None when
    the connection is to end without one (the app failed once it had begun answering)."""
    task = (ErrorAnswer if request.error else Answer)(channel, request)
    try:
        task.service()
    except OSError:
        return None
    except Exception:
        server_log.exception("Exception while serving %s", request.path)
        if task.wrote_header:
            return None
        failed = HTTPRequestParser(channel.adj)
        failed.error = InternalServerError("The server encountered an unexpected internal server error")
        failed.version = request.version
        task = ErrorAnswer(channel, failed)
        task.service()
    finally:
        request.close()  # its body's buffer
    return task
