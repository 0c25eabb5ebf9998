"""GET /__mock/state: what the store holds, in bounded answers.

Without a query, a summary: each project and chat counted (chats, messages, E2EE keys,
sessions), with the chats' participants (each named where a fixture user has its ID:
the console shows names, not IDs) and the estimate of their bytes, the whole store's
estimate and the state's limits (store/budget.py); never a message. With `projectId`
and `chatId`, the chat and one page of its messages, oldest first: `limit` messages
(default PAGE_SIZE, at most MAX_PAGE_SIZE) from `cursor` (the `nextCursor` of the page
before; none, the first page). So an answer costs at most a page of messages,
however much the state holds.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Response, jsonify
from werkzeug.datastructures import MultiDict

from mockserver.behaviours import chat_document, message_document
from mockserver.errors import ApiError
from mockserver.store import RuleViolation, Store
from mockserver.store.fixtures import User

PAGE_SIZE = 50
MAX_PAGE_SIZE = 100
PAGE_PARAMETERS = ("projectId", "chatId", "limit", "cursor")


def state_response(store: Store, query: MultiDict) -> Response:
    if any(name in query for name in PAGE_PARAMETERS):
        return jsonify(_page(store, query))
    return jsonify(summary(store))


def summary(store: Store) -> dict[str, Any]:
    counts = store.state_counts()
    return {
        "bytes": counts.size_bytes,
        "sessions": counts.sessions,
        "itemsAdded": store.items_added(),
        "limits": store.limits.document(),
        "projects": [
            {
                "projectId": project.project_id,
                "chatCount": project.chat_count,
                "messageCount": project.message_count,
                "e2eeKeyCount": project.e2ee_key_count,
                "bytes": project.size_bytes,
            }
            for project in counts.projects
        ],
        "chats": [
            {"projectId": chat.project_id, **_chat(chat.chat, chat.message_count, store.users)} for chat in counts.chats
        ],
    }


def _page(store: Store, query: MultiDict) -> dict[str, Any]:
    missing = {name: "required for a page of messages" for name in ("projectId", "chatId") if not query.get(name)}
    if missing:
        raise ApiError(400, "VALIDATION_ERROR", "Validation failed", missing)
    limit = _integer(query, "limit", PAGE_SIZE, 1, MAX_PAGE_SIZE)
    offset = _integer(query, "cursor", 0, 0, None)
    project_id, chat_id = query["projectId"], query["chatId"]
    try:
        chat, messages, total = store.state_page(project_id, chat_id, offset, limit)
    except RuleViolation as exc:
        raise ApiError(404, "NOT_FOUND", exc.error, exc.details) from None
    following = offset + len(messages)
    return {
        "projectId": project_id,
        "chat": _chat(chat, total, store.users),
        "messages": [message_document(message, store.users) for message in messages],
        "nextCursor": str(following) if following < total else None,
    }


def _chat(chat, message_count: int, users: Mapping[str, User]) -> dict[str, Any]:
    document = chat_document(chat)
    document["participants"] = [_named(participant, users) for participant in document["participants"]]
    return {**document, "messageCount": message_count, "bytes": chat.size_bytes}


def _named(participant: dict[str, Any], users: Mapping[str, User]) -> dict[str, Any]:
    """A participant with the name of the fixtures' user of that ID, if there is one."""
    user = users.get(participant["userId"])
    if user is None:
        return participant
    return {**participant, "name": " ".join(part for part in (user.first_name, user.last_name) if part)}


def _integer(query: MultiDict, name: str, default: int, least: int, most: int | None) -> int:
    text = query.get(name)
    if text is None or text == "":
        return default
    if (
        not (text.isascii() and text.isdigit() and len(text) <= 9)
        or int(text) < least
        or (most is not None and int(text) > most)
    ):
        bounds = f"from {least} to {most}" if most is not None else f"{least} or more"
        raise ApiError(
            400, "VALIDATION_ERROR", "Validation failed", {name: f"{text[:20]!r} is not an integer {bounds}"}
        )
    return int(text)
