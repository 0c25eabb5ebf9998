"""A chat's messages: listing, sending, read state, editing, deleting and reactions,
each for the chat's participants only."""

from __future__ import annotations

from datetime import datetime

import pytest
from support import ALEX, BILLING, CHAT, MORGAN, OTHER_CHAT, PARTICIPANTS, PRIYA, PROJECT, SAM, bearer

pytestmark = pytest.mark.both_stores  # the memory and the Redis store keep the same rules

# The fixture messages of chat VL0TZudKjN6SiWtV, oldest first.
KICKOFF = "msg_7Hc2LqW9xT4bNp3R"  # Morgan's; read by Alex and Sam; 👍 by Alex and Sam
CHECKLIST = "msg_Vd8KsP1mZr6YqE2T"  # Alex's; read by Morgan; 🎉 by Morgan
MOVE_IT = "msg_N4fR7tLw2XaB9cQk"  # Sam's, a reply to KICKOFF mentioning Morgan; read by nobody
ESCALATION = "msg_Ks3Wq8ZpL1vT6nHd"  # Alex's, in chat Hq3ZpW7tRbN2xKcL
INVOICES = "Bx7PnL2sKq9VwD4R"  # Priya's direct chat with Morgan, in project proj_Zr8WmQ4xTb2K
CIPHERTEXT = {
    "version": 1,
    "scheme": "mudbase-e2ee-v1",
    "ciphertext": "c2VjcmV0IGxhdW5jaCBkYXRl",
    "nonce": "bm9uY2UtMQ==",
    "senderKeyId": "key_morgan_v1",
}


def messages_path(project: str = PROJECT, chat: str = CHAT) -> str:
    return f"/api/chat/projects/{project}/chats/{chat}/messages"


def message_path(message: str, project: str = PROJECT, chat: str = CHAT) -> str:
    return f"{messages_path(project, chat)}/{message}"


def list_messages(client, caller: str = MORGAN, chat: str = CHAT, **query):
    response = client.get(messages_path(chat=chat), query_string=query, headers=bearer(caller))
    assert response.status_code == 200, response.get_json()
    return response.get_json()["data"]


def listed(client, caller: str = MORGAN, chat: str = CHAT) -> dict[str, dict]:
    """The chat's messages by ID, as `caller` lists them (all on one page)."""
    return {m["_id"]: m for m in list_messages(client, caller, chat, limit=100)["messages"]}


def send(client, caller: str = MORGAN, chat: str = CHAT, **body):
    return client.post(messages_path(chat=chat), json={"type": "text", **body}, headers=bearer(caller))


