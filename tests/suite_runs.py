"""Running the contract suite against the mock or a mutant, and reporting what caught each."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
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
    env = {
        **os.environ,
        "MOCKSERVER_JWT_SECRET": SECRET,
        "CONTRACT_JWT_SECRET": SECRET,
        # Every mutant is aimed at a scenario or at what the first generated cases reach;
        # the full generation budget runs once, in `pytest contract_tests`.
        "CONTRACT_MAX_EXAMPLES": "15",
    }
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "mutants.py"), mutant],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        base_url = server.stdout.readline().strip()
        if not base_url.startswith("http://"):
            # Without --base-url the suite would start and test its own mock instead.
            raise RuntimeError(f"mutant {mutant!r} did not start (exit code {server.poll()})")
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


RUNS_KEY = pytest.StashKey[dict]()  # mutant name -> SuiteRun, for the terminal summary


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
