"""The compiled request validators against openapi-core, the reference.

For every operation of the served contract and of `specs/chat_api.yaml` (which uses the
parameter kinds, formats, defaults and body shapes a larger contract has), generated
requests (schemathesis's valid and invalid cases, some then mangled: another media type,
broken JSON, an emptied query parameter, ...) go through both. They must accept the same
requests with the same parameters and body, or reject them naming the same fields with the
same messages. DIFFERENTIAL_EXAMPLES sets the number of requests per operation.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path
from urllib.parse import urlencode

import pytest
import schemathesis
from flask import Flask, request
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from schemathesis.core import NotSet
from schemathesis.generation import GenerationMode
from support import ROOT, SPEC

from mockserver.behaviours import mock_additions
from mockserver.contract.index import Contract
from mockserver.errors import ApiError
from mockserver.pipeline.respond.negotiate import Negotiator
from mockserver.pipeline.route import flask_rule, prepare_routing
from mockserver.pipeline.validate.request import RequestValidator

SPECS = {"openapi.yaml": SPEC, "chat_api.yaml": ROOT / "tests" / "specs" / "chat_api.yaml"}
EXAMPLES = int(os.environ.get("DIFFERENTIAL_EXAMPLES", "120"))
# Operations the compiler leaves to openapi-core, on purpose: a deepObject parameter.
LEFT_TO_OPENAPI_CORE = {"chat_api.yaml": {"searchProject"}}

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=8,
)
MANGLES = st.sampled_from(
    [
        None,
        ("content_type", None),
        ("content_type", "text/plain"),
        ("content_type", "application/json; charset=utf-8"),
        ("content_type", "application/x-www-form-urlencoded"),
        ("data", b""),
        ("data", b"{bad"),
        ("data", b'{"a": NaN}'),
        ("data", b"\xff\xfe"),
        ("data", "json"),
        ("query", ""),
        ("query", "text"),
        ("query", None),
    ]
)


class Routed:
    """A contract, its schemathesis schema, and a Flask app that routes its operations."""

    def __init__(self, path: Path) -> None:
        self.contract = Contract(path)
        self.validator = RequestValidator(self.contract)
        # A config of its own: the repository's schemathesis.toml logs in to a live server.
        self.schema = schemathesis.openapi.from_path(path, config=schemathesis.Config.from_dict({}))
        self.app = Flask(__name__)
        prepare_routing(self.app)
        for operation in self.contract.operations:
            self.app.add_url_rule(
                flask_rule(operation),
                endpoint=operation.operation_id,
                view_func=lambda: None,
                methods=[operation.method],
            )


ROUTED = {name: Routed(path) for name, path in SPECS.items()}
OPERATIONS = [(name, operation) for name, routed in ROUTED.items() for operation in routed.contract.operations]


def outcome(validate):
    try:
        result = validate(request)
    except ApiError as exc:
        assert (exc.status, exc.code) == (400, "VALIDATION_ERROR")
        return "rejected", exc.details
    if result is None:
        return None
    return "accepted", result.parameters, result.body


def request_arguments(case, query_names, mangle, draw) -> dict:
    headers = {name: str(value) for name, value in (case.headers or {}).items()}
    if case.cookies:
        headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in case.cookies.items())
    arguments = {"path": case.formatted_path, "method": case.method, "query_string": dict(case.query or {})}
    if not isinstance(case.body, NotSet):
        media_type = case.media_type or "application/json"
        if isinstance(case.body, bytes):
            data = case.body
        elif "json" in media_type:
            data = json.dumps(case.body)
        elif isinstance(case.body, dict):
            data = urlencode(case.body, doseq=True)
        else:
            data = str(case.body)
        arguments.update(data=data, content_type=media_type)
    if mangle:
        what, value = mangle
        if what == "content_type":
            arguments["content_type"] = value
            arguments.setdefault("data", "{}")
        elif what == "data":
            arguments["data"] = json.dumps(draw(JSON_VALUES)) if value == "json" else value
            arguments.setdefault("content_type", "application/json")
        elif query_names:
            name = draw(st.sampled_from(query_names))
            if value is None:
                arguments["query_string"].pop(name, None)
            else:
                arguments["query_string"][name] = "" if value == "" else draw(st.text(max_size=12))
    arguments["headers"] = headers
    return arguments


@pytest.mark.slow
@pytest.mark.parametrize(
    "spec_name, operation", OPERATIONS, ids=[f"{name}:{operation.operation_id}" for name, operation in OPERATIONS]
)
def test_compiled_validation_agrees_with_openapi_core(spec_name, operation):
    routed = ROUTED[spec_name]
    validator = routed.validator.compiled.get(operation.operation_id)
    if operation.operation_id in LEFT_TO_OPENAPI_CORE.get(spec_name, set()):
        assert validator is None
        return
    assert validator is not None, f"{operation.operation_id} is left to openapi-core"
    api_operation = routed.schema[operation.path][operation.method]
    query_names = [p.name for p in validator.parameters if p.location == "query"]
    seen: Counter[str] = Counter()

    @settings(
        max_examples=EXAMPLES,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(
        case=st.one_of(
            api_operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
            api_operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
        ),
        mangle=MANGLES,
        data=st.data(),
    )
    def check(case, mangle, data):
        arguments = request_arguments(case, query_names, mangle, data.draw)
        with routed.app.test_request_context(**arguments):
            assume(request.endpoint == operation.operation_id)  # a generated path value may route elsewhere
            compiled = outcome(validator.validate)
            reference = outcome(routed.validator.reference.validate)
        if compiled is None:
            # Left to openapi-core: a body of another media type the operation declares.
            assert request_media_type(arguments) not in (None, "application/json")
            seen["delegated"] += 1
            return
        assert compiled == reference, arguments
        seen[compiled[0]] += 1

    check()
    assert seen["accepted"] + seen["rejected"] > EXAMPLES // 4, seen
    if validator.body is not None or any(parameter.location != "path" for parameter in validator.parameters):
        assert seen["rejected"] > 0, seen


def request_media_type(arguments: dict) -> str | None:
    content_type = arguments.get("content_type")
    return content_type.split(";")[0].strip().lower() if content_type else None


@pytest.mark.parametrize(
    "body, field",
    [
        ({"avatar": "\u00e9t\u00e9"}, "avatar"),  # not ASCII: openapi-schema-validator's own check raised here
        ({"avatar": "bm90IGJhc2U2NA=="}, None),
        ({"archivedAt": "2026-11-28T09:30:00Z", "tags": ["a"], "meta": {"n": 1}}, None),
        ({"meta": {"n": "one"}}, "meta"),
        ({}, "body"),
    ],
)
def test_examples_agree(body, field):
    routed = ROUTED["chat_api.yaml"]
    with routed.app.test_request_context("/projects/proj1/chats/chat1", method="PATCH", json=body):
        compiled = outcome(routed.validator.compiled["updateChat"].validate)
        assert compiled == outcome(routed.validator.reference.validate)
    if field is None:
        assert compiled[0] == "accepted"
    else:
        assert compiled[0] == "rejected" and set(compiled[1]) == {field}


def response_schemas() -> list[tuple[str, object, object, object]]:
    """Every declared JSON response body of 3.0 specs (the compiled check is for 3.0 only),
    with the body the mock sends for it. Petstore's have `required` and `enum`."""
    found = []
    specs = {**SPECS, **{name: ROOT / "tests" / "specs" / name for name in ("petstore.yaml", "type_array_30.yaml")}}
    for spec_name, path in specs.items():
        contract = Contract(path, mock_additions())  # as served: the mock's own error envelopes too
        negotiator = Negotiator(contract.source, contract.version)
        for operation in contract.operations:
            negotiator.prepare(operation.operation_id, operation.path, operation.method)
        for (operation_id, key), schema in negotiator.json_schemas.items():
            body = json.loads(negotiator.answers[operation_id, key].body or b"null")
            found.append((f"{spec_name} {operation_id} {key}", negotiator.checker, schema, body))
    return found


