"""The store's records as the API's response documents."""

from __future__ import annotations

from typing import Any

from mockserver.store import ChatRecord, MessageRecord, Store
from mockserver.store.fixtures import User


def user_document(user: User, store: Store) -> dict[str, Any]:
    """A fixture user as the API's `User` schema."""
    document = {
        "_id": user.id,
        "email": user.email,
        "firstName": user.first_name,
        "lastName": user.last_name,
        "fullName": f"{user.first_name} {user.last_name}",
        "role": user.role,
        "customRole": None,
        "isAnonymous": False,
        "emailVerified": True,
        "phoneVerified": False,
        "twoFactorEnabled": False,
        "createdAt": user.created_at,
        "updatedAt": user.created_at,
        "org": {
            "_id": store.fixtures.org["id"],
            "name": store.fixtures.org["name"],
            "slug": store.fixtures.org["slug"],
        },
    }
    if user.avatar:
        document["avatar"] = user.avatar
    last_login = store.last_login(user.id)
    if last_login:
        document["lastLogin"] = last_login
    return document


def chat_document(chat: ChatRecord) -> dict[str, Any]:
    """A chat as the API's `ChatDetails` schema."""
    return {
        "_id": chat.id,
        "name": chat.name,
        "type": chat.type,
        "participants": [{"userId": user_id, "role": p.role} for user_id, p in chat.participants.items()],
        "createdAt": chat.created_at,
    }


def message_document(message: MessageRecord, users: dict[str, User]) -> dict[str, Any]:
    """A message as `getChatMessages` lists it."""
    sender = users.get(message.sender_id)
    document: dict[str, Any] = {
        "_id": message.id,
        "type": message.type,
        "isE2ee": message.e2ee is not None,
        "sender": {"_id": message.sender_id}
        | ({"firstName": sender.first_name, "lastName": sender.last_name} if sender else {}),
        "mentions": message.mentions,
        "reactions": reactions_document(message.reactions),
        "readBy": message.read_by,
        "createdAt": message.created_at,
    }
    optional = {"content": message.content, "e2ee": message.e2ee, "replyTo": message.reply_to}
    optional["editedAt"] = message.edited_at
    document.update({name: value for name, value in optional.items() if value is not None})
    return document


def reactions_document(reactions: dict[str, list[str]]) -> list[dict[str, Any]]:
    return [{"emoji": emoji, "count": len(users), "users": users} for emoji, users in reactions.items()]
