"""The state's budget, attacked over real HTTP: a mock on 127.0.0.1 (waitress), with the
memory and the Redis store, refuses what would pass a limit with a 400 LIMIT_EXCEEDED in
the Error envelope, keeps nothing of the refused request, and serves on; and reading its
state costs a bounded answer however full it is.

The small limits come from MOCKSERVER_STATE_LIMITS, the defaults' from the mock itself:
a mock that knows no budget ignores the variable, and each test fails on its figures.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Callable, Iterator

import pytest
import requests
from support import (
    ALEX,
    CHAT,
    ERROR_FIELDS,
    FIXTURES,
    MORGAN,
    OTHER_CHAT,
    PRIYA,
    PROJECT,
    SAM,
    SECRET,
    SPEC,
    bearer,
    check_admin_response,
    participants_path,
)

from mockserver import create_app
from mockserver.server.serving import serve_in_background

pytestmark = pytest.mark.both_stores  # the rules are shared: both stores keep the budget

MESSAGES = f"/api/chat/projects/{PROJECT}/chats/{CHAT}/messages"
CHATS = f"/api/chat/projects/{PROJECT}/chats"
LOGIN = {"email": "morgan.chen@northwind.dev", "password": "morgan-demo-password"}
# The finding's body: 64 K characters of content and 14 mentions as long, about 1 MiB.
MIB_BODY = {"type": "text", "content": "x" * 65536, "mentions": [f"usr_{i:02d}" + "m" * 65530 for i in range(14)]}
FIXTURE_MESSAGES = 3  # of CHAT


@pytest.fixture
def serve(store_url: str, monkeypatch) -> Iterator[Callable[[str], str]]:
    """serve(limits) -> the base URL of a mock started with MOCKSERVER_STATE_LIMITS=limits."""
    with contextlib.ExitStack() as servers:

        def start(limits: str = "") -> str:
            monkeypatch.setenv("MOCKSERVER_STATE_LIMITS", limits)
            prefix = f"budget-{uuid.uuid4().hex}"
            app = create_app(SPEC, FIXTURES, jwt_secret=SECRET, store_url=store_url, store_prefix=prefix)
            return servers.enter_context(serve_in_background(app))

        yield start


def post(base: str, path: str, body: dict, user: str = MORGAN) -> requests.Response:
    return requests.post(base + path, json=body, headers=bearer(user), timeout=30)


def assert_limit_exceeded(response: requests.Response, *names: str) -> None:
    assert response.status_code == 400, response.text[:300]
    body = response.json()
    assert set(body) == ERROR_FIELDS
    assert body["code"] == "LIMIT_EXCEEDED", body
    assert any(name in body["details"] for name in names), body["details"]


def summary(base: str) -> dict:
    response = requests.get(base + "/__mock/state", timeout=30)
    check_admin_response(response)
    return response.json()


def chat_summary(base: str, chat: str = CHAT) -> dict:
    return next(c for c in summary(base)["chats"] if c["_id"] == chat)


def message_count(base: str, chat: str = CHAT) -> int:
    """The chat's messages as a participant lists them (not the admin view)."""
    path = f"/api/chat/projects/{PROJECT}/chats/{chat}/messages"
    response = requests.get(base + path, params={"limit": 1}, headers=bearer(), timeout=30)
    return response.json()["data"]["total"]


def test_sends_past_the_chat_budget_are_refused_and_the_count_stops_at_the_limit(serve):
    base = serve("messages_per_chat=10")
    statuses = [post(base, MESSAGES, {"type": "text", "content": f"flood {i}"}).status_code for i in range(12)]

    assert statuses == [201] * (10 - FIXTURE_MESSAGES) + [400] * (FIXTURE_MESSAGES + 2)
    assert_limit_exceeded(post(base, MESSAGES, {"type": "text", "content": "one more"}), "messages_per_chat")
    assert message_count(base) == 10
    # The mock serves on: reading works, another chat takes messages, a deletion makes room.
    assert post(base, f"/api/chat/projects/{PROJECT}/chats/{OTHER_CHAT}/messages", {"type": "text", "content": "hi"}).ok
    newest = requests.get(base + MESSAGES, params={"limit": 1}, headers=bearer(), timeout=30).json()["data"]
    assert requests.delete(f"{base}{MESSAGES}/{newest['messages'][0]['_id']}", headers=bearer(), timeout=30).ok
    assert post(base, MESSAGES, {"type": "text", "content": "room again"}).status_code == 201


