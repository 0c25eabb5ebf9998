"""Real documents no one here wrote (tests/specs/real/), each kept for what it found.
Every response is checked against the document as the mock serves it (ContractClient)."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import pytest
import requests
from support import FIXTURES, SECRET, ContractClient, bearer

from mockserver import create_app
from mockserver.server.serving import serve_in_background

REAL = Path(__file__).parents[1] / "specs" / "real"
FORM = "application/x-www-form-urlencoded"


def client_for(name: str):
    app = create_app(REAL / name, FIXTURES, jwt_secret=SECRET)
    app.test_client_class = ContractClient
    return app, app.test_client()


def test_the_uspto_document_with_its_root_path_is_served():
    # `/` (no segment at all) made the resource inference fail with an IndexError at start-up.
    app, client = client_for("uspto_30.yaml")
    skipped = {(s.method, s.path) for s in app.extensions["mockserver.controls"].model.skipped}
    assert ("GET", "/") in skipped
    assert client.get("/ds-api/").status_code == 200


def test_a_form_without_a_required_field_is_refused_though_the_field_has_a_default():
    # openapi-core filled `criteria` from its default; JSON bodies were refused already.
    _, client = client_for("uspto_30.yaml")
    records = "/ds-api/oa_citations/v1/records"
    refused = client.post(records, data="start=0&rows=100", content_type=FORM)
    assert refused.status_code == 400
    assert "'criteria' is a required property" in refused.headers["X-Mock-Validation"]
    assert client.post(records, data="criteria=*:*&start=0&rows=100", content_type=FORM).status_code == 200


def test_an_error_envelope_that_fits_goes_out_in_the_declared_problem_json():
    # The Museum's Error allows any object, so the mock's envelope fits it: in the declared
    # application/problem+json, not application/json.
    _, client = client_for("museum_31.yaml")
    base = "/_mock/docs/openapi/museum-api"
    basic = {"Authorization": "Basic " + base64.b64encode(b"morgan.chen@northwind.dev:morgan-demo-password").decode()}
    refused = client.get(base + "/museum-hours", query_string={"startDate": "not-a-date"}, headers=basic)
    assert refused.status_code == 400
    assert refused.headers["Content-Type"] == "application/problem+json"
    assert refused.get_json()["code"] == "VALIDATION_ERROR"
    unauthenticated = client.delete(base + "/special-events/602b75e1-5696-4ab8-8c7a-f9e13580f910")
    assert unauthenticated.status_code == 401
    assert unauthenticated.headers["Content-Type"] == "application/problem+json"


def test_an_operation_with_no_responses_declares_what_the_mock_sends():
    # `responses` is optional in 3.1: the served document gets the 204 and the 401 it sends.
    app, client = client_for("non_oauth_scopes_31.yaml")
    served = client.get("/__mock/served-openapi.json").get_json()
    assert {"204", "401"} <= set(served["paths"]["/users"]["get"]["responses"])
    assert client.get("/users").status_code == 401
    assert client.get("/users", headers=bearer()).status_code == 204


def test_declared_hop_by_hop_headers_are_left_to_the_server():
    # WSGI forbids an app's Transfer-Encoding: waitress answered a 500 to every createSpeech.
    app = create_app(REAL.parent / "hop_by_hop.yaml", FIXTURES, jwt_secret=SECRET)
    with serve_in_background(app) as url:
        response = requests.post(url + "/speech", json={"input": "hello"}, timeout=10)
    assert response.status_code == 200
    assert response.headers["X-Request-Cost"].isdigit()  # the other declared headers are sent
    assert "Transfer-Encoding" not in response.headers and response.headers.get("Connection") != "keep-alive"
    assert response.headers["Content-Length"] == str(len(response.content))


def test_a_multipart_body_is_read_as_its_properties_types():
    # The OpenAI description's createTranscription (tests/specs/multipart_fields_31.yaml is
    # its stand-in): a file, a model under anyOf, a number, a boolean and an integer, each
    # handed over by openapi-core as bytes or uncast text, so every valid upload was a 400.
    app = create_app(REAL.parent / "multipart_fields_31.yaml", FIXTURES, jwt_secret=SECRET)
    app.test_client_class = ContractClient
    client = app.test_client()

    def upload(**fields):
        data = {"file": (io.BytesIO(b"\x89PNG\r\n\x1a\n"), "f.png"), "model": "whisper-1", **fields}
        return client.post("/upload", data=data, content_type="multipart/form-data")

    assert upload(temperature="0.5", stream="false", echo="true", max_tokens="16").status_code == 200
    assert upload(temperature="1e-5", stream="true", seconds="7").status_code == 200
    assert upload(seconds="auto").status_code == 200
    assert "seconds: " in upload(seconds="0").headers["X-Mock-Validation"]
    refused = upload(temperature="warm", stream="maybe", echo="no")
    assert refused.status_code == 400
    reasons = refused.headers["X-Mock-Validation"]
    assert "temperature: 'warm' is not of type 'number'" in reasons and "stream: 'maybe'" in reasons
    assert "echo: 'no' is not of type 'boolean'" in reasons


def test_a_multipart_body_is_read_part_by_part_as_its_schema_says():
    # The OpenAI description's createImageEdit: every upload was a 400 ("Body cannot be
    # decoded: Expected a string value, got <class 'list'>", a 3.1 type list in openapi-core's
    # decoder); an optional array with no part was [] and broke its minItems; a JSON object
    # under nested anyOf was refused as text; a part no property names was dropped unseen.
    app = create_app(REAL.parent / "multipart_fields_31.yaml", FIXTURES, jwt_secret=SECRET)
    app.test_client_class = ContractClient
    client = app.test_client()
    png = b"\x89PNG\r\n\x1a\n\xff\x00"  # not UTF-8

    def edit(images: int = 1, **fields):
        files = [(io.BytesIO(png), f"{n}.png") for n in range(images)]
        data = {**({"image": files[0] if images == 1 else files} if images else {}), **fields}
        response = client.post("/edits", data=data, content_type="multipart/form-data")
        return response.status_code, response.headers.get("X-Mock-Validation", "")

    assert edit() == (200, "")
    assert edit(2, background="transparent") == (200, "")
    assert edit(3)[0] == 400  # maxItems 2
    assert edit(0) == (400, "image: 'image' is a required property")  # not an empty array of files
    assert edit(chunking="auto") == (200, "")
    assert edit(chunking='{"type": "server_vad"}') == (200, "")
    assert edit(chunking="null") == (200, "")
    assert edit(chunking='{"type": "other"}')[0] == 400
    assert edit(languages="en") == (200, "")
    assert edit(metadata='{"tag": 3}') == (200, "")
    assert edit(mode='"fast"') == (200, "")  # its encoding's contentType is JSON
    status, reasons = edit(metadata='{"tag": "x"}')
    assert status == 400 and "'x' is not of type 'integer'" in reasons
    status, reasons = edit(extra="1")
    assert status == 400 and "'extra' was unexpected" in reasons
    status, reasons = edit(background="sepia")
    assert status == 400 and "background" in reasons


def test_a_discriminator_without_a_mapping_takes_the_values_its_options_allow():
    # Without a mapping, a value names its schema (#/components/schemas/developer, which
    # does not exist): every valid chat completion request of the OpenAI description was a 400.
    app = create_app(REAL.parent / "discriminator_without_mapping_31.yaml", FIXTURES, jwt_secret=SECRET)
    app.test_client_class = ContractClient
    client = app.test_client()
    assert client.post("/messages", json={"role": "developer", "content": "Be brief."}).status_code == 200
    assert client.post("/messages", json={"role": "user", "content": "Hi", "name": "Sam"}).status_code == 200
    assert client.post("/messages", json={"role": "robot", "content": "Hi"}).status_code == 400
    served = client.get("/__mock/served-openapi.json").get_json()
    mapping = served["components"]["schemas"]["Message"]["discriminator"]["mapping"]
    assert mapping == {"developer": "#/components/schemas/DeveloperMessage", "user": "#/components/schemas/UserMessage"}


def test_a_discriminator_takes_the_values_of_its_options_options():
    # The OpenAI description's InputItem: its `Item` option is a oneOf of item types, whose
    # values (apply_patch_call_output, ...) were refused wherever an input took them.
    app = create_app(REAL.parent / "discriminator_without_mapping_31.yaml", FIXTURES, jwt_secret=SECRET)
    app.test_client_class = ContractClient
    client = app.test_client()
    patch = {"type": "patch_output", "call_id": "call_1", "output": None}
    assert client.post("/inputs", json=patch).status_code == 200
    # `message` is both options' value: an EasyMessage, and an InputMessage that only Item allows.
    assert client.post("/inputs", json={"type": "message", "content": "Hi"}).status_code == 200
    assert client.post("/inputs", json={"type": "message", "content": "Hi", "status": "completed"}).status_code == 200
    assert client.post("/inputs", json={"type": "message", "content": "Hi", "status": "lost"}).status_code == 400
    assert client.post("/inputs", json={"type": "patch_output", "call_id": ""}).status_code == 400
    served = client.get("/__mock/served-openapi.json").get_json()["components"]["schemas"]
    assert served["Input"]["discriminator"]["mapping"] == {
        "message": "#/components/schemas/MockserverAnyOf_message",
        "patch_output": "#/components/schemas/Item",
    }
    assert served["MockserverAnyOf_message"] == {
        "anyOf": [{"$ref": "#/components/schemas/EasyMessage"}, {"$ref": "#/components/schemas/Item"}]
    }
    assert served["Item"]["discriminator"]["mapping"] == {
        "message": "#/components/schemas/InputMessage",
        "patch_output": "#/components/schemas/PatchOutput",
    }


def served(tmp_path: Path, text: str):
    """A test client of the mock serving the document `text`."""
    spec = tmp_path / "document.yaml"
    spec.write_text(text)
    return create_app(spec, FIXTURES, jwt_secret=SECRET).test_client()


NULL_DEFAULT = """
openapi: 3.1.0
info: {title: A default the type refuses, version: "1"}
paths:
  /sessions:
    post:
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              properties:
                noise_reduction: {type: object, default: null, properties: {type: {type: string}}}
                tracing:
                  default: null
                  nullable: true
                  oneOf: [{type: string, enum: [auto]}, {type: object, properties: {name: {type: string}}}]
                stop:  # the OpenAI description's StopConfiguration: its string allows null already
                  nullable: true
                  oneOf: [{type: string, nullable: true}, {type: array, items: {type: string}}]
      responses:
        "200": {description: ok}
        "400": {description: bad}
