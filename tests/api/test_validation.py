"""Request validation and hostile input: always a 400 in the Error shape, never a
500 or a hang, and the server keeps serving with its state intact."""

from __future__ import annotations

import socket

import pytest
import requests
from support import MORGAN, PARTICIPANTS, SAM, bearer

from mockserver.settings import MAX_BODY_BYTES, MAX_JSON_DEPTH, MAX_JSON_STRING_CHARS, MAX_JSON_VALUES

JSON = "application/json"
# The limits README documents, as literals: a test fails when a constant drifts from them.
MIB = 1024 * 1024
MAX_BODY = 1 * MIB  # larger: 400 PAYLOAD_TOO_LARGE
MAX_DEPTH = 64  # deeper JSON: 400 VALIDATION_ERROR


def removal_of_sam(size: int) -> bytes:
    """A valid removal of SAM, padded with JSON whitespace (under every other request
    limit: values, string length) to exactly `size` bytes."""
    head, tail = f'{{"userId": "{SAM}"'.encode(), b"}"
    return head + b" " * (size - len(head) - len(tail)) + tail


HOSTILE_BODIES = {
    "malformed JSON": ("{bad", JSON, "body", "Malformed JSON"),
    "truncated JSON": ('{"userId": "usr_', JSON, "body", "Malformed JSON"),
    "invalid UTF-8": (b'{"userId": "\xff\xfe"}', JSON, "body", "Body is not valid UTF-8"),
    "JSON array": ('["usr_l6ZF362tQSr4nE"]', JSON, "body", "is not of type 'object'"),
    "JSON string": ('"usr_l6ZF362tQSr4nE"', JSON, "body", "is not of type 'object'"),
    "JSON number": ("42", JSON, "body", "is not of type 'object'"),
    "JSON null": ("null", JSON, "body", "is not of type 'object'"),
    "NaN": ('{"userId": NaN}', JSON, "body", "NaN is not a JSON value"),
    "missing body": (None, None, "body", "Request body is required"),
    "empty body": ("", JSON, "body", "Request body is required"),
    "wrong Content-Type": ('{"userId": "usr_l6ZF362tQSr4nE"}', "text/plain", "body", "Content-Type must be one of"),
    "form body": ("userId=usr_l6ZF362tQSr4nE", "application/x-www-form-urlencoded", "body", "Content-Type"),
    "missing userId": ("{}", JSON, "userId", "'userId' is a required property"),
    "userId a number": ('{"userId": 7}', JSON, "userId", "7 is not of type 'string'"),
    "userId null": ('{"userId": null}', JSON, "userId", "None"),
    # Refused before parsing: 100,000 arrays are too many values, whatever their depth.
    "nested 100,000 deep": ("[" * 100_000 + "]" * 100_000, JSON, "body", "JSON has too many values"),
    # Deep enough for schema validation to recurse out of stack, shallow enough for json.loads.
    "unknown property nested 500 deep": (
        '{"userId": "usr_x", "extra": ' + "[" * 500 + "]" * 500 + "}",
        JSON,
        "body",
        "nested too deeply",
    ),
    "unpaired surrogate": ('{"userId": "usr_\\ud800"}', JSON, "body", "unpaired surrogate"),
    "no Content-Type": ('{"userId": "usr_l6ZF362tQSr4nE"}', None, "body", "not application/octet-stream"),
    "object nested 100,000 deep": ('{"a":' * 100_000 + "1" + "}" * 100_000, JSON, "body", "too many values"),
    "nested 10,000 deep": ("[" * 10_000 + "]" * 10_000, JSON, "body", "JSON is nested too deeply"),
    # A short body, one level past the bound: short ones are walked only when they may break it.
    "nested 65 deep": ("[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1), JSON, "body", "nested too deeply"),
    "too many values": (
        '{"userId": "usr_x", "pad": [' + ",".join(["0"] * MAX_JSON_VALUES) + "]}",
        JSON,
        "body",
        f"JSON has too many values (more than {MAX_JSON_VALUES})",
    ),
    "string too long": (
        f'{{"userId": "{"x" * (MAX_JSON_STRING_CHARS + 1)}"}}',
        JSON,
        "body",
        "JSON string is too long",
    ),
    "key too long": (
        f'{{"userId": "usr_x", "{"k" * (MAX_JSON_STRING_CHARS + 1)}": 1}}',
        JSON,
        "body",
        "JSON string is too long",
    ),
}


@pytest.mark.parametrize("data, content_type, field, message", HOSTILE_BODIES.values(), ids=HOSTILE_BODIES)
def test_hostile_bodies_are_validation_errors(client, data, content_type, field, message):
    kwargs = {} if data is None else {"data": data}
    if content_type:
        kwargs["content_type"] = content_type
    response = client.delete(PARTICIPANTS, headers=bearer(MORGAN), **kwargs)

    assert response.status_code == 400
    body = response.get_json()
    assert body["code"] == "VALIDATION_ERROR"
    assert body["error"] == "Validation failed"
    assert message in body["details"][field]
    # Nothing was removed, and the next valid request works.
    assert client.delete(PARTICIPANTS, json={"userId": SAM}, headers=bearer(MORGAN)).status_code == 200


def test_nesting_up_to_64_levels_is_accepted(client):
    # The body object is the first level.
    extra = "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1)
    at_limit = client.delete(
        PARTICIPANTS, data=f'{{"userId": "{SAM}", "extra": {extra}}}', content_type=JSON, headers=bearer(MORGAN)
    )
    assert at_limit.status_code == 200
    over = client.delete(
        PARTICIPANTS, data=f'{{"userId": "{SAM}", "extra": [{extra}]}}', content_type=JSON, headers=bearer(MORGAN)
    )
    assert over.get_json()["details"]["body"].startswith("JSON is nested too deeply")


def test_surrogate_pairs_are_text(client):
    response = client.delete(
        PARTICIPANTS, data='{"userId": "usr_\\ud83d\\ude00"}', content_type=JSON, headers=bearer(MORGAN)
    )
    assert response.get_json()["code"] == "NOT_A_PARTICIPANT"


@pytest.mark.parametrize("content_type", ["application/json; charset", "application/json;;", "application/json; a=b=c"])
def test_odd_content_type_parameters_do_not_break_the_server(client, content_type):
    response = client.delete(
        PARTICIPANTS, data=f'{{"userId": "{SAM}"}}', headers={**bearer(MORGAN), "Content-Type": content_type}
    )
    assert response.status_code == 200


def test_json_with_a_charset_parameter_is_accepted(client):
    response = client.delete(
        PARTICIPANTS,
        data='{"userId": "usr_l6ZF362tQSr4nE"}',
        content_type="application/json; charset=utf-8",
        headers=bearer(MORGAN),
    )
    assert response.status_code == 200


def test_unknown_properties_are_tolerated(client):
    # The schema does not forbid additional properties; neither does the mock.
    response = client.delete(PARTICIPANTS, json={"userId": SAM, "reason": "left"}, headers=bearer(MORGAN))
    assert response.status_code == 200


def test_a_body_of_1_mib_is_accepted_and_one_byte_more_is_a_400(client):
    over = client.delete(PARTICIPANTS, data=removal_of_sam(MAX_BODY + 1), content_type=JSON, headers=bearer(MORGAN))
    assert over.status_code == 400
    assert over.get_json()["code"] == "PAYLOAD_TOO_LARGE"
    at_limit = client.delete(PARTICIPANTS, data=removal_of_sam(MAX_BODY), content_type=JSON, headers=bearer(MORGAN))
    assert at_limit.status_code == 200


def test_hostile_input_over_real_http_leaves_the_server_serving(live_server):
    headers = {**bearer(MORGAN), "Content-Type": JSON}
    url = live_server + PARTICIPANTS
    for data, code in (
        (b"\xff\xfe\x00garbage", "VALIDATION_ERROR"),
        (b"[" * 100_000 + b"]" * 100_000, "VALIDATION_ERROR"),
        (b'{"userId": "' + b"y" * (2 * MIB), "PAYLOAD_TOO_LARGE"),
    ):
        response = requests.delete(url, data=data, headers=headers, timeout=30)
        assert response.status_code == 400, response.text
        assert response.json()["code"] == code

    assert requests.delete(url, json={"userId": SAM}, headers=bearer(MORGAN), timeout=10).status_code == 200


@pytest.mark.parametrize("chunked", [False, True], ids=["Content-Length", "chunked"])
def test_the_body_limit_is_exact_over_real_http(live_server, chunked):
    def body(size: int):
        data = b'{"userId": "usr_x"' + b" " * (size - 19) + b"}"  # JSON whitespace: no limit but size
        assert len(data) == size
        # A generator makes requests send the body chunked, without a Content-Length.
        return (data[i : i + 65536] for i in range(0, size, 65536)) if chunked else data

    headers = {**bearer(MORGAN), "Content-Type": JSON}
    at_limit = requests.delete(live_server + PARTICIPANTS, data=body(MAX_BODY_BYTES), headers=headers, timeout=30)
    assert at_limit.json()["code"] == "NOT_A_PARTICIPANT"
    over = requests.delete(live_server + PARTICIPANTS, data=body(MAX_BODY_BYTES + 1), headers=headers, timeout=30)
    assert over.status_code == 400
    assert over.json()["code"] == "PAYLOAD_TOO_LARGE"
    assert over.json()["path"] == PARTICIPANTS


@pytest.mark.concurrent
def test_a_client_that_never_finishes_its_body_does_not_block_others(live_server):
    host, port = live_server.removeprefix("http://").split(":")
    head = (
        f"DELETE {PARTICIPANTS} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {100 * MIB}\r\n\r\n"
    ).encode()
    with socket.create_connection((host, int(port)), timeout=10) as stalled:
        stalled.sendall(head + b'{"userId": "')
        response = requests.delete(live_server + PARTICIPANTS, json={"userId": SAM}, headers=bearer(MORGAN), timeout=10)
    assert response.status_code == 200


def test_limits_are_inclusive(client):
    values = ",".join(["0"] * (MAX_JSON_VALUES - 3))  # with the object and the userId: the limit exactly
    response = client.delete(
        PARTICIPANTS, data=f'{{"userId": "{SAM}", "pad": [{values}]}}', content_type=JSON, headers=bearer(MORGAN)
    )
    assert response.status_code == 200
    client.post("/__mock/reset", json={})
    longest = "x" * MAX_JSON_STRING_CHARS
    response = client.delete(PARTICIPANTS, json={"userId": SAM, longest: longest}, headers=bearer(MORGAN))
    assert response.status_code == 200


def test_work_does_not_grow_with_values_the_schema_does_not_declare(client, monkeypatch):
    # openapi-core unmarshalled (and revalidated) every value of an undeclared property
    # on its own, ~100 us each: a 1 MiB body took 93 s. The compiled validators leave it
    # out; count its unmarshaller calls, whatever the body holds.
    from openapi_core.unmarshalling.schemas.unmarshallers import SchemaUnmarshaller

    calls = []
    original = SchemaUnmarshaller.unmarshal
    monkeypatch.setattr(SchemaUnmarshaller, "unmarshal", lambda self, value: calls.append(1) or original(self, value))
    nested = "[" * 60 + "0" + "]" * 60
    counts = []
    for pad in ("[]", "[" + ",".join(["0"] * 9000) + "]", f"[{nested}, {nested}]"):
        calls.clear()
        body = f'{{"email": "morgan.chen@northwind.dev", "password": "wrong", "pad": {pad}}}'
        assert client.post("/api/auth/login", data=body, content_type=JSON).status_code == 401
        counts.append(len(calls))
    assert counts[0] <= 1 and len(set(counts)) == 1, counts


@pytest.mark.parametrize(
    "pad",
    [
        "[" + ",".join(["0"] * (MAX_BODY_BYTES // 2 - 64)) + "]",  # the review's 524k zeros
        ",".join(["[" * 62 + "]" * 62] * (MAX_BODY_BYTES // 125)),  # 1 MiB of 62-deep arrays
    ],
    ids=["1 MiB of zeros", "1 MiB of 62-deep arrays"],
)
def test_the_reviews_1_mib_login_bodies_are_refused(live_server, pad):
    body = f'{{"email": "a@b.dev", "password": "x", "pad": [{pad}]}}'.encode()
    assert len(body) <= MAX_BODY_BYTES
    response = requests.post(live_server + "/api/auth/login", data=body, headers={"Content-Type": JSON}, timeout=60)
    assert response.status_code == 400
    assert "too many values" in response.json()["details"]["body"]


def test_brackets_inside_strings_are_not_values(client):
    note = '["\\\\' + "[{" * (MAX_JSON_VALUES // 2 + 1)  # more brackets than values allowed, all in a string
    response = client.delete(PARTICIPANTS, json={"userId": SAM, "note": note}, headers=bearer(MORGAN))
    assert response.status_code == 200
