"""The target of the suite: `--base-url`/CONTRACT_BASE_URL, or the project's mock,
started here as a real HTTP server on a free 127.0.0.1 port; the document, `--spec`/
CONTRACT_SPEC (openapi.yaml and its scenarios by default; any other runs the suite for any
document, document.py); the other users' tokens; one request that checks the target
answers before any test; the list of behaviours not checked, and CONTRACT_STRICT=1, which
fails any skip; the coverage report (coverage.py) of every run; and every credential the
suite holds redacted from all it prints, to the terminal and the JUnit XML (redaction.py)."""

from __future__ import annotations

import os
import secrets
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import pytest
import requests
import schemathesis

from contract_tests.api import Undo, user_token
from contract_tests.coverage import Coverage, minimum_share
from contract_tests.document import DocumentTarget, document_spec, document_target, missing_credentials
from contract_tests.lifecycle import Credentials
from contract_tests.redaction import SECRETS, redact_report
from contract_tests.target import MEMBER, OUTSIDER, ROOT, SPEC, Target, TargetIds, credentials_from_env
from mockserver.contract.index import Contract

STRICT = os.environ.get("CONTRACT_STRICT") == "1"
# The modules of openapi.yaml's own suite, and that of any other document.
OPENAPI_YAML_MODULES = {"test_chat_scenarios.py", "test_scenarios.py", "test_session_scenarios.py", "test_generated.py"}
ANY_DOCUMENT_MODULES = {"test_any_document.py"}
# Exit statuses of our own, past pytest's 0 to 5 (5 is its "no tests collected"): a CI step tells
# "the server is not up" from every other failure by the status alone.
UNREACHABLE = 7  # the exit status of a run whose target does not answer
NO_CREDENTIALS = 6  # ... whose credentials cannot reach the document's operations
COVERAGE_JSON = ROOT / "reports" / "contract-coverage.json"
coverage_key = pytest.StashKey[Coverage]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--base-url",
        default=os.environ.get("CONTRACT_BASE_URL"),
        help="Implementation to test (default: CONTRACT_BASE_URL, else the project's mock, started here).",
    )
    parser.addoption(
        "--spec",
        default=os.environ.get("CONTRACT_SPEC"),
        help="The OpenAPI document it implements (default: CONTRACT_SPEC, else openapi.yaml and its scenarios).",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "mutates_state: changes the target's data; deselect with -m 'not mutates_state' on shared servers"
    )
    config.addinivalue_line("markers", "needs_secret: signs its own tokens, so needs CONTRACT_JWT_SECRET")
    config.addinivalue_line(
        "markers", "needs_expired_token: needs CONTRACT_EXPIRED_TOKEN, or CONTRACT_JWT_SECRET to sign one"
    )
    spec = document_spec(config)
    base_url = config.getoption("--base-url")
    if base_url:
        _require_reachable(base_url.rstrip("/"))
    contract = Contract(spec or SPEC)
    if spec is not None and base_url:
        line = missing_credentials(contract, Credentials.from_env())
        if line:
            pytest.exit(line, returncode=NO_CREDENTIALS)
    try:
        minimum_share()
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None
    coverage = config.stash[coverage_key] = Coverage(contract)
    # Every response the suite sees passes requests.Session.send: the scenarios', the
    # lifecycle checks', schemathesis's. Each is recorded with the test that sent it.
    original = requests.Session.send

    def send(session, request, **kwargs):
        response = original(session, request, **kwargs)
        test = os.environ.get("PYTEST_CURRENT_TEST", "setup").split(" ")[0].rpartition("::")[2]
        coverage.record(request.method, request.url, response.status_code, response.headers.get("Content-Type"), test)
        return response

    patch = mock.patch.object(requests.Session, "send", send)
    patch.start()
    config.add_cleanup(patch.stop)


