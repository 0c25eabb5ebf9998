"""What each operation does, keyed by the contract's operationId.

A behaviour runs only after authentication and request validation passed; it gets
the caller and the validated request (`Call`) and changes the store. One module per
resource: session.py, chats.py, messages.py.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Response

from . import chats, messages, session
from .call import Call
from .documents import chat_document, message_document

BEHAVIOURS: dict[str, Callable[[Call], Response]] = {**session.BEHAVIOURS, **chats.BEHAVIOURS, **messages.BEHAVIOURS}

__all__ = ["BEHAVIOURS", "Call", "chat_document", "message_document"]
