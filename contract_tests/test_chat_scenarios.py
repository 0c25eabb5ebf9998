"""Scenarios of the chat API's rules: messages, read state, reactions, edits and
deletes, who may see a chat, new chats and E2EE keys.

Three users take part: the suite's user (an admin of CONTRACT_CHAT_ID), the member
CONTRACT_PARTICIPANT_ID and the outsider CONTRACT_OUTSIDER_ID (a project member in
no chat of it). Each scenario puts back what it changes, whatever the target
answers: every text it writes carries a mark of the scenario, and the messages with
that mark are deleted at its end; a chat it creates stays, as the API has no way to
delete one.
"""

from __future__ import annotations

import secrets

import pytest

from contract_tests.api import Undo, call, data, send
from contract_tests.target import Target

pytestmark = pytest.mark.mutates_state


class Sent:
    """Messages of a scenario: their texts carry its mark, and at its end the chat's
    admin (the suite's user) deletes every message with that mark it can list."""

    def __init__(self, target: Target, undo: Undo) -> None:
        self.target = target
        self.mark = f"contract scenario {secrets.token_hex(4)}"
        undo.do("delete the scenario's messages", self.delete_marked)

    def text(self, words: str = "") -> str:
        return f"{self.mark}: {words or secrets.token_hex(4)}"

    def send(self, token: str | None = None, **body) -> dict:
        body = {"type": "text", "content": self.text(), **body}
        message = data(call(self.target, "sendMessage", token, json=body), 201)
        if not isinstance(message, dict) or not isinstance(message.get("_id"), str):
            raise AssertionError(f"sendMessage answered no message ID: {message!r}")
        return {**body, **message}

    def delete_marked(self) -> None:
        listed = send(self.target, "getChatMessages", params={"limit": 100})
        try:
            messages = listed.json()["data"]["messages"]
        except (ValueError, KeyError, TypeError):
            return  # nothing to go by: the list itself breaks the contract
        for message in messages:
            if isinstance(message, dict) and self.mark in str(message.get("content")):
                send(self.target, "deleteMessage", messageId=str(message.get("_id")))


@pytest.fixture
def sent(target: Target, undo: Undo) -> Sent:
    return Sent(target, undo)


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


def test_each_message_is_listed_with_its_sender(target: Target, sent: Sent, member: str):
    mine, theirs = sent.send(), sent.send(member)
    expected = [(theirs["_id"], target.ids.participant_id), (mine["_id"], target.user_id)]
    for viewer, token in (("the suite's user", None), ("the member", member)):
        messages, _ = listed(target, token, limit=2)
        seen = [(m["_id"], m["sender"]["_id"]) for m in messages]
        assert seen == expected, f"as {viewer}: expected (message, sender) {expected}, saw {seen}"


def test_pagination_and_time_filters(target: Target, sent: Sent):
    one, two, three = (sent.send() for _ in range(3))
    pages = [listed(target, page=page, limit=1) for page in (1, 2, 3)]
    assert [messages[0]["_id"] for messages, _ in pages] == [three["_id"], two["_id"], one["_id"]]
    assert len({total for _, total in pages}) == 1, "total differs between pages"
    total = pages[0][1]
    assert total >= 3, f"three messages sent: expected a total of at least 3 on pages of one, saw {total}"
    # `total` counts the matching messages over all pages, not the page: two pages of one.
    newer_pages = [listed(target, after=one["createdAt"], page=page, limit=1) for page in (1, 2)]
    seen = [([m["_id"] for m in messages], total) for messages, total in newer_pages]
    expected = [([three["_id"]], 2), ([two["_id"]], 2)]
    assert seen == expected, f"two messages after the first, one a page: expected (IDs, total) {expected}, saw {seen}"
    newer, total = listed(target, after=one["createdAt"])
    assert [m["_id"] for m in newer] == [three["_id"], two["_id"]] and total == 2
    between, total = listed(target, after=one["createdAt"], before=three["createdAt"])
    assert [m["_id"] for m in between] == [two["_id"]] and total == 1


def test_unread_count_and_last_message_follow_sends_and_reads(target: Target, sent: Sent, member: str):
    unread_before = chat_entry(target)["unreadCount"]
    first, last = sent.send(member), sent.send(member)
    entry = chat_entry(target)
    assert entry["lastMessage"]["content"] == last["content"]
    assert entry["unreadCount"] == unread_before + 2, f"expected unreadCount {unread_before + 2}, saw {entry}"
    ids = {"messageIds": [first["_id"], last["_id"]]}
    marked = data(call(target, "markMessagesAsRead", json=ids))
    assert marked["modifiedCount"] == 2, f"two unread messages marked read: expected modifiedCount 2, saw {marked}"
    assert chat_entry(target)["unreadCount"] == unread_before
    again = data(call(target, "markMessagesAsRead", json=ids))
    assert again["modifiedCount"] == 0, "a message read already was counted again"