def sent_id(client, caller: str = MORGAN, chat: str = CHAT, **body) -> str:
    response = send(client, caller, chat, **body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["data"]["_id"]


def mark_read(client, ids: list[str], caller: str = MORGAN, chat: str = CHAT):
    return client.post(f"{messages_path(chat=chat)}/read", json={"messageIds": ids}, headers=bearer(caller))


def edit(client, message: str, caller: str = MORGAN, **body):
    return client.patch(message_path(message), json=body, headers=bearer(caller))


def delete(client, message: str, caller: str = MORGAN, chat: str = CHAT):
    return client.delete(message_path(message, chat=chat), headers=bearer(caller))


def react(client, message: str, emoji: str, caller: str = MORGAN, chat: str = CHAT):
    return client.post(f"{message_path(message, chat=chat)}/reactions", json={"emoji": emoji}, headers=bearer(caller))


def unreact(client, message: str, emoji: str, caller: str = MORGAN, chat: str = CHAT):
    return client.delete(f"{message_path(message, chat=chat)}/reactions", json={"emoji": emoji}, headers=bearer(caller))


def unread_count(client, caller: str, chat: str = CHAT) -> int:
    chats = client.get(f"/api/chat/projects/{PROJECT}/chats", headers=bearer(caller)).get_json()["data"]["chats"]
    return next(c["unreadCount"] for c in chats if c["_id"] == chat)


def assert_not_found(response) -> None:
    assert response.status_code == 404
    assert response.get_json()["code"] == "NOT_FOUND"


# getChatMessages


def test_messages_are_listed_newest_first_with_the_fixture_values(client):
    data = list_messages(client)

    assert data["total"] == 3
    assert [m["_id"] for m in data["messages"]] == [MOVE_IT, CHECKLIST, KICKOFF]
    move_it, checklist, kickoff = data["messages"]
    assert move_it == {
        "_id": MOVE_IT,
        "type": "text",
        "isE2ee": False,
        "content": "Can we move it to 11? I have a customer call at 10.",
        "sender": {"_id": SAM, "firstName": "Sam", "lastName": "Okafor"},
        "replyTo": KICKOFF,
        "mentions": [MORGAN],
        "reactions": [],
        "readBy": [],
        "createdAt": "2025-06-02T10:20:00Z",
    }
    assert checklist["reactions"] == [{"emoji": "🎉", "count": 1, "users": [MORGAN]}]
    assert checklist["readBy"] == [MORGAN]
    assert kickoff["sender"] == {"_id": MORGAN, "firstName": "Morgan", "lastName": "Chen"}
    assert kickoff["reactions"] == [{"emoji": "👍", "count": 2, "users": [ALEX, SAM]}]
    assert kickoff["readBy"] == [ALEX, SAM]
    assert "editedAt" not in kickoff and "replyTo" not in kickoff


@pytest.mark.parametrize(
    "page, limit, expected",
    [
        (1, 2, [MOVE_IT, CHECKLIST]),
        (2, 2, [KICKOFF]),
        (3, 1, [KICKOFF]),
        (3, 2, []),  # past the end
        (50, 100, []),
        (2**63, 100, []),  # an offset past a 64-bit integer: Redis would refuse it as a range
    ],
)
def test_pages_split_the_newest_first_list_and_total_counts_all_pages(client, page, limit, expected):
    data = list_messages(client, page=page, limit=limit)
    assert [m["_id"] for m in data["messages"]] == expected
    assert data["total"] == 3


@pytest.mark.parametrize(
    "query, expected",
    [
        ({"before": "2025-06-02T10:12:00Z"}, [KICKOFF]),  # CHECKLIST, created at 10:12, excluded
        ({"after": "2025-06-02T10:12:00Z"}, [MOVE_IT]),
        ({"after": "2025-06-02T10:05:00Z", "before": "2025-06-02T10:20:00Z"}, [CHECKLIST]),
        ({"before": "2025-06-02T10:12:00.001Z"}, [CHECKLIST, KICKOFF]),
        ({"after": "2025-06-02T10:04:59.999Z"}, [MOVE_IT, CHECKLIST, KICKOFF]),
        ({"before": "2025-06-02T10:05:00Z"}, []),
        ({"after": "2025-06-02T10:20:00Z"}, []),
    ],
)
def test_before_and_after_keep_messages_strictly_inside_and_total_counts_them(client, query, expected):
    data = list_messages(client, **query)
    assert [m["_id"] for m in data["messages"]] == expected
    assert data["total"] == len(expected)


@pytest.mark.parametrize(
    "field, value, expected",
    [("before", "2025-06-02T10:12:00z", [KICKOFF]), ("after", "2025-06-02t10:12:00z", [MOVE_IT])],
)
def test_a_lower_case_z_offset_is_understood(client, field, value, expected):
    response = client.get(messages_path(), query_string={field: value}, headers=bearer(MORGAN))
    assert response.status_code == 200
    assert [m["_id"] for m in response.get_json()["data"]["messages"]] == expected


def test_before_with_an_offset_is_compared_in_utc(client):
    # 12:12 at +02:00 is 10:12Z: CHECKLIST, created then, is not strictly before it.
    assert [m["_id"] for m in list_messages(client, before="2025-06-02T12:12:00+02:00")["messages"]] == [KICKOFF]


def test_before_with_a_limit_pages_through_the_filtered_messages(client):
    data = list_messages(client, before="2025-06-02T10:20:00Z", limit=1, page=2)
    assert [m["_id"] for m in data["messages"]] == [KICKOFF]
    assert data["total"] == 2


@pytest.mark.parametrize(
    "query, field, message",
    [
        ({"limit": 0}, "limit", "0 is less than the minimum of 1"),
        ({"limit": 101}, "limit", "101 is greater than the maximum of 100"),
        ({"page": 0}, "page", "0 is less than the minimum of 1"),
        ({"before": "not-a-date"}, "before", "'not-a-date' is not a 'date-time'"),
        ({"after": "2025-13-45"}, "after", "'2025-13-45' is not a 'date-time'"),
    ],
)
def test_bad_paging_or_time_parameters_are_validation_errors_naming_the_field(client, query, field, message):
    response = client.get(messages_path(), query_string=query, headers=bearer(MORGAN))

    assert response.status_code == 400
    body = response.get_json()
    assert body["code"] == "VALIDATION_ERROR"
    assert body["details"] == {field: message}


@pytest.mark.parametrize(
    "path, caller",
    [
        (messages_path(), PRIYA),  # a project member outside the chat
        (messages_path(chat="chat_unknown"), MORGAN),
        (messages_path(project=BILLING), MORGAN),  # the chat is in another project
        (messages_path(project="proj_unknown"), MORGAN),
        (messages_path(chat=INVOICES), ALEX),
    ],
)
def test_outsiders_and_unknown_chats_get_404_for_the_messages(client, path, caller):
    response = client.get(path, headers=bearer(caller))

    assert response.status_code == 404
    body = response.get_json()
    assert body["code"] == "NOT_FOUND"
    project, chat = path.split("/")[4], path.split("/")[6]
    assert body["details"] == f"No chat {chat} of yours in project {project}"


def test_listing_messages_needs_a_token(client):
    assert client.get(messages_path()).status_code == 401


# sendMessage


def test_a_sent_message_is_201_and_listed_first_with_its_sender(client):
    response = send(client, ALEX, content="Checklist is in the doc now.", mentions=[MORGAN, SAM, MORGAN])

    assert response.status_code == 201
    body = response.get_json()
    assert body["success"] is True
    data = body["data"]
    assert data["sender"] == ALEX
    assert data["content"] == "Checklist is in the doc now."
    assert data["_id"].startswith("msg_")
    assert datetime.fromisoformat(data["createdAt"]).tzinfo is not None

    listing = list_messages(client, SAM)
    assert listing["total"] == 4
    first = listing["messages"][0]
    assert first == {
        "_id": data["_id"],
        "type": "text",
        "isE2ee": False,
        "content": "Checklist is in the doc now.",
        "sender": {"_id": ALEX, "firstName": "Alex", "lastName": "Rivera"},
        "mentions": [MORGAN, SAM],  # duplicates dropped, order kept
        "reactions": [],
        "readBy": [],
        "createdAt": data["createdAt"],
    }
    assert [m["_id"] for m in listing["messages"][1:]] == [MOVE_IT, CHECKLIST, KICKOFF]


def test_a_reply_to_a_message_of_the_chat_is_listed_with_replyto(client):
    message = sent_id(client, MORGAN, content="11 works for me.", replyTo=MOVE_IT)
    assert listed(client)[message]["replyTo"] == MOVE_IT


@pytest.mark.parametrize("reply_to", ["msg_nope", ESCALATION], ids=["unknown message", "message of another chat"])
def test_a_reply_to_no_message_of_the_chat_is_400_reply_not_found(client, reply_to):
    response = send(client, MORGAN, content="Re:", replyTo=reply_to)

    assert response.status_code == 400
    body = response.get_json()
    assert body["code"] == "REPLY_NOT_FOUND"
    assert body["details"] == f"replyTo {reply_to} is not a message of chat {CHAT}"
    assert list_messages(client)["total"] == 3


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"content": ""},
        {"e2ee": {"scheme": "mudbase-e2ee-v1"}},
        {"e2ee": {"ciphertext": ""}},
        {"content": "", "e2ee": {}},
    ],
    ids=["nothing", "empty content", "e2ee without ciphertext", "empty ciphertext", "both empty"],
)
def test_a_message_without_content_or_ciphertext_is_400_empty_message(client, body):
    response = send(client, MORGAN, **body)

    assert response.status_code == 400
    assert response.get_json()["code"] == "EMPTY_MESSAGE"
    assert list_messages(client)["total"] == 3


