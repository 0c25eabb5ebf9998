"""Shared fixtures: an app per test, a client that checks every response against
the contract, tokens, and a live server for tests that need real HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from suite_runs import RUNS_KEY, mutant_table
from support import FIXTURES, SECRET, SPEC, ContractClient

from mockserver import create_app
from mockserver.serving import serve_in_background


@pytest.fixture
def app() -> Flask:
    app = create_app(SPEC, FIXTURES, jwt_secret=SECRET)
    app.test_client_class = ContractClient
    return app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """The app served by waitress on a free 127.0.0.1 port; yields its base URL."""
    with serve_in_background(app) as base_url:
        yield base_url


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    runs = config.stash.get(RUNS_KEY, None)
    if runs:
        terminalreporter.section("contract suite against the mutants")
        for line in mutant_table(runs):
            terminalreporter.write_line(line)
