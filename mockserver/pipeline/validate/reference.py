"""The reference request validator: openapi-core over the contract's document.

openapi-core unmarshals a request as the document describes it; the compiled validators
(compiled.py) reproduce it for what they can, and leave the rest to it. Built without
openapi-core's own full-document validation (repairs.py is the tolerant check), with the
mock's strict JSON decoder, a check for each format it does not know, and security left to
the security stage, which runs first and verifies tokens itself.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import re
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs

from jsonschema_path import SchemaPath
from openapi_core import Config, OpenAPI
from openapi_core.casting.schemas import oas31_schema_casters_factory
from openapi_core.casting.schemas.casters import SchemaCaster
from openapi_core.casting.schemas.exceptions import CastError
from openapi_core.casting.schemas.factories import SchemaCastersFactory
from openapi_core.contrib.flask import FlaskOpenAPIRequest
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIResponse
from openapi_core.deserializing.media_types.exceptions import MediaTypeDeserializeError
from openapi_core.deserializing.media_types.util import data_form_loads
from openapi_core.deserializing.styles import style_deserializers
from openapi_core.deserializing.styles.deserializers import StyleDeserializer
from openapi_core.deserializing.styles.exceptions import EmptyQueryParameterValue, ParameterDeserializeError
from openapi_core.deserializing.styles.factories import StyleDeserializersFactory
from openapi_core.exceptions import OpenAPIError
from openapi_core.schema.schemas import get_properties
from openapi_core.templating.media_types.exceptions import MediaTypeNotFound
from openapi_core.testing import MockRequest
from openapi_core.unmarshalling.request.datatypes import RequestUnmarshalResult
from openapi_core.unmarshalling.request.unmarshallers import V30RequestUnmarshaller, V31RequestUnmarshaller
from openapi_core.validation.request.exceptions import (
    MissingRequestBodyError,
    ParameterValidationError,
    RequestBodyValidationError,
)
from openapi_core.validation.schemas.exceptions import InvalidSchemaValue
from openapi_schema_validator import oas30_format_checker, oas31_format_checker
from werkzeug.datastructures import ImmutableMultiDict

from mockserver.contract.index import Contract
from mockserver.contract.loading import SpecError
from mockserver.contract.pointers import objects
from mockserver.errors import ApiError
from mockserver.pipeline.validate.compiled import cast_reason, schema_error_details
from mockserver.pipeline.validate.json_body import strict_json_loads
from mockserver.pipeline.validate.xml_body import is_xml, read_xml
from mockserver.settings import MAX_MULTIPART_PARTS


def _json_media_types(contract: Contract) -> set[str]:
    """application/json, and every other JSON media type the document's bodies declare
    (`application/merge-patch+json`, `application/json-patch+json`, `application/problem+json`):
    openapi-core reads only the former as JSON by itself."""
    found = {"application/json"}
    for body in _bodies(contract.document):
        content = body.get("content") if isinstance(body, dict) else None
        for media_type in content if isinstance(content, dict) else ():
            base = str(media_type).split(";")[0].strip().lower()
            if base.endswith(("+json", "/json")):
                found.add(base)
    return found


def _bodies(document: dict) -> Iterator[Any]:
    """Every request body and response of the operations, and the shared ones of `components`."""
    for item in document["paths"].values():
        for op in item.values() if isinstance(item, dict) else ():
            if isinstance(op, dict):
                yield op.get("requestBody")
                yield from (op.get("responses") or {}).values()
    components = document.get("components") or {}
    yield from (components.get("responses") or {}).values()
    yield from (components.get("requestBodies") or {}).values()


class Reference:
    """openapi-core's validator of `contract`; SpecError when openapi-core cannot read it."""

    def __init__(self, contract: Contract) -> None:
        self.contract = contract
        self.templates = {
            operation.operation_id: contract.base_path + operation.path for operation in contract.operations
        }
        try:
            self.openapi = OpenAPI.from_dict(
                contract.document,
                config=Config(
                    spec_validator_cls=None,  # repairs.py checked it, tolerantly
                    extra_media_type_deserializers=dict.fromkeys(_json_media_types(contract), strict_json_loads),
                    extra_format_validators={
                        **_unknown_formats(contract.document, contract.version),
                        "byte": _is_base64,
                    },
                    security_provider_factory=_AuthenticatedAlready(),
                    request_unmarshaller_cls=REQUEST_UNMARSHALLERS[contract.version],
                    **_TYPE_LISTS.get(contract.version, {}),
                ),
            )
        except Exception as exc:  # openapi-core raises several validator-specific types
            raise SpecError(f"{contract.path}: cannot be served: {exc}") from exc

    def openapi_request(self, request) -> FlaskOpenAPIRequest:
        """Wrap a routed Flask request for openapi-core."""
        return _ContractRequest(request, self.contract.server_url, self.templates.get(request.endpoint))

    def response_errors(self, method: str, path: str, response) -> list[Exception]:
        """Where a Werkzeug response to `method path` breaks the contract (empty: it conforms)."""
        request = MockRequest(self.contract.server_url, method.lower(), path)
        return list(self.openapi.iter_response_errors(request, WerkzeugOpenAPIResponse(response)))

    def validate(self, request) -> RequestUnmarshalResult:
        """The request's parameters and body, unmarshalled; a 400 ApiError if they break the contract."""
        try:
            result = self.openapi.unmarshal_request(self.openapi_request(request))
        except (AssertionError, ValueError, TypeError, LookupError, UnicodeError) as exc:
            # openapi-core's form and multipart decoders raise these on bodies they cannot split.
            reason = str(exc) or f"not {request.mimetype} as its Content-Type says"  # an assert has no message
            details = {"body": f"Body cannot be decoded: {reason}"}
            raise ApiError(400, "VALIDATION_ERROR", "Validation failed", details) from None
        if result.errors:
            details: dict[str, str] = {}
            for error in result.errors:
                details.update(describe(error))
            raise ApiError(400, "VALIDATION_ERROR", "Validation failed", details)
        return result


