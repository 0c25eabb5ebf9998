"""Shared fixtures: an app per test, a client that checks every response against
the contract, tokens, and a live server for tests that need real HTTP."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from suite_runs import RUNS_KEY, TEETH_KEY, mutant_table, teeth_table
from support import FIXTURES, SECRET, SPEC, ContractClient

from mockserver import create_app
from mockserver.server.serving import serve_in_background
from mockserver.store import MEMORY

PROCESS_TESTS = Path(__file__).parent / "process"


def pytest_collection_modifyitems(items) -> None:
    # The markers pyproject.toml declares, by folder: every test under tests/process.
    for item in items:
        if PROCESS_TESTS in item.path.parents:
            item.add_marker(pytest.mark.process)
    # The slow ones first, so that with `-n 2` each starts while the other worker runs the
    # rest, not last on one worker while the other idles.
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


def pytest_generate_tests(metafunc) -> None:
    # Modules marked both_stores hold the two stores to the same rules.
    definition = metafunc.definition
    if (
        "store_url" in metafunc.fixturenames
        and definition.get_closest_marker("both_stores")
        and not definition.get_closest_marker("memory_store_only")
    ):
        metafunc.parametrize("store_url", ["memory", pytest.param("redis", marks=pytest.mark.redis)], indirect=True)


@pytest.fixture(scope="session")
def redis_server() -> Iterator:
    from redis_server import RedisServer

    server = RedisServer()
    yield server
    server.close()


@pytest.fixture
def store_url(request) -> str:
    """The app's store: memory, unless a both_stores module asks for Redis too."""
    if getattr(request, "param", "memory") == "memory":
        return MEMORY
    return request.getfixturevalue("redis_server").url


@pytest.fixture
def app(store_url: str) -> Flask:
    # Each test's own key prefix: its state starts from the fixtures.
    app = create_app(SPEC, FIXTURES, jwt_secret=SECRET, store_url=store_url, store_prefix=f"test-{uuid.uuid4().hex}")
    app.test_client_class = ContractClient
    return app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """The app served by `mockserver serve`'s server on a free 127.0.0.1 port; yields its base URL."""
    with serve_in_background(app) as base_url:
        yield base_url


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    runs = config.stash.get(RUNS_KEY, None)
    if runs:
        terminalreporter.section("contract suite against the mutants")
        for line in mutant_table(runs):
            terminalreporter.write_line(line)
    teeth = config.stash.get(TEETH_KEY, None)
    if teeth:
        terminalreporter.section("lifecycle checks against the broken bookings servers")
        for line in teeth_table(teeth):
            terminalreporter.write_line(line)
