"""XML request bodies read by their schema's `xml` hints into the JSON value the schema
describes (mockserver/pipeline/validate/xml_body.py), within bounds, with no DTD."""

from __future__ import annotations

import pytest

from mockserver.pipeline.validate.xml_body import is_xml, read_xml
from mockserver.settings import MAX_JSON_DEPTH, MAX_JSON_STRING_CHARS, MAX_JSON_VALUES

DOCUMENT = {
    "components": {
        "schemas": {
            "Pet": {
                "type": "object",
                "required": ["name", "photoUrls"],
                "properties": {
                    "id": {"type": "integer"},
                    "name": {"type": "string"},
                    "category": {"$ref": "#/components/schemas/Category"},
                    "photoUrls": {
                        "type": "array",
                        "xml": {"wrapped": True},
                        "items": {"type": "string", "xml": {"name": "photoUrl"}},
                    },
                    "tags": {"type": "array", "xml": {"wrapped": True}, "items": {"$ref": "#/components/schemas/Tag"}},
                    "nicknames": {"type": "array", "items": {"type": "string", "xml": {"name": "nickname"}}},
                    "vaccinated": {"type": "boolean"},
                    "weight": {"type": "number"},
                    "chip": {"type": "string", "xml": {"name": "chip-id", "attribute": True}},
                },
                "xml": {"name": "pet"},
            },
            "Category": {"type": "object", "properties": {"id": {"type": "integer"}}, "xml": {"name": "category"}},
            "Tag": {"type": "object", "properties": {"name": {"type": "string"}}, "xml": {"name": "tag"}},
        }
    }
}
PET = {"$ref": "#/components/schemas/Pet"}


def read(text: str, schema=PET):
    return read_xml(text.encode(), schema, DOCUMENT)


def test_a_pet_is_read_by_its_hints():
    pet = read(
        '<pet chip-id="A1"><id>10</id><name>doggie</name><category><id>1</id></category>'
        "<photoUrls><photoUrl>a.png</photoUrl><photoUrl>b.png</photoUrl></photoUrls>"
        "<tags><tag><name>good</name></tag></tags><nickname>Rex</nickname><nickname>R</nickname>"
        "<vaccinated>true</vaccinated><weight>12.5</weight></pet>"
    )
    assert pet == {
        "id": 10,
        "name": "doggie",
        "category": {"id": 1},
        "photoUrls": ["a.png", "b.png"],
        "tags": [{"name": "good"}],
        "nicknames": ["Rex", "R"],
        "vaccinated": True,
        "weight": 12.5,
        "chip": "A1",
    }


def test_empty_elements_are_empty_values_and_an_unwrapped_array_absent_is_empty():
    pet = read("<pet><name></name><category/><photoUrls/><tags></tags></pet>")
    assert pet == {"name": "", "category": {}, "photoUrls": [], "tags": [], "nicknames": []}


def test_text_that_is_no_value_of_its_type_stays_text_for_the_schema_to_refuse():
    pet = read("<pet><id>ten</id><vaccinated>1</vaccinated><weight>nan</weight><photoUrls>a</photoUrls></pet>")
    assert pet["id"] == "ten" and pet["vaccinated"] == "1" and pet["weight"] == "nan" and pet["photoUrls"] == "a"
    assert read("<pet><category>Dogs</category></pet>")["category"] == "Dogs"


def test_undeclared_elements_are_additional_properties_and_namespaces_are_ignored():
    pet = read('<p:pet xmlns:p="urn:pets"><p:name>a</p:name><colour><hex>fff</hex></colour></p:pet>')
    assert pet == {"name": "a", "colour": {"hex": "fff"}, "nicknames": []}


@pytest.mark.parametrize(
    "schema, text, value",
    [
        ({"type": ["integer", "null"]}, "<v></v>", None),
        ({"type": ["integer", "null"]}, "<v> 7 </v>", 7),
        ({"type": ["string", "null"]}, "<v></v>", ""),
        ({"type": "array", "items": {"type": "integer"}}, "<list><i>1</i><i>2</i></list>", [1, 2]),
        (
            {"allOf": [{"properties": {"a": {"type": "integer"}}}, {"properties": {"b": {"type": "boolean"}}}]},
            "<x><a>1</a><b>false</b></x>",
            {"a": 1, "b": False},
        ),
        (
            {"oneOf": [{"properties": {"a": {"type": "integer"}}}, {"properties": {"b": {"type": "string"}}}]},
            "<x><b>1</b></x>",
            {"b": "1"},
        ),
        ({}, "<x>text</x>", "text"),
    ],
)
def test_types_lists_and_compositions(schema, text, value):
    assert read(text, schema) == value


@pytest.mark.parametrize(
    "text, reason",
    [
        ('<!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]><x>&b;</x>', "document type declaration"),
        ('<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>', "document type declaration"),
        ("<x>&undefined;</x>", "Malformed XML: undefined entity"),
        ("<x>" * (MAX_JSON_DEPTH + 1) + "</x>" * (MAX_JSON_DEPTH + 1), "nested too deeply"),
        ("<x>" + "<i/>" * MAX_JSON_VALUES + "</x>", "too many elements"),
        ("<x>" + "a" * (MAX_JSON_STRING_CHARS + 1) + "</x>", "text is too long"),
        ("<x><y></x>", "Malformed XML: mismatched tag"),
        ("", "Malformed XML"),
    ],
)
def test_what_is_refused(text, reason):
    with pytest.raises(ValueError, match=reason):
        read(text, {})


def test_xml_media_types():
    assert all(is_xml(name) for name in ("application/xml", "text/xml", "application/atom+xml; charset=utf-8"))
    assert not any(is_xml(name) for name in ("application/json", "application/xml-dtd", "text/plain"))
