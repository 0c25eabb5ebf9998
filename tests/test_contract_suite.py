"""Proof of teeth: the contract suite passes against the mock and fails against
every mutant (mutants.py). Prints a table of what caught each mutant."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from mutants import MUTANTS
from support import ROOT

SECRET = "contract-suite-proof-secret-0123456789abcdefghijklmnop"
BASELINE = "none"


@dataclass(frozen=True)
class SuiteRun:
    mutant: str
    exit_code: int
    failed: tuple[str, ...]  # the contract tests that failed
    output: str


def run_suite_against(mutant: str, reports: Path) -> SuiteRun:
    """Serve `mutant` in its own process and run the contract suite against it."""
    env = {**os.environ, "MOCKSERVER_JWT_SECRET": SECRET, "CONTRACT_JWT_SECRET": SECRET}
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "mutants.py"), mutant],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        base_url = server.stdout.readline().strip()
        junit = reports / f"{mutant}.xml"
        suite = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "contract_tests",
                "-q",
                "-p",
                "no:cacheprovider",
                f"--base-url={base_url}",
                f"--junitxml={junit}",
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
    finally:
        server.terminate()
        server.wait(timeout=10)
        server.stdout.close()
    return SuiteRun(mutant, suite.returncode, failed_tests(junit), suite.stdout + suite.stderr)


def failed_tests(junit: Path) -> tuple[str, ...]:
    if not junit.exists():
        return ()
    names = []
    for case in ET.parse(junit).iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            names.append(case.get("name"))
    return tuple(names)


@pytest.fixture(scope="session")
def suite_runs(tmp_path_factory, pytestconfig) -> dict[str, SuiteRun]:
    reports = tmp_path_factory.mktemp("contract-reports")
    names = [BASELINE, *MUTANTS]
    # Two at a time: each run is a server and a pytest process, on a 2-core machine.
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = dict(zip(names, pool.map(lambda name: run_suite_against(name, reports), names), strict=True))
    pytestconfig.stash[RUNS_KEY] = runs
    return runs


RUNS_KEY = pytest.StashKey[dict]()


def test_the_suite_passes_against_the_mock(suite_runs):
    run = suite_runs[BASELINE]
    assert run.exit_code == 0, run.output[-5000:]


@pytest.mark.parametrize("mutant", list(MUTANTS))
def test_the_suite_catches_the_mutant(suite_runs, mutant):
    run = suite_runs[mutant]
    assert run.exit_code == 1 and run.failed, f"{mutant} survived:\n{run.output[-3000:]}"
    # Caught by the test aimed at it, not only by collateral damage.
    expected = MUTANTS[mutant].caught_by
    assert any(expected in name for name in run.failed), f"{expected} did not fail: {run.failed}"


def short(test_name: str) -> str:
    """`test_x[DELETE /api/.../participants]` -> `x[DELETE .../participants]`."""
    test_name = test_name.removeprefix("test_")
    return re.sub(r"\[(\w+) /\S*/([^/\]]+)\]", r"[\1 .../\2]", test_name)


def mutant_table(runs: dict[str, SuiteRun]) -> list[str]:
    lines = [f"{'mutant':<22} {'breaks':<50} caught by"]
    for name, mutant in MUTANTS.items():
        run = runs.get(name)
        failed = [short(test) for test in run.failed] if run else []
        caught = ", ".join(failed[:3]) + (f" (+{len(failed) - 3} more)" if len(failed) > 3 else "")
        caught = caught or "NOT CAUGHT"
        lines.append(f"{name:<22} {mutant.breaks:<50} {caught}")
    baseline = runs.get(BASELINE)
    if baseline:
        verdict = "passes" if baseline.exit_code == 0 else f"FAILS ({', '.join(baseline.failed)})"
        lines.append(f"{'(the mock itself)':<22} {'':<50} {verdict}")
    return lines
