"""Refusals that tell a client why: a path that exists under the document's base path says
so, and a parameter that cannot be read gives its reason, on the fast path (OpenAPI 3.0)
and openapi-core's (3.1) alike."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import FIXTURES

from mockserver import create_app

TODOS = """\
openapi: {version}
info: {{title: Todo, version: "1"}}
servers: [{{url: /v1}}]
paths:
  /todos:
    get:
      operationId: listTodos
      parameters:
        - {{name: done, in: query, schema: {{type: boolean}}}}
        - {{name: limit, in: query, schema: {{type: integer}}}}
        - {{name: filter, in: query, content: {{application/json: {{schema: {{type: object}}}}}}}}
      responses:
        "200":
          description: The todos
          content: {{application/json: {{schema: {{type: array, items: {{type: object}}}}}}}}
"""


@pytest.fixture(params=["3.0.3", "3.1.0"])
def client(request, tmp_path: Path):
    spec = tmp_path / "todo.yaml"
    spec.write_text(TODOS.format(version=request.param))
    return create_app(spec, FIXTURES).test_client()


def test_a_path_served_under_the_base_path_is_named(client):
    refused = client.get("/todos")
    assert refused.status_code == 404
    assert refused.get_json()["details"] == (
        "No route matches GET /todos; did you mean /v1/todos? (the document's servers put its paths under /v1)"
    )
    assert client.get("/nothing").get_json()["details"] == "No route matches GET /nothing"


@pytest.mark.parametrize(
    "query, field, reason",
    [
        ("done=maybe", "done", "'maybe' is not a boolean"),
        ("limit=ten", "limit", "'ten' is not an integer"),
        ("filter=[1", "filter", "Malformed JSON: Expecting ',' delimiter: line 1 column 3 (char 2)"),
    ],
)
def test_a_parameter_that_cannot_be_read_gives_its_reason(client, query, field, reason):
    refused = client.get(f"/v1/todos?{query}")
    assert refused.status_code == 400
    # The reason alone: `details` names the field already.
    assert refused.get_json()["details"] == {field: reason}


def test_a_parameter_with_json_content_is_read_as_json(client):
    assert client.get('/v1/todos?filter={"done": true}').status_code == 200
    refused = client.get("/v1/todos?filter=[1]")
    assert refused.status_code == 400
    assert refused.get_json()["details"] == {"filter": "[1] is not of type 'object'"}
