"""Deterministic, realistic data from an OpenAPI 3.0/3.1 schema, for responses that
declare no usable example.

The same schema always gives the same value (no randomness, no clock), so a client sees
stable answers run after run. Values follow `format` (date-time, email, uuid, uri, ...)
and, for plain strings, the property's name (`firstName` is a first name). Every value is
validated against its schema by the negotiator before it is ever sent; this module only
aims to be right, it does not guarantee it (a `not`, or an unusual `pattern`, may defeat
it: the negotiator reports those).

hypothesis (with a fixed seed: `derandomize`) turns a `pattern` into a string; the rest
is plain code, cheap enough to build every response of a 363-operation document at
start-up.

The work is bounded whatever the document holds: a value nests at most MAX_NESTING
generator calls (a property, an item, a oneOf option each), holds at most MAX_VALUES
values, and a document's values together at most MAX_DOCUMENT_VALUES. Past a bound the
generator cuts: an object leaves the property out, an array ends, anything else is null.
So a schema whose required properties recurse without end (`Node` requires a `Node`)
gets a value that stops MAX_NESTING levels down, which its schema refuses (a required
property missing there), and the negotiator reports it with the schema's pointer and
line. Keywords of the wrong type (`minimum: "1"`, `required: true`) are ignored.
"""

from __future__ import annotations

import hashlib
import math
import re
import uuid
from collections.abc import Callable
from typing import Any

from mockserver.contract.pointers import lookup_ref

MAX_DEPTH = 6  # deeper, optional properties are left out and arrays are empty
# Bounds of the work (the 363-operation Mudbase description needs at most 7 levels and 63
# values for a body, 601 values in all): generator calls nested (a property, an item, a
# oneOf option each), values in one value, values for all the document; items of an array
# and properties added for minProperties; characters padded for minLength; the shortest
# match of a pattern, and how many patterns hypothesis is asked for.
MAX_NESTING = 32
MAX_VALUES = 10_000
MAX_DOCUMENT_VALUES = 1_000_000
MAX_ITEMS = 1_000
MAX_STRING_CHARS = 64 * 1024
MAX_PATTERN_WIDTH = 1_000
MAX_PATTERNS = 200
FIXED_DATE = "2026-01-15"
FIXED_TIME = "09:30:00Z"

FORMATS: dict[str, str] = {
    "date-time": f"{FIXED_DATE}T{FIXED_TIME}",
    "date": FIXED_DATE,
    "time": FIXED_TIME,
    "email": "alex.rivera@example.com",
    "idn-email": "alex.rivera@example.com",
    "uri": "https://example.com/resources/1",
    "url": "https://example.com/resources/1",
    "iri": "https://example.com/resources/1",
    "uri-reference": "/resources/1",
    "iri-reference": "/resources/1",
    "uri-template": "https://example.com/resources/{id}",
    "hostname": "api.example.com",
    "idn-hostname": "api.example.com",
    "ipv4": "192.0.2.10",
    "ipv6": "2001:db8::10",
    "byte": "ZXhhbXBsZQ==",
    "binary": "example",
    "password": "correct-horse-battery-staple",
    "duration": "PT15M",
    "json-pointer": "/items/0",
    "relative-json-pointer": "0/name",
    "regex": "^[a-z]+$",
    "phone": "+14155550123",
}

# Plain strings, by the property's name (lower case, without _ and -).
BY_NAME: dict[str, str] = {
    "firstname": "Alex",
    "lastname": "Rivera",
    "fullname": "Alex Rivera",
    "name": "Example name",
    "username": "alex.rivera",
    "email": "alex.rivera@example.com",
    "phone": "+14155550123",
    "city": "Lisbon",
    "country": "PT",
    "currency": "EUR",
    "language": "en",
    "locale": "en-US",
    "timezone": "Europe/Lisbon",
    "url": "https://example.com/resources/1",
    "website": "https://example.com",
    "avatar": "https://example.com/avatars/1.png",
    "description": "An example description.",
    "title": "Example title",
    "message": "Operation completed successfully",
    "status": "active",
    "color": "#3366ff",
    "slug": "example-slug",
    "token": "eyJhbGciOiJIUzI1NiJ9.e30.mock-signature",
}


