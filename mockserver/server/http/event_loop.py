"""Every connection on one thread: an event loop (selectors: epoll on Linux) that reads
without blocking, runs the app inline on each complete request, and sends its answer
without blocking.

A thread per connection passed the GIL on each blocking call, and under load each pass
was a hand-off between threads: a quarter of the CPU of a Petstore read on 16
connections, and the tail of its latency. Here nothing waits but the loop's one select,
and the requests that arrive together are answered in turn. So the app must not wait
long: the mock's answers held back (latency, delay rules) wait on the loop's timers, not
in a sleep, and its only waits are its store's round trips (the state process, Redis),
during which the loop waits too. An app that waits (the proxy) is served by threaded.py."""

from __future__ import annotations

import contextlib
import errno
import heapq
import itertools
import selectors
import socket
import threading
import time
from collections.abc import Callable

from mockserver.server.http.exchange import (
    CONTINUE,
    DRAIN_BYTES,
    DRAIN_SECONDS,
    READ_SIZE,
    ConnectionLimits,
    Listening,
    RequestReader,
    answer,
    server_log,
)

_SWEEP_SECONDS = 0.1  # how often the deadlines are checked
_ACCEPT_PAUSE = 0.1  # out of file descriptors: accept again after this

_READING, _HELD, _SENDING, _DRAINING = "reading", "held", "sending", "draining"
_KEEP, _LINGER, _CLOSE = "keep", "linger", "close"  # once the answer is sent
_LISTENER, _WAKER = "listener", "waker"  # the selector's data for the sockets not a connection


class _Connection:
    """One client's connection and where it is: reading a request, holding its answer
    back, sending it, or draining what the client still sends before closing."""

    def __init__(self, loop: LoopServer, sock: socket.socket, addr) -> None:
        self.server = loop
        self.adj = loop.adj
        self.socket = sock
        self.addr = addr
        self.reader = RequestReader(loop.adj, loop.limits, self._send_continue)
        self.state = _READING
        self.events = 0  # what the selector waits for on it
        self.unread = b""  # read past the request being answered (pipelined)
        self.unsent: list[bytes] = []
        self.sending: memoryview | None = None
        self.then = _KEEP
        self.deadline = float("inf")  # of a send or a drain (reading: the reader's)
        self.drained = 0

    # --- what waitress's task calls -------------------------------------------------------

    def write_soon(self, data: bytes) -> int:
        if data:
            self.unsent.append(bytes(data))
        return len(data)

    def check_client_disconnected(self) -> bool:
        return False  # nothing is read while the app runs

    def _send_continue(self) -> None:
        try:
            sent = self.socket.send(CONTINUE)
        except BlockingIOError:
            sent = 0
        if sent != len(CONTINUE):  # 25 bytes do not fit an empty socket: a client that reads nothing
            raise ConnectionError("the client does not read")

    # --- the states -----------------------------------------------------------------------

    def due(self) -> float:
        if self.state == _READING:
            return self.reader.deadline
        return self.deadline if self.state != _HELD else float("inf")

    def readable(self) -> None:
        try:
            data = self.socket.recv(READ_SIZE)
        except BlockingIOError:
            return
        if not data:
            self.server.end(self)
        elif self.state == _DRAINING:
            self.drained += len(data)
            if self.drained >= DRAIN_BYTES:
                self.server.end(self)
        else:
            self.unread += data
            self.advance()

    def release(self) -> None:
        """The held answer's time has come."""
        self.state = _SENDING
        self._start_sending()
        self.advance()

    def advance(self) -> None:
        """Carry on until the connection has to wait for the client or for a timer."""
        loop = self.server
        while True:
            if self.state == _READING:
                request = None
                if self.unread:
                    data, self.unread = self.unread, b""
                    request, self.unread = self.reader.feed(data)
                if request is None:
                    loop.want(self, selectors.EVENT_READ)
                    return
                task = answer(self, request)
                if task is None:
                    loop.end(self)
                    return
                if task.dropped is not None:
                    self.then = _CLOSE  # nothing written; a reset's SO_LINGER is set
                elif task.close_on_finish:
                    self.then = _LINGER
                else:
                    self.then = _KEEP
                if task.held > 0:
                    self.state = _HELD
                    loop.want(self, 0)
                    loop.hold(self, task.held)
                    return
                self.state = _SENDING
                self._start_sending()
            elif self.state == _SENDING:
                if not self._send_some():
                    loop.want(self, selectors.EVENT_WRITE)
                    return
                if self.then == _KEEP and not loop.stopping:
                    self.state = _READING
                    self.reader.restart()
                elif self.then == _LINGER:
                    # Closed with unread bytes, a socket sends a reset, which can reach the
                    # client before the answer does: stop sending, read until it closes.
                    self.socket.shutdown(socket.SHUT_WR)
                    self.state = _DRAINING
                    self.deadline = time.monotonic() + DRAIN_SECONDS
                    loop.want(self, selectors.EVENT_READ)
                    return
                else:
                    loop.end(self)
                    return
            else:  # held: its timer; draining: readable()
                return

    def _start_sending(self) -> None:
        self.sending = memoryview(b"".join(self.unsent)) if self.unsent else None
        self.unsent = []
        self.deadline = time.monotonic() + self.server.limits.idle_timeout  # all of it, within the idle timeout

    def _send_some(self) -> bool:
        """Send what the socket takes now; whether all is sent."""
        while self.sending:
            try:
                sent = self.socket.send(self.sending)
            except BlockingIOError:
                return False
            self.sending = self.sending[sent:]
        self.sending = None
        return True


