"""Per-operation request validators, each compiled from the contract once, on its
operation's first request (request.py's CompiledValidators).

Each `OperationValidator` does what openapi-core's `unmarshal_request` does for one
operation (parameters deserialised, cast, validated and unmarshalled; the body's media
type matched, decoded, validated and unmarshalled) and names the offending fields with
the same messages, but resolves nothing per request. openapi-core stays the reference:
an operation using a feature this module does not reproduce (a parameter with `content`,
an array or object parameter, a style other than form or simple) gets no validator, and a
request whose body is of a media type other than application/json is left to it too.
`tests/unit/test_request_validators.py` checks both agree on generated requests.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from jsonschema_path import SchemaPath
from openapi_core.datatypes import Parameters
from openapi_core.exceptions import OpenAPIError
from openapi_core.unmarshalling.request.datatypes import RequestUnmarshalResult
from openapi_core.util import forcebool
from openapi_core.validation.request.exceptions import MissingRequiredParameter

from mockserver.errors import ApiError
from mockserver.pipeline.validate.schemas import CompiledSchema, NotCompilable, compile_schema

JSON = "application/json"
BOOLEAN_STRINGS = ("y", "yes", "t", "true", "on", "1", "n", "no", "f", "false", "off", "0")
DEFAULT_STYLES = {"path": "simple", "header": "simple", "query": "form", "cookie": "form"}
PRIMITIVE_CASTS: dict[str | None, Callable[[str], Any]] = {None: str, "string": str, "integer": int, "number": float}


# Where each location's values come from, read only for operations that have such parameters
# (Werkzeug parses the query string and cookies on first access).
SOURCES: dict[str, Callable[[Any], Mapping[str, Any]]] = {
    "path": lambda request: request.view_args or {},
    "query": lambda request: request.args,
    "header": lambda request: request.headers,
    "cookie": lambda request: request.cookies,
}


# How a value that cannot be read as its parameter's type is refused, as jsonschema words
# its own refusals: "done: 'maybe' is not a boolean" (reference.py words openapi-core's
# CastError the same way).
TYPE_NAMES = {"integer": "an integer", "number": "a number", "boolean": "a boolean", "array": "an array"}


def cast_reason(value: Any, schema_type: str | None) -> str:
    """Why `value` (a parameter's text) is not of `schema_type`."""
    return f"{value!r} is not {TYPE_NAMES.get(schema_type or '', f'of type {schema_type!r}')}"


def _boolean(value: str) -> bool:
    if value.lower() not in BOOLEAN_STRINGS:
        raise ValueError("not a boolean")
    return forcebool(value)


class ParameterValidator:
    def __init__(self, name: str, location: str, required: bool, allow_empty: bool, schema: dict, checker) -> None:
        self.name = name
        self.location = location
        self.required = required
        self.allow_empty = allow_empty
        self.has_default = "default" in schema
        self.default = schema.get("default")
        schema_type = self.schema_type = schema.get("type")
        self.cast = _boolean if schema_type == "boolean" else PRIMITIVE_CASTS[schema_type]
        self.checker: CompiledSchema = checker

    def value(self, source: Mapping[str, Any]) -> tuple[bool, Any, str | None]:
        """(present, unmarshalled value, error message)."""
        # OpenAPI 3.0.4/3.1.1: `allowEmptyValue: true` lets `?q=` stand for a parameter not
        # given; without it, "" is a value like any other, which the schema accepts or not.
        unused = self.allow_empty and self.location == "query" and source.get(self.name) == ""
        if self.name in source and not unused:
            try:
                value = self.cast(source[self.name])
            except (ValueError, TypeError):
                # The reason, as the reference words it (reference.describe).
                return True, None, cast_reason(source[self.name], self.schema_type)
        elif self.has_default:
            value = self.default
        elif self.required:
            return False, None, str(MissingRequiredParameter(self.name, self.location))
        else:
            return False, None, None
        if not self.checker.is_valid(value):
            errors = self.checker.errors(value)
            if errors:
                return True, None, "; ".join(error.message for error in errors)
        return True, self.checker.unmarshal(value), None


@dataclass
class Validated(RequestUnmarshalResult):
    """The request unmarshalled, and its JSON body as parsed before (dates and UUIDs as
    text; None where openapi-core read the body), so that a behaviour that needs the body
    as sent does not parse it again."""

    json: Any = None


class OperationValidator:
    def __init__(self, parameters: list[ParameterValidator], body: BodyValidator | None) -> None:
        self.parameters = parameters
        self.body = body

    def validate(self, request) -> Validated | None:
        """The request unmarshalled, an ApiError (400) if it breaks the contract, or None
        for a request only openapi-core can handle."""
        details: dict[str, Any] = {}
        validated = Parameters()
        for parameter in self.parameters:
            present, value, error = parameter.value(SOURCES[parameter.location](request))
            if error is not None:
                details[parameter.name] = error
            elif present:
                getattr(validated, parameter.location)[parameter.name] = value
        body = document = None
        if self.body is not None:
            outcome = self.body.validate(request)
            if outcome is None:
                return None
            body, document, body_details = outcome
            details.update(body_details)
        if details:
            raise ApiError(400, "VALIDATION_ERROR", "Validation failed", details)
        return Validated(errors=[], body=body, parameters=validated, json=document)


class BodyValidator:
    def __init__(self, required: bool, media_types: list[str], json_checker: CompiledSchema | None, decode) -> None:
        self.required = required
        self.media_types = media_types
        self.has_json = JSON in media_types
        self.json_checker = json_checker  # None: application/json without a schema
        self.decode = decode

    def validate(self, request) -> tuple[Any, Any, dict[str, str]] | None:
        """(body unmarshalled, body as parsed, field -> message), or None when openapi-core
        must decode this media type."""
        raw = request.get_data()
        if not raw:
            return None, None, ({"body": "Request body is required"} if self.required else {})
        mimetype = request.mimetype or "application/octet-stream"
        matched = self._media_type(mimetype)
        if matched is None:
            listed = ", ".join(self.media_types)
            return None, None, {"body": f"Content-Type must be one of {listed}, not {mimetype}"}
        if matched != JSON:
            return None
        try:
            document = self.decode(raw)
        except (ValueError, TypeError, AttributeError) as exc:  # what openapi-core turns into a 400
            return None, None, {"body": str(exc)}
        checker = self.json_checker
        if checker is None:
            return document, document, {}
        if not checker.is_valid(document):
            errors = checker.errors(document)
            if errors:
                return None, None, schema_error_details(errors)
        return checker.unmarshal(document), document, {}

    def _media_type(self, mimetype: str) -> str | None:
        """The deserialiser openapi-core's MediaTypeFinder would pick: the request's own
        type on an exact match, else the first range (`application/*`) that matches."""
        if mimetype in self.media_types:
            return mimetype
        return next((key for key in self.media_types if fnmatch.fnmatch(mimetype, key)), None)


def schema_error_details(schema_errors) -> dict[str, str]:
    """Field -> messages for the jsonschema errors of a body."""
    messages: dict[str, list[str]] = {}
    for schema_error in schema_errors:
        messages.setdefault(error_field(schema_error), []).append(schema_error.message)
    return {field: "; ".join(texts) for field, texts in messages.items()}


def error_field(schema_error: Any) -> str:
    """`userId` for an error at or below a top-level property; `body` for the body itself."""
    path = list(schema_error.absolute_path)
    if path:
        return str(path[0])
    if schema_error.validator == "required" and isinstance(schema_error.instance, dict):
        # jsonschema reports a missing property on the parent object, one error each.
        for name in schema_error.validator_value:
            if name not in schema_error.instance and repr(name) in schema_error.message:
                return name
    return "body"


class Compiler:
    """Builds the validators of a contract's operations, with the reference's own settings."""

    def __init__(self, openapi, document: dict, decode_json: Callable[[bytes], Any]) -> None:
        reference = openapi.request_unmarshaller
        self.spec: SchemaPath = openapi.spec
        self.document = document
        self.decode_json = decode_json
        self.factory = reference.schema_unmarshallers_factory
        self.options = {
            "format_validators": reference.format_validators,
            "extra_format_validators": reference.extra_format_validators,
            "forbid_unspecified_additional_properties": reference.forbid_unspecified_additional_properties,
            "enforce_properties_required": reference.enforce_properties_required,
            "format_unmarshallers": reference.format_unmarshallers,
            "extra_format_unmarshallers": reference.extra_format_unmarshallers,
        }

    def schema(self, schema_path: SchemaPath, fast: bool = False) -> CompiledSchema:
        try:
            return compile_schema(self.factory, self.options, self.spec, schema_path, self.document, fast)
        except (NotCompilable, OpenAPIError) as exc:  # e.g. openapi-core refuses an unknown format
            raise NotCompilable(str(exc)) from exc

    def operation(self, path: str, method: str) -> OperationValidator:
        item = self.spec / "paths" / path
        operation = item / method
        parameters = []
        seen = set()
        for source in (operation, item):  # the operation's own first, as openapi-core reads them
            for parameter in source.get("parameters", []):
                key = ((parameter / "name").read_str(), (parameter / "in").read_str())
                if key not in seen:
                    seen.add(key)
                    parameters.append(self.parameter(parameter))
        body = self.body(operation / "requestBody") if "requestBody" in operation else None
        return OperationValidator(parameters, body)

    def parameter(self, parameter: SchemaPath) -> ParameterValidator:
        with parameter.resolve() as resolved:
            spec = resolved.contents
        name, location = spec["name"], spec["in"]
        if "schema" not in spec:
            raise NotCompilable(f"parameter {name} has content, not a schema")
        if spec.get("style", DEFAULT_STYLES[location]) != DEFAULT_STYLES[location]:
            raise NotCompilable(f"parameter {name} has style {spec['style']}")
        schema_path = parameter / "schema"
        with schema_path.resolve() as resolved:
            schema = resolved.contents
        if schema.get("type") not in (None, "string", "integer", "number", "boolean") or any(
            key in schema for key in ("allOf", "anyOf", "oneOf")
        ):
            raise NotCompilable(f"parameter {name} is not of a primitive type")
        return ParameterValidator(
            name,
            location,
            spec.get("required", False),
            spec.get("allowEmptyValue", False),
            schema,
            self.schema(schema_path),
        )

    def body(self, request_body: SchemaPath) -> BodyValidator:
        content = request_body / "content"
        media_types = list(content.keys())
        json_checker = None
        if JSON in media_types and "schema" in content / JSON:
            json_checker = self.schema(content / JSON / "schema", fast=True)
        return BodyValidator(
            (request_body / "required").read_bool(default=False), media_types, json_checker, self.decode_json
        )
