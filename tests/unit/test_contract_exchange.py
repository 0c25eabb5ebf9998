"""The contract suite's HTTP helper: curl lines and response checks."""

from __future__ import annotations

import json
import sys

import pytest
import requests
from flask import Flask, Response
from support import ROOT

sys.path.insert(0, str(ROOT))
from contract_tests.exchange import Exchange  # noqa: E402
from contract_tests.redaction import SECRETS  # noqa: E402
from mockserver.server.serving import serve_in_background  # noqa: E402

PATH = "/api/chat/projects/p/chats/c/participants"


@pytest.fixture(scope="module")
def canned():
    """A server that answers DELETE on the participants path with `canned.response`."""
    app = Flask(__name__)
    app.response_to_send = None

    @app.delete(PATH)
    def answer():
        return app.response_to_send

    with serve_in_background(app) as base_url:
        app.base_url = base_url
        yield app


def exchange(canned, status: int, body, content_type="application/json", headers=None, token="tok") -> Exchange:
    payload = body if isinstance(body, bytes) else json.dumps(body).encode()
    canned.response_to_send = Response(payload, status, headers=headers or {}, content_type=content_type)
    response = requests.delete(
        canned.base_url + PATH, json={"userId": "usr_x"}, headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    SECRETS.add(token, "CONTRACT_TOKEN")  # as the suite registers its own
    return Exchange(response)


def test_curl_line_reproduces_the_request_without_the_token(canned):
    line = exchange(canned, 400, {"code": "X"}, token="secret.jwt.value").curl()
    assert line == (
        "curl -i -X DELETE -H \"Authorization: Bearer $CONTRACT_TOKEN\" -H 'Content-Type: application/json' "
        f'--data-binary \'{{"userId": "usr_x"}}\' {canned.base_url}{PATH}'
    )


def test_a_conforming_error_passes(canned):
    body = exchange(canned, 400, {"error": "Validation failed", "code": "VALIDATION_ERROR"}).conforms(
        "removeParticipant"
    )
    assert body.expect_error(400, code="VALIDATION_ERROR")["code"] == "VALIDATION_ERROR"


@pytest.mark.parametrize(
    "status, body, content_type, headers, message",
    [
        (400, {"error": 5}, "application/json", None, "breaks openapi.yaml"),
        (418, {"error": "x", "code": "Y"}, "application/json", None, "breaks openapi.yaml"),
        (400, b"<h1>Bad</h1>", "text/html", None, "breaks openapi.yaml"),
        (401, {"error": "x", "code": "UNAUTHORIZED"}, "application/json", None, "WWW-Authenticate"),
    ],
    ids=["wrong type", "undocumented status", "HTML", "no challenge"],
)
def test_nonconforming_errors_fail_with_a_curl_line(canned, status, body, content_type, headers, message):
    with pytest.raises(AssertionError) as caught:
        exchange(canned, status, body, content_type, headers).conforms("removeParticipant").expect_error(status)
    assert message in str(caught.value)
    assert "Reproduce with:\n    curl -i -X DELETE" in str(caught.value)


def test_an_unexpected_code_fails(canned):
    with pytest.raises(AssertionError, match="expected error code VALIDATION_ERROR, got NOT_A_PARTICIPANT"):
        exchange(canned, 400, {"error": "x", "code": "NOT_A_PARTICIPANT"}).expect_error(400, code="VALIDATION_ERROR")
