"""Chats, their participants and E2EE keys: getUserChats, createChat, getChatDetails,
addParticipant, removeParticipant, putChatE2eeKey, getChatE2eeParticipantKeys."""

from __future__ import annotations

from flask import Response, jsonify

from mockserver.behaviours.call import Call, rule_failures
from mockserver.behaviours.documents import chat_document


def get_user_chats(call: Call) -> Response:
    with rule_failures():
        summaries = call.store.user_chats(call.path["projectId"], call.user_id)
    page, limit = call.query["page"], call.query["limit"]
    chats = []
    for summary in summaries[(page - 1) * limit : page * limit]:
        chat = {"_id": summary.chat.id, "name": summary.chat.name, "type": summary.chat.type}
        last = summary.last_message
        if last is not None:
            chat["lastMessage"] = {"_id": last.id, "sender": last.sender_id, "createdAt": last.created_at}
            if last.content is not None:
                chat["lastMessage"]["content"] = last.content
        chat["unreadCount"] = summary.unread_count
        chats.append(chat)
    return jsonify(success=True, data={"chats": chats, "total": len(summaries)})


def create_chat(call: Call) -> Response:
    # The contract declares no 404 here: an unknown project is a 400 with its own code.
    with rule_failures(missing=400, forbidden=400):
        chat = call.store.create_chat(
            call.path["projectId"],
            call.user_id,
            call.body["name"],
            call.body["type"],
            call.body["participants"],
            call.body.get("description"),
        )
    data = {
        "_id": chat.id,
        "name": chat.name,
        "type": chat.type,
        "participants": list(chat.participants),
        "createdAt": chat.created_at,
    }
    response = jsonify(success=True, data=data)
    response.status_code = 201
    return response


def get_chat_details(call: Call) -> Response:
    with rule_failures():
        chat = call.store.chat(call.path["projectId"], call.path["chatId"], call.user_id)
    return jsonify(success=True, data=chat_document(chat))


def remove_participant(call: Call) -> Response:
    # The real API documents only 200/400/401 here: every broken rule is a 400.
    with rule_failures(missing=400, forbidden=400):
        call.store.remove_participant(call.path["projectId"], call.path["chatId"], call.user_id, call.body["userId"])
    return jsonify(message="Participant removed successfully")


def add_participant(call: Call) -> Response:
    with rule_failures(missing=400, forbidden=400):
        chat = call.store.add_participant(
            call.path["projectId"],
            call.path["chatId"],
            call.user_id,
            call.body["userId"],
            call.body.get("role", "member"),
            call.store.now(),
        )
    participants = [
        {"userId": user_id, "role": participant.role, "addedAt": participant.added_at}
        for user_id, participant in chat.participants.items()
    ]
    return jsonify(success=True, data={"participants": participants})


def put_chat_e2ee_key(call: Call) -> Response:
    with rule_failures(missing=400, forbidden=400):
        key = call.store.put_e2ee_key(
            call.path["projectId"], call.user_id, call.body["identityPublicKey"], call.body.get("keyVersion")
        )
    data = {"identityPublicKey": key.identity_public_key, "keyVersion": key.key_version, "updatedAt": key.updated_at}
    return jsonify(success=True, data=data)


def get_chat_e2ee_participant_keys(call: Call) -> Response:
    with rule_failures():
        keys = call.store.participant_keys(call.path["projectId"], call.path["chatId"], call.user_id)
    data = [
        {
            "userId": user_id,
            "identityPublicKey": key.identity_public_key,
            "keyVersion": key.key_version,
            "updatedAt": key.updated_at,
        }
        for user_id, key in keys
    ]
    return jsonify(success=True, data=data)


BEHAVIOURS = {
    "getUserChats": get_user_chats,
    "createChat": create_chat,
    "getChatDetails": get_chat_details,
    "removeParticipant": remove_participant,
    "addParticipant": add_participant,
    "putChatE2eeKey": put_chat_e2ee_key,
    "getChatE2eeParticipantKeys": get_chat_e2ee_participant_keys,
}