def test_a_1_mib_message_is_refused_and_nothing_of_it_is_kept(serve):
    base = serve()
    before = chat_summary(base)

    response = post(base, MESSAGES, MIB_BODY)

    assert_limit_exceeded(response, "mentions_per_message")
    assert len(response.content) < 1000  # the answer does not echo the request
    too_long = post(base, MESSAGES, {"type": "text", "content": "é" * 8193})  # 16,386 bytes of UTF-8
    assert_limit_exceeded(too_long, "content_bytes")
    assert post(base, MESSAGES, {"type": "text", "content": "é" * 8192}).status_code == 201  # 16 KiB exactly
    after = chat_summary(base)
    assert after["messageCount"] == before["messageCount"] + 1
    assert after["bytes"] - before["bytes"] < 20_000


def test_an_e2ee_payload_past_the_content_budget_is_refused(serve):
    base = serve("content_bytes=1KiB")
    payload = {"version": 1, "scheme": "mudbase-e2ee-v1", "ciphertext": "A" * 1000, "nonce": "bm9uY2U="}

    assert_limit_exceeded(post(base, MESSAGES, {"type": "text", "e2ee": payload}), "content_bytes")
    assert message_count(base) == FIXTURE_MESSAGES


def test_mentions_are_participants_of_the_chat_and_at_most_a_few(serve):
    base = serve("mentions_per_message=2")

    stranger = post(base, MESSAGES, {"type": "text", "content": "hey", "mentions": [SAM, PRIYA]})
    assert stranger.status_code == 400
    assert stranger.json()["code"] == "INVALID_MENTIONS"
    assert PRIYA in stranger.json()["details"]
    assert_limit_exceeded(
        post(base, MESSAGES, {"type": "text", "content": "all", "mentions": [SAM, ALEX, MORGAN]}),
        "mentions_per_message",
    )
    assert post(base, MESSAGES, {"type": "text", "content": "you two", "mentions": [SAM, ALEX, SAM]}).status_code == 201
    assert message_count(base) == FIXTURE_MESSAGES + 1


def test_distinct_reactions_past_the_limit_are_refused_and_the_answer_stays_small(serve):
    base = serve()
    message = post(base, MESSAGES, {"type": "text", "content": "react"}).json()["data"]["_id"]
    reactions = f"{MESSAGES}/{message}/reactions"

    statuses = [post(base, reactions, {"emoji": f"r{i:031d}"}).status_code for i in range(25)]

    assert statuses == [200] * 20 + [400] * 5
    assert_limit_exceeded(post(base, reactions, {"emoji": "🦄"}), "reactions_per_message")
    # Another user joins a reaction there is: no new emoji, so it is not refused.
    joined = post(base, reactions, {"emoji": "r" + "0" * 31}, user=SAM)
    assert joined.status_code == 200
    assert len(joined.content) < 5_000
    assert len(joined.json()["data"]) == 20


def test_chats_past_the_project_budget_are_refused(serve):
    base = serve("chats_per_project=4")  # the project has 2 chats of the fixtures
    chat = {"name": "Flood", "type": "group", "participants": [ALEX]}

    assert [post(base, CHATS, chat).status_code for _ in range(4)] == [201, 201, 400, 400]
    assert_limit_exceeded(post(base, CHATS, chat), "chats_per_project")
    assert_limit_exceeded(post(base, CHATS, {**chat, "name": "n" * 20_000}), "chats_per_project")
    assert [p["chatCount"] for p in summary(base)["projects"] if p["projectId"] == PROJECT] == [4]


def test_a_long_chat_name_is_refused(serve):
    base = serve()
    assert_limit_exceeded(
        post(base, CHATS, {"name": "n" * 20_000, "type": "group", "participants": []}), "content_bytes"
    )


def test_participants_past_the_chat_budget_are_refused(serve):
    base = serve("participants_per_chat=3")  # CHAT has Morgan, Alex and Sam

    assert_limit_exceeded(post(base, participants_path(), {"userId": PRIYA}), "participants_per_chat")
    group = {"name": "Everyone", "type": "group", "participants": [ALEX, SAM, PRIYA]}
    assert_limit_exceeded(post(base, CHATS, group), "participants_per_chat")
    assert [p["userId"] for p in chat_summary(base)["participants"]] == [MORGAN, ALEX, SAM]


def test_logins_past_the_session_budget_are_refused_and_open_sessions_work_on(serve):
    base = serve("sessions=3")
    logins = [requests.post(base + "/api/auth/login", json=LOGIN, timeout=30) for _ in range(4)]

    assert [login.status_code for login in logins] == [200, 200, 200, 400]
    assert_limit_exceeded(logins[3], "sessions")
    token = logins[0].json()["token"]
    assert requests.get(base + CHATS, headers={"Authorization": f"Bearer {token}"}, timeout=30).status_code == 200
    assert summary(base)["sessions"] == 3


