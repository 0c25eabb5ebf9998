"""Log lines: no request can forge one, whichever logger writes its path."""

from __future__ import annotations

import io
import logging
import re
import signal
import socket
import threading
import time

import pytest
import requests
from click.testing import CliRunner
from support import FIXTURES, MORGAN, PARTICIPANTS, SAM, SPEC, bearer

from mockserver.cli import main
from mockserver.server.logs import EscapingFormatter, configure_logging
from mockserver.server.serving import create_server, serve_in_background

FORGED_RECORD = "2026-11-28 00:00:00,000 mockserver.access 10.0.0.1 POST reset 200 1.0ms"
FORGING_PATH = "/api/chat/projects/p%0A" + FORGED_RECORD.replace(" ", "%20") + "%0D%00%E2%80%A8/chats/c/participants"
RECORD_START = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} ")


@pytest.fixture
def log():
    stream = io.StringIO()
    handler = configure_logging(stream)
    yield stream
    logging.getLogger().removeHandler(handler)


def check_lines(text: str) -> list[str]:
    """Every line is a record of its own or an indented traceback line; none is forged."""
    lines = text.split("\n")[:-1]
    for line in lines:
        assert RECORD_START.match(line) or line.startswith("    "), line
        assert not line.startswith(FORGED_RECORD)
        assert line.isprintable(), repr(line)
    return lines


def test_the_mocks_error_log_escapes_the_path(app, log, monkeypatch):
    def broken(*_args):
        raise RuntimeError("boom")

    monkeypatch.setattr(app.extensions["mockserver.store"], "remove_participant", broken)
    with serve_in_background(app) as base_url:
        response = requests.delete(base_url + FORGING_PATH, json={"userId": SAM}, headers=bearer(MORGAN), timeout=10)
    assert response.status_code == 500
    lines = check_lines(log.getvalue())
    error = next(line for line in lines if "unhandled error on DELETE" in line)
    assert "/api/chat/projects/p\\n2026-11-28 00:00:00,000 mockserver.access" in error
    assert "\\r\\x00\\u2028/chats/c/participants" in error
    assert any(line.startswith("    RuntimeError: boom") for line in lines)


def test_the_servers_error_log_escapes_the_path_and_the_exception(log):
    def crashing(environ, start_response):
        raise RuntimeError("crashed on " + environ["PATH_INFO"])

    with serve_in_background(crashing) as base_url:
        response = requests.get(base_url + FORGING_PATH, timeout=10)
    assert response.status_code == 500
    assert response.json()["code"] == "INTERNAL_ERROR"  # the server's own 500, in the Error shape
    lines = check_lines(log.getvalue())
    assert any("Exception while serving /api/chat/projects/p\\n2026-11-28" in line for line in lines)
    # The exception's newline splits the traceback line; what follows it stays indented.
    assert "    RuntimeError: crashed on /api/chat/projects/p" in lines


def test_serve_logs_through_the_escaping_formatter(monkeypatch):
    class Server:
        effective_port = 4010

        def run(self):
            logging.getLogger("mockserver.server").warning("Exception while serving /a\n" + FORGED_RECORD)

        def close(self):
            pass

    monkeypatch.setattr("mockserver.cli.create_server", lambda *args: Server())
    handlers, on_sigterm = list(logging.getLogger().handlers), signal.getsignal(signal.SIGTERM)
    result = CliRunner().invoke(main, ["serve", "--spec", str(SPEC), "--fixtures", str(FIXTURES)])
    assert result.exit_code == 0, result.output
    assert logging.getLogger().handlers == handlers  # serve removed its handler
    assert signal.getsignal(signal.SIGTERM) == on_sigterm  # and put back what SIGTERM did
    check_lines(result.stderr)
    assert "mockserver.server Exception while serving /a\\n" + FORGED_RECORD in result.stderr


class CountedWrites(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        return super().write(text)


@pytest.fixture
def batched_log():
    """The log as `mockserver serve` writes it: batched, each pass of the loop at once."""
    stream = CountedWrites()
    handler = configure_logging(stream)
    yield stream, handler
    logging.getLogger().removeHandler(handler)


def eventually(condition, seconds: float = 5) -> bool:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)
    return condition()


def test_the_loop_writes_the_access_lines_of_a_pass_at_once(app, batched_log):
    stream, handler = batched_log
    server = create_server(app, "127.0.0.1", 0)
    server.after_pass = handler.batch()
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    request = f"DELETE {PARTICIPANTS} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n"
    try:
        # Eight requests in one packet: one read, eight answers in one pass of the loop.
        with socket.create_connection(("127.0.0.1", server.effective_port), timeout=10) as client:
            client.sendall(((request + "\r\n") * 7 + request + "Connection: close\r\n\r\n").encode())
            answers = b""
            while chunk := client.recv(65536):
                answers += chunk
        assert answers.count(b"HTTP/1.1 401 ") == 8

        def lines() -> list[str]:
            return [line for line in check_lines(stream.getvalue()) if f"DELETE {PARTICIPANTS} 401 " in line]

        # The pass ends just after the last answer is sent: its lines come then.
        assert eventually(lambda: len(lines()) == 8)
        assert stream.writes <= 2  # a write each would be 8
        # A line logged off the loop's thread (the watcher's, say) waits at most for a sweep.
        logging.getLogger("mockserver.test").info("between passes")
        assert eventually(lambda: "between passes" in stream.getvalue())
        # A warning is written at once, not at the end of the pass.
        logging.getLogger("mockserver.test").warning("at once")
        assert "at once" in stream.getvalue()
    finally:
        server.close(wait=10)
        thread.join(timeout=10)


def test_a_lines_time_is_the_one_logging_writes_within_a_second_and_across_seconds():
    ours, theirs = EscapingFormatter("%(asctime)s %(message)s"), logging.Formatter("%(asctime)s %(message)s")
    for created in (1_700_000_000.001, 1_700_000_000.999, 1_700_000_001.5, 1_700_003_601.25, 1_700_000_000.5):
        record = logging.makeLogRecord({"msg": "m", "created": created, "msecs": created % 1 * 1000})
        assert ours.format(record) == theirs.format(record)
