"""The generator alone: the same schema always gives the same value, valid by the schema,
following `format`, property names, readOnly/writeOnly, and a depth bound."""

from __future__ import annotations

import uuid

import jsonschema
import pytest

from mockserver.pipeline.respond.generate import FORMATS, MAX_DEPTH, Generator
from mockserver.pipeline.respond.negotiate import SchemaChecker

PET = {
    "type": "object",
    "required": ["name", "email", "tags", "status"],
    "properties": {
        "id": {"type": "string", "format": "uuid", "readOnly": True},
        "name": {"type": "string", "minLength": 2, "maxLength": 20},
        "email": {"type": "string", "format": "email"},
        "password": {"type": "string", "writeOnly": True},
        "tags": {"type": "array", "minItems": 2, "items": {"type": "string"}},
        "status": {"type": "string", "enum": ["available", "sold"]},
        "age": {"type": "integer", "minimum": 3, "maximum": 9},
        "bornAt": {"type": "string", "format": "date-time"},
    },
}


def generator(document: dict | None = None) -> Generator:
    return Generator(document or {}, "3.0", lambda schema, value: jsonschema.Draft4Validator(schema).is_valid(value))


def test_the_same_schema_gives_the_same_value():
    assert generator().value(PET, "pet") == generator().value(PET, "pet")


def test_a_response_value_is_valid_and_follows_formats_and_names():
    pet = generator().value(PET, "pet")
    jsonschema.Draft4Validator(PET).validate(pet)
    assert uuid.UUID(pet["id"])  # readOnly: the server's, in a response
    assert pet["email"] == FORMATS["email"]
    assert pet["bornAt"] == FORMATS["date-time"]
    assert pet["status"] == "available"
    assert "password" not in pet  # writeOnly: never in a response


def test_a_request_value_leaves_out_what_the_server_sets():
    pet = generator().value(PET, "pet", writing=True)
    assert "id" not in pet  # readOnly: the server's
    assert pet["password"]


def test_local_refs_are_followed_and_recursion_is_bounded():
    document = {
        "components": {
            "schemas": {
                "Node": {
                    "type": "object",
                    "required": ["name"],
                    "properties": {"name": {"type": "string"}, "child": {"$ref": "#/components/schemas/Node"}},
                }
            }
        }
    }
    node = generator(document).value({"$ref": "#/components/schemas/Node"}, "node")
    depth = 0
    while isinstance(node, dict) and "child" in node:
        node, depth = node["child"], depth + 1
    assert depth <= MAX_DEPTH


# --- oneOf in OpenAPI 3.1: discriminators, and options told apart -------------------------

METHODS = {
    "components": {
        "schemas": {
            "Method": {
                "oneOf": [{"$ref": "#/components/schemas/Card"}, {"$ref": "#/components/schemas/Wallet"}],
                "discriminator": {"propertyName": "kind", "mapping": {"card": "#/components/schemas/Card"}},
            },
            "Event": {
                "oneOf": [{"$ref": "#/components/schemas/Wallet"}, {"$ref": "#/components/schemas/Card"}],
                "discriminator": {"propertyName": "kind"},
            },
            "Pinned": {
                "oneOf": [{"$ref": "#/components/schemas/Transfer"}, {"$ref": "#/components/schemas/Card"}],
                "discriminator": {"propertyName": "kind", "mapping": {"transfer": "#/components/schemas/Transfer"}},
            },
            "Card": {
                "type": "object",
                "required": ["kind", "last4"],
                "properties": {"kind": {"type": "string"}, "last4": {"type": "string"}},
            },
            "Wallet": {
                "type": "object",
                "required": ["kind", "provider"],
                "properties": {"kind": {"type": "string"}, "provider": {"type": "string"}},
            },
            "Transfer": {"type": "object", "properties": {"kind": {"type": "string", "enum": ["transfer"]}}},
            "Source": {
                "type": "object",
                "required": ["type"],
                "properties": {
                    "type": {"type": "string"},
                    "card": {"type": "object", "required": ["last4"], "properties": {"last4": {"type": "string"}}},
                    "bank_account": {"type": "object", "properties": {"iban": {"type": "string"}}},
                    "reference": {"type": "string"},
                },
                "oneOf": [{"required": ["card"]}, {"required": ["bank_account"]}],
                "unevaluatedProperties": False,
            },
        }
    }
}


def generator_31(document: dict) -> tuple[Generator, SchemaChecker]:
    checker = SchemaChecker(document, "3.1")
    return Generator(document, "3.1", checker.is_valid), checker


@pytest.mark.parametrize(
    "name, kind",
    [
        ("Method", "card"),  # the mapping's key for the first option
        ("Event", "Wallet"),  # no mapping: the name of the option's schema
        ("Pinned", "transfer"),  # the option's own enum says it too
    ],
)
def test_a_discriminator_names_the_option_generated(name, kind):
    # Today: "example kind", which names no option (schemathesis: ST111).
    generator, checker = generator_31(METHODS)
    schema = {"$ref": f"#/components/schemas/{name}"}
    value = generator.value(schema, name)
    assert value["kind"] == kind
    assert checker.is_valid(schema, value), checker.error(schema, value)


def test_oneof_options_of_required_sets_under_unevaluated_properties_get_a_valid_value():
    # Today: every optional property, card and bank_account both: valid under each option.
    generator, checker = generator_31(METHODS)
    schema = {"$ref": "#/components/schemas/Source"}
    value = generator.value(schema, "source")
    assert checker.is_valid(schema, value), checker.error(schema, value)
    assert value == {"type": "example type", "card": {"last4": "example last4"}}
