"""Running the contract suite against the mock or a mutant, in each configuration a team
may have, and reporting what caught each mutant."""

from __future__ import annotations

import atexit
import os
import re
import subprocess
import tempfile
import threading
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import pytest
from mutants import MUTANTS, Mutant
from support import FIXTURES, ROOT, changed, lasting_state
from warm import WarmPython

from contract_tests.target import DEFAULT_OUTSIDER_ID, DEFAULT_PARTICIPANT_ID
from mockserver.store.fixtures import load_fixtures

SECRET = "contract-suite-proof-secret-0123456789abcdefghijklmnop"
BASELINE = "none"


@dataclass(frozen=True)
class Configuration:
    name: str
    env: dict[str, str]
    args: tuple[str, ...] = ()


def credentials(prefix: str, user_id: str) -> dict[str, str]:
    user = load_fixtures(FIXTURES).users[user_id]
    return {f"{prefix}_EMAIL": user.email, f"{prefix}_PASSWORD": user.password}


WITH_SECRET = Configuration(
    "with the secret",
    {
        "CONTRACT_JWT_SECRET": SECRET,
        # The full generation budget runs once, in `pytest contract_tests`.
        "CONTRACT_MAX_EXAMPLES": "15",
    },
)
# What a team has against a real server: logins, no secret. Strict, so that a scenario
# skipped for want of a token fails the run; without the tests that only the secret
# (or an expired token the team provides) enables.
CREDENTIALS_ONLY = Configuration(
    "credentials only",
    {
        **credentials("CONTRACT_MEMBER", DEFAULT_PARTICIPANT_ID),
        **credentials("CONTRACT_OUTSIDER", DEFAULT_OUTSIDER_ID),
        "CONTRACT_STRICT": "1",
    },
    ("-m", "not needs_secret and not needs_expired_token"),
)
CONFIGURATIONS = (WITH_SECRET, CREDENTIALS_ONLY)
GENERATED_TESTS = ("test_operation_conforms", "test_state_changing_operation_conforms")


def aimed_at_generated_cases(mutant: Mutant) -> bool:
    return any(mutant.caught_by in test for test in GENERATED_TESTS)


def not_run_without_secret(mutant: Mutant) -> str | None:
    """Why a mutant has no credentials-only run, or None."""
    if mutant.needs_secret:
        return "needs the secret (or CONTRACT_EXPIRED_TOKEN)"
    if aimed_at_generated_cases(mutant):
        return "generated cases: as with the secret"
    return None


def proofs() -> list[tuple[Configuration, str]]:
    """Every (configuration, mutant) run of the proof of teeth, the mock itself first."""
    runs = [(WITH_SECRET, name) for name in (BASELINE, *MUTANTS)]
    runs += [(CREDENTIALS_ONLY, BASELINE)]
    runs += [(CREDENTIALS_ONLY, name) for name, mutant in MUTANTS.items() if not not_run_without_secret(mutant)]
    return runs


def runs_generated_cases(configuration: Configuration, mutant: str) -> bool:
    """Generated cases use the suite's own token alone, the same in both configurations:
    they run with the secret, against the mock and the mutants aimed at them. Every other
    run is of the scenarios alone, which must leave the target as they found it."""
    return configuration is WITH_SECRET and (mutant == BASELINE or aimed_at_generated_cases(MUTANTS[mutant]))


@dataclass(frozen=True)
class SuiteRun:
    mutant: str
    exit_code: int
    failed: tuple[str, ...]  # the contract tests that failed
    output: str
    changes: dict[str, tuple]  # what a run of the scenarios alone left changed on the target


PRELOADED = ("mutants", "mockserver.server.serving", "pytest", "schemathesis.pytest", "requests", "openapi_core")
_warm: WarmPython | None = None
_warm_lock = threading.Lock()


def warm_python() -> WarmPython:
    """The one forking process of this test process (warm.py), started on first use."""
    global _warm
    with _warm_lock:
        if _warm is None:
            _warm = WarmPython(*PRELOADED)
            atexit.register(_warm.close)
        return _warm