def test_the_whole_state_stays_within_its_byte_budget(serve):
    base = serve("state_bytes=300KiB")
    content = "z" * 16_000
    statuses = [post(base, MESSAGES, {"type": "text", "content": content}).status_code for _ in range(30)]

    assert 201 in statuses and statuses[-1] == 400
    assert statuses == sorted(statuses, key=lambda status: status != 201)  # accepted until full, then refused
    assert_limit_exceeded(post(base, MESSAGES, {"type": "text", "content": content}), "state_bytes")
    state = summary(base)
    assert state["bytes"] <= 300 * 1024 == state["limits"]["stateBytes"]
    # A reset starts over.
    assert requests.post(base + "/__mock/reset", json={}, timeout=30).status_code == 200
    assert post(base, MESSAGES, {"type": "text", "content": content}).status_code == 201


def test_the_state_of_a_filled_mock_reads_in_bounded_answers(serve):
    base = serve()
    for _ in range(150):  # 2.4 MB of content
        assert post(base, MESSAGES, {"type": "text", "content": "y" * 16_000}).status_code == 201

    whole = requests.get(base + "/__mock/state", timeout=30)

    check_admin_response(whole)
    assert len(whole.content) < 10_000
    assert chat_summary(base)["messageCount"] == FIXTURE_MESSAGES + 150
    pages, cursor = [], None
    while True:
        query = {"projectId": PROJECT, "chatId": CHAT, "limit": 100} | ({"cursor": cursor} if cursor else {})
        page = requests.get(base + "/__mock/state", params=query, timeout=30)
        check_admin_response(page)
        assert len(page.content) < 100 * 16_500
        pages.append(page.json()["messages"])
        cursor = page.json()["nextCursor"]
        if cursor is None:
            break
    assert [len(messages) for messages in pages] == [100, 53]
    oversized = requests.get(base + "/__mock/state", params={"projectId": PROJECT, "chatId": CHAT, "limit": 101})
    assert oversized.status_code == 400
    check_admin_response(oversized)


def test_the_journal_keeps_its_bodies_within_their_budget(serve):
    # The journal keeps JOURNAL_BODY_BYTES (4 KiB) of each body as it records it
    # (controls/journal.py), so an entry of a 60 kB request costs about 5 KiB: past
    # journal_bytes, the oldest entries go.
    base = serve("journal_bytes=32KiB")
    for i in range(20):
        post(base, MESSAGES, {"type": "text", "content": f"{i} " + "j" * 60_000})

    journal = requests.get(base + "/__mock/requests", params={"limit": 100}, timeout=30)

    check_admin_response(journal)
    kept = journal.json()["requests"]
    assert 1 <= len(kept) < 10
    assert len(json.dumps(kept)) < 64 * 1024
    newest = kept[0]  # the newest are the ones kept, their bodies cut
    assert newest["requestBody"].startswith('{"type": "text", "content": "19 ')
    assert newest["requestBodyTruncated"] and newest["requestBodyBytes"] > 60_000


def test_an_edit_past_the_content_budget_is_refused_and_the_message_stays_as_it_was(serve):
    base = serve("content_bytes=100")
    message = post(base, MESSAGES, {"type": "text", "content": "short"}).json()["data"]["_id"]

    edit = requests.patch(f"{base}{MESSAGES}/{message}", json={"content": "e" * 101}, headers=bearer(), timeout=30)

    assert_limit_exceeded(edit, "content_bytes")
    query = {"projectId": PROJECT, "chatId": CHAT, "cursor": FIXTURE_MESSAGES}
    [kept] = requests.get(base + "/__mock/state", params=query, timeout=30).json()["messages"]
    assert kept["content"] == "short" and "editedAt" not in kept


def test_sessions_past_their_budget_refuse_a_logout_of_an_unknown_session_and_a_refresh(serve):
    baseline = summary(serve())["bytes"]
    base = serve(f"sessions=1,state_bytes={baseline + 500}")  # room for one session, not for a refresh
    login = requests.post(base + "/api/auth/login", json=LOGIN, timeout=30).json()

    # A token of no session the mock knows (as `mockserver token` prints): ending it takes a session.
    unknown = requests.post(base + "/api/auth/logout", headers=bearer(), timeout=30)
    assert unknown.status_code == 401
    assert unknown.json()["code"] == "LIMIT_EXCEEDED"
    refresh = requests.post(base + "/api/auth/refresh", json={"refreshToken": login["refreshToken"]}, timeout=30)
    assert_limit_exceeded(refresh, "state_bytes")
    # The session itself works on, and ends.
    own = {"Authorization": f"Bearer {login['token']}"}
    assert requests.post(base + "/api/auth/logout", headers=own, timeout=30).status_code == 200
    assert requests.get(base + CHATS, headers=own, timeout=30).status_code == 401