_CUT = object()  # what the generator returns past a bound: left out of objects and arrays, else null


class Generator:
    """Values for schemas of one document (whose local `$ref`s it follows)."""

    def __init__(self, document: dict[str, Any], version: str, is_valid: Callable[[Any, Any], bool]) -> None:
        """`is_valid(schema, value)` picks, among oneOf/anyOf options, one whose value fits the whole."""
        self.document = document
        self.version = version
        self.is_valid = is_valid
        self._patterns: dict[str, str | None] = {}
        self._nesting = 0  # generator calls under way
        self._values = 0  # values of the value under way
        self._document_values = 0

    def value(self, schema: Any, key: str = "", name: str = "", depth: int = 0, writing: bool = False) -> Any:
        """A value for `schema`; `key` seeds identifiers, `name` is the property's name.
        `writing`: for a request (readOnly left out), else a response (writeOnly left out)."""
        if self._nesting == 0:
            self._values = 0
            made = self._made(schema, key, name, depth, writing)
            return None if made is _CUT else made
        return self._made(schema, key, name, depth, writing)

    def _made(self, schema: Any, key: str, name: str, depth: int, writing: bool) -> Any:
        """`_value`, or _CUT past a bound. Each call counts, the cut ones too."""
        if self._exhausted():
            return _CUT
        self._values += 1
        self._document_values += 1
        if self._nesting >= MAX_NESTING:
            return _CUT
        self._nesting += 1
        try:
            return self._value(schema, key, name, depth, writing)
        finally:
            self._nesting -= 1

    def _exhausted(self) -> bool:
        return self._values >= MAX_VALUES or self._document_values >= MAX_DOCUMENT_VALUES

    def _value(self, schema: Any, key: str, name: str, depth: int, writing: bool) -> Any:
        schema = self.resolve(schema)
        if not isinstance(schema, dict):
            return None if schema is False else "example"
        if "const" in schema:
            return schema["const"]
        if isinstance(schema.get("enum"), list) and schema["enum"]:
            return schema["enum"][0]
        if "allOf" in schema:
            schema = self.merged(schema)
        for keyword in ("oneOf", "anyOf"):
            if schema.get(keyword) and isinstance(schema[keyword], list):
                rest = {k: v for k, v in schema.items() if k != keyword}
                pins = self._discriminator_pins(schema, schema[keyword])
                options = [
                    self.merged({"allOf": [rest, option, pin]})
                    for option, pin in zip(schema[keyword], pins, strict=True)
                ]
                return self._first_fitting(schema, options, key, name, depth, writing)
        kind = self.type_of(schema)
        if kind is None:
            return None
        return getattr(self, "_" + kind)(schema, key, name, depth, writing)

    def _discriminator_pins(self, schema: dict, options: list) -> list[dict]:
        """For each oneOf/anyOf option, the schema that sets the discriminator's property to
        the value naming that option ({} where there is none): its key in the `mapping`,
        else (the implicit mapping) the name of the schema its `$ref` points to. The options
        often declare the property as any string, which a client reads by the mapping."""
        discriminator = schema.get("discriminator")
        prop = discriminator.get("propertyName") if isinstance(discriminator, dict) else None
        if not isinstance(prop, str):
            return [{} for _ in options]
        mapping = _mapping(discriminator.get("mapping"))
        pins = []
        for option in options:
            ref = option.get("$ref") if isinstance(option, dict) else None
            own = self.resolve(_mapping(self.merged(_mapping(self.resolve(option))).get("properties")).get(prop))
            if not isinstance(ref, str) or isinstance(own, dict) and ("const" in own or "enum" in own):
                pins.append({})  # the option's own values (`kind: {const: card}`) say it already
                continue
            # A mapping's value is a $ref, or a schema's name (`Card` for #/components/schemas/Card).
            mapped = [key for key, target in mapping.items() if target in (ref, ref.rpartition("/")[2])]
            value = mapped[0] if mapped else ref.rpartition("/")[2]
            pins.append({"properties": {prop: {"const": value}}, "required": [prop]})
        return pins

    def _first_fitting(self, schema, options, key, name, depth, writing) -> Any:
        """The value of the first option that fits `schema` as a whole (for oneOf: that
        matches no other option), else the first option's."""
        values = []
        for index, option in enumerate(options):
            value = self.value(option, f"{key}/{index}", name, depth, writing)
            if value is _CUT:
                value = None
            if self.is_valid(schema, value):
                return value
            values.append(value)
        for index, value in enumerate(values):  # oneOf options that accept the same objects
            for variant in self._variants(value, options[index], options):
                if self.is_valid(schema, variant):
                    return variant
        return values[0] if values else None

    def _variants(self, value: Any, option: dict, options: list[dict]):
        """Other values of one option, for oneOf options that accept the same objects: with
        a null for each property only other options declare (which they refuse), and with
        the option's required properties only (the optional ones may be what another option
        requires, such as `bank_account` in an option `required: [card]`, or what
        `unevaluatedProperties: false` forbids)."""
        if not isinstance(value, dict):
            return
        told_apart = self._told_apart(value, option, options)
        if told_apart is not None:
            yield told_apart
        required = set(_names(self.merged(option).get("required")))
        if required and len(required) < len(value):
            least = {prop: item for prop, item in value.items() if prop in required}
            yield least
            told_apart = self._told_apart(least, option, options)
            if told_apart is not None:
                yield told_apart

    def _told_apart(self, value: Any, option: dict, options: list[dict]) -> Any:
        """`value` plus, for each property only other options declare, a null they refuse
        (an object of one option is often one of the others too, when none has `required`)."""
        if not isinstance(value, dict):
            return None
        own = _mapping(self.merged(option).get("properties"))
        extra = {}
        for other in options:
            for prop in _mapping(self.merged(other).get("properties")):
                if prop not in own and prop not in value:
                    extra[prop] = None
        return {**value, **extra} if extra else None

    def resolve(self, schema: Any, seen: int = 0) -> Any:
        while isinstance(schema, dict) and isinstance(schema.get("$ref"), str) and seen < 32:
            target = self.lookup(schema["$ref"])
            siblings = {k: v for k, v in schema.items() if k != "$ref"}
            schema = {**target, **siblings} if siblings and isinstance(target, dict) else target
            seen += 1
        return schema

    def lookup(self, ref: str) -> Any:
        """What `ref` points to in the document; {} (any value) where it points nowhere."""
        return lookup_ref(self.document, ref, default={})

    def merged(self, schema: dict, nesting: int = 0) -> dict:
        """allOf folded into one schema: properties and required united, the rest the last word."""
        out: dict[str, Any] = {}
        parts = [{k: v for k, v in schema.items() if k != "allOf"}]
        all_of = schema.get("allOf")
        parts += [self.resolve(part) for part in all_of] if isinstance(all_of, list) else []
        for part in parts:
            if not isinstance(part, dict):
                continue
            if "allOf" in part and nesting < MAX_NESTING:
                part = self.merged(part, nesting + 1)
            for k, v in part.items():
                if k == "properties":
                    out["properties"] = {**_mapping(out.get("properties")), **_mapping(v)}
                elif k == "required":
                    out["required"] = list(dict.fromkeys([*_names(out.get("required")), *_names(v)]))
                elif k in BOUNDS and _finite(v) is None:
                    continue
                elif k in ("minimum", "minLength", "minItems", "minProperties"):
                    out[k] = max(out.get(k, v), v)
                elif k in ("maximum", "maxLength", "maxItems", "maxProperties"):
                    out[k] = min(out.get(k, v), v)
                elif k == "type" and "type" in out:
                    out["type"] = _common_type(out["type"], v)
                else:
                    out[k] = v
        return out

    def type_of(self, schema: dict) -> str | None:
        kind = schema.get("type")
        if isinstance(kind, list):
            kinds = [k for k in kind if k != "null"]
            kind = kinds[0] if kinds else None
            if kind is None:
                return None
        if kind is None:
            if "properties" in schema or "additionalProperties" in schema or "required" in schema:
                return "object"
            if "items" in schema:
                return "array"
            if any(k in schema for k in ("minLength", "maxLength", "pattern", "format")):
                return "string"
            if any(k in schema for k in ("minimum", "maximum", "multipleOf")):
                return "number"
            return "string"
        return kind if kind in ("object", "array", "string", "integer", "number", "boolean", "null") else "string"

    # --- one method per type --------------------------------------------------------

    def _object(self, schema, key, name, depth, writing) -> dict:
        required = _names(schema.get("required"))
        must = set(required)
        properties = _mapping(schema.get("properties"))
        out: dict[str, Any] = {}
        limit = _count(schema, "maxProperties", math.inf)
        for prop, sub in properties.items():
            if len(out) >= limit:
                break
            resolved = self.resolve(sub)
            if prop not in must:
                if depth >= MAX_DEPTH or not isinstance(resolved, dict) or len(out) >= limit - len(required):
                    continue
                if resolved.get("writeOnly" if not writing else "readOnly"):
                    continue
            out[prop] = self.value(sub, f"{key}/{prop}", prop, depth + 1, writing)
        additional = schema.get("additionalProperties", True)
        for prop in required:
            if prop not in out:
                extra = additional if isinstance(additional, dict) else {}
                out[prop] = self.value(extra, f"{key}/{prop}", prop, depth + 1, writing)
        minimum = min(_count(schema, "minProperties", 0), MAX_ITEMS)
        index = 0
        while len(out) < minimum and not self._exhausted():
            extra = additional if isinstance(additional, dict) else {}
            out.setdefault(f"key{index}", self.value(extra, f"{key}/key{index}", "", depth + 1, writing))
            index += 1
        return {prop: value for prop, value in out.items() if value is not _CUT}

    def _array(self, schema, key, name, depth, writing) -> list:
        items = schema.get("items", {})
        minimum = _count(schema, "minItems", 0)
        count = max(minimum, 1 if depth < MAX_DEPTH else 0)
        count = min(count, _count(schema, "maxItems", count), MAX_ITEMS)
        prefix = schema.get("prefixItems") if isinstance(schema.get("prefixItems"), list) else []
        out = [self.value(sub, f"{key}/{i}", name, depth + 1, writing) for i, sub in enumerate(prefix[:count])]
        if _CUT in out:
            return out[: out.index(_CUT)]
        index = len(out)
        while len(out) < count:
            item = self.value(items, f"{key}/{index}", name, depth + 1, writing)
            if item is _CUT:
                break
            if schema.get("uniqueItems") and item in out:
                item = self._vary(items, item, index)
            out.append(item)
            index += 1
        return out

    def _vary(self, items, item, index) -> Any:
        items = self.resolve(items)
        if isinstance(item, str):
            return f"{item}{index}" if "format" not in items else item
        if isinstance(item, int | float) and not isinstance(item, bool):
            return item + index
        return item

    def _string(self, schema, key, name, depth, writing) -> str:
        fmt = schema.get("format") if isinstance(schema.get("format"), str) else None
        if isinstance(schema.get("pattern"), str):
            text = self._from_pattern(schema["pattern"])
            if text is not None:
                return text
        if fmt == "uuid":
            text = str(uuid.uuid5(uuid.NAMESPACE_URL, key or "value"))
        elif fmt in FORMATS:
            text = FORMATS[fmt]
        else:
            text = self._by_name(name, key)
        minimum, maximum = min(_count(schema, "minLength", 0), MAX_STRING_CHARS), _count(schema, "maxLength", None)
        if len(text) < minimum:
            text += "x" * (minimum - len(text))
        if maximum is not None and len(text) > maximum:
            text = text[:maximum]
        return text

    def _by_name(self, name: str, key: str) -> str:
        simple = name.lower().replace("_", "").replace("-", "")
        if simple in BY_NAME:
            return BY_NAME[simple]
        if simple.endswith("email"):
            return BY_NAME["email"]
        if simple.endswith(("url", "uri", "link")):
            return BY_NAME["url"]
        if simple.endswith(("at", "date", "time")) and simple not in ("format", "data"):
            return FORMATS["date-time"]
        if simple == "id" or simple.endswith("id"):
            return _identifier(key)
        return f"example {name}".strip() if name else "example"

    def _from_pattern(self, pattern: str) -> str | None:
        if pattern not in self._patterns:
            self._patterns[pattern] = _string_matching(pattern) if len(self._patterns) < MAX_PATTERNS else None
        return self._patterns[pattern]

    def _integer(self, schema, key, name, depth, writing) -> int:
        return int(self._number(schema, key, name, depth, writing, integer=True))

    def _number(self, schema, key, name, depth, writing, integer: bool = False) -> float | int:
        low, high = _finite(schema.get("minimum")), _finite(schema.get("maximum"))
        exclusive_low = _finite(schema.get("exclusiveMinimum"), flag=True)
        exclusive_high = _finite(schema.get("exclusiveMaximum"), flag=True)
        step = 1 if integer else 0.5
        if isinstance(exclusive_low, bool):  # 3.0: a flag on minimum
            exclusive_low = low if exclusive_low else None
            low = None if exclusive_low is not None else low
        if isinstance(exclusive_high, bool):
            exclusive_high = high if exclusive_high else None
            high = None if exclusive_high is not None else high
        floors = [low] if low is not None else []
        floors += [exclusive_low + step] if exclusive_low is not None else []
        ceilings = [high] if high is not None else []
        ceilings += [exclusive_high - step] if exclusive_high is not None else []
        floor, ceiling = max(floors, default=None), min(ceilings, default=None)
        value: float = 1
        if floor is not None:
            value = max(value, math.ceil(floor) if integer else floor)
        if ceiling is not None:
            value = min(value, math.floor(ceiling) if integer else ceiling)
        multiple = _finite(schema.get("multipleOf"))
        if multiple and multiple > 0 and abs(value / multiple) < 1e15:  # else no multiple is exact in a float
            value = math.ceil(value / multiple) * multiple
            if ceiling is not None and value > ceiling:
                value -= multiple
            if integer:
                value = int(value)
        return int(value) if integer or float(value).is_integer() and not multiple else value

    def _boolean(self, schema, key, name, depth, writing) -> bool:
        return True

    def _null(self, schema, key, name, depth, writing) -> None:
        return None


