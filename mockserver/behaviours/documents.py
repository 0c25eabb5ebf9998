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
    """A message as `getChatMessages` lists it (each of a page's 50 is built per request)."""
    sender = users.get(message.sender_id)
    author = {"_id": message.sender_id}
    if sender:
        author["firstName"], author["lastName"] = sender.first_name, sender.last_name
    document: dict[str, Any] = {
        "_id": message.id,
        "type": message.type,
        "isE2ee": message.e2ee is not None,
        "sender": author,
        "mentions": message.mentions,
        "reactions": reactions_document(message.reactions) if message.reactions else [],
        "readBy": message.read_by,
        "createdAt": message.created_at,
    }
    if message.content is not None:
        document["content"] = message.content
    if message.e2ee is not None:
        document["e2ee"] = message.e2ee
    if message.reply_to is not None:
        document["replyTo"] = message.reply_to
    if message.edited_at is not None:
        document["editedAt"] = message.edited_at
    return document


def reactions_document(reactions: dict[str, list[str]]) -> list[dict[str, Any]]:
    return [{"emoji": emoji, "count": len(users), "users": users} for emoji, users in reactions.items()]