@pytest.mark.parametrize("e2ee", [{}, {"ciphertext": ""}], ids=["no ciphertext", "empty ciphertext"])
def test_plaintext_beside_an_e2ee_payload_without_ciphertext_is_still_an_empty_message(client, e2ee):
    response = send(client, MORGAN, content="dropped anyway", e2ee=e2ee)

    assert response.status_code == 400
    assert response.get_json()["code"] == "EMPTY_MESSAGE"
    assert list_messages(client)["total"] == 3


@pytest.mark.parametrize("message_type", ["image", "file", "location"])
def test_e2ee_on_a_non_text_message_is_400_e2ee_text_only(client, message_type):
    response = client.post(messages_path(), json={"type": message_type, "e2ee": CIPHERTEXT}, headers=bearer(MORGAN))

    assert response.status_code == 400
    body = response.get_json()
    assert body["code"] == "E2EE_TEXT_ONLY"
    assert body["details"] == f"Only text messages are end-to-end encrypted, not {message_type}"
    assert list_messages(client)["total"] == 3


def test_a_plain_non_text_message_with_content_is_accepted(client):
    message = sent_id(client, MORGAN, type="image", content="https://cdn.example.dev/launch.png")
    assert listed(client)[message]["type"] == "image"


def test_an_e2ee_message_is_listed_with_is_e2ee_and_no_content(client):
    # Plaintext sent alongside the ciphertext is dropped: the server keeps no plaintext.
    response = send(client, MORGAN, content="leaked plaintext", e2ee=CIPHERTEXT)

    assert response.status_code == 201
    data = response.get_json()["data"]
    assert "content" not in data
    message = listed(client, ALEX)[data["_id"]]
    assert message["isE2ee"] is True
    assert message["e2ee"] == CIPHERTEXT
    assert "content" not in message