class _ContractRequest(FlaskOpenAPIRequest):
    """A Flask request as openapi-core sees it: path parameters are the values Flask
    routed on (openapi-core's own URL parsing drops characters such as a newline)."""

    def __init__(self, request, server_url: str, template: str | None) -> None:
        super().__init__(request)
        self._server_url = server_url
        self._template = template

    @property
    def path_pattern(self) -> str:
        # The document's own template: Flask's rule has converters and renamed variables.
        return self._template or super().path_pattern

    @property
    def host_url(self) -> str:
        # Validation must not depend on the Host the client used (localhost, a LAN
        # address, a proxy): openapi-core wants a URL under one of the spec's servers.
        return self._server_url

    @property
    def method(self) -> str:
        # Flask answers HEAD with the GET view; validate it as the GET it stands for.
        return "get" if self.request.method == "HEAD" else self.request.method.lower()

    @property
    def content_type(self) -> str:
        # Werkzeug's parse of the header: openapi-core's own raises a ValueError on
        # parameters such as `application/json; charset` (no value). Multipart keeps its
        # boundary, which openapi-core needs to split the parts.
        mimetype = self.request.mimetype or "application/octet-stream"
        boundary = self.request.mimetype_params.get("boundary")
        if mimetype.startswith("multipart/") and boundary:
            return f'{mimetype}; boundary="{boundary}"'
        return mimetype