def run_suite_against(mutant: str, configuration: Configuration, reports: Path) -> SuiteRun:
    """Serve `mutant` in its own process and run the contract suite against it."""
    inherited = {name: value for name, value in os.environ.items() if not name.startswith("CONTRACT_")}
    env = {**inherited, "MOCKSERVER_JWT_SECRET": SECRET, **configuration.env}
    run_name = f"{mutant}-{configuration.name.replace(' ', '-')}"
    server = warm_python().run([str(ROOT / "tests" / "mutants.py"), mutant], env, ROOT, reports / f"{run_name}-server")
    try:
        base_url = server.first_line(timeout=30).strip()
        if not base_url.startswith("http://"):
            # Without --base-url the suite would start and test its own mock instead.
            raise RuntimeError(f"mutant {mutant!r} did not start (exit code {server.poll()})")
        junit = reports / f"{run_name}.xml"
        scenarios_only = not runs_generated_cases(configuration, mutant)
        before = lasting_state(base_url, SECRET) if scenarios_only else {}
        suite = run_contract_suite(
            base_url,
            env,
            f"--junitxml={junit}",
            *configuration.args,
            *(["--ignore=contract_tests/test_generated.py"] if scenarios_only else []),
            timeout=600,
        )
        changes = changed(before, lasting_state(base_url, SECRET)) if scenarios_only else {}
    finally:
        server.terminate()
        server.wait(timeout=10)
    return SuiteRun(mutant, suite.returncode, failed_tests(junit), suite.stdout + suite.stderr, changes)


def run_contract_suite(base_url: str, env: dict[str, str], *args: str, timeout: float) -> subprocess.CompletedProcess:
    """`pytest contract_tests` against `base_url`, in a process of its own, its output captured."""
    argv = ["-m", "pytest", "contract_tests", "-q", "-p", "no:cacheprovider", f"--base-url={base_url}", *args]
    # schemathesis's plugin was imported before the fork, so pytest cannot rewrite its asserts.
    argv[3:3] = ["-W", "ignore::pytest.PytestAssertRewriteWarning"]
    with tempfile.TemporaryDirectory() as directory:
        output = Path(directory) / "suite"
        suite = warm_python().run(argv, env, ROOT, output)
        try:
            code = suite.wait(timeout)
        except subprocess.TimeoutExpired:
            suite.kill()
            raise
        stdout, stderr = (output.with_suffix(suffix).read_text(errors="replace") for suffix in (".stdout", ".stderr"))
    return subprocess.CompletedProcess(argv, code, stdout, stderr)


def failed_tests(junit: Path) -> tuple[str, ...]:
    if not junit.exists():
        return ()
    names = []
    for case in ET.parse(junit).iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            names.append(case.get("name"))
    return tuple(names)


RUNS_KEY = pytest.StashKey[dict]()  # (configuration name, mutant name) -> SuiteRun, for the summary
# (variant, the lifecycle checks it failed, schemathesis's conformance), for the summary
TEETH_KEY = pytest.StashKey[list[tuple[str, str, str]]]()


def short(test_name: str) -> str:
    """`test_x[DELETE /api/.../participants]` -> `x[DELETE .../participants]`."""
    test_name = test_name.removeprefix("test_")
    return re.sub(r"\[(\w+) /\S*/([^/\]]+)\]", r"[\1 .../\2]", test_name)


def caught(mutant: Mutant, run: SuiteRun | None) -> str:
    """The failed test aimed at the mutant (else the first failed), and how many more failed."""
    if run is None:
        return "not run"
    if not run.failed:
        return "NOT CAUGHT"
    first = next((test for test in run.failed if mutant.caught_by in test), run.failed[0])
    return short(first) + (f" (+{len(run.failed) - 1})" if len(run.failed) > 1 else "")


def mutant_table(runs: dict[tuple[str, str], SuiteRun]) -> list[str]:
    rows = [("mutant", "breaks", WITH_SECRET.name, CREDENTIALS_ONLY.name)]
    for name, mutant in MUTANTS.items():
        with_secret = caught(mutant, runs.get((WITH_SECRET.name, name)))
        without = not_run_without_secret(mutant) or caught(mutant, runs.get((CREDENTIALS_ONLY.name, name)))
        rows.append((name, mutant.breaks, with_secret, without))
    verdicts = []
    for configuration in CONFIGURATIONS:
        baseline = runs.get((configuration.name, BASELINE))
        verdict = "not run" if baseline is None else "passes" if baseline.exit_code == 0 else "FAILS"
        verdicts.append(verdict + (f" ({', '.join(baseline.failed)})" if baseline and baseline.failed else ""))
    rows.append(("(the mock itself)", "", *verdicts))
    widths = [max(len(row[column]) for row in rows) for column in range(3)]
    return [" ".join(cell.ljust(width) for cell, width in zip(row, [*widths, 0], strict=True)).rstrip() for row in rows]


def teeth_table(rows: list[tuple[str, str, str]]) -> list[str]:
    """The lifecycle checks against the broken reference servers (test_lifecycle_teeth.py)."""
    rows = [("variant", "caught by (lifecycle)", "schemathesis conformance"), *rows]
    widths = [max(len(row[column]) for row in rows) for column in range(2)]
    return [
        " | ".join(cell.ljust(width) for cell, width in zip(row, [*widths, 0], strict=True)).rstrip() for row in rows
    ]