def test_reactions_are_per_user(target: Target, sent: Sent, member: str):
    message = sent.send()
    react = {"json": {"emoji": "👍"}, "messageId": message["_id"]}
    data(call(target, "addReaction", member, **react))
    data(call(target, "addReaction", **react))
    reactions = data(call(target, "addReaction", **react))  # once more: still one reaction of ours
    both = [("👍", [target.ids.participant_id, target.user_id], 2)]
    seen = [(r["emoji"], r["users"], r["count"]) for r in reactions]
    assert seen == both, f"two users reacted with 👍: expected (emoji, users, count) {both}, saw {seen}"
    (shown, *_), _ = listed(target, limit=1)
    assert shown["_id"] == message["_id"], "the message reacted to is no longer listed first"
    seen = [(r["emoji"], r["users"], r["count"]) for r in shown["reactions"]]
    assert seen == both, f"the listed message's reactions: expected {both}, saw {seen}"
    left = data(call(target, "removeReaction", member, **react))
    assert [(r["emoji"], r["users"], r["count"]) for r in left] == [("👍", [target.user_id], 1)]


def test_only_the_author_edits(target: Target, sent: Sent, member: str):
    message = sent.send()
    not_mine, by_its_author = sent.text("not mine"), sent.text("edited by its author")
    call(target, "editMessage", member, json={"content": not_mine}, messageId=message["_id"]).expect_error(403)
    edited = data(call(target, "editMessage", json={"content": by_its_author}, messageId=message["_id"]))
    assert edited["content"] == by_its_author and edited.get("editedAt")
    (first, *_), _ = listed(target, limit=1)
    assert (first["_id"], first["content"]) == (message["_id"], by_its_author)
    assert first.get("editedAt"), "the list does not show that the message was edited"


def test_the_author_or_a_chat_admin_deletes(target: Target, sent: Sent, member: str):
    admins = sent.send()
    call(target, "deleteMessage", member, messageId=admins["_id"]).expect_error(403)
    members = sent.send(member)
    call(target, "deleteMessage", messageId=members["_id"]).expect(200)  # the admin deletes another's
    assert members["_id"] not in [m["_id"] for m in listed(target, limit=10)[0]]
    call(target, "deleteMessage", messageId=members["_id"]).expect_error(404)


def test_outsiders_cannot_see_or_write(target: Target, sent: Sent, outsider: str):
    message = {"messageId": sent.send()["_id"]}
    call(target, "getChatDetails", outsider).expect_error(404)
    call(target, "getChatMessages", outsider).expect_error(404)
    call(target, "sendMessage", outsider, json={"type": "text", "content": sent.text("let me in")}).expect_error(404)
    call(target, "addReaction", outsider, json={"emoji": "👀"}, **message).expect_error(404)
    call(target, "markMessagesAsRead", outsider, json={"messageIds": [message["messageId"]]}).expect_error(404)
    call(target, "getChatE2eeParticipantKeys", outsider).expect_error(404)
    chats = data(call(target, "getUserChats", outsider, params={"limit": 100}))["chats"]
    assert target.ids.chat_id not in [chat.get("_id") for chat in chats]


def test_a_removed_participant_can_no_longer_read_send_react_or_rejoin(
    target: Target, sent: Sent, undo: Undo, member: str
):
    participant, message = target.ids.participant_id, {"messageId": sent.send()["_id"]}
    back = {"userId": participant, "role": "member"}
    undo.call("addParticipant", json=back)
    call(target, "removeParticipant", json={"userId": participant}).expect(200)
    call(target, "getChatDetails", member).expect_error(404)
    call(target, "getChatMessages", member).expect_error(404)
    call(target, "sendMessage", member, json={"type": "text", "content": sent.text("still here?")}).expect_error(404)
    call(target, "addReaction", member, json={"emoji": "👋"}, **message).expect_error(404)
    call(target, "addParticipant", member, json=back).expect_rule_violation()  # no way back in on their own
    call(target, "addParticipant", json=back).expect(200)
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


def test_e2ee_keys_are_stored_per_user_and_listed_for_the_participants(target: Target, undo: Undo, member: str):
    before = {key["userId"]: key for key in data(call(target, "getChatE2eeParticipantKeys"))}
    for user_id, token in ((target.user_id, None), (target.ids.participant_id, member)):
        if user_id in before:  # the keys as they were (a user without one keeps the scenario's)
            old = {name: before[user_id][name] for name in ("identityPublicKey", "keyVersion")}
            undo.call("putChatE2eeKey", token, json=old)
    mine, theirs = f"contract-key-{secrets.token_hex(6)}", f"contract-key-{secrets.token_hex(6)}"
    saved = data(call(target, "putChatE2eeKey", json={"identityPublicKey": mine}))
    assert saved["identityPublicKey"] == mine
    previous = before.get(target.user_id, {}).get("keyVersion", 0)
    assert saved["keyVersion"] == previous + 1, "without keyVersion, the stored version goes up by one"
    data(call(target, "putChatE2eeKey", member, json={"identityPublicKey": theirs, "keyVersion": 7}))
    keys = {key["userId"]: key for key in data(call(target, "getChatE2eeParticipantKeys", member))}
    assert keys[target.user_id]["identityPublicKey"] == mine
    member_key = keys[target.ids.participant_id]
    assert (member_key["identityPublicKey"], member_key["keyVersion"]) == (theirs, 7)
