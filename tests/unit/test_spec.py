"""The contract itself: a valid OpenAPI document that describes what the docs say."""

from __future__ import annotations

import json
import re

import pytest
from openapi_spec_validator import validate
from openapi_spec_validator.readers import read_from_filename
from support import FIXTURES, SPEC, ContractClient
from werkzeug import Response

from mockserver import create_app
from mockserver.contract.index import Contract, SpecError
from mockserver.pipeline.validate.reference import Reference


def test_openapi_yaml_is_a_valid_openapi_document():
    document, _ = read_from_filename(str(SPEC))
    validate(document)
    assert document["openapi"] == "3.0.3"


def test_remove_participant_is_documented_as_the_real_api():
    contract = Contract(SPEC)
    operation = next(o for o in contract.operations if o.operation_id == "removeParticipant")
    assert operation.method == "DELETE"
    assert operation.path == "/api/chat/projects/{projectId}/chats/{chatId}/participants"
    assert operation.security == (("OrgBearerAuth",), ("ProjectBearerAuth",))
    spec_op = contract.document["paths"][operation.path]["delete"]
    assert set(spec_op["responses"]) == {"200", "400", "401"}
    assert spec_op["tags"] == ["Chat"] and spec_op["summary"] == "Remove participant from chat"


def test_login_needs_no_security():
    login = next(o for o in Contract(SPEC).operations if o.operation_id == "loginUser")
    assert (login.method, login.security) == ("POST", ())


def response_examples(contract: Contract):
    """(method, concrete path, status, example) for every response example in the spec."""
    components = contract.document["components"]["responses"]
    for path, item in contract.document["paths"].items():
        concrete = re.sub(r"{\w+}", "x", path)
        for method in ("get", "post", "put", "patch", "delete"):
            for status, response in item.get(method, {}).get("responses", {}).items():
                if "$ref" in response:
                    response = components[response["$ref"].rsplit("/", 1)[1]]
                for media in response.get("content", {}).values():
                    if "example" in media:
                        yield method.upper(), concrete, int(status), media["example"]


def test_spec_examples_validate_against_their_own_schemas():
    # An example that broke its schema would mislead users, and fuzzers that replay examples.
    contract = Contract(SPEC)
    examples = list(response_examples(contract))
    assert len(examples) >= 5
    for method, path, status, example in examples:
        response = Response(json.dumps(example), status=status, mimetype="application/json")
        assert Reference(contract).response_errors(method, path, response) == [], (method, path, status)


def test_a_document_with_nothing_to_serve_stops_start_up_naming_the_line(tmp_path):
    broken = tmp_path / "openapi.yaml"
    broken.write_text("openapi: 3.0.3\ninfo: {title: x}\npaths: {}\n")
    with pytest.raises(SpecError, match=r"openapi.yaml:3: #/paths: the document has no paths"):
        create_app(broken, FIXTURES)


def test_an_operation_without_behaviour_answers_from_the_document(tmp_path):
    spec = tmp_path / "openapi.yaml"
    spec.write_text(SPEC.read_text().replace("operationId: loginUser", "operationId: signUp"))
    client = create_app(spec, FIXTURES).test_client()
    response = client.post("/api/auth/login", json={"email": "a@b.dev", "password": "x"})
    assert response.status_code == 200
    assert response.get_json()["message"]  # the declared example, not a login


def test_the_contract_check_catches_a_nonconforming_response():
    contract = Contract(SPEC)
    path = "/api/chat/projects/p/chats/c/participants"
    wrong_type = Response(json.dumps({"message": 5}), status=200, mimetype="application/json")
    undocumented = Response(json.dumps({"message": "ok"}), status=204, mimetype="application/json")
    html = Response("<h1>Bad Request</h1>", status=400, mimetype="text/html")
    for response in (wrong_type, undocumented, html):
        assert Reference(contract).response_errors("DELETE", path, response), response


def test_the_test_client_checks_every_response_against_the_contract(monkeypatch):
    # tests/support.py skips responses of paths outside the spec; make sure that a
    # spec operation's response is really checked, so the check cannot go quiet.
    from mockserver import behaviours as operations

    monkeypatch.setitem(
        operations.BEHAVIOURS, "loginUser", lambda call: Response('{"token": 5}', 200, mimetype="application/json")
    )
    app = create_app(SPEC, FIXTURES)
    app.test_client_class = ContractClient
    with pytest.raises(AssertionError, match="breaks the contract"):
        app.test_client().post("/api/auth/login", json={"email": "a@b.dev", "password": "x"})