"""


def test_a_null_default_its_type_refuses_is_not_filled_in(tmp_path):
    # The OpenAI description's noise_reduction: openapi-core filled the missing property
    # with null, then refused it ("None is not of type 'object'").
    client = served(tmp_path, NULL_DEFAULT)
    assert client.post("/sessions", json={}).status_code == 200
    assert client.post("/sessions", json={"noise_reduction": {"type": "near_field"}}).status_code == 200
    assert client.post("/sessions", json={"noise_reduction": None}).status_code == 400


def test_nullable_without_a_type_allows_null_among_its_options(tmp_path):
    # The OpenAI description's session `tracing`: 3.0's `nullable` in a 3.1 document, no
    # `type`, a oneOf of a string and an object, and `default: null`, which openapi-core
    # filled in, then refused ("None is not valid under any of the given schemas").
    client = served(tmp_path, NULL_DEFAULT)
    for tracing in (None, "auto", {"name": "calls"}):
        assert client.post("/sessions", json={"tracing": tracing}).status_code == 200, tracing
    for tracing in ("manual", 5):
        assert client.post("/sessions", json={"tracing": tracing}).status_code == 400, tracing
    # Null is not added beside an option that allows it: in a oneOf, it would match both.
    for stop in (None, "end", ["a", "b"]):
        assert client.post("/sessions", json={"stop": stop}).status_code == 200, stop
    assert client.post("/sessions", json={"stop": 5}).status_code == 400


def test_a_discriminator_maps_each_value_an_option_allows_and_an_inline_option_by_its_place():
    # The OpenAI description's web_search_preview tool (its type allows two values: neither was
    # mapped) and its turn detection's semantic_vad (an inline option): every request was a 400.
    app = create_app(REAL.parent / "discriminator_without_mapping_31.yaml", FIXTURES, jwt_secret=SECRET)
    app.test_client_class = ContractClient
    client = app.test_client()
    for tool in ({"type": "web_search"}, {"type": "web_search_2025_03_11", "size": "low"}, {"type": "semantic_vad"}):
        assert client.post("/tools", json=tool).status_code == 200, tool
    for tool in ({"type": "semantic_vad", "size": "low"}, {"type": "web_search", "eagerness": "low"}, {"type": "x"}):
        assert client.post("/tools", json=tool).status_code == 400, tool
    schemas = app.extensions["mockserver.contract"].document["components"]["schemas"]
    assert schemas["Tool"]["discriminator"]["mapping"] == {
        "web_search": "#/components/schemas/SearchTool",
        "web_search_2025_03_11": "#/components/schemas/SearchTool",
        "semantic_vad": "#/components/schemas/Tool/oneOf/1",
    }


EXCLUSIVE_BOUNDS = """
openapi: {version}
info: {{title: Exclusive bounds, version: "1"}}
paths:
  /rates:
    post:
      requestBody:
        required: true
        content:
          application/json:
            schema: {{type: object, properties: {{rate: {schema}}}}}
      responses: {{"200": {{description: ok}}, "400": {{description: bad}}}}
