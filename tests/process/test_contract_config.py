"""The contract suite's configuration: the other users' tokens from the CONTRACT_*
variables, its markers, the list of behaviours not checked, CONTRACT_STRICT, its
JUnit report, and no credential of its own in anything it prints."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

import jwt
import pytest
from suite_runs import SECRET as MUTANT_SECRET
from suite_runs import Configuration, run_suite_against
from support import ALEX, FIXTURES, MORGAN, PRIYA, ROOT, SECRET, make_token

from contract_tests.api import user_token
from contract_tests.target import (
    DEFAULT_OUTSIDER_ID,
    DEFAULT_PARTICIPANT_ID,
    MEMBER,
    OUTSIDER,
    Target,
    TargetIds,
    credentials_from_env,
)
from mockserver.pipeline.security.tokens import issue_token
from mockserver.store.fixtures import load_fixtures

ALEX_LOGIN = {"CONTRACT_MEMBER_EMAIL": "alex.rivera@northwind.dev", "CONTRACT_MEMBER_PASSWORD": "alex-demo-password"}


@pytest.fixture
def contract_env(monkeypatch):
    """No CONTRACT_* variable but those a test sets."""
    for name in list(os.environ):
        if name.startswith("CONTRACT_"):
            monkeypatch.delenv(name)
    return monkeypatch


def target_at(base_url: str, secret: str | None = None) -> Target:
    token, email = credentials_from_env(base_url)
    return Target(base_url, token, email, secret, TargetIds.from_env())


def test_the_member_logs_in_with_their_credentials(live_server, contract_env):
    for name, value in ALEX_LOGIN.items():
        contract_env.setenv(name, value)
    token = target_at(live_server).token_of(MEMBER)
    assert jwt.decode(token, SECRET, algorithms=["HS256"])["sub"] == ALEX
    assert "sid" in jwt.decode(token, SECRET, algorithms=["HS256"]), "not a login's token"


def test_a_given_token_comes_before_credentials_and_the_secret(live_server, contract_env):
    given = make_token(PRIYA, expires_in=300)
    contract_env.setenv("CONTRACT_OUTSIDER_TOKEN", given)
    contract_env.setenv("CONTRACT_OUTSIDER_EMAIL", "priya.nair@northwind.dev")
    contract_env.setenv("CONTRACT_OUTSIDER_PASSWORD", "priya-demo-password")
    assert target_at(live_server, SECRET).token_of(OUTSIDER) == given


def test_without_credentials_the_secret_signs_a_token(live_server, contract_env):
    token = target_at(live_server, SECRET).token_of(OUTSIDER)
    claims = jwt.decode(token, SECRET, algorithms=["HS256"])
    assert claims["sub"] == PRIYA and "sid" not in claims


def test_with_nothing_the_test_is_skipped_naming_every_way_to_enable_it(live_server, contract_env):
    target = target_at(live_server)
    assert target.token_of(MEMBER) is None
    with pytest.raises(pytest.skip.Exception) as skipped:
        user_token(target, MEMBER)
    for variable in ("CONTRACT_MEMBER_EMAIL", "CONTRACT_MEMBER_PASSWORD", "CONTRACT_PARTICIPANT_TOKEN", "SECRET"):
        assert variable in str(skipped.value)


def test_credentials_of_another_user_are_a_clear_error(live_server, contract_env):
    contract_env.setenv("CONTRACT_OUTSIDER_EMAIL", "alex.rivera@northwind.dev")
    contract_env.setenv("CONTRACT_OUTSIDER_PASSWORD", "alex-demo-password")
    with pytest.raises(RuntimeError, match=f"token is of '{ALEX}', but CONTRACT_OUTSIDER_ID is '{PRIYA}'"):
        target_at(live_server).token_of(OUTSIDER)


def test_contract_expired_token_must_be_expired(live_server, contract_env):
    expired = make_token(expires_in=-60)
    contract_env.setenv("CONTRACT_EXPIRED_TOKEN", expired)
    assert target_at(live_server).expired_token() == expired
    contract_env.setenv("CONTRACT_EXPIRED_TOKEN", make_token(expires_in=60))
    with pytest.raises(RuntimeError, match="not an expired token"):
        target_at(live_server).expired_token()


def run_contract_suite(tmp_path, *args: str, **env: str) -> tuple[subprocess.CompletedProcess, ET.Element]:
    inherited = {name: value for name, value in os.environ.items() if not name.startswith("CONTRACT_")}
    junit = tmp_path / "contract-junit.xml"
    suite = subprocess.run(
        [sys.executable, "-m", "pytest", "contract_tests", "-p", "no:cacheprovider", f"--junitxml={junit}", *args],
        cwd=ROOT,
        env={**inherited, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )
    return suite, ET.parse(junit).getroot()


def test_without_a_base_url_the_suite_serves_the_projects_mock_and_every_scenario_runs(tmp_path):
    # The mode `make contract` uses without BASE_URL. The suite knows the mock's secret
    # there, so nothing is skipped. (The generated cases run against the mock in the proof
    # of teeth, test_contract_suite.py, in both configurations.)
    suite, report = run_contract_suite(tmp_path, "--ignore=contract_tests/test_generated.py", "-rs")

    assert suite.returncode == 0, suite.stdout[-3000:]
    assert "contract target: the project's mock, started on a free 127.0.0.1 port" in suite.stdout
    outcomes = [[child.tag for child in case] for case in report.iter("testcase")]
    assert len(outcomes) > 40 and all(outcome == [] for outcome in outcomes), suite.stdout[-3000:]


# Two tests that need what the suite lacks here (no secret, no expired token), and one that runs.
SELECTION = "--ignore=contract_tests/test_generated.py", "-k", "expired or hs512 or the_current_session"


def test_the_run_ends_with_the_behaviours_not_checked_and_what_enables_them(live_server, tmp_path):
    suite, report = run_contract_suite(tmp_path, f"--base-url={live_server}", *SELECTION)

    assert suite.returncode == 0, suite.stdout[-3000:]
    summary = suite.stdout.split("behaviours not checked: 2 tests; set CONTRACT_STRICT=1 to fail on them")[1]
    assert "set CONTRACT_EXPIRED_TOKEN, or CONTRACT_JWT_SECRET:\n    test_an_expired_token_is_401" in summary
    assert "needs CONTRACT_JWT_SECRET" in summary and "test_a_token_signed_with_hs512_is_401" in summary
    skipped = [case.get("name") for case in report.iter("testcase") if case.find("skipped") is not None]
    assert sorted(skipped) == ["test_a_token_signed_with_hs512_is_401", "test_an_expired_token_is_401"]


def test_strict_mode_fails_every_skip_and_markers_deselect(live_server, tmp_path):
    args = f"--base-url={live_server}", *SELECTION, "-m", "not needs_secret"
    suite, report = run_contract_suite(tmp_path, *args, CONTRACT_STRICT="1")

    assert suite.returncode == 1
    assert "behaviours not checked: 1 tests; each failed the run (CONTRACT_STRICT=1)" in suite.stdout
    outcomes = {case.get("name"): [child.tag for child in case] for case in report.iter("testcase")}
    assert outcomes == {"test_an_expired_token_is_401": ["error"], "test_the_current_session_is_the_token_user": []}


def test_not_mutates_state_leaves_out_every_test_that_changes_the_target():
    suite = subprocess.run(
        [sys.executable, "-m", "pytest", "contract_tests", "-p", "no:cacheprovider", "--collect-only", "-q"]
        + ["-m", "not mutates_state and not needs_expired_token", "--ignore=contract_tests/test_generated.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    tests = [line for line in suite.stdout.splitlines() if "::" in line]
    assert "contract_tests/test_scenarios.py::test_bad_credentials_are_401[missing]" in tests
    assert "contract_tests/test_scenarios.py::test_an_expired_token_is_401" not in tests
    changing = ("chat_scenarios", "state_changing", "then_add_them_back", "only_an_admin", "path_names_the_chat")
    assert not [test for test in tests if any(part in test for part in changing)]


def test_a_failing_scenario_prints_no_credential_of_the_suites_in_its_output_or_junit(tmp_path):
    """Against a mutant that lets a plain participant add anyone, the scenario that adds with
    the member's token fails; with --tb=long and -l, pytest shows every argument and local
    (the member's token among them). Neither the output nor the JUnit XML holds any token,
    any JWT's first 20 characters, the secret or a password: the curl line says
    $CONTRACT_PARTICIPANT_TOKEN."""
    users = load_fixtures(FIXTURES).users
    member, outsider, suite = (users[user] for user in (DEFAULT_PARTICIPANT_ID, DEFAULT_OUTSIDER_ID, MORGAN))
    tokens = {
        "CONTRACT_TOKEN": issue_token(MUTANT_SECRET, suite.id, suite.email, 600),
        "CONTRACT_PARTICIPANT_TOKEN": issue_token(MUTANT_SECRET, member.id, member.email, 600),
        "CONTRACT_OUTSIDER_TOKEN": issue_token(MUTANT_SECRET, outsider.id, outsider.email, 600),
    }
    passwords = {
        "CONTRACT_PASSWORD": suite.password,
        "CONTRACT_MEMBER_EMAIL": member.email,
        "CONTRACT_MEMBER_PASSWORD": member.password,
        "CONTRACT_OUTSIDER_EMAIL": outsider.email,
        "CONTRACT_OUTSIDER_PASSWORD": outsider.password,
    }
    env = {**tokens, **passwords, "CONTRACT_JWT_SECRET": MUTANT_SECRET}
    tests = "only_an_admin_adds or the_session_of_the_members_token or a_refresh_token_works_once"
    configuration = Configuration("leaks", env, ("-k", tests, "--tb=long", "-l", "-rA"))
    run = run_suite_against("add-without-admin", configuration, tmp_path)
    junit = (tmp_path / "add-without-admin-leaks.xml").read_text(encoding="utf-8")

    assert run.failed == ("test_only_an_admin_adds_participants",), run.output[-3000:]
    assert '"Authorization: Bearer $CONTRACT_PARTICIPANT_TOKEN"' in run.output  # the curl line
    assert "member = '$CONTRACT_PARTICIPANT_TOKEN" in run.output  # pytest's own repr of the argument
    for where, text in (("the output", run.output), ("the JUnit XML", junit)):
        for name, value in [*tokens.items(), ("CONTRACT_JWT_SECRET", MUTANT_SECRET)]:
            assert value not in text and value[:20] not in text, f"{name} in {where}"
        for name in ("CONTRACT_PASSWORD", "CONTRACT_MEMBER_PASSWORD", "CONTRACT_OUTSIDER_PASSWORD"):
            assert passwords[name] not in text, f"{name} in {where}"
        jwt_start = re.search(r"eyJ[A-Za-z0-9_-]{17}", text)  # the first 20 characters of any JWT
        assert jwt_start is None, f"{jwt_start.group()} in {where}"
