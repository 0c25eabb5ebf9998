"""Latency and fault rules: --latency, and rules added, listed and removed over
/__mock/faults (delay, declared status, connection reset, empty reply, rate, times)."""

from __future__ import annotations

import socket
import time

import pytest
import requests
from flask.testing import FlaskClient
from support import FIXTURES, PROJECT, SECRET, SPEC, ContractClient, bearer, check_admin_response, make_token

from mockserver import create_app
from mockserver.controls.faults import Latency
from mockserver.controls.steering import ControlOptions
from mockserver.server.serving import serve_in_background

CHATS = f"/api/chat/projects/{PROJECT}/chats"


def add_rule(client, **rule):
    return client.post("/__mock/faults", json=rule)


def test_a_rule_is_added_listed_and_removed(client):
    added = add_rule(client, operationId="getUserChats", status=404, times=2)
    assert added.status_code == 201
    rule = added.get_json()
    assert rule == {
        "id": rule["id"],
        "operationId": "getUserChats",
        "status": 404,
        "rate": 1.0,
        "remaining": 2,
        "applied": 0,
    }
    assert client.get("/__mock/faults").get_json() == {"faults": [rule]}
    assert client.delete(f"/__mock/faults/{rule['id']}", json={}).status_code == 200
    assert client.get("/__mock/faults").get_json() == {"faults": []}
    assert client.delete(f"/__mock/faults/{rule['id']}", json={}).status_code == 404


def test_a_status_rule_answers_the_next_calls_then_goes(client):
    add_rule(client, operationId="getUserChats", status=404, times=2)
    statuses = [client.get(CHATS, headers=bearer()).status_code for _ in range(3)]
    assert statuses == [404, 404, 200]
    assert client.get("/__mock/faults").get_json() == {"faults": []}


def test_a_status_rule_comes_before_authentication(client):
    # A broken server fails whoever calls it.
    add_rule(client, operationId="getUserChats", status=400)
    response = client.get(CHATS)
    assert response.status_code == 400
    assert response.get_json()["details"].startswith("Forced by fault_")


def test_clearing_and_reset_remove_every_rule(client):
    add_rule(client, operationId="getUserChats", status=404)
    add_rule(client, operationId="getChatDetails", delayMs=10)
    assert client.delete("/__mock/faults", json={}).get_json() == {"message": "Fault rules cleared"}
    assert client.get("/__mock/faults").get_json()["faults"] == []
    add_rule(client, operationId="getUserChats", status=404)
    client.post("/__mock/reset", json={})
    assert client.get("/__mock/faults").get_json()["faults"] == []
    assert client.get(CHATS, headers=bearer()).status_code == 200


def test_a_rate_applies_to_a_seeded_repeatable_share_of_calls(client):
    def run() -> list[int]:
        client.delete("/__mock/faults", json={})
        add_rule(client, operationId="getUserChats", status=404, rate=0.3, seed=42)
        return [client.get(CHATS, headers=bearer()).status_code for _ in range(40)]

    first = run()
    assert run() == first  # the same seed, the same sequence
    assert set(first) == {200, 404}
    assert client.get("/__mock/faults").get_json()["faults"][0]["applied"] == first.count(404)


def test_rate_zero_never_applies_and_rate_one_always(client):
    add_rule(client, operationId="getUserChats", status=404, rate=0)
    add_rule(client, operationId="getChatDetails", status=404, rate=1)
    assert client.get(CHATS, headers=bearer()).status_code == 200
    assert client.get(f"{CHATS}/VL0TZudKjN6SiWtV", headers=bearer()).status_code == 404


@pytest.mark.parametrize(
    "rule, field, message",
    [
        ({"operationId": "nope", "status": 404}, "operationId", "'nope' is not an operation of the served document"),
        (
            {"operationId": "getUserChats", "status": 503},
            "status",
            "getUserChats does not declare status 503; declared: 200, 400, 401, 404",
        ),
        ({"operationId": "getUserChats", "status": 404, "rate": 2}, "rate", "2 is greater than the maximum of 1"),
        ({"operationId": "getUserChats", "delayMs": -1}, "delayMs", "-1 is less than the minimum of 0"),
        ({"operationId": "getUserChats", "fault": "boom"}, "fault", "'boom' is not one of ['reset', 'empty']"),
        ({"operationId": "getUserChats", "status": 404, "times": 0}, "times", "0 is less than the minimum of 1"),
        ({"operationId": "getUserChats", "status": "404"}, "status", "'404' is not of type 'integer'"),
        ({"status": 404}, "operationId", "'operationId' is a required property"),
        ({"operationId": "getUserChats", "status": 404, "fault": "reset"}, "fault", "Give a status or a fault"),
        ({"operationId": "getUserChats"}, "body", "Give at least one of delayMs, status and fault"),
        ({"operationId": "getUserChats", "status": 404, "colour": 1}, "body", "('colour' was unexpected)"),
    ],
)
def test_a_malformed_rule_is_a_400_naming_the_field(client, rule, field, message):
    response = add_rule(client, **rule)
    assert response.status_code == 400
    details = response.get_json()["details"]
    assert list(details) == [field]
    assert message in details[field]