def test_rapid_sends_get_strictly_increasing_created_at(client):
    ids, instants = [], []
    for n in range(25):
        data = send(client, MORGAN, content=f"message {n}").get_json()["data"]
        ids.append(data["_id"])
        instants.append(datetime.fromisoformat(data["createdAt"]))

    assert all(earlier < later for earlier, later in zip(instants, instants[1:], strict=False))
    listing = list_messages(client, limit=25)
    assert [m["_id"] for m in listing["messages"]] == ids[::-1]
    # The times tell the messages apart: `after` the tenth keeps exactly the fifteen after it.
    after_tenth = list_messages(client, after=instants[9].isoformat().replace("+00:00", "Z"), limit=100)
    assert [m["_id"] for m in after_tenth["messages"]] == ids[10:][::-1]
    assert after_tenth["total"] == 15


# markMessagesAsRead


def test_mark_read_counts_only_unread_messages_of_others(client):
    # Morgan: MOVE_IT unread; CHECKLIST read already; KICKOFF his own; the others no message of the chat.
    response = mark_read(client, [MOVE_IT, CHECKLIST, KICKOFF, "msg_nope", ESCALATION, MOVE_IT])

    assert response.status_code == 200
    assert response.get_json() == {"success": True, "data": {"modifiedCount": 1}}
    messages = listed(client)
    assert messages[MOVE_IT]["readBy"] == [MORGAN]
    assert messages[KICKOFF]["readBy"] == [ALEX, SAM]  # the sender never counts
    assert messages[CHECKLIST]["readBy"] == [MORGAN]


def test_marking_again_modifies_nothing(client):
    assert mark_read(client, [MOVE_IT]).get_json()["data"]["modifiedCount"] == 1
    assert mark_read(client, [MOVE_IT]).get_json()["data"]["modifiedCount"] == 0
    assert listed(client)[MOVE_IT]["readBy"] == [MORGAN]


def test_own_messages_and_unknown_ids_are_ignored(client):
    response = mark_read(client, [MOVE_IT, "msg_nope"], caller=SAM)
    assert response.get_json()["data"]["modifiedCount"] == 0
    assert mark_read(client, [], caller=SAM).get_json()["data"]["modifiedCount"] == 0
    assert listed(client)[MOVE_IT]["readBy"] == []


def test_read_state_is_per_user(client):
    # Alex has read KICKOFF, not MOVE_IT; Sam has read KICKOFF, not CHECKLIST.
    assert mark_read(client, [KICKOFF, CHECKLIST, MOVE_IT], caller=ALEX).get_json()["data"]["modifiedCount"] == 1
    assert mark_read(client, [KICKOFF, CHECKLIST, MOVE_IT], caller=SAM).get_json()["data"]["modifiedCount"] == 1
    messages = listed(client)
    assert messages[MOVE_IT]["readBy"] == [ALEX]
    assert messages[CHECKLIST]["readBy"] == [MORGAN, SAM]


def test_unread_count_of_the_chat_list_follows_mark_read(client):
    assert unread_count(client, MORGAN) == 1
    assert unread_count(client, ALEX) == 1  # Sam's MOVE_IT
    new = sent_id(client, ALEX, content="Agenda updated.")
    assert unread_count(client, MORGAN) == 2
    assert unread_count(client, ALEX) == 1  # his own message is never unread

    assert mark_read(client, [MOVE_IT, new]).get_json()["data"]["modifiedCount"] == 2
    assert unread_count(client, MORGAN) == 0
    assert unread_count(client, SAM) == 2  # CHECKLIST and the new one


