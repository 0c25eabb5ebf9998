"""The mock's state as records, built from the fixtures and changed by the rules.

Records are mutable and live behind the store's lock; the store hands out
snapshots (`snapshot()`), never the records themselves.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, replace
from datetime import datetime

from mockserver.store.fixtures import E2eeKey


class RuleViolation(Exception):
    """A business rule refused the request; nothing was modified.

    `kind` says what failed, so each operation can answer with the status its
    contract declares for it: `missing` (no such thing, or none the caller may
    see), `forbidden` (the caller may not do it), `invalid` (the request cannot
    be carried out as asked), `conflict` (it names a thing that exists already).
    """

    def __init__(self, code: str, error: str, details: str, kind: str = "invalid") -> None:
        super().__init__(details)
        self.code = code
        self.error = error
        self.details = details
        self.kind = kind

    def __reduce__(self):  # pickled whole, for the state process's answers (state_process.py)
        return type(self), (self.code, self.error, self.details, self.kind)


def instant(timestamp: str) -> datetime:
    """An RFC 3339 text as a comparable time."""
    return datetime.fromisoformat(timestamp)


@dataclass(frozen=True)
class Participant:
    role: str  # admin or member
    added_at: str  # RFC 3339


@dataclass
class ChatRecord:
    id: str
    name: str
    type: str
    created_at: str
    description: str | None = None
    participants: dict[str, Participant] = field(default_factory=dict)  # user ID -> participant, join order
    messages: dict[str, MessageRecord] = field(default_factory=dict)  # message ID -> message, oldest first
    size_bytes: int = 0  # the estimate of what the chat holds, its messages included (budget.py)

    def snapshot(self, with_messages: bool = True) -> ChatRecord:
        """A copy that later changes leave alone; without its messages (`messages` empty)
        for a caller that does not read them: copying a chat costs as much as its messages."""
        if with_messages:
            return copy.deepcopy(self)
        return replace(self, participants=dict(self.participants), messages={})  # Participant is frozen


@dataclass
class MessageRecord:
    id: str
    sender_id: str
    type: str
    created_at: str
    content: str | None = None
    e2ee: dict | None = None
    reply_to: str | None = None
    mentions: list[str] = field(default_factory=list)
    reactions: dict[str, list[str]] = field(default_factory=dict)  # emoji -> users, in the order they reacted
    read_by: list[str] = field(default_factory=list)  # never the sender
    edited_at: str | None = None

    def snapshot(self) -> MessageRecord:
        # Field by field and by position, not deepcopy (a page of 50 messages deep-copied
        # took half the CPU of a getChatMessages), nor dataclasses.replace (which looks
        # the fields up each time: 4 of the 5 us of a copy).
        return MessageRecord(
            self.id,
            self.sender_id,
            self.type,
            self.created_at,
            self.content,
            copy.deepcopy(self.e2ee) if self.e2ee is not None else None,
            self.reply_to,
            list(self.mentions),
            {emoji: list(users) for emoji, users in self.reactions.items()} if self.reactions else {},
            list(self.read_by),
            self.edited_at,
        )

    def __reduce__(self):
        # Pickled by position (for the state process's answers, state_process.py): a page
        # of 50 read back in half the time of the dataclass's default.
        return MessageRecord, (
            self.id,
            self.sender_id,
            self.type,
            self.created_at,
            self.content,
            self.e2ee,
            self.reply_to,
            self.mentions,
            self.reactions,
            self.read_by,
            self.edited_at,
        )

    def unread_by(self, user_id: str) -> bool:
        return user_id != self.sender_id and user_id not in self.read_by


@dataclass
class ProjectRecord:
    id: str
    members: tuple[str, ...]
    chats: dict[str, ChatRecord]  # chat ID -> chat, in creation order
    e2ee_keys: dict[str, E2eeKey]  # user ID -> key


@dataclass
class Session:
    """A login: its access tokens carry `sid`; its current refresh token is one-use."""

    user_id: str
    refresh_token: str | None
    refresh_expires_at: float
    revoked: bool = False
