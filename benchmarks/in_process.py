"""CPU time per request inside the process, no server and no network: the mock with its
compiled validators, the mock validating with openapi-core alone (the reference), and
the bare Flask + PyJWT app. Each request is a WSGI call on a prepared environ.
"""

from __future__ import annotations

import io
import logging
import time
from pathlib import Path
from unittest import mock

from bare_app import create_app as create_bare_app
from werkzeug.test import EnvironBuilder

from mockserver import create_app, settings
from mockserver.pipeline.validate.request import CompiledValidators

ROOT = Path(__file__).resolve().parents[1]


def environ_factory(method: str, path: str, headers: dict[str, str], body: str | None):
    environ = EnvironBuilder(path=path, method=method, headers=headers, data=body).get_environ()
    data = (body or "").encode()

    def fresh() -> dict:
        return {**environ, "wsgi.input": io.BytesIO(data)}

    return fresh


def cpu_us_per_request(app, requests, count: int, expected: set[int]) -> float:
    environs = [environ_factory(*request) for request in requests]
    statuses: set[int] = set()

    def start_response(status, headers, exc_info=None):
        statuses.add(int(status.split()[0]))

    for index in range(50):  # warm-up, and a check that the scenario answers as it should
        b"".join(app(environs[index % len(environs)](), start_response))
    if not statuses <= expected:
        raise RuntimeError(f"expected statuses {sorted(expected)}, got {sorted(statuses)}")
    started = time.process_time()
    for index in range(count):
        b"".join(app(environs[index % len(environs)](), start_response))
    return (time.process_time() - started) / count * 1e6


def measure(scenarios, count: int = 2000) -> None:
    # The access log as `mockserver serve` writes it, to a sink instead of the terminal.
    handler = logging.StreamHandler(io.StringIO())
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(message)s"))
    logger = logging.getLogger("mockserver")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        mock_app = create_app(ROOT / "openapi.yaml", ROOT / "fixtures", settings.jwt_secret())
        bare_app = create_bare_app()
        store = mock_app.extensions["mockserver.store"]
        print(f"in-process CPU time per request (us), {count} requests each")
        print(f"{'scenario':<36} {'mock':>8} {'mock, openapi-core':>19} {'bare':>8}")
        for scenario in scenarios:
            store.reset()
            fast = cpu_us_per_request(mock_app, scenario.requests, count, scenario.expected)
            store.reset()
            with mock.patch.object(CompiledValidators, "get", lambda self, operation_id: None):  # all to openapi-core
                reference = cpu_us_per_request(mock_app, scenario.requests, max(count // 5, 100), scenario.expected)
            bare = cpu_us_per_request(bare_app, scenario.requests, count, scenario.expected)
            print(f"{scenario.name:<36} {fast:>8.0f} {reference:>19.0f} {bare:>8.0f}")
        store.reset()
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