def test_mark_read_in_a_chat_of_others_is_404(client):
    assert_not_found(mark_read(client, [ESCALATION], caller=SAM, chat=OTHER_CHAT))
    assert_not_found(mark_read(client, [MOVE_IT], caller=MORGAN, chat="chat_unknown"))


def test_mark_read_needs_message_ids(client):
    response = client.post(f"{messages_path()}/read", json={}, headers=bearer(MORGAN))
    assert response.status_code == 400
    assert response.get_json()["code"] == "VALIDATION_ERROR"
    assert "messageIds" in response.get_json()["details"]


# editMessage


def test_the_author_edits_a_message_and_the_list_shows_edited_at(client):
    response = edit(client, KICKOFF, MORGAN, content="Kick-off moved to 11:00, agenda in the doc.")

    assert response.status_code == 200
    data = response.get_json()["data"]
    assert data["_id"] == KICKOFF
    assert data["content"] == "Kick-off moved to 11:00, agenda in the doc."
    assert data["isE2ee"] is False
    assert "e2ee" not in data
    edited_at = datetime.fromisoformat(data["editedAt"])
    assert edited_at > datetime.fromisoformat("2025-06-02T10:05:00Z")

    message = listed(client, SAM)[KICKOFF]
    assert message["content"] == "Kick-off moved to 11:00, agenda in the doc."
    assert message["editedAt"] == data["editedAt"]
    assert message["createdAt"] == "2025-06-02T10:05:00Z"
    assert message["reactions"] == [{"emoji": "👍", "count": 2, "users": [ALEX, SAM]}]


def test_a_second_edit_moves_edited_at_on(client):
    first = edit(client, KICKOFF, content="v2").get_json()["data"]["editedAt"]
    second = edit(client, KICKOFF, content="v3").get_json()["data"]["editedAt"]
    assert datetime.fromisoformat(second) > datetime.fromisoformat(first)
    assert listed(client)[KICKOFF]["content"] == "v3"


@pytest.mark.parametrize("caller", [ALEX, SAM])
def test_only_the_author_may_edit_others_get_403(client, caller):
    # Alex and Sam take part in the chat; Morgan wrote KICKOFF.
    response = edit(client, KICKOFF, caller, content="hijacked")

    assert response.status_code == 403
    body = response.get_json()
    assert body["code"] == "FORBIDDEN"
    assert body["details"] == "Only the author may edit a message"
    assert listed(client)[KICKOFF]["content"] == "Kick-off tomorrow at 10:00, agenda in the doc."


def test_a_chat_admin_may_not_edit_a_member_message(client):
    response = edit(client, MOVE_IT, MORGAN, content="We keep 10.")
    assert response.status_code == 403
    assert response.get_json()["code"] == "FORBIDDEN"


@pytest.mark.parametrize("body", [{}, {"e2ee": CIPHERTEXT}], ids=["nothing", "e2ee only"])
def test_a_plaintext_edit_needs_content(client, body):
    response = edit(client, KICKOFF, MORGAN, **body)

    assert response.status_code == 400
    body = response.get_json()
    assert body["code"] == "CONTENT_REQUIRED"
    assert body["details"] == "A plaintext message is edited with `content`"
    message = listed(client)[KICKOFF]
    assert "editedAt" not in message
    assert message["isE2ee"] is False


def test_an_e2ee_message_is_edited_with_e2ee_only(client):
    message = sent_id(client, MORGAN, e2ee=CIPHERTEXT)

    refused = edit(client, message, MORGAN, content="plaintext")
    assert refused.status_code == 400
    assert refused.get_json()["code"] == "E2EE_REQUIRED"

    updated = {**CIPHERTEXT, "ciphertext": "bmV3IGNpcGhlcnRleHQ=", "nonce": "bm9uY2UtMg=="}
    response = edit(client, message, MORGAN, e2ee=updated)
    assert response.status_code == 200
    data = response.get_json()["data"]
    assert (data["isE2ee"], data["e2ee"]) == (True, updated)
    assert "content" not in data
    assert listed(client)[message]["e2ee"] == updated


