"""The contract's schemas, compiled once (as their operation's validator is) for the request fast path.

For each schema a request value is checked against, `CompiledSchema` answers what
openapi-core's unmarshaller would, without its per-request schema resolution:

- `errors(value)`: the jsonschema validator openapi-core itself builds for the schema
  (same class, format checker and $ref resolver), so the messages are its own.
- `is_valid(value)`: for a body, a fastjsonschema function compiled from the schema
  translated to JSON Schema draft 4. It may be stricter than the reference, never more
  lenient, so only a value it rejects is checked again with `errors`. A schema the
  translation cannot express exactly, and a parameter's (small: compiling would cost
  more start-up time than it saves), are checked with `errors` alone.
- `unmarshal(value)`: defaults of missing properties and format conversions (date-time
  into datetime, ...) as openapi-core's unmarshaller does them, compiled into closures;
  for schemas with composition keywords or x-model, openapi-core's own unmarshaller.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import fastjsonschema
from jsonschema_path import SchemaPath

from mockserver.contract.pointers import lookup_ref

ANNOTATIONS = {"title", "description", "default", "example", "deprecated", "writeOnly", "xml", "externalDocs"}
SAME_IN_DRAFT4 = {
    "maximum",
    "minimum",
    "exclusiveMaximum",
    "exclusiveMinimum",
    "maxLength",
    "minLength",
    "pattern",
    "maxItems",
    "minItems",
    "maxProperties",
    "minProperties",
    "required",
}
COMPOSITIONS = ("allOf", "anyOf", "oneOf", "not")
# Formats the reference checks on numbers (the others it checks on strings only).
INTEGER_RANGES = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}
ALWAYS_VALID_NUMBER_FORMATS = {"float", "double"}  # on JSON values, the reference never fails these


class NotCompilable(Exception):
    """The schema uses something the fast path does not reproduce exactly."""


class CompiledSchema:
    def __init__(self, reference, document: dict[str, Any], schema: dict[str, Any], fast: bool) -> None:
        """`reference`: openapi-core's SchemaUnmarshaller for the schema; `schema`: its raw form."""
        validator = reference.schema_validator.validator
        self.errors: Callable[[Any], list] = lambda value: list(validator.iter_errors(value))
        self.is_valid = fast_check(validator.format_checker, document, schema) if fast else _never
        try:
            self.unmarshal = _unmarshaller(reference.formats_unmarshaller, document, schema, frozenset()) or _same
        except NotCompilable:
            self.unmarshal = reference.unmarshal


def fast_check(format_checker, document, schema, reading: bool = False) -> Callable[[Any], bool]:
    """A fastjsonschema check of an OpenAPI 3.0 schema: never more lenient than the
    reference, so only a value it rejects needs the reference. `reading`: the value is in
    a response, where a write-only property must be absent (not expressed: the reference
    decides)."""
    formats: dict[str, Callable[[str], bool]] = {}
    try:
        draft4 = _draft4(schema, document, formats, format_checker, frozenset(), reading)
        check = fastjsonschema.compile(draft4, formats=formats, use_default=False)
    except (NotCompilable, fastjsonschema.JsonSchemaDefinitionException, LookupError):  # a broken $ref
        return _never

    def is_valid(value: Any) -> bool:
        try:
            check(value)
        except fastjsonschema.JsonSchemaException:
            return False
        return True

    return is_valid


def compile_schema(factory, options, spec: SchemaPath, schema_path: SchemaPath, document, fast: bool):
    """A CompiledSchema for `schema_path`, with the reference built as openapi-core builds it."""
    reference = factory.create(spec, schema_path, **options)
    with schema_path.resolve() as resolved:
        raw = resolved.contents
    return CompiledSchema(reference, document, raw, fast)


def _never(value: Any) -> bool:
    return False


def resolve_ref(document: dict[str, Any], ref: str) -> Any:
    if not ref.startswith("#/"):
        raise NotCompilable(f"external $ref {ref}")
    return lookup_ref(document, ref)


def _follow(schema: Any, document, seen: frozenset[str]) -> tuple[dict[str, Any], frozenset[str]]:
    """The schema a $ref points to (openapi-core ignores nothing beside a $ref: refuse siblings)."""
    while isinstance(schema, dict) and "$ref" in schema:
        ref = schema["$ref"]
        if ref in seen:
            raise NotCompilable(f"recursive $ref {ref}")
        if set(schema) - ANNOTATIONS - {"$ref"}:
            raise NotCompilable("keywords beside a $ref")
        seen = seen | {ref}
        schema = resolve_ref(document, ref)
    if isinstance(schema, bool):
        return ({} if schema else {"not": {}}), seen
    return schema, seen


