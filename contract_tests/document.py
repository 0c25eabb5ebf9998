"""The suite on any document: `--spec FILE` (CONTRACT_SPEC) other than openapi.yaml.

Then the suite runs, against `--base-url` (or the project's mock serving FILE, started
here), the lifecycle checks of every resource inferred from FILE (lifecycle.py) and
schemathesis's generated cases with every check and phase, the stateful one included
(test_any_document.py); the scenarios written for openapi.yaml do not apply.
Credentials come from CONTRACT_TOKEN, CONTRACT_API_KEY and CONTRACT_BASIC
(lifecycle.Credentials); a scheme the document requires without its variable stops the
run before any test, naming the variable.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from contract_tests.lifecycle import Credentials
from contract_tests.redaction import SECRETS
from contract_tests.target import DEFAULT_EMAIL, DEFAULT_PASSWORD, ROOT, SPEC
from mockserver.contract.index import Contract
from mockserver.resources import ResourceModel, infer


def document_spec(config: pytest.Config) -> Path | None:
    """The document of `--spec`, or None for openapi.yaml (the default suite)."""
    value = config.getoption("--spec")
    if not value:
        return None
    path = Path(value).resolve()
    if not path.is_file():
        raise pytest.UsageError(f"--spec {value}: no such file")
    return None if path == SPEC.resolve() else path


@dataclass
class DocumentTarget:
    spec: Path
    base_url: str  # with the document's base path
    contract: Contract  # as written
    model: ResourceModel
    credentials: Credentials
    # What schemathesis checks against: the document as written, or for the project's mock
    # the document it serves (with the 400s and 401s it adds where none is declared).
    checked: dict | None = None


def missing_credentials(contract: Contract, credentials: Credentials) -> str | None:
    """The line that stops a run whose credentials cannot reach the document's operations."""
    missing = credentials.missing(contract)
    if not missing:
        return None
    return f"set {', '.join(missing)}: the operations of {contract.path.name} require them (lifecycle.Credentials)"


@contextmanager
def document_target(spec: Path, base_url: str | None) -> Iterator[DocumentTarget]:
    """The target for `spec`: `base_url`, else the project's mock serving `spec`."""
    contract = Contract(spec)
    model = infer(contract)
    if base_url:
        yield DocumentTarget(spec, base_url.rstrip("/"), contract, model, Credentials.from_env())
        return

    from mockserver import create_app
    from mockserver.pipeline.security.schemes import DEFAULT_API_KEY
    from mockserver.pipeline.security.tokens import issue_token
    from mockserver.server.serving import serve_in_background
    from mockserver.store.fixtures import load_fixtures

    secret = secrets.token_urlsafe(48)
    SECRETS.add(secret, "[the JWT secret of the suite's mock]")
    fixtures = load_fixtures(ROOT / "fixtures")
    user = next(u for u in fixtures.users.values() if u.email == DEFAULT_EMAIL)
    credentials = Credentials(
        issue_token(secret, user.id, user.email, 3600), DEFAULT_API_KEY, f"{DEFAULT_EMAIL}:{DEFAULT_PASSWORD}"
    )
    app = create_app(spec, ROOT / "fixtures", jwt_secret=secret)
    with serve_in_background(app) as url:
        served = app.extensions["mockserver.contract"].document
        yield DocumentTarget(spec, url + contract.base_path, contract, model, credentials, served)
