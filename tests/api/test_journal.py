"""The request journal at /__mock/requests: what clients sent and got, newest first, in
a bounded buffer, filtered, with secrets redacted, and never the /__mock calls."""

from __future__ import annotations

import gc
import json
import os
from urllib.parse import urlencode

import pytest
import requests
from support import (
    ALEX,
    CHAT,
    FIXTURES,
    MORGAN,
    PARTICIPANTS,
    PROJECT,
    ROOT,
    SAM,
    SECRET,
    SPEC,
    ContractClient,
    bearer,
    check_admin_response,
)

from mockserver import create_app, settings
from mockserver.controls.steering import ControlOptions
from mockserver.server.serving import serve_in_background
from mockserver.settings import MAX_BODY_BYTES as MOCK_MAX_BODY_BYTES

CHATS = f"/api/chat/projects/{PROJECT}/chats"
REDACTED = "[redacted]"


def journal(client, **filters) -> list[dict]:
    response = client.get("/__mock/requests", query_string=filters)
    assert response.status_code == 200
    return response.get_json()["requests"]


def test_an_entry_has_the_request_and_its_answer(client):
    response = client.get(CHATS, query_string={"page": 1}, headers=bearer(MORGAN))
    [entry] = journal(client)
    assert entry == {
        "id": entry["id"],
        "time": entry["time"],
        "method": "GET",
        "path": CHATS,
        "query": {"page": ["1"]},
        "operationId": "getUserChats",
        "caller": MORGAN,
        "status": 200,
        "durationMs": entry["durationMs"],
        "requestHeaders": {**entry["requestHeaders"], "Authorization": REDACTED},
        "requestHeadersTruncated": False,
        "requestBody": None,
        "requestBodyBytes": 0,
        "requestBodyTruncated": False,
        "responseBody": response.get_json(),
        "responseBodyBytes": len(response.data),
        "responseBodyTruncated": False,
        "validationErrors": None,
    }
    assert entry["durationMs"] > 0


def test_newest_first_and_mock_routes_are_not_recorded(client):
    client.get(CHATS, headers=bearer())
    client.get("/__mock/state")
    client.post("/__mock/reset", json={})
    client.get("/api/auth/session", headers=bearer())
    assert [entry["operationId"] for entry in journal(client)] == ["getCurrentSession", "getUserChats"]
    ids = [entry["id"] for entry in journal(client)]
    assert ids == sorted(ids, reverse=True)


def test_a_ui_test_can_assert_exactly_one_remove_participant_with_a_user_id(client):
    client.delete(PARTICIPANTS, json={"userId": SAM}, headers=bearer(MORGAN))
    client.delete(PARTICIPANTS, json={"userId": ALEX}, headers=bearer(MORGAN))
    client.post(PARTICIPANTS, json={"userId": SAM}, headers=bearer(MORGAN))
    removals = journal(client, operationId="removeParticipant")
    assert [entry["requestBody"]["userId"] for entry in removals].count(SAM) == 1
    [sam] = [entry for entry in removals if entry["requestBody"]["userId"] == SAM]
    assert (sam["method"], sam["status"], sam["caller"]) == ("DELETE", 200, MORGAN)
    assert sam["path"] == f"/api/chat/projects/{PROJECT}/chats/{CHAT}/participants"


def test_filters_by_operation_status_method_and_path(client):
    client.get(CHATS, headers=bearer())
    client.get(CHATS)  # 401
    client.get(f"{CHATS}/VL0TZudKjN6SiWtV", headers=bearer())
    client.get("/api/auth/session", headers=bearer())
    assert len(journal(client, status=401)) == 1
    assert len(journal(client, operationId="getUserChats")) == 2
    assert len(journal(client, operationId="getUserChats", status=200)) == 1
    assert len(journal(client, method="get")) == 4
    assert len(journal(client, method="POST")) == 0
    assert [e["path"] for e in journal(client, path=CHATS)] == [CHATS, CHATS]
    assert len(journal(client, path="/api/chat/*")) == 3
    assert len(journal(client, limit=2)) == 2


