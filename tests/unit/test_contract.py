"""The contract stage alone: loading (lines, $refs across files), repairs, the index of
operations, the document as written and as served, and which declared status a failure
is sent as. No app is built."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml

from mockserver.contract.additions import ADDED, Additions
from mockserver.contract.index import Contract
from mockserver.contract.loading import SpecError, load_document
from mockserver.contract.repairs import repair
from mockserver.contract.statuses import error_key, success_key

NOTES = """\
openapi: 3.0.3
info: {title: Notes, version: "1"}
servers: [{url: /v1}]
components:
  securitySchemes:
    Bearer: {type: http, scheme: bearer}
security: [{Bearer: []}]
paths:
  /notes/{noteId}:
    get:
      operationId: getNote
      parameters:
        - {name: noteId, in: path, required: true, schema: {type: string}}
      responses:
        "200":
          description: A note
          content:
            application/json:
              schema: {$ref: "./schemas.yaml#/Note"}
  /notes/read:
    post:
      operationId: readAll
      security: []
      parameters:
        - {name: upTo, in: query, schema: {type: [integer, "null"]}}
      responses:
        "204": {description: Done}
"""
SCHEMAS = """\
Note:
  type: object
  required: [id]
  properties:
    id: {type: string}
    title: {type: [string, "null"]}
"""


@pytest.fixture
def notes(tmp_path: Path) -> Path:
    (tmp_path / "schemas.yaml").write_text(SCHEMAS)
    path = tmp_path / "notes.yaml"
    path.write_text(NOTES)
    return path


def test_every_pointer_has_its_line(notes):
    document = load_document(notes)
    assert document.line("/paths/~1notes~1{noteId}/get") == 11
    assert document.line("/paths/~1notes~1read/post/security") == 23
    assert document.line("/nowhere") is None


def test_a_ref_to_another_file_is_bundled_in(notes):
    document = load_document(notes)
    schema = document.data["paths"]["/notes/{noteId}"]["get"]["responses"]["200"]["content"]["application/json"]
    assert schema["schema"]["required"] == ["id"]
    assert {path.name for path in document.files} == {"notes.yaml", "schemas.yaml"}


def test_a_broken_document_is_refused_with_its_file_and_line(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("openapi: 3.0.3\npaths:\n  /x: [unclosed\n")
    with pytest.raises(SpecError, match=r"broken\.yaml:\d+"):
        load_document(path)


def test_a_repair_names_its_pointer_and_line(notes):
    document = load_document(notes)
    problems = repair(document)  # `type: [string, "null"]` is 3.1's, not 3.0's
    (problem,) = [p for p in problems if "upTo" in str(p) or "/parameters/0" in p.pointer]
    assert problem.pointer == "/paths/~1notes~1read/post/parameters/0/schema/type"
    assert (problem.line, Path(problem.file).name) == (25, "notes.yaml")
    parameter = document.data["paths"]["/notes/read"]["post"]["parameters"][0]
    assert parameter["schema"] == {"type": "integer", "nullable": True}


def test_the_index_has_each_operation_with_its_security_and_base_path(notes):
    contract = Contract(notes)
    operations = {operation.operation_id: operation for operation in contract.operations}
    assert set(operations) == {"getNote", "readAll"}
    assert operations["getNote"].security == (("Bearer",),)
    assert operations["readAll"].security == ()
    assert contract.base_path == "/v1"
    # /notes/read is concrete: the template's noteId never stands for "read".
    assert dict(operations["getNote"].claimed) == {"noteId": ("read",)}
    assert contract.security_schemes == {"Bearer": {"type": "http", "scheme": "bearer"}}


def test_as_written_the_document_keeps_its_own_responses(notes):
    contract = Contract(notes)
    assert not contract.served
    assert set(contract.document["paths"]["/notes/{noteId}"]["get"]["responses"]) == {"200"}


def test_as_served_it_declares_what_the_mock_sends(notes):
    failures = {("getNote", "GET", "/notes/{noteId}"): {404: "the note is not there"}}
    contract = Contract(notes, Additions(behaviour_failures=failures))
    responses = contract.document["paths"]["/notes/{noteId}"]["get"]["responses"]
    assert set(responses) == {"200", "400", "401", "404"}
    assert all(responses[status][ADDED] for status in ("400", "401", "404"))
    assert "WWW-Authenticate" in responses["401"]["headers"]
    # No security: no 401; a parameter a request may break: a 400.
    assert set(contract.document["paths"]["/notes/read"]["post"]["responses"]) == {"204", "400"}
    added = [problem for problem in contract.problems if "declares no status for" in problem.message]
    assert [problem.pointer for problem in added] == [
        "/paths/~1notes~1{noteId}/get/responses",
        "/paths/~1notes~1read/post/responses",
    ]


@pytest.mark.parametrize(
    "parameters, body, refusal, added",
    [
        ([{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}], False, "404", False),
        ([{"$ref": "#/components/parameters/Id"}], False, "404", False),  # a path value names no resource
        ([{"name": "done", "in": "query", "schema": {"type": "boolean"}}], False, "404", True),
        ([{"$ref": "#/components/parameters/Done"}], False, "404", True),
        ([], True, "404", True),  # a body that breaks the document is no unknown ID
        ([], True, "405", False),  # the Petstore's "405 Invalid input": a refusal it declares for it
    ],
)
def test_request_data_beyond_the_path_is_a_400_where_only_a_404_is_declared(tmp_path, parameters, body, refusal, added):
    operation = {"operationId": "update", "parameters": parameters, "responses": {"200": {"description": "ok"}}}
    operation["responses"][refusal] = {"description": "No such todo, or invalid input"}
    if body:
        operation["requestBody"] = {"content": {"application/json": {"schema": {"type": "object"}}}}
    document = {
        "openapi": "3.1.0",
        "info": {"title": "Todos", "version": "1"},
        "paths": {"/todos/{id}": {"patch": operation}},
        "components": {
            "parameters": {
                "Id": {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}},
                "Done": {"name": "done", "in": "query", "schema": {"type": "boolean"}},
            }
        },
    }
    path = tmp_path / "todos.yaml"
    path.write_text(yaml.safe_dump(document))
    responses = Contract(path, Additions()).document["paths"]["/todos/{id}"]["patch"]["responses"]
    assert ("400" in responses) is added
    assert refusal in responses


@pytest.mark.parametrize(
    "statuses, expected",
    [(["200", "201"], "200"), (["201", "404"], "201"), (["2XX"], "2XX"), (["default"], "default"), (["404"], None)],
)
def test_the_success_sent_is_the_lowest_declared(statuses, expected):
    assert success_key(statuses) == expected


@pytest.mark.parametrize(
    "status, statuses, expected",
    [
        (400, ["400", "422"], "400"),
        (400, ["422"], "422"),
        (401, ["403"], "403"),
        (401, ["404"], None),  # a failed authentication is never sent as another refusal
        (404, ["4XX"], "4XX"),
        (409, ["default"], "default"),
    ],
)
def test_a_failure_is_sent_as_the_declared_status_that_fits(status, statuses, expected):
    assert error_key(status, statuses) == expected


def test_a_document_with_no_paths_is_refused(tmp_path):
    path = tmp_path / "empty.yaml"
    path.write_text(textwrap.dedent("openapi: 3.1.0\ninfo: {title: x, version: '1'}\npaths: {}\n"))
    with pytest.raises(SpecError, match=r"empty\.yaml:3: #/paths: the document has no paths"):
        Contract(path)
