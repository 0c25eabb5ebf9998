"""The schemathesis CLI, with every check and phase, against the mock serving each of the
project's own documents (tests/specs/) and, when present, the real Mudbase description.

Each run starts `mockserver serve --spec FILE` on a free 127.0.0.1 port and runs
`schemathesis --config-file served.schemathesis.toml run FILE --url ...` with a small
example budget. Cases, failures and errors are printed per document.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SPECS = ROOT / "tests" / "specs"
REAL = ROOT.parent / "shared" / "reference" / "mudbase-openapi.yaml"
CONFIG = ROOT / "served.schemathesis.toml"
MAX_EXAMPLES = "5"
START_SECONDS = 60
RUN_SECONDS = 900

CLEAN = [
    "petstore.yaml",
    "library_31.yaml",
    "unused_broken_ref.yaml",
    "type_array_30.yaml",
    "nullable_31.yaml",
    "base_path.yaml",
    "forms.yaml",
    "security.yaml",
    "split/main.yaml",
    "recursive/main.yaml",
    "empty_query_values.yaml",
    "payments_31.yaml",
]
# Documents whose only failures are negative cases schemathesis sends as the same bytes as a
# valid request, which no server can refuse: in XML, an empty element is an empty array (the
# Petstore's `<tags></tags>`) as much as the null, "" or {} that schemathesis meant. Each
# such failure must be one of those, naming a property sent as an empty element.
SAME_BYTES_AS_VALID = ["petstore_xml.yaml"]
# Documents schemathesis itself refuses to generate data from (its "Schema Error"): the mock
# serves them, and the run must show no failure, only that error of schemathesis's.
REFUSED_BY_SCHEMATHESIS = ["empty_oneof.yaml", "duplicate_required.yaml"]
# Documents tested as the mock serves them (GET /__mock/served-openapi.json): repaired, with
# the failures the mock sends that they declare no status for.
# Real documents no one here wrote (tests/specs/real/), kept for what they found: the
# Museum's errors in application/problem+json, an operation of 3.1 with no `responses`.
# (The USPTO's, which found the root path `/` and a form's required field with a default,
# is in tests/api/test_real_documents.py: schemathesis also counts an empty body sent as a
# form, where the body is optional, as an empty form that lacks the required field.)
REAL_DOCUMENTS = ["real/museum_31.yaml", "real/non_oauth_scopes_31.yaml"]
# Stand-ins for what the OpenAI description (3 MB, not kept) found: multipart fields in 3.1,
# discriminators without a mapping.
STAND_INS = ["multipart_fields_31.yaml", "discriminator_without_mapping_31.yaml"]
EFFECTIVE = [
    *REFUSED_BY_SCHEMATHESIS,
    "undeclared_failures.yaml",
    "bookings.yaml",
    "todo_31.yaml",
    *REAL_DOCUMENTS,
    *STAND_INS,
]


def serve(spec: Path, log: Path) -> tuple[subprocess.Popen, str]:
    with log.open("w") as output:  # the child keeps its own copy of the descriptor
        process = subprocess.Popen(
            [str(BIN / "mockserver"), "serve", "--port", "0", "--spec", str(spec)],
            cwd=ROOT,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        match = re.search(r"serving \S+ at (http://127\.0\.0\.1:\d+\S*)", log.read_text())
        if match:
            return process, match.group(1)
        if process.poll() is not None:
            break
        time.sleep(0.1)
    process.kill()
    process.wait(timeout=10)
    raise AssertionError(f"the mock did not start on {spec}:\n{log.read_text()}")


def schemathesis(spec: Path, tmp_path: Path, effective: bool = False) -> dict:
    """Run the CLI against the mock serving `spec`, with `spec` or (`effective`) the document
    as the mock serves it; the summary's figures and the output."""
    process, url = serve(spec, tmp_path / "mock.log")
    env = {**os.environ, "MOCKSERVER_TOKEN": token()}
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(url))
    location = f"{origin}/__mock/served-openapi.json" if effective else str(spec)
    try:
        run = subprocess.run(
            [str(BIN / "schemathesis"), "--config-file", str(CONFIG), "run", location, "--url", url]
            # No example database: what earlier runs stored in .hypothesis/ changed the
            # figures of a run (two schema errors instead of one, on empty_oneof.yaml).
            + ["--max-examples", MAX_EXAMPLES, "--seed", "1", "--generation-database", "none"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=RUN_SECONDS,
        )
    finally:
        process.terminate()
        process.wait(timeout=10)
    output = run.stdout + run.stderr
    figures = {
        "cases": _number(r"(\d+) generated", output),
        "failures": _number(r"(\d+) (?:unique )?failures?", output.split("SUMMARY")[-1]),
        "errors": _number(r"(\d+) errors?", output.split("SUMMARY")[-1]),
        "codes": sorted(set(re.findall(r"❌ (ST\d+)", output))),
        "schema_errors": len(re.findall(r"🚫 Schema Error", output)),
        "output": output,
        "startup": re.search(r"loaded in ([\d.]+) s", (tmp_path / "mock.log").read_text()),
    }
    print(
        f"\n{spec.relative_to(ROOT.parent)}{' (as served)' if effective else ''}:"
        f" {figures['cases']} cases, {figures['failures']} failures"
        f" {figures['codes']}, {figures['errors']} errors; mock loaded in"
        f" {figures['startup'].group(1) if figures['startup'] else '?'} s"
    )
    return figures


def token() -> str:
    from mockserver import settings
    from mockserver.pipeline.security.tokens import issue_token

    return issue_token(settings.jwt_secret(), "usr_morgan_de", "morgan.chen@northwind.dev", 3600)


def _number(pattern: str, text: str) -> int:
    match = re.search(pattern, text)
    return int(match.group(1)) if match else 0


@pytest.mark.parametrize("name", CLEAN)
def test_schemathesis_finds_nothing_on_the_projects_documents(name, tmp_path):
    figures = schemathesis(SPECS / name, tmp_path)
    assert figures["cases"] > 0, figures["output"][-3000:]
    assert (figures["failures"], figures["errors"]) == (0, 0), figures["output"][-6000:]


@pytest.mark.parametrize("name", SAME_BYTES_AS_VALID)
def test_the_only_failures_are_requests_no_server_can_tell_from_valid_ones(name, tmp_path):
    figures = schemathesis(SPECS / name, tmp_path)
    assert figures["cases"] > 0, figures["output"][-3000:]
    assert figures["errors"] == 0 and figures["codes"] in ([], ["ST201"]), figures["output"][-6000:]
    failures = figures["output"].split("SUMMARY")[0].split("Test Case ID")[1:]
    for failure in failures:
        component = re.search(r"Invalid component: in body - (\w+): Incorrect type", failure)
        sent = re.search(r"curl .* -d '([^']*)'", failure)
        assert component and sent, failure
        assert f"<{component.group(1)}></{component.group(1)}>" in sent.group(1), failure


@pytest.mark.parametrize("name", REFUSED_BY_SCHEMATHESIS)
def test_documents_schemathesis_cannot_read_are_served_without_failures(name, tmp_path):
    figures = schemathesis(SPECS / name, tmp_path)
    assert figures["failures"] == 0, figures["output"][-6000:]
    assert figures["errors"] == figures["schema_errors"] == 1, figures["output"][-6000:]


@pytest.mark.parametrize("name", EFFECTIVE)
def test_the_documents_as_served_are_clean(name, tmp_path):
    figures = schemathesis(SPECS / name, tmp_path, effective=True)
    assert figures["cases"] > 0, figures["output"][-3000:]
    assert (figures["failures"], figures["errors"]) == (0, 0), figures["output"][-6000:]


@pytest.mark.slow
@pytest.mark.skipif(not REAL.exists(), reason=f"{REAL} is not on this machine")
def test_schemathesis_on_the_real_description_as_served(tmp_path):
    """The real description as the mock serves it: repaired (its empty `oneOf`), with the
    401s and 400s the mock sends where an operation declares none, and the chat behaviours'
    404s (see README). Every check and phase: 0 failures, 0 errors."""
    figures = schemathesis(REAL, tmp_path, effective=True)
    assert figures["cases"] > 1000
    assert (figures["failures"], figures["errors"]) == (0, 0), figures["output"][-6000:]