class _WhatTheWireSays:
    """openapi-core's request reading, where it refuses what the document allows:

    - an XML body by its schema's `xml` hints (xml_body.py), into the value the schema
      describes;
    - query parameters as OpenAPI 3.0.4/3.1.1 read `allowEmptyValue`: when true, `?q=`
      stands for a parameter not given; else "" is a value like any other, which the
      schema accepts or not (openapi-core refuses every empty value unless it is true);
    - in a form or multipart body, a required array property with no field is an empty
      array: the encoding sends nothing for one, so the two are the same bytes;
    - a multipart body is read part by part as its properties say (_multipart_body);
    - in a form body, a boolean field is `true` or `false` (openapi-core reads `0`, `no`,
      `on`, ... as one too); an array field is the field repeated (`photoUrls=a&photoUrls=b`,
      OpenAPI's `style: form, explode: true`), so one field is an array of one item."""

    def _deserialise_media_type(self, media_type, mimetype, parameters, value):
        if is_xml(mimetype):  # openapi-core's own answers an Element, which no schema accepts
            try:
                return read_xml(value, media_type.read_value().get("schema", {}), self.spec.read_value())
            except ValueError as exc:
                raise MediaTypeDeserializeError(mimetype, value) from exc
        if mimetype.startswith("multipart/") and "schema" in media_type:
            return self._multipart_body(media_type, parameters, value)
        if mimetype == "application/x-www-form-urlencoded" and "schema" in media_type:
            _check_form_booleans(media_type, value)
        body = super()._deserialise_media_type(media_type, mimetype, parameters, value)
        if mimetype == "application/x-www-form-urlencoded" and isinstance(body, dict) and "schema" in media_type:
            _unfill_required(media_type / "schema", body, value)
            for name in self._fields(media_type).required_arrays:
                body.setdefault(name, [])
        return body

    @functools.cached_property
    def _field_plans(self) -> dict[SchemaPath, _Fields]:
        return {}

    def _fields(self, media_type: SchemaPath) -> _Fields:
        """What the document says of the fields of a body of this media type (once)."""
        plan = self._field_plans.get(media_type)
        if plan is None:
            plan = self._field_plans[media_type] = _Fields(self._part_reader, media_type / "schema", media_type)
        return plan

    def _multipart_body(self, media_type: SchemaPath, parameters: dict, value: bytes) -> dict[str, Any]:
        """A multipart body, each part read as its property says (openapi-core's own decoder
        raises a TypeError on a 3.1 type list, keeps one part of an array under anyOf,
        drops the parts no property names, which `additionalProperties: false` must refuse,
        and fills in defaults): a property that is an array takes every part of its name,
        one under anyOf/oneOf takes them when there are several; a part whose encoding's
        contentType is JSON is JSON. At most MAX_MULTIPART_PARTS parts."""
        boundary = parameters.get("boundary", "").encode("latin-1", "replace")
        if boundary and value.count(b"--" + boundary) > MAX_MULTIPART_PARTS + 1:
            raise ValueError(f"more than {MAX_MULTIPART_PARTS} parts")
        if value.strip() in (b"", b"--" + boundary + b"--"):
            parts = ImmutableMultiDict()  # no part at all: only the closing boundary, or nothing
        else:
            parts = data_form_loads(value, **parameters)
        plan = self._fields(media_type)
        body: dict[str, Any] = {}
        for name in parts:
            values = parts.getlist(name)
            read_one, read_each = plan.readers(name)
            if len(values) == 1 and read_one is not None:
                body[name] = read_one(values[0])
            else:
                body[name] = [read_each(item) for item in values]
        for name in plan.required_arrays:
            body.setdefault(name, [])
        return body

    def _part_reader(self, schema: SchemaPath, content_type: str) -> Callable[[bytes], Any]:
        """How a multipart part is read as its property says (made once per property, not
        per part): a file's bytes stay bytes in 3.0, which reads them as a string, and are
        the characters of its bytes, one each, in 3.1; a field's text is read as the first
        of its readings its schema accepts (the text; a boolean only from `true` or
        `false`, a number, null, JSON for an object or array), else as the text, which the
        validation refuses naming the field."""
        if any(_is_file(option) for option in (schema, *_options_of(schema))):
            return lambda value: value.decode("latin-1") if self.binary_as_text else value
        as_json = content_type.split(";")[0].strip().lower().endswith(("/json", "+json"))
        types = _all_types(schema)
        validator = None

        def read(value: bytes) -> Any:
            nonlocal validator
            try:
                text = value.decode("utf-8")
            except UnicodeDecodeError:
                return value.decode("latin-1") if self.binary_as_text else value
            if as_json:
                try:
                    return strict_json_loads(value)
                except ValueError:
                    return text
            readings = _readings(text, types)
            if len(readings) <= 1:
                return readings[0] if readings else text
            if validator is None:
                validator = self.schema_validators_factory.create(
                    self.spec,
                    schema,
                    format_validators=self.format_validators,
                    extra_format_validators=self.extra_format_validators,
                ).validator
            return next((reading for reading in readings if validator.is_valid(reading)), readings[0])

        return read

    def _get_simple_param_or_header(self, param_or_header, location, name=None):
        if (param_or_header / "in").read_str("header") != "query":
            return super()._get_simple_param_or_header(param_or_header, location, name)
        name = name or (param_or_header / "name").read_str()
        schema = param_or_header / "schema"
        try:
            if location.get(name) == "" and (param_or_header / "allowEmptyValue").read_bool(default=False):
                raise KeyError(name)
            return self._deserialise_style(param_or_header, location, name=name), schema
        except KeyError:  # not given: openapi-core's own handling of an absent parameter
            if "default" not in schema:
                raise
            return (schema / "default").read_value(), schema


