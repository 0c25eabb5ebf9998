"""Proof of teeth: the contract suite passes against the mock and fails against
every mutant (mutants.py), with the target's secret and with credentials only. The
terminal summary prints what caught each mutant in each configuration."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from mutants import MUTANTS
from suite_runs import BASELINE, CONFIGURATIONS, RUNS_KEY, SuiteRun, proofs, run_suite_against, runs_generated_cases


@pytest.fixture(scope="session")
def suite_runs(tmp_path_factory, pytestconfig) -> dict[tuple[str, str], SuiteRun]:
    reports = tmp_path_factory.mktemp("contract-reports")
    wanted = sorted(proofs(), key=lambda run: not runs_generated_cases(*run))  # the long runs first
    # Two at a time: each run is a server and a pytest process, on a 2-core machine.
    with ThreadPoolExecutor(max_workers=2) as pool:
        done = pool.map(lambda run: run_suite_against(run[1], run[0], reports), wanted)
        runs = {(configuration.name, name): run for (configuration, name), run in zip(wanted, done, strict=True)}
    pytestconfig.stash[RUNS_KEY] = runs
    return runs


@pytest.mark.parametrize("configuration", [c.name for c in CONFIGURATIONS])
def test_the_suite_passes_against_the_mock(suite_runs, configuration):
    run = suite_runs[configuration, BASELINE]
    assert run.exit_code == 0, run.output[-5000:]


@pytest.mark.parametrize(
    "configuration, mutant",
    [(configuration.name, name) for configuration, name in proofs() if name != BASELINE],
)
def test_the_suite_catches_the_mutant(suite_runs, configuration, mutant):
    run = suite_runs[configuration, mutant]
    assert run.exit_code == 1 and run.failed, f"{mutant} survived:\n{run.output[-3000:]}"
    # Caught by the test aimed at it, not only by collateral damage.
    expected = MUTANTS[mutant].caught_by
    assert any(expected in name for name in run.failed), f"{expected} did not fail: {run.failed}"


@pytest.mark.parametrize(
    "configuration, mutant",
    [
        (configuration.name, name)
        for configuration, name in proofs()
        if not runs_generated_cases(configuration, name) and (name == BASELINE or MUTANTS[name].undoable)
    ],
)
def test_the_scenarios_leave_the_target_as_they_found_it(suite_runs, configuration, mutant):
    # Whatever the mock or a mutant answers, the scenarios put back what they changed.
    assert suite_runs[configuration, mutant].changes == {}
