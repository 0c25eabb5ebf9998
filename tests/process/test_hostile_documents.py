"""`mockserver serve --spec FILE` on hostile documents: each ends at once with a clear
outcome, served (with a warning naming pointer and line) or refused with file, line and
reason, never a traceback or a hang. The documents are under tests/specs/hostile/, or
written here when they are large; the process-level tests run the real command with a
timeout that only guards against a hang, and the work of the walks and of the generator
is counted in calls, not timed."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import threading
from pathlib import Path

import pytest
import requests
import yaml
from support import FIXTURES, MOCKSERVER, ROOT, SECRET

from mockserver.contract import loading
from mockserver.contract.loading import MAX_DOCUMENT_DEPTH, MAX_DOCUMENT_NODES, SpecError, load_document
from mockserver.pipeline.respond.generate import (
    MAX_ITEMS,
    MAX_NESTING,
    MAX_PATTERN_WIDTH,
    MAX_PATTERNS,
    MAX_VALUES,
    Generator,
)
from mockserver.pipeline.validate.reference import _unknown_formats
from mockserver.server.app import create_app

HOSTILE = ROOT / "tests" / "specs" / "hostile"
HANG = 120  # seconds: a guard against a hang, not a measure (each case takes a second or a few)


def refusal(spec: Path) -> str:
    """What `mockserver serve --spec SPEC` prints when it refuses SPEC (it must)."""
    result = subprocess.run(
        [str(MOCKSERVER), "serve", "--port", "0", "--spec", str(spec), "--fixtures", str(FIXTURES)],
        capture_output=True,
        text=True,
        timeout=HANG,
        env={**os.environ, "MOCKSERVER_JWT_SECRET": SECRET},
    )
    assert result.returncode == 1, (result.returncode, result.stdout[-500:], result.stderr[-2000:])
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    return result.stderr


class Served:
    """`mockserver serve --spec SPEC` that must start: its URL, and its stderr once stopped."""

    def __init__(self, spec: Path) -> None:
        self.process = subprocess.Popen(
            [str(MOCKSERVER), "serve", "--port", "0", "--spec", str(spec), "--fixtures", str(FIXTURES)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "MOCKSERVER_JWT_SECRET": SECRET},
        )
        self.stderr: list[str] = []
        lines: queue.Queue[str] = queue.Queue()
        self.readers = [
            threading.Thread(target=lambda: self.stderr.extend(self.process.stderr), daemon=True),
            # "" once stdout ends: the process stopped without a banner (refused, or crashed)
            threading.Thread(target=lambda: [*map(lines.put, self.process.stdout), lines.put("")], daemon=True),
        ]
        for reader in self.readers:
            reader.start()
        try:
            banner = lines.get(timeout=HANG)
        except queue.Empty:
            self.stop()
            raise AssertionError(f"mockserver serve --spec {spec.name} printed nothing in {HANG} s") from None
        assert banner.startswith(("Mudbase mock serving", "Mock serving")), (banner, self.stop())
        self.base_url = banner.split(" at ", 1)[1].split()[0]

    def stop(self) -> str:
        if self.process.returncode is None:
            self.process.terminate()
            self.process.wait(timeout=10)
            for reader in self.readers:
                reader.join(timeout=10)
            self.process.stdout.close()
            self.process.stderr.close()
        return "".join(self.stderr)

    def __enter__(self) -> Served:
        return self

    def __exit__(self, *_exc) -> None:
        self.stop()


def openapi(**response: object) -> dict:
    """A document of one operation, GET /a, whose 200 response is `response`."""
    return {
        "openapi": "3.0.3",
        "info": {"title": "hostile", "version": "1"},
        "paths": {"/a": {"get": {"responses": {"200": {"description": "ok", **response}}}}},
    }


def warnings_of(app) -> list[str]:
    return [str(problem) for problem in app.extensions["mockserver.startup"]["problems"]]


# --- refused at once, with file, line and reason ------------------------------------------


def test_a_yaml_alias_bomb_is_refused_naming_the_line_where_it_passes_the_limit():
    stderr = refusal(HOSTILE / "alias_bomb.yaml")
    assert f"alias_bomb.yaml:22: more than the limit of {MAX_DOCUMENT_NODES} values once its YAML aliases" in stderr


def test_the_alias_bomb_is_refused_before_its_data_is_built(monkeypatch):
    def construct_document(self, node):
        raise AssertionError("the data of an alias bomb was built")

    monkeypatch.setattr(loading._Loader, "construct_document", construct_document)
    # A node's own repr expands its aliases: pytest's report of a failure here would not end.
    monkeypatch.setattr(yaml.Node, "__repr__", lambda node: f"<{type(node).__name__} at line {node.start_mark.line}>")
    with pytest.raises(SpecError, match=r"alias_bomb\.yaml:22: more than the limit"):
        load_document(HOSTILE / "alias_bomb.yaml")


def test_an_alias_inside_the_node_it_names_is_refused():
    # The data would be a mapping that holds itself: every walk of it would never end.
    stderr = refusal(HOSTILE / "alias_cycle.yaml")
    assert "alias_cycle.yaml:12: a YAML alias refers to a node that contains it" in stderr


@pytest.mark.parametrize("levels", [10_000, MAX_DOCUMENT_DEPTH])
def test_a_deeply_nested_json_document_is_refused(tmp_path, levels):
    # 10,000 nested lists: past libyaml's own limit (1000), so read as JSON, which overflowed.
    spec = tmp_path / "deep.json"
    head = json.dumps(openapi())[:-1]
    spec.write_text(head + ', "x-deep": ' + "[" * levels + "]" * levels + "}")
    assert f"deep.json:1: nested deeper than the limit of {MAX_DOCUMENT_DEPTH} levels" in refusal(spec)


def nested_example(levels: int) -> dict:
    """A document whose example nests `levels` levels (8 levels down: the document nests
    8 + `levels`), under a recursive schema that jsonschema checks it against at start-up."""
    example: dict = {}
    for _ in range(levels - 1):
        example = {"child": example}
    node = {"type": "object", "properties": {"child": {"$ref": "#/components/schemas/Node"}}}
    media = {"schema": {"$ref": "#/components/schemas/Node"}, "example": example}
    return {**openapi(content={"application/json": media}), "components": {"schemas": {"Node": node}}}


def test_a_document_nested_to_the_limit_is_served_and_one_level_more_refused(tmp_path):
    spec = tmp_path / "deep.json"
    document = nested_example(MAX_DOCUMENT_DEPTH - 8)
    spec.write_text(json.dumps(document))
    app = create_app(spec, FIXTURES, jwt_secret=SECRET)
    assert app.extensions["mockserver.startup"]["problems"] == []
    assert (
        app.test_client().get("/a").get_json()
        == document["paths"]["/a"]["get"]["responses"]["200"]["content"]["application/json"]["example"]
    )
    spec.write_text(json.dumps(nested_example(MAX_DOCUMENT_DEPTH - 7)))
    with pytest.raises(SpecError, match=f"deep.json:1: nested deeper than the limit of {MAX_DOCUMENT_DEPTH} levels"):
        create_app(spec, FIXTURES, jwt_secret=SECRET)


def test_an_empty_file_is_refused():
    assert "empty.yaml:1: not an OpenAPI document (the file is empty, not an object)" in refusal(HOSTILE / "empty.yaml")


def test_a_binary_file_is_refused_naming_the_byte():
    stderr = refusal(HOSTILE / "binary.png")
    assert "binary.png:1: not YAML or JSON: byte 0x89 at offset 0 is not UTF-8 (a binary file?)" in stderr


def test_refs_that_fan_out_across_files_are_refused_at_the_value_limit(tmp_path):
    # Each file holds ten $refs to the next: 10^8 values once bundled, from 8 small files.
    for level in range(8):
        items = [{"$ref": f"f{level + 1}.json#/x"}] * 10 if level < 7 else ["lol"] * 10
        (tmp_path / f"f{level}.json").write_text(json.dumps({"x": items}))
    document = openapi(content={"application/json": {"schema": {"$ref": "#/components/schemas/Fan"}}})
    document["components"] = {"schemas": {"Fan": {"type": "array", "x-laughs": {"$ref": "f0.json#/x"}}}}
    (tmp_path / "main.json").write_text(json.dumps(document))
    stderr = refusal(tmp_path / "main.json")
    assert f"the document passes the limit of {MAX_DOCUMENT_NODES} values" in stderr
    assert "main.json:1: #/components/schemas/Fan/x-laughs/0/" in stderr  # the line of the $ref in main.json


def test_a_file_over_the_byte_limit_is_refused_unread(tmp_path, monkeypatch):
    monkeypatch.setattr(loading, "MAX_DOCUMENT_BYTES", 1000)
    spec = tmp_path / "big.json"
    spec.write_text(json.dumps(openapi(description="x" * 1000)))
    with pytest.raises(SpecError, match=r"big\.json: larger than the limit of 1000 bytes"):
        load_document(spec)


# --- served, with a warning naming pointer and line ---------------------------------------


def test_a_schema_that_requires_itself_is_served_with_a_warning():
    with Served(HOSTILE / "self_required.yaml") as server:
        got = requests.get(server.base_url + "/nodes", timeout=10)
        nested = {}
        for _ in range(50):
            nested = {"child": nested}
        posted = requests.post(server.base_url + "/nodes", json=nested, timeout=10)
    stderr = server.stop()
    assert "Traceback" not in stderr
    pointer = "self_required.yaml:15: #/paths/~1nodes/get/responses/200/content/application~1json/schema"
    assert f"{pointer}: no valid value generated: 'child' is a required property (at /child/child/" in stderr
    assert got.status_code == 200
    body, levels = got.json(), 0
    while "child" in body:
        body, levels = body["child"], levels + 1
    assert levels == MAX_NESTING - 1  # cut where the generator's nesting ends
    assert posted.status_code == 400  # a finite node always lacks a child somewhere
    assert posted.json()["code"] == "VALIDATION_ERROR"


def test_a_json_document_with_100k_keys_is_served(tmp_path):
    # 100,000 properties, all required, one of them twice: each repair and generator step
    # is a look-up (a scan of the list for each name took quadratic time: no answer at all).
    names = [f"p{index}" for index in range(100_000)]
    schema = {"type": "object", "required": [*names, names[0]], "properties": dict.fromkeys(names, {})}
    spec = tmp_path / "wide.json"
    spec.write_text(json.dumps(openapi(content={"application/json": {"schema": schema}})))
    with Served(spec) as server:
        answer = requests.get(server.base_url + "/a", timeout=30)
    stderr = server.stop()
    assert "Traceback" not in stderr
    assert "wide.json:1: #/paths/~1a/get/responses/200/content/application~1json/schema/required: duplicate" in stderr
    # The generator stops at its bound of values: the answer lacks the rest, and says so.
    assert f"no valid value generated: 'p{MAX_VALUES - 1}' is a required property" in stderr
    assert answer.status_code == 200
    assert len(answer.json()) == MAX_VALUES - 1


@pytest.mark.parametrize(
    "schemas, pointer",
    [
        ({"A": {"allOf": [{"$ref": "#/components/schemas/A"}]}}, "/components/schemas/A/allOf/0"),
        ({"A": {"oneOf": [{"type": "string"}, {"$ref": "#/components/schemas/A"}]}}, "/components/schemas/A/oneOf/1"),
        ({"A": {"$ref": "#/components/schemas/B"}, "B": {"not": {"$ref": "#/components/schemas/A"}}}, None),
    ],
)
def test_a_schema_applied_in_place_within_itself_is_refused_or_reported(tmp_path, schemas, pointer):
    # No value can be checked against it: jsonschema recursed until a RecursionError.
    spec = tmp_path / "doc.json"
    document = openapi(content={"application/json": {"schema": {"$ref": "#/components/schemas/A"}}})
    spec.write_text(json.dumps({**document, "components": {"schemas": schemas}}))
    with pytest.raises(SpecError, match="leads back to this schema with no property or item between") as refused:
        create_app(spec, FIXTURES, jwt_secret=SECRET)
    assert "and an operation uses it" in str(refused.value)
    if pointer:
        assert f"#{pointer}: $ref #/components/schemas/A leads back" in str(refused.value)
    # Where no operation uses it, a warning.
    document = openapi(content={"application/json": {"schema": {"type": "string"}}})
    spec.write_text(json.dumps({**document, "components": {"schemas": schemas}}))
    warnings = warnings_of(create_app(spec, FIXTURES, jwt_secret=SECRET))
    assert any("leads back to this schema" in warning and "no operation uses it" in warning for warning in warnings)


def test_a_response_key_that_is_no_status_is_ignored_with_a_warning(tmp_path):
    spec = tmp_path / "doc.json"
    document = openapi()
    document["paths"]["/a"]["get"]["responses"].update({"²": {"description": "x"}, "9" * 5000: {"description": "y"}})
    spec.write_text(json.dumps(document))
    app = create_app(spec, FIXTURES, jwt_secret=SECRET)
    warnings = warnings_of(app)
    assert any("#/paths/~1a/get/responses/²: response key '²' is neither a status" in w for w in warnings), warnings
    assert sum("is neither a status (200, 4XX) nor default: ignored" in w for w in warnings) == 2
    assert app.test_client().get("/a").status_code == 200


# --- the work, counted ------------------------------------------------------------------


class CountedList(list):
    """A list that counts how often it is iterated: how often a walk looks into it."""

    iterations = 0

    def __iter__(self):
        CountedList.iterations += 1
        return super().__iter__()


def test_the_walks_look_into_a_node_shared_by_aliases_once():
    CountedList.iterations = 0
    shared = CountedList([{"format": "objectid"}, {"type": "string"}])
    document = {"paths": {f"/p{index}": {"x": shared} for index in range(1000)}}
    assert not loading._has_external_refs(document)
    assert CountedList.iterations == 1
    CountedList.iterations = 0
    assert set(_unknown_formats(document, "3.0")) == {"objectid"}
    assert CountedList.iterations == 1


class Counted:
    """Counts the generator's calls of Generator.value (each value it makes, or cuts)."""

    def __init__(self, monkeypatch) -> None:
        self.calls = 0
        original = Generator.value

        def value(generator, *args, **kwargs):
            self.calls += 1
            return original(generator, *args, **kwargs)

        monkeypatch.setattr(Generator, "value", value)


