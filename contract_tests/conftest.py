"""The target of the suite: `--base-url`/CONTRACT_BASE_URL, or the project's mock,
started here as a real HTTP server on a free 127.0.0.1 port; the other users' tokens;
the list of behaviours not checked, and CONTRACT_STRICT=1, which fails any skip."""

from __future__ import annotations

import os
import secrets
from collections import Counter
from collections.abc import Iterator

import pytest
import schemathesis

from contract_tests.api import Undo, user_token
from contract_tests.target import MEMBER, OUTSIDER, SPEC, Target, TargetIds, credentials_from_env

STRICT = os.environ.get("CONTRACT_STRICT") == "1"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--base-url",
        default=os.environ.get("CONTRACT_BASE_URL"),
        help="Implementation to test (default: CONTRACT_BASE_URL, else the project's mock, started here).",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "mutates_state: changes the target's data; deselect with -m 'not mutates_state' on shared servers"
    )
    config.addinivalue_line("markers", "needs_secret: signs its own tokens, so needs CONTRACT_JWT_SECRET")
    config.addinivalue_line(
        "markers", "needs_expired_token: needs CONTRACT_EXPIRED_TOKEN, or CONTRACT_JWT_SECRET to sign one"
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Scenarios first: they need the target's chat as the fixtures (or CONTRACT_*)
    # describe it and put back what they change, while generated cases roam freely:
    # fed by responses, they may remove any participant they see.
    items.sort(key=lambda item: item.path.name == "test_generated.py")


def pytest_report_header(config: pytest.Config) -> str:
    ids = TargetIds.from_env()
    where = config.getoption("--base-url") or "the project's mock, started on a free 127.0.0.1 port"
    return f"contract target: {where}; project {ids.project_id}, chat {ids.chat_id}, removable {ids.participant_id}"


# Generated cases sent to the target, by schemathesis phase, for the summary.
generated_cases: Counter[str] = Counter()


@schemathesis.hook
def after_call(context, case, response) -> None:
    generated_cases[case.meta.phase.name.value if case.meta else "explicit"] += 1


# Skipped tests by reason (which names the variable that would enable them), for the summary.
not_checked: dict[str, list[str]] = {}


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    if report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2].removeprefix("Skipped: ") if isinstance(report.longrepr, tuple) else ""
        not_checked.setdefault(reason, []).append(item.name)
        if STRICT:
            report.outcome = "failed"
            report.longrepr = f"CONTRACT_STRICT=1 fails every skip; this test {reason}"
    return report


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    if generated_cases:
        phases = ", ".join(f"{phase} {count}" for phase, count in sorted(generated_cases.items()))
        terminalreporter.write_line(f"schemathesis sent {generated_cases.total()} generated cases ({phases})")
    if not_checked:
        count = sum(len(tests) for tests in not_checked.values())
        verdict = "each failed the run (CONTRACT_STRICT=1)" if STRICT else "set CONTRACT_STRICT=1 to fail on them"
        terminalreporter.section(f"behaviours not checked: {count} tests; {verdict}", sep="-", yellow=True)
        for reason, tests in sorted(not_checked.items()):
            terminalreporter.write_line(f"{reason}:")
            for test in tests:
                terminalreporter.write_line(f"    {test}")


@pytest.fixture(scope="session")
def target(request: pytest.FixtureRequest) -> Iterator[Target]:
    base_url = request.config.getoption("--base-url")
    secret = os.environ.get("CONTRACT_JWT_SECRET") or None
    if base_url:
        base_url = base_url.rstrip("/")
        token, email = credentials_from_env(base_url)
        yield Target(base_url, token, email, secret, TargetIds.from_env())
        return

    from mockserver import create_app
    from mockserver.server.serving import serve_in_background

    # Our own mock: we choose its secret, so every test can run.
    secret = secrets.token_urlsafe(48)
    app = create_app(SPEC, SPEC.parent / "fixtures", jwt_secret=secret)
    with serve_in_background(app) as base_url:
        token, email = credentials_from_env(base_url)
        yield Target(base_url, token, email, secret, TargetIds.from_env())


@pytest.fixture
def jwt_secret(target: Target) -> str:
    if not target.jwt_secret:
        pytest.skip("needs CONTRACT_JWT_SECRET, the target's signing secret, to forge correctly signed tokens")
    return target.jwt_secret


@pytest.fixture
def expired_token(target: Target) -> str:
    token = target.expired_token()
    if token is None:
        pytest.skip("needs an expired token of the suite's user: set CONTRACT_EXPIRED_TOKEN, or CONTRACT_JWT_SECRET")
    return token


@pytest.fixture
def member(target: Target) -> str:
    """A token of CONTRACT_PARTICIPANT_ID, a plain participant of the chat."""
    return user_token(target, MEMBER)


@pytest.fixture
def outsider(target: Target) -> str:
    """A token of CONTRACT_OUTSIDER_ID, a project member in no chat of it."""
    return user_token(target, OUTSIDER)


@pytest.fixture
def undo(target: Target) -> Iterator[Undo]:
    steps = Undo(target)
    yield steps
    steps.run()
