"""XML request bodies, read into the JSON value their schema describes.

OpenAPI's `xml` object says how a schema's value is written in XML, and this reads it back:
an object is an element whose properties are its child elements, or with `attribute: true`
its attributes, each named by its `xml.name` or the property's name; an array property is
its items repeated, each named by the items' `xml.name` or the property's name, inside one
element of the property's name when `wrapped: true`. A scalar is an element's text, read as
its schema's type: an integer or a number where the text is one, a boolean for `true` or
`false`, null for an empty element where the schema allows null. Any other text stays a
string, for the schema to refuse (`'abc' is not of type 'integer'`). Names are matched
without their namespace; the root element's own name is not checked.

The standard library's expat parses it, safely (as defusedxml would): a document type
declaration is refused, and with it every entity, internal (the "billion laughs") or
external; so is a document nested deeper than MAX_JSON_DEPTH, with more than
MAX_JSON_VALUES elements or a text longer than MAX_JSON_STRING_CHARS. The body itself is
within MAX_BODY_BYTES already.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree
from typing import Any

from mockserver.contract.pointers import lookup_ref
from mockserver.settings import MAX_JSON_DEPTH, MAX_JSON_STRING_CHARS, MAX_JSON_VALUES

MAX_HOPS = 32  # $refs followed, and allOf/oneOf/anyOf levels folded, for one schema
_INTEGER = re.compile(r"[+-]?[0-9]+")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def is_xml(mimetype: str) -> bool:
    base = mimetype.split(";")[0].strip().lower()
    return base in ("application/xml", "text/xml") or base.endswith("+xml")


def read_xml(raw: bytes, schema: Any, document: dict) -> Any:
    """The value `raw` holds by `schema` (a part of `document`, whose local `$ref`s it
    follows); a ValueError saying why for a body that is not XML or is refused."""
    return _Reader(document).element(parse(raw), schema)


def parse(raw: bytes) -> ElementTree.Element:
    """The root element of `raw`, parsed within the bounds above."""
    parser = ElementTree.XMLParser(target=_BoundedBuilder())
    try:
        parser.feed(raw)
        return parser.close()
    except ElementTree.ParseError as exc:
        raise ValueError(f"Malformed XML: {exc}") from None


class _BoundedBuilder(ElementTree.TreeBuilder):
    """ElementTree's tree builder, which refuses a DTD as soon as it starts (before any
    entity is declared) and counts the elements and their nesting as they come."""

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.elements = 0

    def doctype(self, name: str, pubid: str | None, system: str | None) -> None:
        raise ValueError("XML with a document type declaration (DTD) is refused")

    def start(self, tag: str, attrs: dict[str, str]) -> ElementTree.Element:
        self.depth += 1
        self.elements += 1
        if self.depth > MAX_JSON_DEPTH:
            raise ValueError(f"XML is nested too deeply (more than {MAX_JSON_DEPTH} levels)")
        if self.elements > MAX_JSON_VALUES:
            raise ValueError(f"XML has too many elements (more than {MAX_JSON_VALUES})")
        return super().start(tag, attrs)

    def end(self, tag: str) -> ElementTree.Element:
        self.depth -= 1
        return super().end(tag)


class _Reader:
    def __init__(self, document: dict) -> None:
        self.document = document

    def element(self, element: ElementTree.Element, schema: Any) -> Any:
        """The value of `element` by `schema`."""
        view = self.view(schema)
        kinds = view["types"]
        children = list(element)
        text = _text(element.text)
        structured = bool(children or element.attrib or not text.strip())  # else text alone
        if structured and ("object" in kinds or (not kinds and (children or element.attrib))):
            return self.object(element, children, view)
        if "array" in kinds and (children or not text.strip()):
            return [self.element(child, view["items"]) for child in children]
        return _scalar(text, kinds)

    def object(self, element: ElementTree.Element, children: list, view: dict) -> dict[str, Any]:
        out: dict[str, Any] = {}
        used: set[int] = set()
        attributes = {_local(name): value for name, value in element.attrib.items()}
        for name, prop in view["properties"].items():
            prop_view = self.view(prop)
            hints = prop_view["xml"]
            tag = hints.get("name") if isinstance(hints.get("name"), str) else name
            if hints.get("attribute") is True:
                if tag in attributes:
                    out[name] = _scalar(_text(attributes[tag]), prop_view["types"])
                continue
            if "array" in prop_view["types"] and "object" not in prop_view["types"]:
                items = self.view(prop_view["items"])["xml"].get("name")
                if hints.get("wrapped") is True:
                    wrapper = _first(children, tag, used)
                    if wrapper is not None:  # an element of the array's schema, its items inside
                        used.add(id(wrapper))
                        out[name] = self.element(wrapper, prop)
                    continue
                matches = [child for child in children if _local(child.tag) == (items or tag) and id(child) not in used]
                used.update(id(child) for child in matches)
                # No element is what an empty array is written as: the two are the same bytes.
                out[name] = [self.element(child, prop_view["items"]) for child in matches]
                continue
            child = _first(children, tag, used)
            if child is not None:
                used.add(id(child))
                out[name] = self.element(child, prop)
        additional = view["additional"] if isinstance(view["additional"], dict) else {}
        for child in children:
            name = _local(child.tag)
            if id(child) not in used and name not in out:
                out[name] = self.element(child, additional)
        return out

    def view(self, schema: Any) -> dict[str, Any]:
        """What reading needs of `schema`: its types (inferred from `properties` or `items`
        where it names none), properties, items, xml hints and additionalProperties, with
        its `$ref`s followed and the properties of its allOf, oneOf and anyOf parts added."""
        view: dict[str, Any] = {"types": [], "properties": {}, "items": {}, "xml": {}, "additional": True}
        self._fold(schema, view, 0)
        if not view["types"]:
            if view["properties"]:
                view["types"] = ["object"]
            elif view["items"]:
                view["types"] = ["array"]
        return view

    def _fold(self, schema: Any, view: dict[str, Any], hops: int) -> None:
        schema = self._resolve(schema)
        if not isinstance(schema, dict) or hops > MAX_HOPS:
            return
        if not view["types"]:
            view["types"] = _types(schema.get("type"))
        properties = schema.get("properties")
        for name, prop in properties.items() if isinstance(properties, dict) else ():
            view["properties"].setdefault(name, prop)
        if not view["items"] and isinstance(schema.get("items"), dict):
            view["items"] = schema["items"]
        if not view["xml"] and isinstance(schema.get("xml"), dict):
            view["xml"] = schema["xml"]
        if view["additional"] is True and "additionalProperties" in schema:
            view["additional"] = schema["additionalProperties"]
        for keyword in ("allOf", "oneOf", "anyOf"):
            parts = schema.get(keyword)
            for part in parts if isinstance(parts, list) else ():
                self._fold(part, view, hops + 1)

    def _resolve(self, schema: Any) -> Any:
        """`schema` with its local `$ref`s followed (3.1's siblings of a `$ref` kept, and
        winning); {} (any value) where one points nowhere."""
        for _ in range(MAX_HOPS):
            ref = schema.get("$ref") if isinstance(schema, dict) else None
            if not isinstance(ref, str):
                break
            target = lookup_ref(self.document, ref, default={}) if ref.startswith("#") else {}
            siblings = {key: value for key, value in schema.items() if key != "$ref"}
            schema = {**target, **siblings} if siblings and isinstance(target, dict) else target
        return schema


def _types(kind: Any) -> list[str]:
    """A schema's `type` as a list: one for a string, 3.1's list as it is, [] for none."""
    if isinstance(kind, list):
        return [name for name in kind if isinstance(name, str)]
    return [kind] if isinstance(kind, str) else []


def _scalar(text: str, kinds: list[str]) -> Any:
    """`text` read as the first of `kinds` it is a value of, else as it is."""
    stripped = text.strip()
    for kind in kinds:
        if kind == "integer" and _INTEGER.fullmatch(stripped):
            return int(stripped)
        if kind == "number" and _NUMBER.fullmatch(stripped):
            return int(stripped) if _INTEGER.fullmatch(stripped) else float(stripped)
        if kind == "boolean" and stripped in ("true", "false"):
            return stripped == "true"
        if kind == "null" and not stripped:
            return None
        if kind == "string":
            return text
    return text


def _text(text: str | None) -> str:
    if text is not None and len(text) > MAX_JSON_STRING_CHARS:
        raise ValueError(f"XML text is too long (more than {MAX_JSON_STRING_CHARS} characters)")
    return text or ""


def _local(tag: Any) -> str:
    """An element's or attribute's name without its namespace (`{uri}pet` -> `pet`)."""
    return str(tag).rpartition("}")[2]


def _first(children: list, tag: str, used: set[int]) -> ElementTree.Element | None:
    return next((child for child in children if _local(child.tag) == tag and id(child) not in used), None)