"""


BETWEEN_0_AND_2 = {0: 400, 1e-05: 200, 0.5: 200, 1.9: 200, 2: 400, 3: 400}


@pytest.mark.parametrize(
    "version, schema, statuses",
    [
        # The OpenAI description's learning_rate_multiplier: 3.0's boolean in a 3.1 document, which
        # a 3.1 validator reads as the bound 1 (true): every rate below 1 was refused.
        ("3.1.0", "{type: number, minimum: 0, exclusiveMinimum: true, exclusiveMaximum: 2}", BETWEEN_0_AND_2),
        # 3.1's numeric bound in a 3.0 document, which openapi-core's 3.0 validator ignores.
        ("3.0.3", "{type: number, exclusiveMinimum: 0, maximum: 2, exclusiveMaximum: true}", BETWEEN_0_AND_2),
        # ... beside a stricter minimum, which it does not loosen: at least 0.5.
        (
            "3.0.3",
            "{type: number, minimum: 0.5, exclusiveMinimum: 0, exclusiveMaximum: 2}",
            {0: 400, 1e-05: 400, 0.5: 200, 1.9: 200, 2: 400, 3: 400},
        ),
    ],
)
def test_an_exclusive_bound_in_the_other_versions_form_is_read_as_that_version_says(
    tmp_path, version, schema, statuses
):
    client = served(tmp_path, EXCLUSIVE_BOUNDS.format(version=version, schema=schema))
    rates = (0, 1e-05, 0.5, 1.9, 2, 3)
    assert {rate: client.post("/rates", json={"rate": rate}).status_code for rate in rates} == statuses


PETS = """
openapi: 3.0.3
info: {title: Cats and dogs, version: "1"}
paths:
  /pets:
    post:
      requestBody:
        required: true
        content:
          application/json:
            schema:
              oneOf: [{$ref: "#/components/schemas/Cat"}, {$ref: "#/components/schemas/Dog"}]
              discriminator: {propertyName: petType}
      responses: {"204": {description: ok}, "400": {description: bad}}