def _draft4(schema, document, formats, format_checker, seen, reading=False) -> dict[str, Any]:
    """The OpenAPI 3.0 schema as draft 4 JSON Schema, with every $ref inlined."""
    schema, seen = _follow(schema, document, seen)
    if reading and schema.get("writeOnly") is True:
        raise NotCompilable("writeOnly in a response")

    def sub(node):
        return _draft4(node, document, formats, format_checker, seen, reading)

    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in ANNOTATIONS or key.startswith("x-") or key == "nullable":
            continue
        if key in SAME_IN_DRAFT4:
            out[key] = value
        elif key == "type":
            out["type"] = [value, "null"] if schema.get("nullable") is True else value
        elif key == "enum":
            # fastjsonschema tests `in`, for which True == 1; strings compare alike in both.
            if not all(item is None or isinstance(item, str) for item in value):
                raise NotCompilable("enum of non-strings")
            out["enum"] = value
        elif key == "properties":
            out["properties"] = {name: sub(node) for name, node in value.items()}
        elif key in ("items", "not"):
            out[key] = sub(value)
        elif key == "additionalProperties":
            out[key] = value if isinstance(value, bool) else sub(value)
        elif key in ("allOf", "anyOf", "oneOf"):
            out[key] = [sub(node) for node in value]
        elif key == "format":
            _add_format(out, schema, value, formats, format_checker)
        else:  # readOnly, discriminator, uniqueItems, multipleOf, ...: the reference decides
            raise NotCompilable(key)
    return out


def _add_format(out, schema, name, formats, format_checker) -> None:
    schema_type = schema.get("type")
    if name in INTEGER_RANGES and schema_type in ("integer", "number"):
        low, high = INTEGER_RANGES[name]
        out.setdefault("allOf", []).append({"minimum": low, "maximum": high})  # stricter on floats: safe
    elif name in ALWAYS_VALID_NUMBER_FORMATS and schema_type in ("integer", "number"):
        pass
    elif schema_type == "string":
        if name in format_checker.checkers:  # else the reference ignores it, and so do we
            formats[name] = partial(_conforms, format_checker, name)
            out["format"] = name
    else:
        raise NotCompilable(f"format {name} on type {schema_type}")


def _conforms(format_checker, name: str, value: str) -> bool:
    return format_checker.conforms(value, name)


def _same(value: Any) -> Any:
    return value


def _unmarshaller(formats_unmarshaller, document, schema, seen) -> Callable[[Any], Any] | None:
    """openapi-core's unmarshalling of a value valid for `schema`, or None where it returns the
    value as it is: objects get the defaults of missing properties, strings their format."""
    schema, seen = _follow(schema, document, seen)
    if any(key in schema for key in COMPOSITIONS) or "x-model" in schema or "x-model-path" in schema:
        raise NotCompilable("composition or model")

    def sub(node):
        return _unmarshaller(formats_unmarshaller, document, node, seen)

    schema_type = schema.get("type")
    # Without a type, openapi-core unmarshals by the kind of value, like this.
    to_object = _object_unmarshaller(schema, document, seen, sub) if schema_type in ("object", None) else None
    # Only declared items: `{}` for a missing one would recurse without end (an untyped `{}`).
    items = sub(schema["items"]) if "items" in schema and schema_type in ("array", None) else None
    to_format = None
    if "format" in schema and schema_type in ("string", None):
        to_format = formats_unmarshaller.get_unmarshaller(schema["format"])
    if to_object is None and items is None and to_format is None:
        return None

    def unmarshal(value: Any) -> Any:
        if isinstance(value, dict):
            return to_object(value) if to_object else value
        if isinstance(value, list):
            return [items(item) for item in value] if items else value
        if isinstance(value, str) and to_format:
            try:
                return to_format(value)
            except (AttributeError, ValueError, TypeError):
                return value
        return value

    return unmarshal


def _object_unmarshaller(schema, document, seen, sub) -> Callable[[dict], dict] | None:
    properties: dict[str, Callable[[Any], Any]] = {}
    defaults: dict[str, Any] = {}
    for name, node in schema.get("properties", {}).items():
        properties[name] = sub(node) or _same
        target, _ = _follow(node, document, seen)
        if "default" in target:
            defaults[name] = target["default"]
    additional = schema.get("additionalProperties", True)
    extra = sub(additional) if isinstance(additional, dict) else None
    if not defaults and extra is None and all(convert is _same for convert in properties.values()):
        return None
    extra = extra or _same

    def unmarshal(value: dict) -> dict:
        result = {}
        for name, convert in properties.items():
            if name in value:
                result[name] = convert(value[name])
            elif name in defaults:
                result[name] = convert(defaults[name])
        if additional is not False:
            for name, item in value.items():
                if name not in result:
                    result[name] = extra(item)
        return result

    return unmarshal
