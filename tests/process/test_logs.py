"""Log lines: no request can forge one, whichever logger writes its path."""

from __future__ import annotations

import io
import logging
import re

import pytest
import requests
from click.testing import CliRunner
from support import FIXTURES, MORGAN, SAM, SPEC, bearer

from mockserver.cli import main
from mockserver.server.logs import configure_logging
from mockserver.server.serving import serve_in_background

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
    handlers = list(logging.getLogger().handlers)
    result = CliRunner().invoke(main, ["serve", "--spec", str(SPEC), "--fixtures", str(FIXTURES)])
    assert result.exit_code == 0, result.output
    assert logging.getLogger().handlers == handlers  # serve removed its handler
    check_lines(result.stderr)
    assert "mockserver.server Exception while serving /a\\n" + FORGED_RECORD in result.stderr
