"""Scenarios of the chat API's rules: messages, read state, reactions, edits and
deletes, who may see a chat, new chats and E2EE keys.

Three users take part: the suite's user (an admin of CONTRACT_CHAT_ID), the member
CONTRACT_PARTICIPANT_ID and the outsider CONTRACT_OUTSIDER_ID (a project member in
no chat of it). Each scenario deletes the messages it sends and puts back what it
changes, whatever the target answers; a chat it creates stays, as the API has no
way to delete one.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

from contract_tests.api import call, data, user_token
from contract_tests.target import Target

pytestmark = pytest.mark.mutates_state


@pytest.fixture
def member(target: Target) -> str:
    return user_token(target, target.ids.participant_id, target.participant_token, "member")


@pytest.fixture
def outsider(target: Target) -> str:
    return user_token(target, target.ids.outsider_id, target.outsider_token, "outsider")


class Sent:
    """Messages sent by a scenario, deleted afterwards by their authors."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.sent: list[tuple[str, str | None]] = []  # (message ID, author's token)

    def send(self, token: str | None = None, **body) -> dict:
        body = {"type": "text", "content": f"contract scenario {secrets.token_hex(4)}", **body}
        message = data(call(self.target, "sendMessage", token, json=body), 201)
        if not isinstance(message, dict) or not isinstance(message.get("_id"), str):
            raise AssertionError(f"sendMessage answered no message ID: {message!r}")
        self.sent.append((message["_id"], token))
        return {**body, **message}

    def clean_up(self) -> None:
        for message_id, token in reversed(self.sent):
            call(self.target, "deleteMessage", token, messageId=message_id)


@pytest.fixture
def sent(target: Target) -> Iterator[Sent]:
    messages = Sent(target)
    try:
        yield messages
    finally:
        messages.clean_up()


def listed(target: Target, token: str | None = None, **params) -> tuple[list[dict], int]:
    page = data(call(target, "getChatMessages", token, params=params))
    return page["messages"], page["total"]


def chat_entry(target: Target, token: str | None = None) -> dict:
    """The target's chat in the user's chat list."""
    chats = data(call(target, "getUserChats", token, params={"limit": 100}))["chats"]
    entry = next((chat for chat in chats if chat.get("_id") == target.ids.chat_id), None)
    if entry is None:
        raise AssertionError(f"getUserChats does not list chat {target.ids.chat_id}")
    return entry


def test_a_sent_message_is_listed_first(target: Target, sent: Sent):
    message = sent.send()
    (first, *_), _ = listed(target, limit=5)
    assert first["_id"] == message["_id"], "the newest message is not listed first"
    assert first["content"] == message["content"]
    assert first["sender"]["_id"] == target.user_id


def test_pagination_and_time_filters(target: Target, sent: Sent):
    one, two, three = (sent.send() for _ in range(3))
    pages = [listed(target, page=page, limit=1) for page in (1, 2, 3)]
    assert [messages[0]["_id"] for messages, _ in pages] == [three["_id"], two["_id"], one["_id"]]
    assert len({total for _, total in pages}) == 1, "total differs between pages"
    newer, total = listed(target, after=one["createdAt"])
    assert [m["_id"] for m in newer] == [three["_id"], two["_id"]] and total == 2
    between, total = listed(target, after=one["createdAt"], before=three["createdAt"])
    assert [m["_id"] for m in between] == [two["_id"]] and total == 1


def test_unread_count_and_last_message_follow_sends_and_reads(target: Target, sent: Sent, member: str):
    unread_before = chat_entry(target)["unreadCount"]
    message = sent.send(member)
    entry = chat_entry(target)
    assert entry["lastMessage"]["content"] == message["content"]
    assert entry["unreadCount"] == unread_before + 1
    marked = data(call(target, "markMessagesAsRead", json={"messageIds": [message["_id"]]}))
    assert marked["modifiedCount"] == 1
    assert chat_entry(target)["unreadCount"] == unread_before
    again = data(call(target, "markMessagesAsRead", json={"messageIds": [message["_id"]]}))
    assert again["modifiedCount"] == 0, "a message read already was counted again"


def test_reactions_are_per_user(target: Target, sent: Sent, member: str):
    message = sent.send()
    react = {"json": {"emoji": "👍"}, "messageId": message["_id"]}
    data(call(target, "addReaction", member, **react))
    data(call(target, "addReaction", **react))
    reactions = data(call(target, "addReaction", **react))  # once more: still one reaction of ours
    assert [(r["emoji"], r["users"]) for r in reactions] == [("👍", [target.ids.participant_id, target.user_id])]
    left = data(call(target, "removeReaction", member, **react))
    assert [(r["emoji"], r["users"], r["count"]) for r in left] == [("👍", [target.user_id], 1)]