def _readings(text: str, types: list[str]) -> list[Any]:
    """What a multipart field's text can stand for among `types` (all of them when the
    schema names none), the text first where a string is one: a boolean from `true` or
    `false` only, an integer, a number, null from `null`, an object or array from its JSON."""
    allowed = set(types) or {"string", "boolean", "integer", "number", "null", "object", "array"}
    readings: list[Any] = [text] if "string" in allowed else []
    if "boolean" in allowed and text.lower() in ("true", "false"):
        readings.append(text.lower() == "true")
    if "integer" in allowed and re.fullmatch(r"[-+]?\d+", text):
        with contextlib.suppress(ValueError):  # past Python's 4,300 digits: not an integer
            readings.append(int(text))
    if "number" in allowed and re.fullmatch(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d{1,3})?", text):
        readings.append(float(text))
    if "null" in allowed and text == "null":
        readings.append(None)
    if allowed & {"object", "array"} and text.lstrip()[:1] in ("{", "["):
        with contextlib.suppress(ValueError):
            readings.append(strict_json_loads(text.encode("utf-8")))
    return readings


def _is_file(schema: SchemaPath) -> bool:
    return "contentMediaType" in schema or "contentEncoding" in schema or schema.get("format") in ("binary", "byte")


def _options_of(schema: SchemaPath) -> list[SchemaPath]:
    """The schema's anyOf and oneOf options (`anyOf: [{type: boolean}, {type: "null"}]`)."""
    return [option for keyword in ("anyOf", "oneOf") if keyword in schema for option in schema / keyword]


def _all_types(schema: SchemaPath, depth: int = 0) -> list[str]:
    """The types a schema and its options (a few levels down) allow."""
    types = _types_of(schema)
    if depth < 4:
        types += [kind for option in _options_of(schema) for kind in _all_types(option, depth + 1)]
    return types


def _all_properties(schema: SchemaPath, depth: int = 0) -> dict[str, SchemaPath]:
    """The properties a body schema names, its own and those of its allOf, anyOf and oneOf
    (the first to name one wins), a few levels down."""
    found = dict(get_properties(schema)) if "properties" in schema else {}
    if depth < 4:
        for keyword in ("allOf", "anyOf", "oneOf"):
            for option in schema / keyword if keyword in schema else ():
                for name, prop in _all_properties(option, depth + 1).items():
                    found.setdefault(name, prop)
    return found


def _text_or_bytes(value: Any) -> Any:
    """A part no property names, as text where it is UTF-8 (a list for several)."""
    if isinstance(value, list):
        return [_text_or_bytes(item) for item in value]
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value.decode("latin-1")


def _required_arrays(schema: SchemaPath) -> list[str]:
    """The required array properties, each an empty array when its form or multipart body
    has no field of its name: the encoding sends nothing for one, so the two are the same
    bytes. (Not an optional one: absent, it is valid as it is, where `[]` may break its
    minItems; nor one that may be an array or a file, as the OpenAI image edit's `image`:
    a request without it lacks it.)"""
    required = (schema / "required").read_value() if "required" in schema else []
    properties = _all_properties(schema)
    return [
        name
        for name in (required if isinstance(required, list) else ())
        if name in properties and "array" in _types_of(properties[name])
    ]


