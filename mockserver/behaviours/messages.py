"""A chat's messages: getChatMessages, sendMessage, markMessagesAsRead, editMessage,
deleteMessage, addReaction, removeReaction."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Response, jsonify

from mockserver.behaviours.call import Call, rule_failures
from mockserver.behaviours.documents import message_document, reactions_document
from mockserver.store import MessageRecord


def get_chat_messages(call: Call) -> Response:
    page, limit = call.query["page"], call.query["limit"]
    with rule_failures():
        messages, total = call.store.messages(
            call.path["projectId"],
            call.path["chatId"],
            call.user_id,
            before=_instant(call.query.get("before")),
            after=_instant(call.query.get("after")),
            offset=(page - 1) * limit,
            limit=limit,
        )
    users = call.store.users
    return jsonify(success=True, data={"messages": [message_document(m, users) for m in messages], "total": total})


def send_message(call: Call) -> Response:
    with rule_failures():
        message = call.store.send_message(
            call.path["projectId"],
            call.path["chatId"],
            call.user_id,
            message_type=call.body["type"],
            content=call.body.get("content"),
            e2ee=call.body.get("e2ee"),
            reply_to=call.body.get("replyTo"),
            mentions=call.body.get("mentions", []),
        )
    data = {"_id": message.id, "sender": message.sender_id, "createdAt": message.created_at}
    if message.content is not None:
        data["content"] = message.content
    response = jsonify(success=True, data=data)
    response.status_code = 201
    return response


def mark_messages_as_read(call: Call) -> Response:
    with rule_failures():
        marked = call.store.mark_read(
            call.path["projectId"], call.path["chatId"], call.user_id, call.body["messageIds"]
        )
    return jsonify(success=True, data={"modifiedCount": marked})


def edit_message(call: Call) -> Response:
    with rule_failures():
        message = call.store.edit_message(
            *_message_path(call), call.user_id, call.body.get("content"), call.body.get("e2ee")
        )
    return jsonify(success=True, data=_edited_document(message))


def delete_message(call: Call) -> Response:
    with rule_failures():
        call.store.delete_message(*_message_path(call), call.user_id)
    return jsonify(message="Message deleted successfully")


def add_reaction(call: Call) -> Response:
    with rule_failures():
        reactions = call.store.add_reaction(*_message_path(call), call.user_id, call.body["emoji"])
    return jsonify(success=True, data=reactions_document(reactions))


def remove_reaction(call: Call) -> Response:
    with rule_failures():
        reactions = call.store.remove_reaction(*_message_path(call), call.user_id, call.body["emoji"])
    return jsonify(success=True, data=reactions_document(reactions))


def _message_path(call: Call) -> tuple[str, str, str]:
    return call.path["projectId"], call.path["chatId"], call.path["messageId"]


def _edited_document(message: MessageRecord) -> dict[str, Any]:
    document: dict[str, Any] = {"_id": message.id, "isE2ee": message.e2ee is not None, "editedAt": message.edited_at}
    if message.content is not None:
        document["content"] = message.content
    if message.e2ee is not None:
        document["e2ee"] = message.e2ee
    return document


def _instant(value: datetime | str | None) -> datetime | None:
    """A validated `date-time` query value (openapi-core may hand it over parsed)."""
    if value is None:
        return None
    # RFC 3339 allows `t` and `z`, which Python's parser does not.
    instant = value if isinstance(value, datetime) else datetime.fromisoformat(value.upper())
    return instant if instant.tzinfo else instant.replace(tzinfo=UTC)


BEHAVIOURS = {
    "getChatMessages": get_chat_messages,
    "sendMessage": send_message,
    "markMessagesAsRead": mark_messages_as_read,
    "editMessage": edit_message,
    "deleteMessage": delete_message,
    "addReaction": add_reaction,
    "removeReaction": remove_reaction,
}