BOUNDS = ("minimum", "minLength", "minItems", "minProperties", "maximum", "maxLength", "maxItems", "maxProperties")


def _finite(value: Any, flag: bool = False) -> Any:
    """`value` if it is a number a float can hold (or, with `flag`, a bool: 3.0's
    exclusiveMinimum), else None: a keyword of the wrong type is ignored."""
    if isinstance(value, bool):
        return value if flag else None
    if isinstance(value, int | float) and -1e300 < value < 1e300:  # neither inf nor nan
        return value
    return None


def _count(schema: dict, keyword: str, default: Any) -> Any:
    """The schema's non-negative integer `keyword` (minItems, maxLength...), else `default`."""
    value = schema.get(keyword)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else default


def _mapping(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _names(value: Any) -> list[str]:
    return [name for name in value if isinstance(name, str)] if isinstance(value, list) else []


def _common_type(first: Any, second: Any) -> Any:
    firsts = first if isinstance(first, list) else [first]
    seconds = second if isinstance(second, list) else [second]
    common = [kind for kind in firsts if kind in seconds]
    if "integer" in firsts + seconds and "number" in firsts + seconds and not common:
        common = ["integer"]
    return common[0] if len(common) == 1 else (common or second)


def _identifier(key: str) -> str:
    """An ID that is the same for the same place in the document."""
    return hashlib.sha256(key.encode()).hexdigest()[:24]


def _string_matching(pattern: str) -> str | None:
    """The first string hypothesis finds for `pattern`, with a fixed seed: deterministic.
    Not shrunk: with a fixed seed the first one is the simplest already (the shrinking took
    a second or more a pattern, and minutes for `a{1000}`). None for a pattern whose
    shortest match is longer than MAX_PATTERN_WIDTH."""
    try:
        re.compile(pattern)
        if re._parser.parse(pattern).getwidth()[0] > MAX_PATTERN_WIDTH:  # the shortest match
            return None
    except (re.error, RecursionError, OverflowError):
        return None
    from hypothesis import HealthCheck, Phase, find, settings
    from hypothesis import strategies as st

    try:
        return find(
            st.from_regex(pattern),
            lambda text: True,
            settings=settings(
                database=None, derandomize=True, suppress_health_check=list(HealthCheck), phases=[Phase.generate]
            ),
        )
    except Exception:  # hypothesis raises its own errors for patterns it cannot satisfy
        return None
