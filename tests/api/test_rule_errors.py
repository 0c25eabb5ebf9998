"""Every broken rule's answer, word for word: the status, the code, and the `error` and
`details` texts a client shows (README, "Errors")."""

from __future__ import annotations

import pytest
from support import ALEX, BILLING, CHAT, MORGAN, PARTICIPANTS, PRIYA, PROJECT, SAM, bearer, participants_path

CHATS = f"/api/chat/projects/{PROJECT}/chats"
MESSAGES = f"{CHATS}/{CHAT}/messages"
MORGANS_MESSAGE = f"{MESSAGES}/msg_7Hc2LqW9xT4bNp3R"

RULES = {
    "createChat by a non-member": (
        ("POST", f"/api/chat/projects/{BILLING}/chats", ALEX, {"name": "x", "type": "group", "participants": []}),
        (400, "NOT_A_PROJECT_MEMBER", "Not a project member", f"You are not a member of project {BILLING}"),
    ),
    "createChat inviting a non-member": (
        ("POST", f"/api/chat/projects/{BILLING}/chats", MORGAN, {"name": "x", "type": "group", "participants": [ALEX]}),
        (400, "NOT_A_PROJECT_MEMBER", "Not a project member", f"User {ALEX} is not a member of project {BILLING}"),
    ),
    "a direct chat with two others": (
        ("POST", CHATS, MORGAN, {"name": "x", "type": "direct", "participants": [ALEX, SAM]}),
        (
            400,
            "INVALID_PARTICIPANTS",
            "Invalid participants",
            "A direct chat is between you and exactly one other member; 2 given",
        ),
    ),
    "removing a non-participant": (
        ("DELETE", PARTICIPANTS, MORGAN, {"userId": PRIYA}),
        (400, "NOT_A_PARTICIPANT", "Not a participant", f"User {PRIYA} is not a participant of chat {CHAT}"),
    ),
    "adding a non-member": (
        ("POST", PARTICIPANTS, MORGAN, {"userId": "usr_nobody", "role": "member"}),
        (400, "NOT_A_PROJECT_MEMBER", "Not a project member", f"User usr_nobody is not a member of project {PROJECT}"),
    ),
    "adding a participant again": (
        ("POST", PARTICIPANTS, MORGAN, {"userId": SAM, "role": "member"}),
        (400, "ALREADY_A_PARTICIPANT", "Already a participant", f"User {SAM} is already in chat {CHAT}"),
    ),
    "a key of a non-member": (
        ("PUT", f"/api/chat/projects/{BILLING}/me/chat-e2ee-key", ALEX, {"identityPublicKey": "k"}),
        (400, "NOT_A_PROJECT_MEMBER", "Not a project member", f"You are not a member of project {BILLING}"),
    ),
    "a member removing another": (
        ("DELETE", PARTICIPANTS, SAM, {"userId": ALEX}),
        (400, "FORBIDDEN", "Not allowed", "Only a chat admin may remove other participants; any participant may leave"),
    ),
    "a member adding anyone": (
        ("POST", PARTICIPANTS, SAM, {"userId": PRIYA, "role": "member"}),
        (400, "FORBIDDEN", "Not allowed", "Only a chat admin may add participants"),
    ),
    "an unknown project": (
        ("DELETE", participants_path("proj_x"), MORGAN, {"userId": SAM}),
        (400, "PROJECT_NOT_FOUND", "Project not found", "No project with ID proj_x"),
    ),
    "chats of an unknown project": (
        ("GET", "/api/chat/projects/proj_x/chats", MORGAN, None),
        (404, "NOT_FOUND", "Project not found", "No project proj_x of yours"),
    ),
    "an unknown chat": (
        ("DELETE", participants_path(PROJECT, "chat_x"), MORGAN, {"userId": SAM}),
        (400, "CHAT_NOT_FOUND", "Chat not found", f"No chat with ID chat_x in project {PROJECT}"),
    ),
    "details of an unknown chat": (
        ("GET", f"{CHATS}/chat_x", MORGAN, None),
        (404, "NOT_FOUND", "Chat not found", f"No chat chat_x of yours in project {PROJECT}"),
    ),
    "an unknown message": (
        ("DELETE", f"{MESSAGES}/msg_x", MORGAN, None),
        (404, "NOT_FOUND", "Message not found", f"No message msg_x in chat {CHAT}"),
    ),
    "an encrypted image": (
        ("POST", MESSAGES, MORGAN, {"type": "image", "content": "x", "e2ee": {"ciphertext": "c"}}),
        (400, "E2EE_TEXT_ONLY", "Invalid message", "Only text messages are end-to-end encrypted, not image"),
    ),
    "a message without content": (
        ("POST", MESSAGES, MORGAN, {"type": "text"}),
        (400, "EMPTY_MESSAGE", "Invalid message", "A message needs content"),
    ),
    "an encrypted message without ciphertext": (
        ("POST", MESSAGES, MORGAN, {"type": "text", "e2ee": {"nonce": "n"}}),
        (400, "EMPTY_MESSAGE", "Invalid message", "An end-to-end encrypted message needs e2ee.ciphertext"),
    ),
    "a reply to no message": (
        ("POST", MESSAGES, MORGAN, {"type": "text", "content": "x", "replyTo": "msg_x"}),
        (400, "REPLY_NOT_FOUND", "Invalid message", f"replyTo msg_x is not a message of chat {CHAT}"),
    ),
    "editing another's message": (
        ("PATCH", MORGANS_MESSAGE, ALEX, {"content": "x"}),
        (403, "FORBIDDEN", "Access denied", "Only the author may edit a message"),
    ),
    "deleting another's message": (
        ("DELETE", MORGANS_MESSAGE, ALEX, None),
        (403, "FORBIDDEN", "Access denied", "Only the author or a chat admin may delete a message"),
    ),
    "a plaintext edit without content": (
        ("PATCH", MORGANS_MESSAGE, MORGAN, {"e2ee": {"ciphertext": "c"}}),
        (400, "CONTENT_REQUIRED", "Invalid edit", "A plaintext message is edited with `content`"),
    ),
    "an unknown refresh token": (
        ("POST", "/api/auth/refresh", None, {"refreshToken": "rt_x"}),
        (401, "INVALID_REFRESH_TOKEN", "Invalid or expired refresh token", "The refresh token is unknown"),
    ),
}


@pytest.mark.parametrize("request_, answer", RULES.values(), ids=RULES)
def test_each_broken_rule_has_its_status_code_and_texts(client, request_, answer):
    method, path, user, body = request_
    response = client.open(path, method=method, json=body, headers=bearer(user) if user else {})
    error = response.get_json()
    assert (response.status_code, error["code"], error["error"], error["details"]) == answer


def test_an_encrypted_message_is_edited_with_e2ee_only(client):
    sent = client.post(MESSAGES, json={"type": "text", "e2ee": {"ciphertext": "c1"}}, headers=bearer(MORGAN))
    edit = client.patch(f"{MESSAGES}/{sent.get_json()['data']['_id']}", json={"content": "x"}, headers=bearer(MORGAN))
    error = edit.get_json()
    assert (edit.status_code, error["code"], error["error"], error["details"]) == (
        400,
        "E2EE_REQUIRED",
        "Invalid edit",
        "An end-to-end encrypted message is edited with `e2ee`",
    )