def generator_for(schemas: dict) -> Generator:
    return Generator({"components": {"schemas": schemas}}, "3.0", lambda schema, value: False)


def test_the_generator_cuts_a_recursion_of_required_properties_at_its_nesting_limit(monkeypatch):
    counted = Counted(monkeypatch)
    node = {"type": "object", "required": ["child"], "properties": {"child": {"$ref": "#/components/schemas/Node"}}}
    value = generator_for({"Node": node}).value({"$ref": "#/components/schemas/Node"})
    levels = 0
    while "child" in value:
        value, levels = value["child"], levels + 1
    assert value == {} and levels == MAX_NESTING - 1
    assert counted.calls == MAX_NESTING + 1  # one a level, and the one that is cut


def test_the_generator_stops_at_its_bound_of_values(monkeypatch):
    # Two oneOf options that are the schema itself, a level down each: 2^32 values unbounded.
    counted = Counted(monkeypatch)
    twice = {"oneOf": [{"$ref": "#/components/schemas/Tree"}, {"$ref": "#/components/schemas/Tree"}]}
    tree = {"type": "object", "required": ["next"], "properties": {"next": twice}}
    generator_for({"Tree": tree}).value({"$ref": "#/components/schemas/Tree"})
    assert counted.calls <= MAX_VALUES + 2 * MAX_NESTING  # past the bound, each call open asks once more
    # and a huge minItems, minProperties or minLength is a bounded value
    counted.calls = 0
    many = generator_for({}).value({"type": "array", "minItems": 2_000_000, "items": {"type": "integer"}})
    assert len(many) == MAX_ITEMS
    assert counted.calls == MAX_ITEMS + 1
    assert len(generator_for({}).value({"type": "object", "minProperties": 2_000_000})) == MAX_ITEMS


