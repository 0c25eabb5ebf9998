"""A refusal says why, on a small OpenAPI 3.1 todo list no one here wrote
(tests/specs/todo_31.yaml: bearer JWT, errors as a Problem in application/problem+json,
a PATCH that declares a 404 and no 400). Every response is checked against the served
document by the ContractClient."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import FIXTURES, SECRET, ContractClient, bearer

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
    assert responses["400"] == {"$ref": "#/components/responses/BadRequest"}  # the document's own
    warnings = [str(problem) for problem in app.extensions["mockserver.startup"]["problems"]]
    assert any(
        "#/paths/~1todos~1{id}/patch/responses: declares no status for 400 (request data that breaks the"
        " document, as its BadRequest response)" in warning
        for warning in warnings
    ), warnings
