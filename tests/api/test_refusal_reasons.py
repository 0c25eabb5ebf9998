"""A refusal says why, on a small OpenAPI 3.1 todo list no one here wrote
(tests/specs/todo_31.yaml: bearer JWT, errors as a Problem in application/problem+json,
a PATCH that declares a 404 and no 400). Every response is checked against the served
document by the ContractClient."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import FIXTURES, PARTICIPANTS, SECRET, SPEC, ContractClient, bearer

from mockserver import create_app

TODOS = "/v1/todos"


@pytest.fixture(scope="module")
def app():
    app = create_app(Path(__file__).parents[1] / "specs" / "todo_31.yaml", FIXTURES, jwt_secret=SECRET)
    app.test_client_class = ContractClient
    return app


@pytest.fixture
def client(app):
    return app.test_client()


def test_a_body_that_breaks_the_document_is_a_400_where_the_operation_declares_only_a_404(app, client):
    refused = client.patch(f"{TODOS}/x", json={"done": "yes"}, headers=bearer())
    assert refused.status_code == 400  # not the declared 404: the body is at fault, not the ID
    assert refused.content_type == "application/problem+json"
    # A valid body for an unknown ID is the declared 404.
    assert client.patch(f"{TODOS}/x", json={"done": True}, headers=bearer()).status_code == 404
    served = client.get("/__mock/served-openapi.json").get_json()
    responses = served["paths"]["/todos/{id}"]["patch"]["responses"]
    # the document's own response, marked as added by the mock
    assert responses["400"] == {"$ref": "#/components/responses/BadRequest", "x-mockserver-added": True}
    warnings = [str(problem) for problem in app.extensions["mockserver.startup"]["problems"]]
    assert any(
        "#/paths/~1todos~1{id}/patch/responses: declares no status for 400 (request data that breaks the"
        " document, as its BadRequest response)" in warning
        for warning in warnings
    ), warnings


def test_a_refused_body_gets_its_reasons_in_the_declared_problem_and_the_header(client):
    refused = client.post(TODOS, json={"title": "", "extra": 1}, headers=bearer())
    assert refused.status_code == 400
    problem = refused.get_json()
    # The declared Problem (the envelope does not fit it), not its example's "example detail":
    # the reasons in `detail`, what failed in `title`, the status sent in `status`.
    assert problem == {
        "title": "Validation failed",
        "status": 400,
        "detail": "body: Additional properties are not allowed ('extra' was unexpected); title: '' should be non-empty",
    }
    assert refused.headers["X-Mock-Validation"] == problem["detail"]


def test_a_parameter_that_cannot_be_read_says_why(client):
    refused = client.get(f"{TODOS}?done=maybe", headers=bearer())
    assert refused.status_code == 400
    assert refused.get_json()["detail"] == "done: 'maybe' is not a boolean"
    assert refused.headers["X-Mock-Validation"] == "done: 'maybe' is not a boolean"
    assert client.get(f"{TODOS}?done=true", headers=bearer()).status_code == 200


def test_every_refusal_says_why_a_missing_token_and_an_unknown_id_too(client):
    unauthorized = client.get(TODOS)
    assert unauthorized.status_code == 401
    assert unauthorized.get_json() == {
        "title": "Authentication required",
        "status": 401,
        "detail": "Authorization header is missing",
    }
    assert unauthorized.headers["X-Mock-Validation"] == "Authorization header is missing"
    unknown = client.patch(f"{TODOS}/x", json={"done": True}, headers=bearer())
    assert unknown.status_code == 404
    assert unknown.get_json() == {"title": "Not found", "status": 404, "detail": "No todos item with ID x"}
    assert unknown.headers["X-Mock-Validation"] == "No todos item with ID x"
    no_route = client.get("/v1/nothing")  # Werkzeug's 404, in the envelope: no operation declares it
    assert no_route.headers["X-Mock-Validation"] == "No route matches GET /v1/nothing"


def test_the_header_is_printable_ascii_and_bounded_the_body_has_it_all(client):
    name = "d\u00e9j\u00e0\n" + "x" * 2000
    refused = client.post(TODOS, json={"title": "Milk", name: 1}, headers=bearer())
    assert refused.status_code == 400
    header = refused.headers["X-Mock-Validation"]
    assert header.isascii() and header.isprintable()
    assert len(header) <= 1000 and header.endswith("...")
    assert header.startswith("body: Additional properties are not allowed ('d\\xe9j\\xe0\\nxxx")
    assert f"({name!r} was unexpected)" in refused.get_json()["detail"]  # JSON carries any character, uncut


def test_where_the_envelope_fits_it_is_sent_with_the_header():
    app = create_app(SPEC, FIXTURES, jwt_secret=SECRET)  # openapi.yaml: its Error schema is the envelope
    app.test_client_class = ContractClient
    client = app.test_client()
    refused = client.delete(PARTICIPANTS, json={}, headers=bearer())
    assert refused.status_code == 400
    assert refused.get_json()["details"] == {"userId": "'userId' is a required property"}
    assert refused.headers["X-Mock-Validation"] == "userId: 'userId' is a required property"