def test_editing_an_unknown_message_is_404(client):
    assert_not_found(edit(client, "msg_nope", MORGAN, content="x"))
    # A message of another chat is no message of this one.
    assert_not_found(edit(client, ESCALATION, ALEX, content="x"))


# deleteMessage


def test_the_author_deletes_a_message_and_it_is_gone_from_the_list(client):
    response = delete(client, MOVE_IT, SAM)

    assert response.status_code == 200
    assert response.get_json() == {"message": "Message deleted successfully"}
    data = list_messages(client)
    assert [m["_id"] for m in data["messages"]] == [CHECKLIST, KICKOFF]
    assert data["total"] == 2


def test_a_chat_admin_deletes_another_participants_message(client):
    assert delete(client, CHECKLIST, MORGAN).status_code == 200
    assert CHECKLIST not in listed(client, ALEX)


def test_admin_rights_to_delete_are_per_chat(client):
    # Alex administers Escalations, where Morgan is a member.
    new = sent_id(client, MORGAN, chat=OTHER_CHAT, content="On it.")
    assert delete(client, ESCALATION, MORGAN, chat=OTHER_CHAT).status_code == 403
    assert delete(client, new, ALEX, chat=OTHER_CHAT).status_code == 200
    assert list(listed(client, ALEX, OTHER_CHAT)) == [ESCALATION]


@pytest.mark.parametrize("caller, message", [(ALEX, MOVE_IT), (SAM, KICKOFF), (SAM, CHECKLIST)])
def test_a_plain_member_may_not_delete_another_participants_message(client, caller, message):
    response = delete(client, message, caller)

    assert response.status_code == 403
    body = response.get_json()
    assert body["code"] == "FORBIDDEN"
    assert body["details"] == "Only the author or a chat admin may delete a message"
    assert list_messages(client)["total"] == 3


def test_deleting_again_is_404(client):
    assert delete(client, MOVE_IT, SAM).status_code == 200
    assert_not_found(delete(client, MOVE_IT, SAM))
    assert_not_found(delete(client, MOVE_IT, MORGAN))


def test_deleting_the_last_message_changes_the_chat_list_summary(client):
    assert delete(client, MOVE_IT, MORGAN).status_code == 200
    chats = client.get(f"/api/chat/projects/{PROJECT}/chats", headers=bearer(MORGAN)).get_json()["data"]["chats"]
    chat = next(c for c in chats if c["_id"] == CHAT)
    assert chat["lastMessage"]["_id"] == CHECKLIST
    assert chat["unreadCount"] == 0


# addReaction / removeReaction


def test_a_reaction_is_added_per_user_and_counted(client):
    response = react(client, KICKOFF, "👍", MORGAN)

    assert response.status_code == 200
    assert response.get_json() == {
        "success": True,
        "data": [{"emoji": "👍", "count": 3, "users": [ALEX, SAM, MORGAN]}],
    }
    assert listed(client)[KICKOFF]["reactions"] == [{"emoji": "👍", "count": 3, "users": [ALEX, SAM, MORGAN]}]


def test_adding_the_same_reaction_twice_keeps_one(client):
    first = react(client, MOVE_IT, "🚀", ALEX).get_json()
    second = react(client, MOVE_IT, "🚀", ALEX).get_json()

    assert first == second == {"success": True, "data": [{"emoji": "🚀", "count": 1, "users": [ALEX]}]}
    assert listed(client)[MOVE_IT]["reactions"] == [{"emoji": "🚀", "count": 1, "users": [ALEX]}]


def test_reactions_with_different_emoji_are_listed_in_order(client):
    react(client, CHECKLIST, "✅", SAM)
    data = react(client, CHECKLIST, "🎉", SAM).get_json()["data"]
    assert data == [
        {"emoji": "🎉", "count": 2, "users": [MORGAN, SAM]},
        {"emoji": "✅", "count": 1, "users": [SAM]},
    ]


def test_removing_a_reaction_leaves_the_other_users(client):
    response = unreact(client, KICKOFF, "👍", ALEX)

    assert response.status_code == 200
    assert response.get_json() == {"success": True, "data": [{"emoji": "👍", "count": 1, "users": [SAM]}]}
    assert listed(client)[KICKOFF]["reactions"] == [{"emoji": "👍", "count": 1, "users": [SAM]}]


def test_removing_the_last_users_reaction_drops_the_emoji(client):
    assert unreact(client, CHECKLIST, "🎉", MORGAN).get_json()["data"] == []
    assert listed(client)[CHECKLIST]["reactions"] == []


