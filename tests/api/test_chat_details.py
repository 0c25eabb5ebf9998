"""getChatDetails: a participant sees the chat as it is now; others get a 404."""

from __future__ import annotations

import pytest
from support import ALEX, BILLING, CHAT, MORGAN, PARTICIPANTS, PRIYA, PROJECT, SAM, bearer

pytestmark = pytest.mark.both_stores  # the memory and the Redis store keep the same rules

CHAT_PATH = f"/api/chat/projects/{PROJECT}/chats/{CHAT}"


def test_a_participant_sees_the_chat(client):
    response = client.get(CHAT_PATH, headers=bearer(ALEX))

    assert response.status_code == 200
    data = response.get_json()["data"]
    assert (data["_id"], data["name"], data["type"]) == (CHAT, "Launch planning", "group")
    assert data["participants"] == [
        {"userId": MORGAN, "role": "admin"},
        {"userId": ALEX, "role": "member"},
        {"userId": SAM, "role": "member"},
    ]


def test_head_is_answered_like_get(client):
    response = client.head(CHAT_PATH, headers=bearer(ALEX))
    assert response.status_code == 200
    assert response.get_data() == b""


def test_the_details_follow_removals(client):
    client.delete(PARTICIPANTS, json={"userId": SAM}, headers=bearer(MORGAN))
    participants = client.get(CHAT_PATH, headers=bearer(MORGAN)).get_json()["data"]["participants"]
    assert [p["userId"] for p in participants] == [MORGAN, ALEX]


@pytest.mark.parametrize(
    "path, caller",
    [
        (CHAT_PATH, PRIYA),  # a project member outside the chat
        (f"/api/chat/projects/{PROJECT}/chats/chat_unknown", MORGAN),
        (f"/api/chat/projects/{BILLING}/chats/{CHAT}", MORGAN),
        (f"/api/chat/projects/proj_unknown/chats/{CHAT}", MORGAN),
    ],
)
def test_outsiders_and_unknown_chats_get_404(client, path, caller):
    response = client.get(path, headers=bearer(caller))
    assert response.status_code == 404
    body = response.get_json()
    assert body["code"] == "NOT_FOUND"
    # The same words whether the chat is unknown or someone else's.
    project, chat = path.split("/")[4], path.split("/")[6]
    assert body["details"] == f"No chat {chat} of yours in project {project}"


def test_details_need_a_token(client):
    assert client.get(CHAT_PATH).status_code == 401
