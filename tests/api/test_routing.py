"""Routing, the Error envelope, request IDs and CORS."""

from __future__ import annotations

import os
import re
from datetime import datetime

import pytest
from flask.testing import FlaskClient
from support import BILLING, CHAT, MORGAN, OTHER_CHAT, PARTICIPANTS, PROJECT, SAM, bearer

BILLING_CHAT = "Bx7PnL2sKq9VwD4R"

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


@pytest.mark.parametrize(
    "path, allowed",
    [
        ("/api/auth/login", {"POST", "OPTIONS"}),
        (f"/api/chat/projects/{PROJECT}/chats", {"GET", "HEAD", "POST", "OPTIONS"}),
        (f"/api/chat/projects/{PROJECT}/chats/{CHAT}", {"GET", "HEAD", "OPTIONS"}),
    ],
)
def test_the_allow_header_lists_exactly_the_declared_methods(client, path, allowed):
    response = client.put(path, headers=bearer(MORGAN), json={})
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) == allowed


@pytest.mark.parametrize(
    "path", ["//api/auth/login", f"/api/chat/projects/{PROJECT}//chats", f"/api/chat/projects/{PROJECT}/chats/{CHAT}//"]
)
def test_a_double_slash_is_an_unknown_path_not_a_redirect(client, path):
    response = client.post(path, headers=bearer(MORGAN), json={})
    assert response.status_code == 404
    assert response.get_json()["code"] == "NOT_FOUND"


def test_error_envelope_fields(client):
    response = client.delete(PARTICIPANTS, json={"userId": SAM})
    body = response.get_json()

    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", body["timestamp"])
    assert datetime.fromisoformat(body["timestamp"]).utcoffset().total_seconds() == 0
    assert body["path"] == PARTICIPANTS
    assert re.fullmatch(r"req_[0-9a-f]{16}", body["requestId"])


def test_every_response_has_a_distinct_request_id(client):
    responses = [
        client.post("/__mock/reset", json={}),  # the mock's own route
        client.get("/__mock/state"),
        client.get(f"/api/chat/projects/{PROJECT}/chats", headers=bearer(MORGAN)),  # 200
        client.get(f"/api/chat/projects/{PROJECT}/chats"),  # 401
        client.get("/api/nowhere"),  # 404
        client.put("/api/auth/login"),  # 405
        client.options(PARTICIPANTS, headers=PREFLIGHT),  # CORS preflight
        *(client.get(f"/api/chat/projects/{PROJECT}/chats/{CHAT}", headers=bearer(MORGAN)) for _ in range(10)),
    ]
    ids = [response.headers["X-Request-Id"] for response in responses]
    assert all(re.fullmatch(r"req_[0-9a-f]{16}", request_id) for request_id in ids), ids
    assert len(set(ids)) == len(responses)


def test_a_forked_worker_draws_request_ids_of_its_own():
    from mockserver.errors import new_request_id

    reading, writing = os.pipe()
    pid = os.fork()
    if pid == 0:  # the worker: its next ID, to the parent
        os.write(writing, new_request_id().encode())
        os._exit(0)
    os.waitpid(pid, 0)
    assert os.read(reading, 64).decode() != new_request_id()  # the same without a seed after the fork


ORIGINS = ["http://localhost:3000", "http://127.0.0.1:5173", "https://[::1]:8443"]


def assert_credentialed_cors(response, origin: str) -> None:
    """The origin echoed with credentials allowed, and caches told the answer varies with it."""
    assert response.headers["Access-Control-Allow-Origin"] == origin
    assert response.headers["Access-Control-Allow-Credentials"] == "true"
    assert "Origin" in response.headers.getlist("Vary") or "Origin" in response.headers.get("Vary", "")


@pytest.mark.parametrize("origin", ORIGINS)
def test_cors_preflight_needs_no_token_from_a_local_origin(client, origin):
    response = client.options(PARTICIPANTS, headers={**PREFLIGHT, "Origin": origin})

    assert response.status_code == 200
    assert_credentialed_cors(response, origin)
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


def test_the_state_route_lists_every_chat_with_its_project(client):
    chats = client.get("/__mock/state").get_json()["chats"]
    assert {chat["_id"]: chat["projectId"] for chat in chats} == {
        CHAT: PROJECT,
        OTHER_CHAT: PROJECT,
        BILLING_CHAT: BILLING,
    }


def test_access_log_escapes_the_path(client, caplog):
    caplog.set_level("INFO", logger="mockserver.access")
    client.delete("/api/x%0A127.0.0.1 DELETE /forged 200 1.0ms")
    (line,) = [record.getMessage() for record in caplog.records if record.name == "mockserver.access"]
    assert "\n" not in line and "/api/x\\n127.0.0.1" in line


@pytest.mark.parametrize("origin", ORIGINS)
def test_cors_headers_on_errors_expose_the_challenge(client, origin):
    response = client.delete(PARTICIPANTS, json={"userId": SAM}, headers={"Origin": origin})

    assert response.status_code == 401
    assert_credentialed_cors(response, origin)
    exposed = response.headers["Access-Control-Expose-Headers"]
    assert "WWW-Authenticate" in exposed and "X-Request-Id" in exposed


@pytest.mark.parametrize("origin", ["https://app.example.dev", "null", "http://localhost.evil.example"])
def test_an_origin_not_allowed_gets_no_cors_headers(client, origin):
    preflight = client.options(PARTICIPANTS, headers={**PREFLIGHT, "Origin": origin})
    response = client.delete(PARTICIPANTS, json={"userId": SAM}, headers={"Origin": origin})

    for answer in (preflight, response):
        assert not [name for name, _value in answer.headers.items() if name.startswith("Access-Control-")]


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
