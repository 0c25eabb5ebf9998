"""Serving a WSGI app over HTTP/1.1: in the foreground for `mockserver serve` (in one
process or several), or on a background thread for test suites.

The mock's app waits on nothing but its store (a local round trip to the state process
or Redis) and holds answers back on the loop's timers instead of sleeping, so one event
loop serves every connection and runs it inline (http/event_loop.py); the proxy's app
waits on its upstream, so each of its connections has a thread (http/threaded.py).
Either way, every connection has deadlines that trickled bytes cannot push back, there
is a bound on how many are open, a body over the limit is refused from its headers
before it is buffered, and the parser's refusals are in the API's Error shape
(http/exchange.py).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from mockserver import settings
from mockserver.server.http.event_loop import LoopServer
from mockserver.server.http.exchange import DEFAULT_LIMITS, ConnectionLimits
from mockserver.server.http.threaded import ThreadedServer

__all__ = ["ConnectionLimits", "create_server", "listening_socket", "serve_in_background", "serve_in_processes"]

Server = LoopServer | ThreadedServer


def create_server(
    app,
    host: str,
    port: int,
    limits: ConnectionLimits = DEFAULT_LIMITS,
    max_body_bytes: int = settings.MAX_BODY_BYTES,
    sock: socket.socket | None = None,
    waits: bool = False,
) -> Server:
    """A server listening on host and port (0 picks a free one: see `.effective_port`), or
    with `sock` on that listening socket. `max_body_bytes`: the validating proxy forwards
    larger bodies than the mock takes. `waits`: the app may wait (the proxy, on its
    upstream), so each connection gets a thread of its own instead of the event loop."""
    owns = sock is None
    kind = ThreadedServer if waits else LoopServer
    return kind(app, sock or listening_socket(host, port), limits, max_body_bytes, owns)


@contextmanager
def serve_in_background(
    app,
    host: str = "127.0.0.1",
    port: int = 0,
    limits: ConnectionLimits = DEFAULT_LIMITS,
    max_body_bytes: int = settings.MAX_BODY_BYTES,
    waits: bool = False,
) -> Iterator[str]:
    """Serve `app` on a thread; yields its base URL and stops it cleanly on exit."""
    server = create_server(app, host, port, limits, max_body_bytes, waits=waits)
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
    batch_log: Callable[[], Callable[[], None]] | None = None,
) -> int:
    """Serve `app` from `workers` forked processes that accept on one listening socket
    (the kernel hands each connection to one of them), each calling `started` once
    forked, and `batch_log` there, whose answer is its loop's `after_pass` (the log's
    BatchingHandler.batch); returns the exit code.

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
                code = _run_worker(app, sock, limits, parent, batch_log)
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


def _run_worker(
    app, sock: socket.socket, limits: ConnectionLimits, parent: int, batch_log: Callable[[], Callable[[], None]] | None
) -> int:
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
    server.after_pass = batch_log() if batch_log else None
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