def mangled(value, data, depth: int = 0):
    """`value` with one part dropped or replaced: what breaks a schema in one place."""
    if isinstance(value, dict) and value and depth < 6 and data.draw(st.booleans()):
        key = data.draw(st.sampled_from(sorted(value)))
        if data.draw(st.booleans()):
            return {name: part for name, part in value.items() if name != key}
        return {**value, key: mangled(value[key], data, depth + 1)}
    if isinstance(value, list) and value and depth < 6 and data.draw(st.booleans()):
        index = data.draw(st.integers(0, len(value) - 1))
        return [*value[:index], mangled(value[index], data, depth + 1), *value[index + 1 :]]
    return data.draw(st.sampled_from([None, "x", "", 0, -1, 1.5, True, [], {}, "2026-13-45", [value], {"x": value}]))


@pytest.mark.slow
@pytest.mark.parametrize(
    "name, checker, schema, body", response_schemas(), ids=lambda value: value if isinstance(value, str) else ""
)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_responses_checked_fast_as_by_the_reference(name, checker, schema, body, data):
    # Error envelopes are checked on every failed request with a compiled check, which may
    # reject more than the reference (the reference then decides), never accept more: an
    # envelope that breaks the declared schema is never sent.
    assert checker.is_valid_often(schema, body) == checker.is_valid(schema, body) is True
    value = mangled(body, data)
    assert checker.is_valid_often(schema, value) == checker.is_valid(schema, value)
