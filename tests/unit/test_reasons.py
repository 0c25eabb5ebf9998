"""The reasons of a refusal (pipeline/respond/reasons.py): one line of them, a header
value that is printable ASCII and bounded, and the declared error body's most fitting
string field holding them, valid against its schema."""

from __future__ import annotations

import pytest

from mockserver.errors import ApiError
from mockserver.pipeline.respond.negotiate import SchemaChecker
from mockserver.pipeline.respond.reasons import header_value, reasons, told

CHECKER = SchemaChecker({}, "3.1")
INVALID = ApiError(400, "VALIDATION_ERROR", "Validation failed", {"title": "'' should be non-empty", "done": "no"})


def properties(schema):
    return schema.get("properties", {}) if isinstance(schema, dict) else {}


def tell(body, schema, exc=INVALID, status=400):
    return told(body, schema, exc, status, properties, CHECKER.is_valid)


def obj(**fields):
    return {"type": "object", "properties": fields}


STRING = {"type": "string"}


def test_the_reasons_are_one_line():
    assert reasons(INVALID) == "title: '' should be non-empty; done: no"
    assert reasons(ApiError(401, "UNAUTHORIZED", "Authentication required", "Token expired")) == "Token expired"
    assert reasons(ApiError(404, "NOT_FOUND", "Not found", "")) == "Not found"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("plain", "plain"),
        ("d\u00e9j\u00e0 \u2019x\u2019\r\nnext\x7f", "d\\xe9j\\xe0 \\u2019x\\u2019\\r\\nnext\\x7f"),
        ("\U0001f600", "\\U0001f600"),
        (" padded \n", "padded"),
    ],
)
def test_a_header_value_is_printable_ascii(text, expected):
    value = header_value(text)
    assert value == expected
    assert value.isascii() and value.isprintable()


def test_a_header_value_is_cut_at_its_limit_never_inside_an_escape():
    assert header_value("a" * 1000) == "a" * 1000
    assert header_value("a" * 1001) == "a" * 997 + "..."
    value = header_value("a" * 995 + "\u00e9" * 10, limit=1000)
    assert value == "a" * 995 + "..."  # not "\xe" cut in two
    assert len(header_value("\u2019" * 500)) <= 1000


def test_the_reasons_go_into_the_most_fitting_field_and_what_failed_around_them():
    schema = obj(title=STRING, status={"type": "integer"}, detail=STRING, code=STRING)
    body = tell({"title": "Example", "status": 1, "detail": "example"}, schema)
    assert body == {
        "title": "Validation failed",
        "status": 400,
        "detail": "title: '' should be non-empty; done: no",
        "code": "VALIDATION_ERROR",
    }
    assert tell({"message": "x"}, obj(error=STRING, message=STRING, code={"type": "integer"})) == {
        "message": "title: '' should be non-empty; done: no",
        "error": "Validation failed",
        "code": 400,
    }


def test_a_field_that_cannot_take_the_reasons_is_passed_over():
    schema = obj(detail={"type": "string", "enum": ["Bad"]}, reason={"type": "string", "maxLength": 12})
    assert tell({"detail": "Bad"}, schema) == {"detail": "Bad", "reason": "title: ''..."}
    status_fixed = obj(detail=STRING, status={"const": 422})
    assert tell({"status": 422}, status_fixed) == {"status": 422, "detail": "title: '' should be non-empty; done: no"}


def test_the_reasons_go_one_level_down_where_the_body_has_no_field_of_its_own():
    schema = obj(error=obj(code={"type": "integer"}, message=STRING))
    assert tell({"error": {"code": 1}}, schema) == {
        "error": {"code": 1, "message": "title: '' should be non-empty; done: no"}
    }


def test_a_body_with_no_field_for_them_is_left_as_declared():
    assert tell({"status": 1}, obj(status={"type": "integer"})) is None
    assert (
        tell({"id": "x"}, {**obj(id=STRING, message=STRING), "additionalProperties": False, "maxProperties": 1}) is None
    )
    assert tell("text", STRING) is None