def test_removing_a_reaction_the_caller_never_made_changes_nothing(client):
    # Morgan never reacted 👍 to KICKOFF; nobody reacted 🚀.
    for emoji in ["👍", "🚀"]:
        response = unreact(client, KICKOFF, emoji, MORGAN)
        assert response.status_code == 200
        assert response.get_json()["data"] == [{"emoji": "👍", "count": 2, "users": [ALEX, SAM]}]


@pytest.mark.parametrize("operation", [react, unreact])
def test_reacting_to_an_unknown_message_is_404(client, operation):
    assert_not_found(operation(client, "msg_nope", "👍", MORGAN))
    assert_not_found(operation(client, ESCALATION, "👍", MORGAN))  # a message of another chat


@pytest.mark.parametrize("emoji", ["", "x" * 33])
def test_an_empty_or_overlong_emoji_is_a_validation_error(client, emoji):
    response = react(client, KICKOFF, emoji, MORGAN)
    assert response.status_code == 400
    assert response.get_json()["code"] == "VALIDATION_ERROR"
    assert "emoji" in response.get_json()["details"]


# Who may touch the messages at all


def _every_message_operation(client, caller: str):
    return {
        "read": client.get(messages_path(), headers=bearer(caller)),
        "send": send(client, caller, content="still here?"),
        "mark read": mark_read(client, [MOVE_IT, CHECKLIST], caller=caller),
        "react": react(client, KICKOFF, "👀", caller),
        "unreact": unreact(client, KICKOFF, "👍", caller),
        "edit": edit(client, MOVE_IT, caller, content="edited after leaving"),
        "delete": delete(client, MOVE_IT, caller),
    }


def test_a_removed_participant_can_no_longer_touch_the_messages(client):
    assert client.delete(PARTICIPANTS, json={"userId": SAM}, headers=bearer(MORGAN)).status_code == 200

    responses = _every_message_operation(client, SAM)

    for name, response in responses.items():
        assert response.status_code == 404, name
        assert response.get_json()["code"] == "NOT_FOUND", name
    messages = listed(client)
    assert list(messages) == [MOVE_IT, CHECKLIST, KICKOFF]
    assert messages[MOVE_IT]["content"] == "Can we move it to 11? I have a customer call at 10."
    assert messages[CHECKLIST]["readBy"] == [MORGAN]
    assert messages[KICKOFF]["reactions"] == [{"emoji": "👍", "count": 2, "users": [ALEX, SAM]}]


def test_a_participant_who_leaves_can_no_longer_touch_the_messages(client):
    assert client.delete(PARTICIPANTS, json={"userId": ALEX}, headers=bearer(ALEX)).status_code == 200
    for name, response in _every_message_operation(client, ALEX).items():
        assert response.status_code == 404, name


def test_a_project_member_outside_the_chat_cannot_touch_the_messages(client):
    for name, response in _every_message_operation(client, PRIYA).items():
        assert response.status_code == 404, name
        assert response.get_json()["code"] == "NOT_FOUND", name
    assert list_messages(client)["total"] == 3


def test_a_participant_added_back_sees_the_messages_again(client):
    client.delete(PARTICIPANTS, json={"userId": SAM}, headers=bearer(MORGAN))
    assert client.post(PARTICIPANTS, json={"userId": SAM}, headers=bearer(MORGAN)).status_code == 200
    assert list_messages(client, SAM)["total"] == 3
    assert send(client, SAM, content="Back again.").status_code == 201


def test_reset_restores_the_fixture_messages(client):
    sent_id(client, ALEX, content="to be forgotten")
    delete(client, MOVE_IT, SAM)
    edit(client, KICKOFF, MORGAN, content="changed")
    react(client, KICKOFF, "🔥", MORGAN)
    mark_read(client, [MOVE_IT], caller=ALEX)

    assert client.post("/__mock/reset", json={}).status_code == 200

    data = list_messages(client)
    assert [m["_id"] for m in data["messages"]] == [MOVE_IT, CHECKLIST, KICKOFF]
    kickoff = data["messages"][2]
    assert kickoff["content"] == "Kick-off tomorrow at 10:00, agenda in the doc."
    assert "editedAt" not in kickoff
    assert kickoff["reactions"] == [{"emoji": "👍", "count": 2, "users": [ALEX, SAM]}]
    assert data["messages"][0]["readBy"] == []