@pytest.mark.parametrize("name, value", [("status", "abc"), ("limit", "0"), ("limit", "-3")])
def test_a_malformed_filter_is_a_400_naming_it(client, name, value):
    response = client.get("/__mock/requests", query_string={name: value})
    assert response.status_code == 400
    assert list(response.get_json()["details"]) == [name]


def test_passwords_tokens_and_authorization_are_redacted(client):
    login = client.post("/api/auth/login", json={"email": "morgan.chen@northwind.dev", "password": "wrong-password"})
    assert login.status_code == 401
    client.post("/api/auth/login", json={"email": "morgan.chen@northwind.dev", "password": "morgan-demo-password"})
    ok, failed = journal(client, operationId="loginUser")
    assert ok["status"] == 200, ok
    assert ok["requestBody"] == {"email": "morgan.chen@northwind.dev", "password": REDACTED}
    assert ok["responseBody"]["token"] == REDACTED
    assert ok["responseBody"]["refreshToken"] == REDACTED
    assert failed["requestBody"]["password"] == REDACTED
    client.post(
        "/api/auth/refresh", json={"refreshToken": "rt_secret"}, headers={"Proxy-Authorization": "Basic c2VjcmV0"}
    )
    [refresh] = journal(client, operationId="refreshToken")
    assert refresh["requestBody"] == {"refreshToken": REDACTED}
    assert refresh["requestHeaders"]["Proxy-Authorization"] == REDACTED
    assert "rt_secret" not in str(journal(client))
    assert "wrong-password" not in str(journal(client))


def test_validation_errors_are_recorded(client):
    client.delete(PARTICIPANTS, json={"userId": 42}, headers=bearer())
    [entry] = journal(client)
    assert entry["status"] == 400
    assert entry["requestBody"] == {"userId": 42}
    assert list(entry["validationErrors"]) == ["userId"]


def test_unknown_paths_are_recorded_without_an_operation(client):
    client.get("/api/nowhere")
    [entry] = journal(client)
    assert (entry["operationId"], entry["status"]) == (None, 404)


def test_the_buffer_is_bounded_and_clears():
    app = create_app(SPEC, FIXTURES, jwt_secret=SECRET, options=ControlOptions(journal_size=3))
    app.test_client_class = ContractClient
    client = app.test_client()
    for _ in range(5):
        client.get("/api/auth/session", headers=bearer())
    body = client.get("/__mock/requests").get_json()
    assert body["capacity"] == 3
    assert [entry["id"] for entry in body["requests"]] == [5, 4, 3]
    assert client.delete("/__mock/requests", json={}).get_json() == {"message": "Journal cleared"}
    assert journal(client) == []


def test_size_zero_keeps_nothing():
    app = create_app(SPEC, FIXTURES, jwt_secret=SECRET, options=ControlOptions(journal_size=0))
    client = app.test_client()
    client.get("/api/auth/session", headers=bearer())
    assert client.get("/__mock/requests").get_json() == {"requests": [], "capacity": 0}


def test_a_forced_answer_is_recorded_as_sent(client):
    client.get(CHATS, headers={**bearer(), "Prefer": "code=404"})
    [entry] = journal(client)
    assert entry["status"] == 404
    assert entry["responseBody"]["details"] == "Forced by Prefer: code=404"
    assert entry["requestHeaders"]["Prefer"] == "code=404"


# --- attacks on a real server (waitress on 127.0.0.1) ------------------------------------

EMAIL = "morgan.chen@northwind.dev"
PASSWORD = "hunter2-never-shown"
JOURNAL_PATH = "/__mock/requests"


def live_journal(base_url: str) -> requests.Response:
    listing = requests.get(base_url + JOURNAL_PATH, timeout=30)
    assert listing.status_code == 200
    return listing