def _require_reachable(base_url: str) -> None:
    """One request to the target; past CONTRACT_WAIT seconds (default 0) of refusals, one
    line and exit status 7, not a page of errors per test."""
    deadline = time.monotonic() + float(os.environ.get("CONTRACT_WAIT") or 0)
    while True:
        try:
            requests.get(base_url, timeout=10)
            return
        except requests.ConnectionError as exc:
            if time.monotonic() >= deadline:
                reason = "connection refused" if "refused" in str(exc).lower() else str(exc).splitlines()[0][:200]
                pytest.exit(f"cannot reach {base_url}: {reason}", returncode=UNREACHABLE)
            time.sleep(0.5)
        except requests.RequestException as exc:
            pytest.exit(f"cannot reach {base_url}: {exc}", returncode=UNREACHABLE)


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    spec = document_spec(config)
    skipped = OPENAPI_YAML_MODULES if spec is not None else ANY_DOCUMENT_MODULES
    return True if collection_path.name in skipped else None


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


# First of the wrappers, so last to see the report: nothing another changes escapes the redaction.
@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    if report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2].removeprefix("Skipped: ") if isinstance(report.longrepr, tuple) else ""
        not_checked.setdefault(reason, []).append(item.name)
        if STRICT:
            report.outcome = "failed"
            report.longrepr = f"CONTRACT_STRICT=1 fails every skip; this test {reason}"
    # Every credential the suite holds, out of the terminal and the JUnit XML alike.
    redact_report(report)
    return report


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_make_collect_report(collector: pytest.Collector):
    report = yield
    redact_report(report)
    return report


# What each module checks, for the summary of a run.
AREAS = {
    "test_scenarios.py": "participants and auth scenarios",
    "test_chat_scenarios.py": "chat and message scenarios",
    "test_session_scenarios.py": "session scenarios",
    "test_generated.py": "generated cases",
    "test_any_document.py": "lifecycle checks and generated cases",
}


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    counts: dict[str, Counter] = {}
    for outcome in ("passed", "failed", "skipped", "error"):
        for report in terminalreporter.stats.get(outcome, []):
            if getattr(report, "when", "call") in ("call", "setup") and hasattr(report, "nodeid"):
                module = report.nodeid.split("::")[0].rpartition("/")[2]
                counts.setdefault(AREAS.get(module, module), Counter())[outcome] += 1
    if counts:
        terminalreporter.section("what was checked", sep="-")
        for area, outcome_counts in counts.items():
            figures = ", ".join(
                f"{outcome_counts[o]} {o}" for o in ("passed", "failed", "skipped", "error") if outcome_counts[o]
            )
            terminalreporter.write_line(f"{area}: {figures}")
    coverage = config.stash.get(coverage_key, None)
    if coverage is not None:
        terminalreporter.section("coverage of the document", sep="-")
        for line in coverage.lines():
            terminalreporter.write_line(line)
        coverage.write(COVERAGE_JSON)
        terminalreporter.write_line(f"as JSON: {COVERAGE_JSON.relative_to(ROOT)}")
        share, minimum = coverage.document()["operationShare"], minimum_share()
        if minimum is not None and share < minimum:
            terminalreporter.write_line(
                f"coverage of operations {share:.0%} is below CONTRACT_COVERAGE_MIN ({minimum:.0%})", red=True
            )
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


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    coverage = session.config.stash.get(coverage_key, None)
    minimum = minimum_share()
    if coverage is not None and minimum is not None and coverage.document()["operationShare"] < minimum:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(scope="session")
def document(request: pytest.FixtureRequest) -> Iterator[DocumentTarget]:
    """The target of the suite for any document (document.py)."""
    with document_target(document_spec(request.config), request.config.getoption("--base-url")) as target:
        yield target


@pytest.fixture(scope="session")
def target(request: pytest.FixtureRequest) -> Iterator[Target]:
    base_url = request.config.getoption("--base-url")
    secret = os.environ.get("CONTRACT_JWT_SECRET") or None
    SECRETS.add(secret, "CONTRACT_JWT_SECRET")
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
