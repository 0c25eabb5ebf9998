"""Request validation and hostile input: always a 400 in the Error shape, never a
500 or a hang, and the server keeps serving with its state intact."""

from __future__ import annotations

import socket

import pytest
import requests
from support import MORGAN, PARTICIPANTS, SAM, bearer

JSON = "application/json"
# The limits README documents, as literals: a test fails when a constant drifts from them.
MIB = 1024 * 1024
MAX_BODY = 1 * MIB  # larger: 400 PAYLOAD_TOO_LARGE
UPLOAD_LIMIT = 16 * MIB  # this large or larger: waitress's own 413, before the app sees the request
MAX_DEPTH = 64  # deeper JSON: 400 VALIDATION_ERROR


def removal_of_sam(size: int) -> bytes:
    """A valid removal of SAM, padded to exactly `size` bytes."""
    head, tail = f'{{"userId": "{SAM}", "pad": "'.encode(), b'"}'
    return head + b"x" * (size - len(head) - len(tail)) + tail


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
    "nested 100,000 deep": ("[" * 100_000 + "]" * 100_000, JSON, "body", "JSON is nested too deeply"),
    # Deep enough for schema validation to recurse out of stack, shallow enough for json.loads.
    "unknown property nested 500 deep": (
        '{"userId": "usr_x", "extra": ' + "[" * 500 + "]" * 500 + "}",
        JSON,
        "body",
        "nested too deeply",
    ),
    "unpaired surrogate": ('{"userId": "usr_\\ud800"}', JSON, "body", "unpaired surrogate"),
    "no Content-Type": ('{"userId": "usr_l6ZF362tQSr4nE"}', None, "body", "not application/octet-stream"),
    "object nested 100,000 deep": ('{"a":' * 100_000 + "1" + "}" * 100_000, JSON, "body", "nested too deeply"),
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


def test_an_upload_just_under_16_mib_reaches_the_app(live_server):
    data, headers = removal_of_sam(UPLOAD_LIMIT - 1), {**bearer(MORGAN), "Content-Type": JSON}
    response = requests.delete(live_server + PARTICIPANTS, data=data, headers=headers, timeout=60)
    assert response.status_code == 400
    assert response.json()["code"] == "PAYLOAD_TOO_LARGE"


def test_an_upload_of_16_mib_is_refused_before_its_body_is_sent(live_server):
    # waitress answers from the Content-Length alone, in plain text: no body ever comes.
    host, port = live_server.removeprefix("http://").split(":")
    head = (
        f"DELETE {PARTICIPANTS} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"Authorization: {bearer(MORGAN)['Authorization']}\r\nContent-Length: {UPLOAD_LIMIT}\r\n\r\n"
    ).encode()
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(head)
        status_line = connection.makefile("rb").readline()  # the socket's timeout bounds the wait
    assert status_line.startswith(b"HTTP/1.1 413 "), status_line


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
