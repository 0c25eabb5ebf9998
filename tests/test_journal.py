"""The request journal at /__mock/requests: what clients sent and got, newest first, in
a bounded buffer, filtered, with secrets redacted, and never the /__mock calls."""

from __future__ import annotations

import pytest
from support import ALEX, CHAT, FIXTURES, MORGAN, PARTICIPANTS, PROJECT, SAM, SECRET, SPEC, ContractClient, bearer

from mockserver import create_app
from mockserver.controls.steering import ControlOptions

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
        "requestBody": None,
        "responseBody": response.get_json(),
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
