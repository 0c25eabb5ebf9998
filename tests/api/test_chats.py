"""A project's chats: the caller's chat list, creating chats, and the members' E2EE keys."""

from __future__ import annotations

from datetime import datetime

import pytest
from support import ALEX, BILLING, CHAT, MORGAN, OTHER_CHAT, PARTICIPANTS, PRIYA, PROJECT, SAM, bearer

pytestmark = pytest.mark.both_stores  # the memory and the Redis store keep the same rules

INVOICES = "Bx7PnL2sKq9VwD4R"  # Priya's direct chat with Morgan, in project proj_Zr8WmQ4xTb2K
MOVE_IT = "msg_N4fR7tLw2XaB9cQk"  # Sam's, the newest message of chat VL0TZudKjN6SiWtV
ESCALATION = "msg_Ks3Wq8ZpL1vT6nHd"  # Alex's, the only message of chat Hq3ZpW7tRbN2xKcL
INVOICE_READY = "msg_Rt5Yh2Jm9PcX4wLe"  # Priya's, the only message of chat Bx7PnL2sKq9VwD4R
MORGAN_KEY = {
    "identityPublicKey": "bW9yZ2FuLWlkZW50aXR5LWtleS12MQ==",
    "keyVersion": 1,
    "updatedAt": "2025-06-01T09:00:00Z",
}
ALEX_KEY = {"identityPublicKey": "YWxleC1pZGVudGl0eS1rZXktdjE=", "keyVersion": 1, "updatedAt": "2025-06-01T09:30:00Z"}

LAUNCH_SUMMARY_FOR_MORGAN = {
    "_id": CHAT,
    "name": "Launch planning",
    "type": "group",
    "lastMessage": {
        "_id": MOVE_IT,
        "content": "Can we move it to 11? I have a customer call at 10.",
        "sender": SAM,
        "createdAt": "2025-06-02T10:20:00Z",
    },
    "unreadCount": 1,
}
ESCALATIONS_SUMMARY_FOR_MORGAN = {
    "_id": OTHER_CHAT,
    "name": "Escalations",
    "type": "channel",
    "lastMessage": {
        "_id": ESCALATION,
        "content": "Ticket 4411 is escalated to tier 2.",
        "sender": ALEX,
        "createdAt": "2025-07-11T13:35:00Z",
    },
    "unreadCount": 0,
}


def chats_path(project: str = PROJECT) -> str:
    return f"/api/chat/projects/{project}/chats"


def keys_path(chat: str = CHAT, project: str = PROJECT) -> str:
    return f"/api/chat/projects/{project}/chats/{chat}/e2ee/participant-keys"


def my_key_path(project: str = PROJECT) -> str:
    return f"/api/chat/projects/{project}/me/chat-e2ee-key"


def user_chats(client, caller: str = MORGAN, project: str = PROJECT, **query) -> dict:
    response = client.get(chats_path(project), query_string=query, headers=bearer(caller))
    assert response.status_code == 200, response.get_json()
    return response.get_json()["data"]


def chat_ids(client, caller: str = MORGAN, project: str = PROJECT) -> list[str]:
    return [c["_id"] for c in user_chats(client, caller, project)["chats"]]


def create(client, caller: str = MORGAN, project: str = PROJECT, **body):
    body = {"name": "Release notes", "type": "group", "participants": [ALEX, SAM], **body}
    return client.post(chats_path(project), json=body, headers=bearer(caller))


