"""Routing, the Error envelope, request IDs and CORS."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from flask.testing import FlaskClient
from support import MORGAN, PARTICIPANTS, SAM, bearer

PREFLIGHT = {
    "Origin": "http://localhost:3000",
    "Access-Control-Request-Method": "DELETE",
    "Access-Control-Request-Headers": "authorization, content-type",
}


@pytest.mark.parametrize(
    "path", ["/", "/api", "/api/chat/projects/p/chat", "/api/chat/projects/p/chats/c/participants/x"]
)
def test_unknown_paths_are_404_errors(client, path):
    response = client.delete(path, headers=bearer(MORGAN))
    assert response.status_code == 404
    assert response.get_json()["code"] == "NOT_FOUND"


@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH"])
def test_undeclared_methods_are_405_with_allow(client, method):
    response = client.open(PARTICIPANTS, method=method, headers=bearer(MORGAN), json={"userId": SAM})
    assert response.status_code == 405
    assert response.get_json()["code"] == "METHOD_NOT_ALLOWED"
    assert set(response.headers["Allow"].split(", ")) == {"DELETE", "POST", "OPTIONS"}


def test_login_path_allows_only_post(client):
    response = client.get("/api/auth/login")
    assert response.status_code == 405
    assert "POST" in response.headers["Allow"]


def test_error_envelope_fields(client):
    response = client.delete(PARTICIPANTS, json={"userId": SAM})
    body = response.get_json()

    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", body["timestamp"])
    assert datetime.fromisoformat(body["timestamp"]).utcoffset().total_seconds() == 0
    assert body["path"] == PARTICIPANTS
    assert re.fullmatch(r"req_[0-9a-f]{16}", body["requestId"])


def test_every_response_has_a_distinct_request_id(client):
    ids = {client.post("/__mock/reset", json={}).headers["X-Request-Id"] for _ in range(20)}
    assert len(ids) == 20


def test_cors_preflight_needs_no_token(client):
    response = client.options(PARTICIPANTS, headers=PREFLIGHT)

    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] in {"*", "http://localhost:3000"}
    assert "DELETE" in response.headers["Access-Control-Allow-Methods"]
    allowed = response.headers["Access-Control-Allow-Headers"].lower()
    assert "authorization" in allowed and "content-type" in allowed


def test_cors_preflight_offers_only_the_contracts_methods(client):
    allowed = client.options(PARTICIPANTS, headers=PREFLIGHT)
    offered = set(allowed.headers["Access-Control-Allow-Methods"].split(", "))
    assert offered == {"DELETE", "GET", "PATCH", "POST", "PUT", "OPTIONS"}
    # A method the contract lacks gets no CORS approval, so the browser never sends it.
    refused = client.options(PARTICIPANTS, headers={**PREFLIGHT, "Access-Control-Request-Method": "TRACE"})
    assert "Access-Control-Allow-Methods" not in refused.headers


def test_access_log_escapes_the_path(client, caplog):
    caplog.set_level("INFO", logger="mockserver.access")
    client.delete("/api/x%0A127.0.0.1 DELETE /forged 200 1.0ms")
    (line,) = [record.getMessage() for record in caplog.records if record.name == "mockserver.access"]
    assert "\n" not in line and "/api/x\\n127.0.0.1" in line


def test_cors_headers_on_errors_expose_the_challenge(client):
    response = client.delete(PARTICIPANTS, json={"userId": SAM}, headers={"Origin": "http://localhost:3000"})

    assert response.status_code == 401
    assert response.headers["Access-Control-Allow-Origin"] in {"*", "http://localhost:3000"}
    exposed = response.headers["Access-Control-Expose-Headers"]
    assert "WWW-Authenticate" in exposed and "X-Request-Id" in exposed


def test_an_unexpected_failure_is_a_500_in_the_error_shape(app, monkeypatch):
    def broken(*_args):
        raise RuntimeError("boom")

    monkeypatch.setattr(app.extensions["mockserver.store"], "remove_participant", broken)
    # Flask's plain client: a 500 is outside the contract, which the checking client would flag.
    response = FlaskClient(app).delete(PARTICIPANTS, json={"userId": SAM}, headers=bearer(MORGAN))

    assert response.status_code == 500
    body = response.get_json()
    assert body["code"] == "INTERNAL_ERROR"
    assert "boom" not in response.get_data(as_text=True)