class _Fields:
    """How the fields of a form or multipart body of one media type are read, made on its
    first request: the properties, each part's reader (one part, or each of several), the
    required arrays."""

    def __init__(self, part_reader: Callable[..., Callable[[bytes], Any]], schema: SchemaPath, media_type: SchemaPath):
        self.part_reader = part_reader
        self.properties = _all_properties(schema)
        extra = schema / "additionalProperties" if "additionalProperties" in schema else None
        self.extra = extra if extra is not None and isinstance(extra.read_value(), dict) else None
        self.encoding = media_type / "encoding" if "encoding" in media_type else None
        self.required_arrays = _required_arrays(schema)
        self._readers: dict[str, tuple[Callable[[bytes], Any] | None, Callable[[bytes], Any]]] = {}

    def readers(self, name: str) -> tuple[Callable[[bytes], Any] | None, Callable[[bytes], Any]]:
        """(the reader of a part that is the whole value, None where the value is always an
        array; the reader of each part of several)."""
        found = self._readers.get(name)
        if found is None:
            found = self._made(name)
            if name in self.properties:  # kept for the document's names only: a client sends any
                self._readers[name] = found
        return found

    def _made(self, name: str) -> tuple[Callable[[bytes], Any] | None, Callable[[bytes], Any]]:
        prop = self.properties.get(name, self.extra)
        if prop is None:
            return _text_or_bytes, _text_or_bytes
        content_type = ""
        if self.encoding is not None and name in self.encoding and "contentType" in self.encoding / name:
            content_type = (self.encoding / name / "contentType").read_value()
        reader = self.part_reader
        if "array" in _types_of(prop) and "items" in prop:
            return None, reader(prop / "items", content_type)
        arrays = [option for option in _options_of(prop) if "array" in _types_of(option) and "items" in option]
        return reader(prop, content_type), reader(arrays[0] / "items", content_type) if arrays else _text_or_bytes


class _FormFieldError(OpenAPIError):
    """A form field whose text is no value of its property's type."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def _unfill_required(schema: SchemaPath, body: dict, raw: bytes) -> None:
    """Take out of a form body the defaults openapi-core filled in for required properties
    the form did not send: a required field not sent is missing, as in a JSON body."""
    required = (schema / "required").read_value() if "required" in schema else []
    try:
        sent = parse_qs(raw.decode("utf-8"), keep_blank_values=True)
    except UnicodeDecodeError:
        return
    for name in required if isinstance(required, list) else ():
        if name in body and name not in sent:
            del body[name]


def _check_form_booleans(media_type: SchemaPath, raw: bytes) -> None:
    """_FormFieldError for a field of a boolean property (or of an array of booleans) whose
    text is neither `true` nor `false`, in any case. Fields with their own `encoding` are
    read as that says."""
    try:
        fields = parse_qs(raw.decode("utf-8"), keep_blank_values=True)
    except UnicodeDecodeError:
        return  # openapi-core's decoder refuses it
    encoded = media_type / "encoding" if "encoding" in media_type else {}
    for name, schema in get_properties(media_type / "schema").items():
        if name not in fields or name in encoded:
            continue
        types = _types_of(schema)
        if "array" in types and "items" in schema:
            types = _types_of(schema / "items")
        if "boolean" not in types or "string" in types:
            continue
        for text in fields[name]:
            if text.lower() not in ("true", "false"):
                raise _FormFieldError(name, cast_reason(text, "boolean"))


def _types_of(schema: SchemaPath) -> list[str]:
    """The schema's `type` as a list: [] for none, one for a string, the 3.1 list as it is."""
    kind = (schema / "type").read_value() if "type" in schema else None
    if isinstance(kind, list):
        return [name for name in kind if isinstance(name, str)]
    return [kind] if isinstance(kind, str) else []


def _wire_type(types: list[str]) -> str:
    """The type a 3.1 type list's text is split as: array or object where it allows one,
    else its first type that is not null ("" for none)."""
    for kind in ("array", "object"):
        if kind in types:
            return kind
    return next((kind for kind in types if kind != "null"), "")


class _TypeListCaster(SchemaCaster):
    """openapi-core's caster, for a 3.1 `type` list too (`[integer, "null"]`), which its own
    refuses with a TypeError on every request: a parameter's or form field's text is read
    as the first of the listed types it can be read as, in their order."""

    def cast(self, value: Any) -> Any:
        if "type" not in self.schema or not isinstance((self.schema / "type").read_value(), list):
            return super().cast(value)
        kinds = [kind for kind in _types_of(self.schema) if kind != "null"]
        if value is None or not kinds:
            return value
        for kind in kinds:
            try:
                return self.get_type_caster(kind)(value)
            except (ValueError, TypeError, KeyError):
                continue
        raise CastError(value, kinds[0])


class _TypeListCasters(SchemaCastersFactory):
    def create(self, spec, schema, format_validators=None, extra_format_validators=None) -> SchemaCaster:
        validator = self.schema_validators_factory.create(
            spec, schema, format_validators=format_validators, extra_format_validators=extra_format_validators
        )
        return _TypeListCaster(schema, validator, self.types_caster)


