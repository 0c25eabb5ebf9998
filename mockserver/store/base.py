"""What every store is: the rules (chats.py, messages.py, sessions.py, items.py, budget.py) and the
lookups they share, over the state as mappings (`_projects`, `_sessions`, ...). Where that
state lives, and what keeps a check and its change apart (`_lock`), is each store's own:
`MemoryStore` (memory.py) or `RedisStore` (redis_store.py)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from mockserver.store.budget import BudgetRules, StateLimits
from mockserver.store.chats import ChatRules
from mockserver.store.fixtures import Fixtures, User
from mockserver.store.items import ItemRules
from mockserver.store.messages import MessageRules
from mockserver.store.records import ChatRecord, MessageRecord, ProjectRecord, RuleViolation, instant
from mockserver.store.sessions import SessionRules


class Store(ChatRules, MessageRules, SessionRules, ItemRules, BudgetRules):
    kind: str
    problems: list[str]  # what /__mock/health and the start-up warn of
    fixtures: Fixtures
    limits: StateLimits
    _lock: Any  # a context manager around every read-modify-write
    _projects: Mapping[str, ProjectRecord]

    @property
    def users(self) -> Mapping[str, User]:
        """The fixture users by ID; a live view, so it follows load()."""
        return FixtureUsers(self)

    def load(self, fixtures: Fixtures) -> None:
        """Start over from other fixtures (files edited since start-up)."""
        with self._lock:
            self.fixtures = fixtures
            self._users_by_email = {user.email.lower(): user for user in fixtures.users.values()}
            self.reset()

    def reset(self) -> None:
        """Back to the fixtures, as at start-up: sessions and logins are forgotten too."""
        raise NotImplementedError

    def health(self) -> dict[str, Any]:
        """What /__mock/health reports of the store."""
        raise NotImplementedError

    def now(self) -> str:
        """The current time, RFC 3339 with milliseconds, strictly after the last one
        handed out, so that messages sort by creation time without ties."""
        raise NotImplementedError

    def find_user_by_email(self, email: str) -> User | None:
        return self._users_by_email.get(email.lower())

    def _between_check_and_change(self) -> None:
        """A test hook, called by remove_participant between its check and its change:
        tests hold requests here to show that the lock keeps them apart."""

    # Lookups shared by the rules; call them with the lock held.

    def _project(self, project_id: str) -> ProjectRecord:
        project = self._projects.get(project_id)
        if project is None:
            raise RuleViolation("PROJECT_NOT_FOUND", "Project not found", f"No project with ID {project_id}", "missing")
        return project

    def _member_project(self, project_id: str, user_id: str) -> ProjectRecord:
        """A project the user is a member of; an unknown project reads the same."""
        project = self._projects.get(project_id)
        if project is None or user_id not in project.members:
            raise RuleViolation(
                "PROJECT_NOT_FOUND", "Project not found", f"No project {project_id} of yours", "missing"
            )
        return project

    def _chat(self, project_id: str, chat_id: str) -> ChatRecord:
        chat = self._project(project_id).chats.get(chat_id)
        if chat is None:
            raise RuleViolation(
                "CHAT_NOT_FOUND", "Chat not found", f"No chat with ID {chat_id} in project {project_id}", "missing"
            )
        return chat

    def _visible_chat(self, project_id: str, chat_id: str, caller_id: str) -> ChatRecord:
        """A chat the caller takes part in. Unknown chats and chats of others read the
        same, so that a caller cannot tell which chats exist."""
        project = self._projects.get(project_id)
        chat = project.chats.get(chat_id) if project else None
        if chat is None or caller_id not in chat.participants:
            raise RuleViolation(
                "CHAT_NOT_FOUND", "Chat not found", f"No chat {chat_id} of yours in project {project_id}", "missing"
            )
        return chat

    @staticmethod
    def _messages_between(
        chat: ChatRecord, *, after: datetime | None, before: datetime | None, offset: int, limit: int
    ) -> tuple[list[MessageRecord], int]:
        """The chat's messages created strictly between `after` and `before` (None: no
        bound), newest first: those from `offset` on, at most `limit`; and how many there
        are on all pages. (The Redis store reads that page alone, from its index.)"""
        if before is None and after is None:  # no bounds: read that page alone
            total = len(chat.messages)
            if offset >= total:  # (a client's offset may be past what islice takes)
                return [], total
            return list(itertools.islice(reversed(chat.messages.values()), offset, min(offset + limit, total))), total
        matching = [
            message
            for message in reversed(chat.messages.values())
            if (before is None or instant(message.created_at) < before)
            and (after is None or instant(message.created_at) > after)
        ]
        return matching[offset : offset + limit], len(matching)

    @staticmethod
    def _messages_in_order(chat: ChatRecord, *, offset: int, limit: int) -> tuple[list[MessageRecord], int]:
        """The chat's messages oldest first, from `offset`, at most `limit`; and how many it has."""
        total = len(chat.messages)
        if offset >= total:  # (a client's offset may be past what islice takes)
            return [], total
        return list(itertools.islice(chat.messages.values(), offset, min(offset + limit, total))), total

    @staticmethod
    def _message(chat: ChatRecord, message_id: str) -> MessageRecord:
        message = chat.messages.get(message_id)
        if message is None:
            raise RuleViolation(
                "MESSAGE_NOT_FOUND", "Message not found", f"No message {message_id} in chat {chat.id}", "missing"
            )
        return message


class FixtureUsers(Mapping[str, User]):
    """The users of a store's current fixtures: what the authenticator holds on to."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def __getitem__(self, user_id: str) -> User:
        return self._store.fixtures.users[user_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._store.fixtures.users)

    def __len__(self) -> int:
        return len(self._store.fixtures.users)