class LoopServer(Listening):
    """Accepts connections on a listening socket and serves them all on the thread that
    calls `run`: at most `limits.max_connections` at once, the others wait in the
    socket's backlog."""

    def __init__(self, app, sock: socket.socket, limits: ConnectionLimits, max_body_bytes: int, owns_socket: bool):
        super().__init__(app, sock, limits, max_body_bytes, owns_socket)
        self._selector = selectors.DefaultSelector()
        self._connections: set[_Connection] = set()
        self._held: list[tuple[float, int, _Connection]] = []  # answers held back, soonest first
        self._order = itertools.count()
        self._listening = False
        self._accept_again = 0.0
        self._waker, self._wake = socket.socketpair()  # close() from another thread wakes the loop
        self._waker.setblocking(False)
        self._wake.setblocking(False)
        self._running = threading.Lock()
        self._stop_by = float("inf")
        # Called after each pass over the ready connections (and at least every sweep), as
        # the log's BatchingHandler.flush writes the pass's lines at once; must not raise.
        self.after_pass: Callable[[], None] | None = None

    # --- the loop -------------------------------------------------------------------------

    def run(self) -> None:
        with self._running:
            if self.stopping:
                return
            self.socket.setblocking(False)
            self._selector.register(self._waker, selectors.EVENT_READ, _WAKER)
            self._listen(True)
            try:
                self._loop()
            finally:
                self._close_all()
                if self.after_pass is not None:
                    self.after_pass()

    def _loop(self) -> None:
        sweep = time.monotonic() + _SWEEP_SECONDS
        while True:
            now = time.monotonic()
            if self.stopping and (not self._connections or now >= self._stop_by):
                return
            timeout = sweep - now
            if self._held:
                timeout = min(timeout, self._held[0][0] - now)
            for key, events in self._selector.select(max(timeout, 0)):
                connection = key.data
                if connection is _LISTENER:
                    self._accept()
                elif connection is _WAKER:
                    self._woken()
                elif connection in self._connections:  # not ended by an earlier event
                    self._event(connection, events)
            now = time.monotonic()
            while self._held and self._held[0][0] <= now:
                connection = heapq.heappop(self._held)[2]
                if connection in self._connections:
                    self._guarded(connection, connection.release)
            if now >= sweep:
                self._sweep(now)
                sweep = now + _SWEEP_SECONDS
            if self.after_pass is not None:
                self.after_pass()

    def _event(self, connection: _Connection, events: int) -> None:
        if events & selectors.EVENT_READ and connection.state in (_READING, _DRAINING):
            self._guarded(connection, connection.readable)
        elif events & selectors.EVENT_WRITE and connection.state == _SENDING:
            self._guarded(connection, connection.advance)

    def _guarded(self, connection: _Connection, step) -> None:
        try:
            step()
        except OSError:  # the client went away
            self.end(connection)
        except Exception:  # a bug here must cost one connection, not the loop
            server_log.exception("Exception while serving a connection from %s", connection.addr)
            self.end(connection)

    def _sweep(self, now: float) -> None:
        for connection in [c for c in self._connections if c.due() <= now]:
            self.end(connection)  # missed its deadline
        self._listen(self._room(now))

    def _room(self, now: float) -> bool:
        """Whether to accept: below the limit, and not paused after a failed accept."""
        return len(self._connections) < self.limits.max_connections and now >= self._accept_again

    def _accept(self) -> None:
        # One connection a wake: workers wake together on the socket they share, and one
        # that took every waiting connection would serve them all while the others idle.
        if self.stopping:
            return
        try:
            sock, addr = self.socket.accept()
        except BlockingIOError:  # another worker took it
            return
        except OSError as exc:
            if exc.errno in (errno.EBADF, errno.EINVAL):
                return
            server_log.warning("accept failed: %s", exc)
            self._accept_again = time.monotonic() + _ACCEPT_PAUSE  # out of file descriptors: let connections end
            self._listen(False)
            return
        try:
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:  # reset by the client already
            sock.close()
            return
        connection = _Connection(self, sock, addr)
        self._connections.add(connection)
        connection.events = selectors.EVENT_READ
        self._selector.register(sock, selectors.EVENT_READ, connection)
        self._listen(self._room(time.monotonic()))  # at the limit: the others wait in the backlog

    def _listen(self, on: bool) -> None:
        if on == self._listening or self.stopping:
            return
        if on:
            self._selector.register(self.socket, selectors.EVENT_READ, _LISTENER)
        else:
            self._selector.unregister(self.socket)
        self._listening = on

    def _woken(self) -> None:
        with contextlib.suppress(OSError):
            while self._waker.recv(4096):
                pass
        if self.stopping:
            self._stop_listening()
            for connection in list(self._connections):
                if connection.state == _READING or connection.state == _DRAINING:
                    self.end(connection)  # waiting for a request: it ends now; answers are sent

    # --- what connections ask -------------------------------------------------------------

    def want(self, connection: _Connection, events: int) -> None:
        if events == connection.events:
            return
        if not events:
            self._selector.unregister(connection.socket)
        elif not connection.events:
            self._selector.register(connection.socket, events, connection)
        else:
            self._selector.modify(connection.socket, events, connection)
        connection.events = events

    def hold(self, connection: _Connection, seconds: float) -> None:
        heapq.heappush(self._held, (time.monotonic() + seconds, next(self._order), connection))

    def end(self, connection: _Connection) -> None:
        if connection not in self._connections:
            return
        self._connections.discard(connection)
        if connection.events:
            with contextlib.suppress(KeyError, ValueError, OSError):
                self._selector.unregister(connection.socket)
        with contextlib.suppress(OSError):
            connection.socket.close()
        self._listen(self._room(time.monotonic()))

    # --- stopping -------------------------------------------------------------------------

    def close(self, wait: float = 0) -> None:
        """Stop accepting; a connection waiting for (or in the middle of) a request ends
        at once, one with an answer to send ends once it is sent (within `wait` seconds)."""
        self._stop_by = time.monotonic() + wait
        self.stopping = True
        with contextlib.suppress(OSError):
            self._wake.send(b"x")
        if self._running.acquire(timeout=wait + 1):  # the loop has ended (or never ran)
            try:
                self._close_all()
            finally:
                self._running.release()

    def _stop_listening(self) -> None:
        if self._listening:
            with contextlib.suppress(KeyError, ValueError, OSError):
                self._selector.unregister(self.socket)
            self._listening = False
        if self._owns_socket:  # a worker's is shared with the other workers
            with contextlib.suppress(OSError):
                self.socket.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            self.socket.close()

    def _close_all(self) -> None:
        self.stopping = True  # also when run() ends by an exception (SIGTERM's SystemExit, Ctrl-C)
        self._stop_listening()
        for connection in list(self._connections):
            self.end(connection)
        self._held.clear()
        self._selector.close()
        self._waker.close()
        self._wake.close()
