"""Proof of teeth: the contract suite passes against the mock and fails against
every mutant (mutants.py). The terminal summary prints what caught each mutant."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from mutants import MUTANTS
from suite_runs import BASELINE, RUNS_KEY, SuiteRun, run_suite_against


@pytest.fixture(scope="session")
def suite_runs(tmp_path_factory, pytestconfig) -> dict[str, SuiteRun]:
    reports = tmp_path_factory.mktemp("contract-reports")
    names = [BASELINE, *MUTANTS]
    # Two at a time: each run is a server and a pytest process, on a 2-core machine.
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = dict(zip(names, pool.map(lambda name: run_suite_against(name, reports), names), strict=True))
    pytestconfig.stash[RUNS_KEY] = runs
    return runs


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
