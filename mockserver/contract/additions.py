"""The effective document: the served document plus the failures the mock sends that it
declares no status for.

A mock enforces what the document asks (its security, its schemas), and must send some
status when it refuses a request; where the operation declares none that fits (no 401,
`4XX` or `default` for a missing token; no 400, 422, `4XX`, `default` or other
refusal for invalid data), the mock sends its own, in the `Error` envelope. So that every
response still conforms to a document, those responses are added to the document the
mock serves (`GET /__mock/served-openapi.json`, `mockserver effective-spec FILE`), each
reported at start-up as a warning with its pointer:

- 204, for an operation that declares only failures (a valid request gets no failure);
- 401, for an operation whose every security alternative needs credentials (a 403 it
  declares is for a caller without permission, not one without credentials);
- 400, for an operation with parameters or a request body, which a request may break,
  where it declares no 400, 422, `4XX`, `default` nor another refusal (409, 415, 405,
  ...: the Petstore's "405 Invalid input"). A 404 is no such refusal for a body or a
  query, header or cookie parameter that breaks the document (a PATCH whose body breaks
  its schema is no unknown ID): only for a path value, which names no resource then;
- the failures a behaviour sends as `openapi.yaml` declares them (404 for a chat one is
  not in, ...), for an operation the behaviour serves.

Where the document has a shared response for the failure (`components/responses/
Unauthorized`, `BadRequest`, `NotFound`, as the Mudbase description has), that is the one
added; else one with the mock's `Error` envelope as its schema. Rate limiting (429) is
not added: it applies only where the document declares a 429.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mockserver.contract.loading import Document, Problem, escape
from mockserver.contract.pointers import follow
from mockserver.contract.statuses import error_key, success_key

ERROR_SCHEMA = {
    "type": "object",
    "description": "The mock server's Error envelope",
    "required": ["error", "code", "details", "timestamp", "path", "requestId"],
    "properties": {
        "error": {"type": "string"},
        "code": {"type": "string"},
        "details": {"anyOf": [{"type": "string"}, {"type": "object", "additionalProperties": {"type": "string"}}]},
        "timestamp": {"type": "string", "format": "date-time"},
        "path": {"type": "string"},
        "requestId": {"type": "string"},
    },
}
WHY = {
    400: "request data that breaks the document",
    401: "missing or invalid credentials",
}
NO_SUCCESS = "the answer to a valid request, as the document declares only failures"
ADDED = "x-mockserver-added"  # marks each added response in the served document
# Where a document declares a shared response by one of these names, it is the one added.
SHARED = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound"}


@dataclass(frozen=True)
class Additions:
    """What the mock sends beyond the document, given as data by the layers above."""

    # (operationId, METHOD, path) of each operation a behaviour serves -> {status: why}
    # of the failures it sends.
    behaviour_failures: Mapping[tuple[str, str, str], Mapping[int, str]] = field(default_factory=dict)


def add_error_responses(document: Document, operations, additions: Additions) -> list[Problem]:
    """Add to `document.data`, in place, the failures each of `operations` may send undeclared;
    a warning per operation that gets any, naming the statuses and why."""
    problems = []
    schema_ref = None
    shared = (document.data.get("components") or {}).get("responses") or {}
    for operation in operations:
        op = document.data["paths"][operation.path][operation.method.lower()]
        if "responses" not in op:  # optional in 3.1: what the mock sends is declared from nothing
            op["responses"] = {}
        responses = op["responses"]
        if not isinstance(responses, dict):
            continue
        added = []
        if success_key([str(key) for key in responses]) is None:
            responses["204"] = {"description": f"Added by the mock server: {NO_SUCCESS}", ADDED: True}
            added.append(f"204 ({NO_SUCCESS})")
        item = document.data["paths"][operation.path]
        for status, why in _failures(operation, op, item, additions):
            if _declared(status, [str(key) for key in responses], _beyond_path(document.data, op, item)):
                continue
            if SHARED.get(status) in shared:  # the document's own response for this failure
                responses[str(status)] = {"$ref": f"#/components/responses/{SHARED[status]}", ADDED: True}
                why += f", as its {SHARED[status]} response"
            else:
                schema_ref = schema_ref or _error_schema(document.data)
                responses[str(status)] = _response(status, why, schema_ref)
            added.append(f"{status} ({why})")
        if added:
            pointer = f"/paths/{escape(operation.path)}/{operation.method.lower()}/responses"
            message = (
                f"declares no status for {', '.join(added)}: the mock sends it, and adds it to the"
                " document it serves (/__mock/served-openapi.json)"
            )
            problems.append(document.problem(pointer, message))
    return problems


def _declared(status: int, keys: list[str], beyond_path: bool = False) -> bool:
    """The operation declares a status the mock sends `status` as. A missing or invalid
    credential is a 401 (RFC 9110), never the 403 (no permission) an operation may declare;
    request data beyond the path (`beyond_path`: a body, a query, header or cookie
    parameter) that breaks the document is never the 404 (no such resource) it declares."""
    if status == 401:
        return bool({"401", "4XX", "4xx", "default"} & set(keys))
    if status == 400 and beyond_path:
        keys = [key for key in keys if key != "404"]
    return error_key(status, keys) is not None


def _beyond_path(data: dict[str, Any], op: dict, item: dict) -> bool:
    """The operation (`op` in path `item`) takes a request body or a parameter outside its path."""
    if op.get("requestBody"):
        return True
    for parameters, where in ((op.get("parameters"), "op"), (item.get("parameters"), "item")):
        for parameter in parameters if isinstance(parameters, list) else ():
            parameter, _ = follow(data, parameter, where, default={})
            if isinstance(parameter, dict) and parameter.get("in") != "path":
                return True
    return False


def _failures(operation, op: dict, item: dict, additions: Additions) -> list[tuple[int, str]]:
    """(status, why) of every failure the mock may send for `operation` (`op` in path `item`)."""
    failures = []
    if op.get("parameters") or item.get("parameters") or op.get("requestBody"):
        failures.append((400, WHY[400]))
    if operation.security and all(operation.security):  # an empty alternative admits anyone
        failures.append((401, WHY[401]))
    declared = additions.behaviour_failures.get((operation.operation_id, operation.method, operation.path), {})
    generic = {status for status, _ in failures}
    failures += [(status, why) for status, why in declared.items() if status not in generic]
    return failures


def _error_schema(data: dict[str, Any]) -> str:
    """Add the Error envelope's schema under a name the document does not use; its $ref."""
    schemas = data.setdefault("components", {}).setdefault("schemas", {})
    name, number = "MockServerError", 1
    while name in schemas:
        number += 1
        name = f"MockServerError{number}"
    schemas[name] = ERROR_SCHEMA
    return f"#/components/schemas/{name}"


def _response(status: int, why: str, schema_ref: str) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": f"Added by the mock server: {why}",
        ADDED: True,
        "content": {"application/json": {"schema": {"$ref": schema_ref}}},
    }
    if status == 401:
        response["headers"] = {"WWW-Authenticate": {"description": "The challenge", "schema": {"type": "string"}}}
    return response