def send(client, caller: str, chat: str, content: str):
    response = client.post(
        f"{chats_path()}/{chat}/messages", json={"type": "text", "content": content}, headers=bearer(caller)
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()["data"]


def put_key(client, caller: str, project: str = PROJECT, **body):
    return client.put(my_key_path(project), json=body, headers=bearer(caller))


def participant_keys(client, caller: str = MORGAN, chat: str = CHAT) -> list[dict]:
    response = client.get(keys_path(chat), headers=bearer(caller))
    assert response.status_code == 200, response.get_json()
    return response.get_json()["data"]


def remove(client, user: str, caller: str = MORGAN):
    assert client.delete(PARTICIPANTS, json={"userId": user}, headers=bearer(caller)).status_code == 200


# getUserChats


def test_morgan_sees_his_two_chats_most_recent_activity_first(client):
    response = client.get(chats_path(), headers=bearer(MORGAN))

    assert response.status_code == 200
    assert response.get_json() == {
        "success": True,
        "data": {"chats": [ESCALATIONS_SUMMARY_FOR_MORGAN, LAUNCH_SUMMARY_FOR_MORGAN], "total": 2},
    }


@pytest.mark.parametrize(
    "caller, expected",
    [
        (ALEX, {OTHER_CHAT: 0, CHAT: 1}),  # Sam's MOVE_IT is unread
        (SAM, {CHAT: 1}),  # Alex's checklist is unread
        (PRIYA, {}),  # a project member in no chat
    ],
)
def test_each_user_sees_only_their_own_chats_with_their_unread_count(client, caller, expected):
    data = user_chats(client, caller)
    assert {c["_id"]: c["unreadCount"] for c in data["chats"]} == expected
    assert [c["_id"] for c in data["chats"]] == list(expected)
    assert data["total"] == len(expected)


def test_the_chat_list_is_per_project(client):
    data = user_chats(client, MORGAN, BILLING)
    assert data == {
        "chats": [
            {
                "_id": INVOICES,
                "name": "Invoices",
                "type": "direct",
                "lastMessage": {
                    "_id": INVOICE_READY,
                    "content": "The November invoice is ready for review.",
                    "sender": PRIYA,
                    "createdAt": "2025-10-03T08:20:00Z",
                },
                "unreadCount": 1,
            }
        ],
        "total": 1,
    }
    assert chat_ids(client, PRIYA, BILLING) == [INVOICES]
    assert user_chats(client, PRIYA, BILLING)["chats"][0]["unreadCount"] == 0  # her own message


def test_the_list_follows_a_message_sent_by_another_user(client):
    sent = send(client, SAM, CHAT, "Moved to 11, thanks all.")

    chats = user_chats(client, MORGAN)["chats"]
    assert [c["_id"] for c in chats] == [CHAT, OTHER_CHAT]  # the launch chat is the most recent now
    assert chats[0]["lastMessage"] == {
        "_id": sent["_id"],
        "content": "Moved to 11, thanks all.",
        "sender": SAM,
        "createdAt": sent["createdAt"],
    }
    assert chats[0]["unreadCount"] == 2
    assert user_chats(client, SAM)["chats"][0]["unreadCount"] == 1  # his own message is not unread for him


def test_the_callers_own_message_moves_the_chat_up_without_unread(client):
    send(client, MORGAN, CHAT, "Sure, 11 it is.")
    chats = user_chats(client, MORGAN)["chats"]
    assert [c["_id"] for c in chats] == [CHAT, OTHER_CHAT]
    assert chats[0]["unreadCount"] == 1
    assert chats[0]["lastMessage"]["sender"] == MORGAN


def test_an_e2ee_last_message_has_no_content(client):
    e2ee = {"ciphertext": "c2VjcmV0", "scheme": "mudbase-e2ee-v1"}
    response = client.post(f"{chats_path()}/{CHAT}/messages", json={"type": "text", "e2ee": e2ee}, headers=bearer(ALEX))
    assert response.status_code == 201
    last = user_chats(client, MORGAN)["chats"][0]["lastMessage"]
    assert last["_id"] == response.get_json()["data"]["_id"]
    assert "content" not in last


def test_the_list_follows_read_state(client):
    read = client.post(f"{chats_path()}/{CHAT}/messages/read", json={"messageIds": [MOVE_IT]}, headers=bearer(MORGAN))
    assert read.get_json()["data"]["modifiedCount"] == 1
    assert {c["_id"]: c["unreadCount"] for c in user_chats(client, MORGAN)["chats"]} == {OTHER_CHAT: 0, CHAT: 0}


def test_a_removed_participant_no_longer_lists_the_chat(client):
    remove(client, ALEX, ALEX)
    data = user_chats(client, ALEX)
    assert [c["_id"] for c in data["chats"]] == [OTHER_CHAT]
    assert data["total"] == 1


@pytest.mark.parametrize(
    "page, limit, expected",
    [
        (1, 1, [OTHER_CHAT]),
        (2, 1, [CHAT]),
        (3, 1, []),  # past the end
        (1, 100, [OTHER_CHAT, CHAT]),
        (2, 20, []),
    ],
)
def test_chat_pages_and_total(client, page, limit, expected):
    data = user_chats(client, MORGAN, page=page, limit=limit)
    assert [c["_id"] for c in data["chats"]] == expected
    assert data["total"] == 2


@pytest.mark.parametrize(
    "query, field",
    [({"limit": 0}, "limit"), ({"limit": 101}, "limit"), ({"page": 0}, "page"), ({"page": "first"}, "page")],
)
def test_bad_chat_paging_is_a_validation_error_naming_the_field(client, query, field):
    response = client.get(chats_path(), query_string=query, headers=bearer(MORGAN))
    assert response.status_code == 400
    body = response.get_json()
    assert body["code"] == "VALIDATION_ERROR"
    assert list(body["details"]) == [field]


@pytest.mark.parametrize(
    "project, caller",
    [("proj_unknown", MORGAN), (BILLING, ALEX), (BILLING, SAM)],
    ids=["unknown project", "not a member (Alex)", "not a member (Sam)"],
)
def test_an_unknown_project_or_one_of_others_is_404(client, project, caller):
    response = client.get(chats_path(project), headers=bearer(caller))
    assert response.status_code == 404
    body = response.get_json()
    assert body["code"] == "NOT_FOUND"
    # The same words for both, so that a caller cannot tell which projects exist.
    assert body["details"] == f"No project {project} of yours"


def test_the_chat_list_needs_a_token(client):
    assert client.get(chats_path()).status_code == 401


# createChat


def test_a_created_chat_has_the_caller_as_admin_first_and_the_others_as_members(client):
    response = create(client, MORGAN, name="Release notes", description="Drafting the 2.0 notes", settings={})

    assert response.status_code == 201
    body = response.get_json()
    assert body["success"] is True
    data = body["data"]
    assert data["_id"].startswith("chat_")
    assert (data["name"], data["type"]) == ("Release notes", "group")
    assert data["participants"] == [MORGAN, ALEX, SAM]
    assert datetime.fromisoformat(data["createdAt"]).tzinfo is not None

    details = client.get(f"{chats_path()}/{data['_id']}", headers=bearer(SAM))
    assert details.status_code == 200
    assert details.get_json()["data"] == {
        "_id": data["_id"],
        "name": "Release notes",
        "type": "group",
        "participants": [
            {"userId": MORGAN, "role": "admin"},
            {"userId": ALEX, "role": "member"},
            {"userId": SAM, "role": "member"},
        ],
        "createdAt": data["createdAt"],
    }


def test_a_created_chat_appears_first_in_every_participants_list(client):
    new = create(client, ALEX, participants=[MORGAN, PRIYA]).get_json()["data"]["_id"]

    summary = {"_id": new, "name": "Release notes", "type": "group", "unreadCount": 0}  # no lastMessage yet
    for user in (ALEX, MORGAN, PRIYA):
        data = user_chats(client, user)
        assert data["chats"][0] == summary, user
        details = client.get(f"{chats_path()}/{new}", headers=bearer(user))
        assert details.status_code == 200, user
    assert user_chats(client, PRIYA)["total"] == 1
    assert user_chats(client, MORGAN)["total"] == 3
    assert new not in chat_ids(client, SAM)
    assert client.get(f"{chats_path()}/{new}", headers=bearer(SAM)).status_code == 404


def test_the_creator_administers_the_new_chat(client):
    new = create(client, SAM, participants=[ALEX]).get_json()["data"]["_id"]
    path = f"{chats_path()}/{new}/participants"
    # Sam, its admin, may add; Alex, a member, may not.
    assert client.post(path, json={"userId": PRIYA}, headers=bearer(ALEX)).get_json()["code"] == "FORBIDDEN"
    assert client.post(path, json={"userId": PRIYA}, headers=bearer(SAM)).status_code == 200


@pytest.mark.parametrize(
    "participants",
    [[ALEX, SAM, ALEX, SAM], [MORGAN, ALEX, SAM], [ALEX, MORGAN, SAM, MORGAN]],
    ids=["duplicates", "the caller first", "the caller in between, twice"],
)
def test_duplicates_and_the_caller_are_dropped_from_the_participants(client, participants):
    response = create(client, MORGAN, participants=participants)
    assert response.status_code == 201
    new = response.get_json()["data"]
    assert new["participants"] == [MORGAN, ALEX, SAM]
    details = client.get(f"{chats_path()}/{new['_id']}", headers=bearer(MORGAN)).get_json()["data"]
    assert details["participants"] == [
        {"userId": MORGAN, "role": "admin"},
        {"userId": ALEX, "role": "member"},
        {"userId": SAM, "role": "member"},
    ]


def test_a_chat_of_the_caller_alone_is_allowed(client):
    response = create(client, PRIYA, type="channel", participants=[])
    assert response.status_code == 201
    assert response.get_json()["data"]["participants"] == [PRIYA]
    assert chat_ids(client, PRIYA) == [response.get_json()["data"]["_id"]]


def test_a_direct_chat_with_exactly_one_other_member(client):
    response = create(client, PRIYA, type="direct", name="Priya and Sam", participants=[SAM, PRIYA, SAM])
    assert response.status_code == 201
    assert response.get_json()["data"]["participants"] == [PRIYA, SAM]


@pytest.mark.parametrize(
    "participants, count",
    [([], 0), ([MORGAN], 0), ([ALEX, SAM], 2), ([ALEX, SAM, PRIYA], 3)],
    ids=["nobody", "only the caller", "two others", "three others"],
)
def test_a_direct_chat_needs_exactly_one_other_participant(client, participants, count):
    before = client.get("/__mock/state").get_json()
    response = create(client, MORGAN, type="direct", participants=participants)

    assert response.status_code == 400
    body = response.get_json()
    assert body["code"] == "INVALID_PARTICIPANTS"
    assert body["details"] == f"A direct chat is between you and exactly one other member; {count} given"
    assert client.get("/__mock/state").get_json() == before


@pytest.mark.parametrize(
    "caller, project, participants, details",
    [
        (MORGAN, PROJECT, [ALEX, "usr_nobody"], f"User usr_nobody is not a member of project {PROJECT}"),
        (MORGAN, BILLING, [ALEX], f"User {ALEX} is not a member of project {BILLING}"),
        (ALEX, BILLING, [MORGAN], f"You are not a member of project {BILLING}"),
    ],
    ids=["unknown user", "member of another project", "the caller is no member"],
)
def test_a_participant_outside_the_project_is_400_not_a_project_member(client, caller, project, participants, details):
    before = client.get("/__mock/state").get_json()
    response = create(client, caller, project, participants=participants)

    assert response.status_code == 400
    body = response.get_json()
    assert body["code"] == "NOT_A_PROJECT_MEMBER"
    assert body["details"] == details
    assert client.get("/__mock/state").get_json() == before


def test_creating_in_an_unknown_project_is_400_project_not_found(client):
    response = create(client, MORGAN, "proj_unknown")
    assert response.status_code == 400
    body = response.get_json()
    assert body["code"] == "PROJECT_NOT_FOUND"
    assert body["details"] == "No project with ID proj_unknown"


@pytest.mark.parametrize(
    "body, field",
    [
        ({"name": "x", "type": "group"}, "participants"),
        ({"name": "x", "type": "forum", "participants": []}, "type"),
        ({"type": "group", "participants": []}, "name"),
    ],
)
def test_a_create_request_breaking_the_contract_is_a_validation_error(client, body, field):
    response = client.post(chats_path(), json=body, headers=bearer(MORGAN))
    assert response.status_code == 400
    assert response.get_json()["code"] == "VALIDATION_ERROR"
    assert field in response.get_json()["details"]


def test_created_chats_get_distinct_ids(client):
    ids = {create(client, MORGAN).get_json()["data"]["_id"] for _ in range(5)}
    assert len(ids) == 5
    assert user_chats(client, MORGAN)["total"] == 7


# putChatE2eeKey / getChatE2eeParticipantKeys


def test_participant_keys_come_from_the_fixtures_in_join_order(client):
    response = client.get(keys_path(), headers=bearer(SAM))
    assert response.status_code == 200
    # Sam has registered no key: he is not listed.
    assert response.get_json() == {
        "success": True,
        "data": [{"userId": MORGAN, **MORGAN_KEY}, {"userId": ALEX, **ALEX_KEY}],
    }


def test_a_first_key_gets_version_1_and_is_listed(client):
    response = put_key(client, SAM, identityPublicKey="c2FtLWtleS12MQ==")

    assert response.status_code == 200
    data = response.get_json()["data"]
    assert (data["identityPublicKey"], data["keyVersion"]) == ("c2FtLWtleS12MQ==", 1)
    assert datetime.fromisoformat(data["updatedAt"]).tzinfo is not None
    assert participant_keys(client, MORGAN)[2] == {"userId": SAM, **data}


def test_a_new_key_without_version_increments_the_stored_one(client):
    first = put_key(client, MORGAN, identityPublicKey="bW9yZ2FuLXYy").get_json()["data"]
    second = put_key(client, MORGAN, identityPublicKey="bW9yZ2FuLXYz").get_json()["data"]

    assert (first["keyVersion"], second["keyVersion"]) == (2, 3)
    assert datetime.fromisoformat(second["updatedAt"]) > datetime.fromisoformat(first["updatedAt"])
    assert participant_keys(client, ALEX)[0] == {"userId": MORGAN, **second}


def test_an_explicit_key_version_is_kept_and_counted_from(client):
    explicit = put_key(client, ALEX, identityPublicKey="YWxleC12Nw==", keyVersion=7).get_json()["data"]
    assert explicit["keyVersion"] == 7
    assert participant_keys(client, MORGAN)[1] == {"userId": ALEX, **explicit}
    # Even a lower one: the caller's word.
    assert put_key(client, ALEX, identityPublicKey="YWxleC12Mg==", keyVersion=2).get_json()["data"]["keyVersion"] == 2
    assert put_key(client, ALEX, identityPublicKey="YWxleC12Mw==").get_json()["data"]["keyVersion"] == 3


def test_keys_are_per_project(client):
    # Morgan's key in the billing project is separate from his key in the support project.
    billing = put_key(client, MORGAN, BILLING, identityPublicKey="YmlsbGluZy1rZXk=").get_json()["data"]
    assert billing["keyVersion"] == 1
    assert participant_keys(client, MORGAN)[0] == {"userId": MORGAN, **MORGAN_KEY}
    response = client.get(keys_path(INVOICES, BILLING), headers=bearer(PRIYA))
    assert response.get_json()["data"] == [{"userId": MORGAN, **billing}]


def test_participant_keys_list_current_participants_only(client):
    put_key(client, SAM, identityPublicKey="c2FtLWtleQ==")
    put_key(client, PRIYA, identityPublicKey="cHJpeWEta2V5")  # a project member, not in the chat
    assert [k["userId"] for k in participant_keys(client)] == [MORGAN, ALEX, SAM]

    remove(client, ALEX, MORGAN)
    assert [k["userId"] for k in participant_keys(client)] == [MORGAN, SAM]

    assert client.post(PARTICIPANTS, json={"userId": PRIYA}, headers=bearer(MORGAN)).status_code == 200
    keys = participant_keys(client, PRIYA)
    assert [k["userId"] for k in keys] == [MORGAN, SAM, PRIYA]
    assert keys[2]["identityPublicKey"] == "cHJpeWEta2V5"


@pytest.mark.parametrize(
    "caller, project, details",
    [
        (ALEX, BILLING, f"You are not a member of project {BILLING}"),
        (SAM, BILLING, f"You are not a member of project {BILLING}"),
    ],
)
def test_a_key_outside_ones_projects_is_400(client, caller, project, details):
    response = put_key(client, caller, project, identityPublicKey="b3V0c2lkZXI=")
    assert response.status_code == 400
    body = response.get_json()
    assert body["code"] == "NOT_A_PROJECT_MEMBER"
    assert body["details"] == details


def test_a_key_for_an_unknown_project_is_400_project_not_found(client):
    response = put_key(client, MORGAN, "proj_unknown", identityPublicKey="a2V5")
    assert response.status_code == 400
    assert response.get_json()["code"] == "PROJECT_NOT_FOUND"


def test_a_key_request_without_the_key_is_a_validation_error(client):
    response = put_key(client, MORGAN, keyVersion=2)
    assert response.status_code == 400
    assert response.get_json()["code"] == "VALIDATION_ERROR"
    assert "identityPublicKey" in response.get_json()["details"]


@pytest.mark.parametrize(
    "caller, chat, project",
    [
        (PRIYA, CHAT, PROJECT),  # a project member outside the chat
        (SAM, OTHER_CHAT, PROJECT),
        (MORGAN, "chat_unknown", PROJECT),
        (MORGAN, CHAT, BILLING),
        (ALEX, INVOICES, BILLING),
    ],
)
def test_participant_keys_of_a_chat_of_others_are_404(client, caller, chat, project):
    response = client.get(keys_path(chat, project), headers=bearer(caller))
    assert response.status_code == 404
    body = response.get_json()
    assert body["code"] == "NOT_FOUND"
    assert body["details"] == f"No chat {chat} of yours in project {project}"


def test_a_removed_participant_can_no_longer_list_the_keys(client):
    remove(client, SAM, MORGAN)
    assert client.get(keys_path(), headers=bearer(SAM)).status_code == 404


# Reset


def test_reset_restores_chats_keys_and_unread_counts(client):
    created = create(client, MORGAN).get_json()["data"]["_id"]
    send(client, SAM, CHAT, "New message")
    put_key(client, MORGAN, identityPublicKey="bmV3LWtleQ==")
    put_key(client, SAM, identityPublicKey="c2FtLWtleQ==")
    remove(client, ALEX, MORGAN)

    assert client.post("/__mock/reset", json={}).status_code == 200

    assert user_chats(client, MORGAN) == {
        "chats": [ESCALATIONS_SUMMARY_FOR_MORGAN, LAUNCH_SUMMARY_FOR_MORGAN],
        "total": 2,
    }
    assert CHAT in chat_ids(client, ALEX)
    assert client.get(f"{chats_path()}/{created}", headers=bearer(MORGAN)).status_code == 404
    assert participant_keys(client) == [{"userId": MORGAN, **MORGAN_KEY}, {"userId": ALEX, **ALEX_KEY}]
    assert put_key(client, MORGAN, identityPublicKey="djI=").get_json()["data"]["keyVersion"] == 2
