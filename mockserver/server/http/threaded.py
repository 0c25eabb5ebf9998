"""A thread per connection, for an app that waits (the proxy, on its upstream): a slow
answer holds up its own connection only."""

from __future__ import annotations

import contextlib
import errno
import socket
import threading
import time

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
from mockserver.sockets import set_timeout

_SEND_AT = 256 * 1024  # an answer larger than this is sent as it is written


class _Connection:
    """One client's connection, read, answered and sent on a thread of its own, with
    blocking calls on the kernel's timeouts (SO_RCVTIMEO, SO_SNDTIMEO): a Python timeout
    polls before each recv and send and switches the socket's mode on each settimeout."""

    def __init__(self, server: ThreadedServer, sock: socket.socket, addr) -> None:
        self.server = server
        self.adj = server.adj
        self.socket = sock
        self.addr = addr
        self._unsent: list[bytes] = []
        self._unsent_bytes = 0
        sock.settimeout(None)
        self._idle_timeout = self._send_timeout = set_timeout(sock, socket.SO_SNDTIMEO, server.limits.idle_timeout)
        self._reader = RequestReader(self.adj, server.limits, lambda: self._send(CONTINUE))

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
            self._send_timeout = set_timeout(self.socket, socket.SO_SNDTIMEO, remaining)
        if self._send_timeout != self._idle_timeout:  # as it was, for the next answer
            self._send_timeout = set_timeout(self.socket, socket.SO_SNDTIMEO, self._idle_timeout)

    def serve(self) -> None:
        leftover = b""
        linger = False
        try:
            while not self.server.stopping:
                request, leftover = self._read(leftover)
                if request is None:
                    break
                task = answer(self, request)
                if task is None:
                    break
                if task.held:
                    time.sleep(task.held)
                self.flush()
                if task.close_on_finish:
                    linger = task.dropped is None
                    break
                self._reader.restart()
        except OSError:  # the client went away, or a send timed out
            linger = False
        finally:
            self.server.forget(self)
            if linger:
                self._drain()
            with contextlib.suppress(OSError):
                self.socket.close()

    def _read(self, data: bytes):
        """The next request and the bytes read past it; no request when the client left
        or missed a deadline."""
        reader = self._reader
        while True:
            request, rest = reader.feed(data)
            if request is not None:
                return request, rest
            remaining = reader.deadline - time.monotonic()
            if remaining <= 0:
                return None, b""
            set_timeout(self.socket, socket.SO_RCVTIMEO, remaining)
            try:
                data = self.socket.recv(READ_SIZE)
            except BlockingIOError:  # the kernel's timeout
                return None, b""
            if not data:
                return None, b""

    def _drain(self) -> None:
        # Closed with unread bytes, a socket sends a reset, which can reach the client
        # before the answer does: stop sending, then read until it closes (bounded).
        with contextlib.suppress(OSError):
            self.socket.shutdown(socket.SHUT_WR)
            set_timeout(self.socket, socket.SO_RCVTIMEO, DRAIN_SECONDS)  # its end: BlockingIOError
            drained = 0
            while drained < DRAIN_BYTES:
                data = self.socket.recv(READ_SIZE)
                if not data:
                    break
                drained += len(data)


class ThreadedServer(Listening):
    """Accepts connections on a listening socket, each served by a thread of its own: at
    most `limits.max_connections` at once, the others wait in the socket's backlog."""

    def __init__(self, app, sock: socket.socket, limits: ConnectionLimits, max_body_bytes: int, owns_socket: bool):
        super().__init__(app, sock, limits, max_body_bytes, owns_socket)
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
        if self._owns_socket:
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
