"""The suite on any document (`--spec FILE`, document.py): the lifecycle checks of each
resource inferred from it, and schemathesis's generated cases with every check and
phase, the stateful one included. Collected only with a `--spec` other than openapi.yaml."""

from __future__ import annotations

import os

import hypothesis
import pytest
import schemathesis
from schemathesis.core.errors import NoLinksFound

from contract_tests.document import DocumentTarget
from contract_tests.lifecycle import FAILED, PASSED, Lifecycles

MAX_EXAMPLES = int(os.environ.get("CONTRACT_MAX_EXAMPLES") or 10)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "resource_name" in metafunc.fixturenames:
        from contract_tests.document import document_spec
        from mockserver.contract.index import Contract
        from mockserver.resources import infer

        model = infer(Contract(document_spec(metafunc.config)))
        names = [resource.name for resource in model.resources]
        metafunc.parametrize("resource_name", names or [pytest.param(None, marks=pytest.mark.skip("no resources"))])


@pytest.mark.mutates_state
def test_lifecycle(resource_name: str, document: DocumentTarget) -> None:
    """Create, read back, listed, paged once, merge, replace, delete, unknown ID, two IDs."""
    lifecycles = Lifecycles(document.contract, document.model, document.base_url, document.credentials)
    checks = lifecycles.run(document.model.resource(resource_name))
    failed = [check for check in checks if check.outcome == FAILED]
    print("\n".join(check.line() for check in checks))
    if failed:
        pytest.fail("\n\n".join(check.line() for check in failed), pytrace=False)
    if not any(check.outcome == PASSED for check in checks):
        pytest.skip(checks[0].detail if checks else "no check applies")


@pytest.fixture(scope="session")
def document_schema(document: DocumentTarget) -> schemathesis.BaseSchema:
    settings: dict = {
        "checks": {"enabled": True},
        "phases": {"examples": {"enabled": True}, "coverage": {"enabled": True}, "fuzzing": {"enabled": True}},
        "generation": {"max-examples": MAX_EXAMPLES},
    }
    auth = schemes_auth(document)
    if auth:
        settings["auth"] = {"openapi": auth}
    patching = json_patch_operations(document)
    if patching:
        # A JSON patch valid by its schema may still not apply to the resource as it is
        # (RFC 5789: 400, 409 or 422): a refusal is no rejected valid data there.
        accepted = ["2xx", "400", "404", "409", "422"]
        settings["operations"] = [
            {"include-operation-id": patching, "checks": {"positive_data_acceptance": {"expected-statuses": accepted}}}
        ]
    config = schemathesis.Config.from_dict(settings)
    if document.checked is not None:
        return schemathesis.openapi.from_dict(document.checked, config=config)
    return schemathesis.openapi.from_path(document.spec, config=config)


def json_patch_operations(document: DocumentTarget) -> list[str]:
    out = []
    for operation in document.contract.operations:
        op = document.contract.document["paths"][operation.path][operation.method.lower()]
        content = (op.get("requestBody") or {}).get("content") or {}
        if any(str(media).split(";")[0].strip() == "application/json-patch+json" for media in content):
            out.append(operation.operation_id)
    return out


schema = schemathesis.pytest.from_fixture("document_schema")


def schemes_auth(document: DocumentTarget) -> dict:
    """schemathesis's auth for each security scheme the credentials cover: so that it
    sends them, and knows which requests leave them out on purpose (its negative cases)."""
    return document.credentials.schemathesis_auth(document.contract)


def call_arguments(case, document: DocumentTarget) -> dict:
    return {"base_url": document.base_url}


@pytest.mark.mutates_state
@schema.parametrize()
def test_generated_case_conforms(case, document: DocumentTarget) -> None:
    case.call_and_validate(**call_arguments(case, document))


@pytest.mark.mutates_state
def test_stateful_sequences_conform(document_schema, document: DocumentTarget) -> None:
    """Sequences along the document's links and those schemathesis infers."""

    class Machine(document_schema.as_state_machine()):
        def get_call_kwargs(self, case):
            return call_arguments(case, document)

    settings = hypothesis.settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        suppress_health_check=list(hypothesis.HealthCheck),
        phases=[hypothesis.Phase.generate],
    )
    try:
        Machine.run(settings=settings)
    except NoLinksFound:
        pytest.skip("no sequences: the document has no links, and schemathesis infers none")