def rss_bytes() -> int:
    """This process's resident set (the server runs in it, on a thread)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.parametrize(
    "content_type, body",
    [
        # What fetch sends for a string body, JSON.stringify'd: text/plain.
        pytest.param("text/plain;charset=UTF-8", json.dumps({"email": EMAIL, "password": PASSWORD}), id="text/plain"),
        pytest.param("application/x-www-form-urlencoded", urlencode({"email": EMAIL, "password": PASSWORD}), id="form"),
        pytest.param(
            "multipart/form-data; boundary=XyZ",
            f'--XyZ\r\nContent-Disposition: form-data; name="email"\r\n\r\n{EMAIL}\r\n'
            f'--XyZ\r\nContent-Disposition: form-data; name="password"\r\n\r\n{PASSWORD}\r\n--XyZ--\r\n',
            id="multipart",
        ),
        pytest.param("application/json", json.dumps({"email": EMAIL, "passwd": PASSWORD}), id="passwd"),
    ],
)
def test_a_login_in_any_shape_leaves_no_password_in_the_journal(live_server, content_type, body):
    requests.post(
        f"{live_server}/api/auth/login", data=body.encode(), headers={"Content-Type": content_type}, timeout=10
    )
    listing = live_journal(live_server)
    [entry] = listing.json()["requests"]
    assert entry["operationId"] == "loginUser"
    assert PASSWORD not in listing.text
    check_admin_response(listing)
    assert entry["requestBodyBytes"] == len(body)
    assert REDACTED in json.dumps(entry["requestBody"])
    assert "morgan.chen" in json.dumps(entry["requestBody"])  # what is not secret stays


def test_no_refresh_token_or_jwt_is_shown_under_any_name(live_server):
    login = requests.post(
        f"{live_server}/api/auth/login", json={"email": EMAIL, "password": "morgan-demo-password"}, timeout=10
    ).json()
    refresh_token, access_token = login["refreshToken"], login["token"]
    # The live refresh token as fetch sends a string body, and both tokens under innocent names.
    requests.post(
        f"{live_server}/api/auth/refresh",
        data=json.dumps({"refreshToken": refresh_token}),
        headers={"Content-Type": "text/plain"},
        timeout=10,
    )
    requests.post(f"{live_server}/api/auth/refresh", json={"refreshToken": 1, "note": refresh_token}, timeout=10)
    requests.get(f"{live_server}/api/auth/session", params={"next": access_token}, timeout=10)
    listing = live_journal(live_server)
    check_admin_response(listing)
    assert len(listing.json()["requests"]) == 4
    assert refresh_token not in listing.text
    assert access_token not in listing.text


def test_secret_headers_and_query_parameters_are_redacted(live_server):
    headers = {"X-Api-Key": "key-4f1e", "X-Auth-Token": "token-9c2d", "X-Request-Label": "shown"}
    query = {"jwt": "jwt-77a1", "auth": "auth-5b3c", "sig": "sig-0e9f", "access_token": "at-31d7", "page": "2"}
    requests.get(f"{live_server}/api/auth/session", headers=headers, params=query, timeout=10)
    listing = live_journal(live_server)
    [entry] = listing.json()["requests"]
    for secret in ("key-4f1e", "token-9c2d", "jwt-77a1", "auth-5b3c", "sig-0e9f", "at-31d7"):
        assert secret not in listing.text
    assert entry["query"] == {
        "jwt": [REDACTED],
        "auth": [REDACTED],
        "sig": [REDACTED],
        "access_token": [REDACTED],
        "page": ["2"],
    }
    assert entry["requestHeaders"]["X-Api-Key"] == entry["requestHeaders"]["X-Auth-Token"] == REDACTED
    assert entry["requestHeaders"]["X-Request-Label"] == "shown"


def test_the_contracts_own_api_key_names_are_redacted(monkeypatch):
    monkeypatch.setenv("MOCKSERVER_API_KEY", "partner-key-8d61e0")
    app = create_app(ROOT / "tests" / "specs" / "partner_key.yaml", FIXTURES, jwt_secret=SECRET)
    with serve_in_background(app) as base_url:
        answer = requests.get(f"{base_url}/things", headers={"X-Partner": "partner-key-8d61e0"}, timeout=10)
        assert answer.status_code == 200
        requests.get(f"{base_url}/things", params={"partner": "partner-key-8d61e0"}, timeout=10)
        listing = live_journal(base_url)
    by_query, by_header = listing.json()["requests"]
    assert "partner-key-8d61e0" not in listing.text
    assert by_header["requestHeaders"]["X-Partner"] == REDACTED and by_query["query"] == {"partner": [REDACTED]}


def test_a_flood_of_unauthenticated_megabyte_requests_stays_within_the_budget(app, live_server):
    """300 refused 1 MiB requests: each entry keeps 4 KiB of the body and its size, so the
    journal's own count, its answer and the process stay small (all the bodies: 300 MiB)."""
    count, body = 300, b'{"name": "' + b"a" * (MOCK_MAX_BODY_BYTES - 12) + b'"}'
    journal = app.extensions["mockserver.controls"].journal
    session = requests.Session()
    session.get(f"{live_server}/api/auth/session", timeout=10)  # the server's threads started
    gc.collect()
    before = rss_bytes()
    for _ in range(count):
        answer = session.post(
            f"{live_server}{CHATS}", data=body, headers={"Content-Type": "application/json"}, timeout=30
        )
        assert answer.status_code == 401
    listing = live_journal(live_server)
    grown = rss_bytes() - before
    entries = listing.json()["requests"]
    assert len(entries) == count + 1
    # Its answer: a few KiB an entry, never the bodies (which would be 300 MiB).
    assert len(listing.content) <= count * 3 * settings.JOURNAL_BODY_BYTES
    assert grown < 100 * 1024 * 1024, f"RSS grew {grown / 2**20:.0f} MiB"
    flooded = [entry for entry in entries if entry["method"] == "POST"]
    assert all(entry["requestBodyBytes"] == len(body) and entry["requestBodyTruncated"] for entry in flooded)
    assert all(len(entry["requestBody"]) <= settings.JOURNAL_BODY_BYTES for entry in flooded)
    assert journal.bytes == sum(entry.cost for entry in journal.entries) <= count * 2 * settings.JOURNAL_BODY_BYTES