def test_only_the_author_edits(target: Target, sent: Sent, member: str):
    message = sent.send()
    call(target, "editMessage", member, json={"content": "not mine"}, messageId=message["_id"]).expect_error(403)
    edited = data(call(target, "editMessage", json={"content": "edited by its author"}, messageId=message["_id"]))
    assert edited["content"] == "edited by its author" and edited.get("editedAt")
    (first, *_), _ = listed(target, limit=1)
    assert (first["_id"], first["content"]) == (message["_id"], "edited by its author")
    assert first.get("editedAt"), "the list does not show that the message was edited"


def test_the_author_or_a_chat_admin_deletes(target: Target, sent: Sent, member: str):
    admins = sent.send()
    call(target, "deleteMessage", member, messageId=admins["_id"]).expect_error(403)
    members = sent.send(member)
    call(target, "deleteMessage", messageId=members["_id"]).expect(200)  # the admin deletes another's
    sent.sent.remove((members["_id"], member))
    assert members["_id"] not in [m["_id"] for m in listed(target, limit=10)[0]]
    call(target, "deleteMessage", messageId=members["_id"]).expect_error(404)


def test_outsiders_cannot_see_or_write(target: Target, outsider: str):
    message = {"messageId": target.ids.message_id}
    call(target, "getChatMessages", outsider).expect_error(404)
    call(target, "sendMessage", outsider, json={"type": "text", "content": "let me in"}).expect_error(404)
    call(target, "addReaction", outsider, json={"emoji": "👀"}, **message).expect_error(404)
    call(target, "markMessagesAsRead", outsider, json={"messageIds": [target.ids.message_id]}).expect_error(404)
    call(target, "getChatE2eeParticipantKeys", outsider).expect_error(404)
    chats = data(call(target, "getUserChats", outsider, params={"limit": 100}))["chats"]
    assert target.ids.chat_id not in [chat.get("_id") for chat in chats]


def test_a_removed_participant_can_no_longer_read_send_or_react(target: Target, member: str):
    participant = target.ids.participant_id
    call(target, "removeParticipant", json={"userId": participant}).expect(200)
    try:
        call(target, "getChatMessages", member).expect_error(404)
        call(target, "sendMessage", member, json={"type": "text", "content": "still here?"}).expect_error(404)
        call(target, "addReaction", member, json={"emoji": "👋"}, messageId=target.ids.message_id).expect_error(404)
    finally:
        call(target, "addParticipant", json={"userId": participant, "role": "member"})
    data(call(target, "getChatMessages", member))  # back in, they read again


def test_a_new_chat_has_its_creator_as_admin_and_is_listed_for_every_participant(target: Target, member: str):
    name = f"contract chat {secrets.token_hex(4)}"
    body = {"name": name, "type": "group", "participants": [target.ids.participant_id]}
    chat = data(call(target, "createChat", json=body), 201)
    assert set(chat["participants"]) == {target.user_id, target.ids.participant_id}
    shown = data(call(target, "getChatDetails", chatId=chat["_id"]))
    roles = {p["userId"]: p["role"] for p in shown["participants"]}
    assert roles == {target.user_id: "admin", target.ids.participant_id: "member"}
    for token in (None, member):
        chats = data(call(target, "getUserChats", token, params={"limit": 100}))["chats"]
        assert chat["_id"] in [c.get("_id") for c in chats], "the new chat is not in a participant's list"


def test_e2ee_keys_are_stored_per_user_and_listed_for_the_participants(target: Target, member: str):
    before = {key["userId"]: key for key in data(call(target, "getChatE2eeParticipantKeys"))}
    mine, theirs = f"contract-key-{secrets.token_hex(6)}", f"contract-key-{secrets.token_hex(6)}"
    try:
        saved = data(call(target, "putChatE2eeKey", json={"identityPublicKey": mine}))
        assert saved["identityPublicKey"] == mine
        previous = before.get(target.user_id, {}).get("keyVersion", 0)
        assert saved["keyVersion"] == previous + 1, "without keyVersion, the stored version goes up by one"
        data(call(target, "putChatE2eeKey", member, json={"identityPublicKey": theirs, "keyVersion": 7}))
        keys = {key["userId"]: key for key in data(call(target, "getChatE2eeParticipantKeys", member))}
        assert keys[target.user_id]["identityPublicKey"] == mine
        member_key = keys[target.ids.participant_id]
        assert (member_key["identityPublicKey"], member_key["keyVersion"]) == (theirs, 7)
    finally:  # the keys as they were (a user without one keeps the scenario's)
        for user_id, token in ((target.user_id, None), (target.ids.participant_id, member)):
            if user_id in before:
                old = {k: before[user_id][k] for k in ("identityPublicKey", "keyVersion")}
                call(target, "putChatE2eeKey", token, json=old)
