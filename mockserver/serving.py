"""Serving an app with waitress, a production WSGI server: in the foreground for
`mockserver serve`, or on a background thread for test suites."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import waitress
from waitress import wasyncore

from . import settings

SERVER_IDENT = "mudbase-mock"


def create_server(app, host: str, port: int, threads: int = 8):
    """A bound waitress server; port 0 picks a free port (see `.effective_port`)."""
    return waitress.create_server(
        app,
        host=host,
        port=port,
        threads=threads,
        ident=SERVER_IDENT,
        max_request_body_size=settings.MAX_UPLOAD_BYTES,
    )


@contextmanager
def serve_in_background(app, host: str = "127.0.0.1", port: int = 0, threads: int = 8) -> Iterator[str]:
    """Serve `app` on a thread; yields its base URL and stops it cleanly on exit."""
    server = create_server(app, host, port, threads)
    thread = threading.Thread(target=server.run, name="mockserver", daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.effective_port}"
    finally:
        # Finish in-flight requests, then close every socket from the loop's own
        # thread (closing them from here races its select()); the loop ends with them.
        server.task_dispatcher.shutdown()
        server.trigger.pull_trigger(lambda: wasyncore.close_all(server._map))
        thread.join(timeout=10)