def test_the_journal_keeps_the_newest_within_its_byte_budget(monkeypatch):
    """Entries with 40 long headers each: past JOURNAL_MAX_BYTES, the oldest are dropped,
    whatever --journal-size allows; one with 100 headers keeps the first 64, cut."""
    monkeypatch.setattr(settings, "JOURNAL_MAX_BYTES", 512 * 1024)
    app = create_app(SPEC, FIXTURES, jwt_secret=SECRET)
    journal = app.extensions["mockserver.controls"].journal
    filler = {f"X-Filler-{index}": "f" * 1000 for index in range(40)}
    with serve_in_background(app) as base_url:
        session = requests.Session()
        for _ in range(60):
            session.get(f"{base_url}/api/auth/session", headers=filler, timeout=10)
        session.get(
            f"{base_url}/api/auth/session",
            headers={f"X-Many-{index}": "m" * 2000 for index in range(100)},
            timeout=10,
        )
        listing = live_journal(base_url)
    entries = listing.json()["requests"]
    assert len(listing.content) <= 2 * settings.JOURNAL_MAX_BYTES
    assert 5 < len(entries) < 60
    assert [entry["id"] for entry in entries] == list(range(61, 61 - len(entries), -1))  # the newest, newest first
    assert journal.bytes <= settings.JOURNAL_MAX_BYTES
    many = entries[0]
    assert many["requestHeadersTruncated"] and len(many["requestHeaders"]) == settings.JOURNAL_HEADERS
    assert all(len(value) <= settings.JOURNAL_HEADER_CHARS for value in many["requestHeaders"].values())