@pytest.mark.parametrize(
    "schema, kind",
    [
        ({"type": "integer", "minimum": float("inf")}, int),
        ({"type": "number", "minimum": "1e+3"}, int),
        ({"type": "number", "minimum": 1e299, "multipleOf": 1e-300}, float),
        ({"type": "string", "minLength": "5", "format": ["a"], "pattern": 5}, str),
        ({"type": "object", "required": True, "properties": ["a"], "maxProperties": 1.5}, dict),
        ({"type": "array", "minItems": -3, "maxItems": "2", "prefixItems": {"a": 1}}, list),
    ],
)
def test_the_generator_ignores_keywords_of_the_wrong_type(schema, kind):
    # Each raised before (OverflowError, TypeError, AttributeError): at start-up, a traceback.
    assert type(generator_for({}).value(schema)) is kind


class CountedFind:
    """Counts how often hypothesis calls the condition of `find`: twice for the string it
    finds (once more to confirm it), once for each other string it tries."""

    def __init__(self, monkeypatch) -> None:
        import hypothesis

        self.calls = 0
        original = hypothesis.find

        def find(strategy, condition, **kwargs):
            def counted(value):
                self.calls += 1
                return condition(value)

            return original(strategy, counted, **kwargs)

        monkeypatch.setattr(hypothesis, "find", find)


def test_a_pattern_costs_hypothesis_one_string(monkeypatch):
    # The first string of a fixed seed is the simplest already: shrinking it tried 103
    # strings for the same "aaa" (a second or more a pattern, minutes for `a{1000}`).
    counted = CountedFind(monkeypatch)
    assert generator_for({}).value({"type": "string", "pattern": "^[a-z]{3,8}$"}) == "aaa"
    assert counted.calls == 2


def test_patterns_past_the_bounds_are_not_given_to_hypothesis(monkeypatch):
    counted = CountedFind(monkeypatch)
    generator = generator_for({})
    # a shortest match one character over the bound (`(a{1000}){1000}` took hypothesis minutes)
    assert generator.value({"type": "string", "pattern": f"^a{{{MAX_PATTERN_WIDTH + 1}}}$"}) == "example"
    assert counted.calls == 0
    # more distinct patterns than MAX_PATTERNS: the rest get the usual string
    for index in range(MAX_PATTERNS + 10):
        generator.value({"type": "string", "pattern": f"^x{index}$"})
    assert counted.calls == 2 * (MAX_PATTERNS - 1)  # the one over the bound counted among them