components:
  schemas:
    Pet:
      type: object
      required: [petType]
      properties: {petType: {type: string, enum: [Cat, Dog]}}
    Cat:
      allOf:
        - $ref: "#/components/schemas/Pet"
        - {type: object, required: [meows], properties: {meows: {type: boolean}}}
    Dog:
      allOf:
        - $ref: "#/components/schemas/Pet"
        - {type: object, required: [barks], properties: {barks: {type: boolean}}}
"""


def test_a_value_that_names_an_options_schema_stays_that_options(tmp_path):
    # The textbook pattern: Cat and Dog, each allOf a Pet whose petType allows both. Each value
    # names its schema; mapping each value to every option that allows it swapped them.
    client = served(tmp_path, PETS)
    assert client.post("/pets", json={"petType": "Cat", "meows": True}).status_code == 204
    assert client.post("/pets", json={"petType": "Dog", "barks": True}).status_code == 204
    assert client.post("/pets", json={"petType": "Cat", "barks": True}).status_code == 400


def test_a_multipart_body_that_is_no_multipart_is_refused_and_its_parts_are_bounded():
    app = create_app(REAL.parent / "multipart_fields_31.yaml", FIXTURES, jwt_secret=SECRET)
    client = app.test_client()

    def post(body: bytes):
        return client.post("/edits", data=body, content_type="multipart/form-data; boundary=B")

    for junk in (b'{"image": 5}', b"hello", b"--B\r\nContent-Type: text/plain\r\n\r\nx\r\n--B--\r\n"):
        response = post(junk)
        assert response.status_code == 400 and "Body cannot be decoded" in response.get_data(as_text=True), junk
    part = b'--B\r\nContent-Disposition: form-data; name="languages"\r\n\r\nen\r\n'
    image = b'--B\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\n\r\nPNG\r\n'
    assert post(image + part * 10 + b"--B--\r\n").status_code == 200
    refused = post(image + part * 1000 + b"--B--\r\n")
    assert refused.status_code == 400 and "more than 1000 parts" in refused.get_data(as_text=True)
