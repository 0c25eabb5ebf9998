"""The contract suite on any document (`--spec`), run as a CI owner runs it, in a process
of its own: against the mock serving tests/specs/bookings.yaml it passes with its
coverage report; an unreachable target is one line and exit status 7; missing
credentials stop it with exit status 6, naming the variable; CONTRACT_COVERAGE_MIN fails
a run that covers less."""

from __future__ import annotations

import os
import subprocess
import sys

from support import ROOT

from mockserver import create_app
from mockserver.server.serving import serve_in_background

BOOKINGS = ROOT / "tests" / "specs" / "bookings.yaml"


def suite(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {name: value for name, value in os.environ.items() if not name.startswith("CONTRACT_")}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "contract_tests", "-p", "no:cacheprovider", "-q", *args],
        cwd=ROOT,
        env={**clean, "CONTRACT_MAX_EXAMPLES": "3", **env},
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_the_suite_passes_against_the_mock_and_reports_its_coverage():
    run = suite("--spec", str(BOOKINGS))
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-4000:]
    # Three lifecycles (bookings, notes, tags), the generated cases and the stateful sequences.
    assert "lifecycle checks and generated cases: 5 passed\n" in output
    assert "operations covered: 11/11 (100%)" in output
    assert "POST /bookings                            201✓" in output
    assert "schemathesis sent" in output and "stateful" in output


def test_an_unreachable_target_is_one_line_and_an_exit_status_pytest_does_not_use():
    run = suite("--base-url", "http://127.0.0.1:9")
    assert run.returncode == 7, run.stdout[-2000:]  # not pytest's 5, "no tests collected"
    assert "cannot reach http://127.0.0.1:9: connection refused" in run.stdout + run.stderr
    assert len((run.stdout + run.stderr).splitlines()) < 10  # not a page of tracebacks


def test_missing_credentials_stop_the_run_naming_the_variable():
    with serve_in_background(create_app(BOOKINGS, ROOT / "fixtures")) as url:
        run = suite("--spec", str(BOOKINGS), "--base-url", url + "/v1")
    assert run.returncode == 6, run.stdout[-2000:]
    assert "set CONTRACT_TOKEN" in run.stdout + run.stderr


def test_a_run_below_the_coverage_minimum_fails():
    run = suite("--spec", str(BOOKINGS), "-k", "test_lifecycle and tags", CONTRACT_COVERAGE_MIN="50%")
    output = run.stdout + run.stderr
    assert run.returncode == 1, output[-3000:]
    assert "is below CONTRACT_COVERAGE_MIN (50%)" in output