class _TypeListStyles(StyleDeserializersFactory):
    """openapi-core's style deserialisers, which split a value by its schema's one type:
    for a type list, by `_wire_type`."""

    def create(self, spec, schema, style, explode, name) -> StyleDeserializer:
        caster = self.schema_casters_factory.create(spec, schema)
        schema_type = _wire_type(_types_of(schema))
        return StyleDeserializer(style, explode, name, schema_type, caster, self.style_deserializers.get(style))


_CASTERS_31 = _TypeListCasters(
    oas31_schema_casters_factory.schema_validators_factory, oas31_schema_casters_factory.types_caster
)
# A 3.0 document has no type list once repaired (repairs.py reads one as type and nullable).
_TYPE_LISTS = {
    "3.1": {
        "schema_casters_factory": _CASTERS_31,
        "style_deserializers_factory": _TypeListStyles(_CASTERS_31, style_deserializers=style_deserializers),
    }
}


class _V30RequestUnmarshaller(_WhatTheWireSays, V30RequestUnmarshaller):
    binary_as_text = False  # OpenAPI 3.0's validator takes bytes for a binary string


class _V31RequestUnmarshaller(_WhatTheWireSays, V31RequestUnmarshaller):
    binary_as_text = True  # 3.1's (JSON Schema's) string is text only


REQUEST_UNMARSHALLERS = {"3.0": _V30RequestUnmarshaller, "3.1": _V31RequestUnmarshaller}


class _AuthenticatedAlready:
    """openapi-core's security check, which only looks for a header, left to the security stage:
    it runs before validation and verifies the token itself."""

    def create(self, scheme):
        return lambda parameters: None


def _unknown_formats(document: dict, version: str) -> dict[str, Callable[[object], bool]]:
    """A check that admits any value, for each `format` of the document that openapi-core
    does not know (`objectid`, ...): a format is open-valued in OpenAPI, and JSON Schema
    ignores one it does not know, where openapi-core refuses every value (its issue 515)."""
    known = (oas30_format_checker if version == "3.0" else oas31_format_checker).checkers
    formats = {node["format"] for node in objects(document) if isinstance(node.get("format"), str)}
    return {name: _any_value for name in formats - set(known)}


def _any_value(value: object) -> bool:
    return True


def _is_base64(value: object) -> bool:
    """The `byte` format check, without openapi-schema-validator's UnicodeEncodeError
    (a 500) on a string that is not ASCII."""
    if not isinstance(value, str):
        return True
    try:
        base64.b64decode(value.encode("ascii"), validate=True)
    except ValueError:  # binascii.Error and UnicodeEncodeError both are
        return False
    return True


def describe(error: Exception) -> dict[str, str]:
    """Field name -> message for one openapi-core error."""
    if isinstance(error, ParameterValidationError):
        cause = error.__cause__
        if isinstance(cause, InvalidSchemaValue):
            return {error.name: "; ".join(e.message for e in cause.schema_errors)}
        if isinstance(cause, CastError):  # the reason, not only the parameter's name
            return {error.name: cast_reason(cause.value, cause.type)}
        if isinstance(cause, MediaTypeDeserializeError):  # a parameter's `content`: our decoder's reason
            reason = cause.__context__
            return {error.name: str(reason) if reason else f"not {cause.mimetype}"}
        if isinstance(cause, ParameterDeserializeError | EmptyQueryParameterValue):
            return {error.name: str(cause)}
        return {error.name: str(error)}
    if isinstance(error, MissingRequestBodyError):
        return {"body": "Request body is required"}
    if isinstance(error, RequestBodyValidationError):
        return _describe_body(error.__cause__)
    return {"request": str(error)}


def _describe_body(cause: BaseException | None) -> dict[str, str]:
    if isinstance(cause, MediaTypeNotFound):
        return {"body": f"Content-Type must be one of {', '.join(cause.availableMimetypes)}, not {cause.mimetype}"}
    if isinstance(cause, MediaTypeDeserializeError):
        # The reason is the ValueError our JSON decoder raised (see json_body.strict_json_loads).
        reason = cause.__context__
        return {"body": str(reason) if reason else "Body cannot be decoded"}
    if isinstance(cause, InvalidSchemaValue):
        return schema_error_details(cause.schema_errors)
    if isinstance(cause, _FormFieldError):
        return {cause.field: cause.reason}
    return {"body": "Body is invalid"}
