"""For every resource the mock keeps state for, on every served document, the contract
suite's lifecycle checks (contract_tests/lifecycle.py: create, read back, listed, paged
once, merge, replace, delete, unknown ID, two IDs) hold against the mock over real HTTP,
and every answer conforms to the served document. The same resource model is the mock's
behaviour and the suite's expectation: one truth both ways."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest
from support import FIXTURES, ROOT, SECRET, make_token
from werkzeug.wrappers import Response

from contract_tests.lifecycle import FAILED, PASSED, SKIPPED, Credentials, Lifecycles
from mockserver import create_app
from mockserver.contract.index import Contract
from mockserver.pipeline.security.schemes import DEFAULT_API_KEY
from mockserver.resources import infer
from mockserver.server.serving import serve_in_background

SPECS = ROOT / "tests" / "specs"
REAL = ROOT.parent / "shared" / "reference" / "mudbase-openapi.yaml"
DOCUMENTS = [
    pytest.param(SPECS / "bookings.yaml", 3, id="bookings"),
    pytest.param(SPECS / "petstore.yaml", 1, id="petstore"),
    pytest.param(SPECS / "library_31.yaml", 1, id="library_31"),
    pytest.param(REAL, 10, id="mudbase", marks=pytest.mark.skipif(not REAL.exists(), reason="no real description")),
]


@pytest.mark.parametrize("spec, at_least", DOCUMENTS)
def test_every_lifecycle_holds_on_the_mock_and_every_answer_conforms(spec: Path, at_least: int):
    app = create_app(spec, FIXTURES, jwt_secret=SECRET)
    reference = app.extensions["mockserver.validator"].reference
    contract = Contract(spec)
    model = infer(contract)
    served = set(app.extensions["mockserver.controls"].served)
    breaks: list[str] = []
    answers = []

    def conforms(response, *args, **kwargs):
        answers.append(response.status_code)
        path = urlsplit(response.request.url).path
        answer = Response(response.content, response.status_code, dict(response.headers))
        errors = reference.response_errors(response.request.method, path, answer)
        if errors:
            breaks.append(f"{response.request.method} {path} -> {response.status_code}: {errors!r}")

    with serve_in_background(app) as url:
        credentials = Credentials(make_token(), DEFAULT_API_KEY, "morgan.chen@northwind.dev:morgan-demo-password")
        lifecycles = Lifecycles(contract, model, url + contract.base_path, credentials)
        lifecycles.session.hooks["response"].append(conforms)
        checks = [check for r in lifecycles.checkable() if r.name in served for check in lifecycles.run(r)]
    failed = [check.line() for check in checks if check.outcome == FAILED]
    assert failed == [], "\n".join(failed)
    assert breaks == [], "\n".join(breaks)
    assert len(answers) >= sum(check.outcome != SKIPPED for check in checks)  # every check's requests were checked
    created = {check.resource for check in checks if check.name == "create" and check.outcome == PASSED}
    assert len(created) >= at_least, f"only {sorted(created)} could be created"
    print(f"\n{spec.name}: {sum(c.outcome == PASSED for c in checks)} checks passed on {len(created)} resources")
