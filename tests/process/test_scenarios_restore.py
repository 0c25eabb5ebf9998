"""The contract scenarios leave the target as they found it, whatever it answers.

A proxy on 127.0.0.1 passes every request to a real mock, so every change happens,
but answers each write of the chat API (each POST, PUT, PATCH or DELETE under
/api/chat/) with a 204, a 500 or a body that breaks the schema. The scenarios then
fail, and the mock behind the proxy must still be as it was.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from suite_runs import run_contract_suite
from support import SECRET, changed, lasting_state

ANSWERS = {
    "204": (204, b""),
    "500": (500, json.dumps({"error": "Internal error", "code": "INTERNAL_ERROR"}).encode()),
    "broken body": (200, b'{"success": true, "data": "not what the schema says"}'),
}
KEPT_HEADERS = {"content-type", "www-authenticate", "allow", "x-request-id"}


@contextmanager
def corrupting_proxy(upstream: str, answer: tuple[int, bytes]) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        timeout = 30  # on the socket of each request

        def forward(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {name: value for name, value in self.headers.items() if name.lower() != "host"}
            response = requests.request(self.command, upstream + self.path, headers=headers, data=body, timeout=30)
            status, content = response.status_code, response.content
            if self.command != "GET" and self.path.startswith("/api/chat/"):
                status, content = answer
            self.send_response(status)
            for name, value in response.headers.items():
                if name.lower() in KEPT_HEADERS:
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = forward

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.mark.parametrize("answer", list(ANSWERS))
def test_the_scenarios_put_back_what_they_change_whatever_the_answers(live_server, answer):
    before = lasting_state(live_server, SECRET)
    env = {name: value for name, value in os.environ.items() if not name.startswith("CONTRACT_")}
    with corrupting_proxy(live_server, ANSWERS[answer]) as proxy:
        suite = run_contract_suite(
            proxy,
            {**env, "CONTRACT_JWT_SECRET": SECRET},
            "--ignore=contract_tests/test_generated.py",
            timeout=300,
        )
    # The broken answers fail the scenarios that change state, and only those.
    assert suite.returncode == 1, suite.stdout[-3000:]
    assert "FAILED contract_tests/test_scenarios.py::test_remove_a_participant_then_add_them_back" in suite.stdout
    assert changed(before, lasting_state(live_server, SECRET)) == {}, suite.stdout[-3000:]
