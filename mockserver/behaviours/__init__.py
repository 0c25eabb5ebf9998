"""What each operation does, keyed by the contract's operationId.

A behaviour runs only after authentication and request validation passed; it gets
the caller and the validated request (`Call`) and changes the store. One module per
resource: session.py, chats.py, messages.py; and for every other resource the document
has, those inferred from it (resources.py).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from flask import Response

from mockserver.behaviours import chats, failures, messages, resources, session
from mockserver.behaviours.call import Call
from mockserver.behaviours.documents import chat_document, message_document
from mockserver.contract.additions import Additions
from mockserver.contract.index import Contract
from mockserver.resources import Resource, ResourceModel, infer

BEHAVIOURS: dict[str, Callable[[Call], Response]] = {**session.BEHAVIOURS, **chats.BEHAVIOURS, **messages.BEHAVIOURS}

# The method and path each behaviour is written for (openapi.yaml's; a test keeps them
# equal). In another document, an operation with the same operationId gets the behaviour
# only at the same method and path: elsewhere it answers from its document.
ROUTES: dict[str, tuple[str, str]] = {
    "loginUser": ("POST", "/api/auth/login"),
    "refreshToken": ("POST", "/api/auth/refresh"),
    "logoutUser": ("POST", "/api/auth/logout"),
    "getCurrentSession": ("GET", "/api/auth/session"),
    "getUserChats": ("GET", "/api/chat/projects/{projectId}/chats"),
    "createChat": ("POST", "/api/chat/projects/{projectId}/chats"),
    "getChatDetails": ("GET", "/api/chat/projects/{projectId}/chats/{chatId}"),
    "putChatE2eeKey": ("PUT", "/api/chat/projects/{projectId}/me/chat-e2ee-key"),
    "getChatE2eeParticipantKeys": ("GET", "/api/chat/projects/{projectId}/chats/{chatId}/e2ee/participant-keys"),
    "getChatMessages": ("GET", "/api/chat/projects/{projectId}/chats/{chatId}/messages"),
    "sendMessage": ("POST", "/api/chat/projects/{projectId}/chats/{chatId}/messages"),
    "markMessagesAsRead": ("POST", "/api/chat/projects/{projectId}/chats/{chatId}/messages/read"),
    "editMessage": ("PATCH", "/api/chat/projects/{projectId}/chats/{chatId}/messages/{messageId}"),
    "deleteMessage": ("DELETE", "/api/chat/projects/{projectId}/chats/{chatId}/messages/{messageId}"),
    "addReaction": ("POST", "/api/chat/projects/{projectId}/chats/{chatId}/messages/{messageId}/reactions"),
    "removeReaction": ("DELETE", "/api/chat/projects/{projectId}/chats/{chatId}/messages/{messageId}/reactions"),
    "addParticipant": ("POST", "/api/chat/projects/{projectId}/chats/{chatId}/participants"),
    "removeParticipant": ("DELETE", "/api/chat/projects/{projectId}/chats/{chatId}/participants"),
}


def behaviour_for(operation_id: str, method: str, path: str) -> Callable[[Call], Response] | None:
    if ROUTES.get(operation_id) != (method.upper(), path):
        return None
    return BEHAVIOURS.get(operation_id)


def hand_written(contract: Contract) -> set[str]:
    """The operationIds of `contract` a hand-written behaviour serves."""
    return {
        operation.operation_id
        for operation in contract.operations
        if behaviour_for(operation.operation_id, operation.method, operation.path) is not None
    }


def served_contract(path: Path) -> tuple[Contract, ResourceModel, list[Resource]]:
    """The document at `path` as the mock serves it; the resources inferred from it as
    written, and those of them the inferred behaviours serve (resources.py), whose
    failures the served document declares too."""
    contract = Contract(path)
    model = infer(contract)
    served = resources.served_resources(model, hand_written(contract))
    contract.serve(mock_additions(served))
    return contract, model, served


def mock_additions(served: list[Resource] = ()) -> Additions:
    """What the behaviours add to any document they serve: the failures each sends, the
    hand-written ones' and those of the `served` inferred resources (resources.py)."""
    handwritten = failures.additions(ROUTES, set(BEHAVIOURS))
    return Additions(behaviour_failures={**handwritten.behaviour_failures, **resources.failures(list(served))})


__all__ = [
    "BEHAVIOURS",
    "ROUTES",
    "Call",
    "behaviour_for",
    "chat_document",
    "hand_written",
    "message_document",
    "mock_additions",
    "served_contract",
]