def test_a_rule_body_must_be_json(client):
    response = client.post("/__mock/faults", data="not json", content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["details"] == {"body": "A JSON object is required"}


@pytest.mark.parametrize("text, expected", [("250", Latency(250, 250)), ("100-400", Latency(100, 400))])
def test_latency_is_milliseconds_or_a_range(text, expected):
    assert Latency.parse(text) == expected


@pytest.mark.parametrize("text", ["", "abc", "-5", "400-100", "10-", "99999999"])
def test_a_malformed_latency_is_refused(text):
    with pytest.raises(ValueError):
        Latency.parse(text)


def test_latency_delays_api_responses_not_admin_ones():
    app = create_app(SPEC, FIXTURES, jwt_secret=SECRET, options=ControlOptions(latency=Latency(150, 200), seed=1))
    app.test_client_class = ContractClient
    client = app.test_client()
    started = time.perf_counter()
    assert client.get(CHATS, headers=bearer()).status_code == 200
    assert time.perf_counter() - started >= 0.15
    started = time.perf_counter()
    client.get("/__mock/faults")
    assert time.perf_counter() - started < 0.15


@pytest.fixture
def live(app):
    with serve_in_background(app) as base_url:
        yield base_url


def raw_get(base_url: str, path: str) -> bytes:
    """What the server sends back for a GET, read off a plain socket until it closes."""
    host, port = base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        headers = f"Host: 127.0.0.1\r\nAuthorization: Bearer {make_token()}\r\nConnection: close\r\n"
        connection.sendall(f"GET {path} HTTP/1.1\r\n{headers}\r\n".encode())
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
        return received


def post_rule(base_url: str, **rule) -> dict:
    response = requests.post(f"{base_url}/__mock/faults", json=rule, timeout=10)
    check_admin_response(response)
    assert response.status_code == 201, response.text
    return response.json()


def test_an_empty_reply_closes_the_connection_without_a_byte(live):
    post_rule(live, operationId="getUserChats", fault="empty", times=1)
    assert raw_get(live, CHATS) == b""
    assert raw_get(live, CHATS).startswith(b"HTTP/1.1 200 OK")  # the next call is served again


def test_a_reset_fault_resets_the_connection(live):
    post_rule(live, operationId="getUserChats", fault="reset", times=1)
    with pytest.raises(ConnectionResetError):
        raw_get(live, CHATS)
    with pytest.raises(requests.ConnectionError):  # as an HTTP client sees it
        post_rule(live, operationId="getUserChats", fault="reset", times=1)
        requests.get(live + CHATS, headers=bearer(), timeout=10)


def test_a_delay_rule_slows_one_operation_on_a_live_server(live):
    post_rule(live, operationId="getUserChats", delayMs=300, times=1)
    started = time.perf_counter()
    response = requests.get(live + CHATS, headers=bearer(), timeout=10)
    assert response.status_code == 200
    assert time.perf_counter() - started >= 0.3
    journal = requests.get(f"{live}/__mock/requests", timeout=10).json()["requests"]
    assert journal[0]["durationMs"] >= 300


def test_a_fault_without_the_mock_server_is_an_error_not_a_silent_success(app):
    # Flask's test client cannot drop a connection; the 500 is not in the contract, so plain client.
    client = FlaskClient(app)
    add_rule(client, operationId="getUserChats", fault="reset")
    response = client.get(CHATS, headers=bearer())
    assert response.status_code == 500
    assert response.get_json()["code"] == "FAULT_NOT_SUPPORTED"


def test_the_mock_seed_makes_rules_without_their_own_seed_repeatable():
    def run() -> list[int]:
        app = create_app(SPEC, FIXTURES, jwt_secret=SECRET, options=ControlOptions(seed=5))
        app.test_client_class = ContractClient
        client = app.test_client()
        add_rule(client, operationId="getUserChats", status=404, rate=0.5)
        return [client.get(CHATS, headers=bearer()).status_code for _ in range(30)]

    first = run()
    assert run() == first
    assert set(first) == {200, 404}
