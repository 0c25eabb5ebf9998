"""A tiny load balancer for the tests: each request goes to the next of several
replicas in turn, with its method, path, headers and body as the client sent them."""

from __future__ import annotations

import http.client
import itertools
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

# Headers of one connection, not of the request (RFC 9110, 7.6.1).
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection"}


@contextmanager
def round_robin(base_urls: list[str]) -> Iterator[tuple[str, Counter]]:
    """Yields the forwarder's base URL and how many requests each replica got."""
    replicas = itertools.cycle([urlsplit(url).netloc for url in base_urls])
    turn = threading.Lock()
    served: Counter = Counter()

    class Forward(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def forward(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            with turn:
                replica = next(replicas)
                served[replica] += 1
            upstream = http.client.HTTPConnection(replica, timeout=60)
            try:
                upstream.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
                for name, value in self.headers.items():
                    if name.lower() not in HOP_BY_HOP:
                        upstream.putheader(name, value)
                upstream.endheaders(body)
                response = upstream.getresponse()
                content = response.read()
            finally:
                upstream.close()
            head = self.command == "HEAD"  # its Content-Length is of the body a GET would get
            self.send_response_only(response.status, response.reason)
            for name, value in response.getheaders():
                if name.lower() not in HOP_BY_HOP and (head or name.lower() != "content-length"):
                    self.send_header(name, value)
            if not head:
                self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

        def __getattr__(self, name: str):
            # Every method is forwarded (TRACE too: the replicas answer it with a 405).
            if name.startswith("do_"):
                return self.forward
            raise AttributeError(name)

        def log_message(self, *_args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Forward)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="round-robin", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", served
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
