"""What each operation does, keyed by the spec's operationId.

A behaviour runs only after authentication and request validation passed; it
gets the validated request and the caller, and changes the store.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from flask import Response, jsonify

from .auth import issue_token, unauthorized
from .errors import ApiError, rfc3339_now
from .fixtures import User
from .store import ChatView, RuleViolation, Store


@dataclass(frozen=True)
class Call:
    """One validated request to an operation."""

    store: Store
    jwt_secret: str
    token_lifetime: int
    caller: str | None  # user ID proven by the token; None for operations without security
    path: dict[str, Any]
    body: Any


def login_user(call: Call) -> Response:
    user = call.store.find_user_by_email(call.body["email"])
    # Compare even for an unknown email, so both failures take the same time.
    expected = user.password if user else secrets.token_hex(16)
    if not hmac.compare_digest(expected.encode(), call.body["password"].encode()) or user is None:
        raise unauthorized(
            "The email or password is incorrect",
            error_code=None,
            code="INVALID_CREDENTIALS",
            error="Invalid email or password",
        )
    now = rfc3339_now()
    call.store.record_login(user.id, now)
    return jsonify(
        message="Login successful",
        token=issue_token(call.jwt_secret, user.id, user.email, call.token_lifetime),
        refreshToken=secrets.token_urlsafe(32),
        expiresIn=call.token_lifetime,
        user=user_document(user, call.store),
    )


def remove_participant(call: Call) -> Response:
    with rules_as_400s():
        call.store.remove_participant(call.path["projectId"], call.path["chatId"], call.caller, call.body["userId"])
    return jsonify(message="Participant removed successfully")


def add_participant(call: Call) -> Response:
    with rules_as_400s():
        chat = call.store.add_participant(
            call.path["projectId"],
            call.path["chatId"],
            call.caller,
            call.body["userId"],
            call.body.get("role", "member"),
            rfc3339_now(),
        )
    participants = [
        {"userId": user_id, "role": participant.role, "addedAt": participant.added_at}
        for user_id, participant in chat.participants.items()
    ]
    return jsonify(success=True, data={"participants": participants})


def get_chat_details(call: Call) -> Response:
    try:
        chat = call.store.chat(call.path["projectId"], call.path["chatId"], call.caller)
    except RuleViolation:
        # Documented as a 404; one answer for unknown chats and chats of others, so a
        # caller cannot tell which chats exist.
        details = f"No chat {call.path['chatId']} of yours in project {call.path['projectId']}"
        raise ApiError(404, "NOT_FOUND", "Chat not found", details) from None
    return jsonify(success=True, data=chat_document(chat))


@contextmanager
def rules_as_400s() -> Iterator[None]:
    """Business-rule failures as 400s with their own code: the real API documents only
    200/400/401 for the participant operations."""
    try:
        yield
    except RuleViolation as exc:
        raise ApiError(400, exc.code, exc.error, exc.details) from None


def chat_document(chat: ChatView) -> dict[str, Any]:
    """A chat as the API's `ChatDetails` schema."""
    return {
        "_id": chat.id,
        "name": chat.name,
        "type": chat.type,
        "participants": [{"userId": user_id, "role": p.role} for user_id, p in chat.participants.items()],
        "createdAt": chat.created_at,
    }


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


BEHAVIOURS: dict[str, Callable[[Call], Response]] = {
    "loginUser": login_user,
    "removeParticipant": remove_participant,
    "addParticipant": add_participant,
    "getChatDetails": get_chat_details,
}
