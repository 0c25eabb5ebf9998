"""The mock's in-memory state: the fixtures, changed by the operations.

One lock guards every read-modify-write, so parallel requests see a consistent
state: of many parallel removals of the same participant exactly one succeeds.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from .fixtures import Fixtures, Project, User


class RuleViolation(Exception):
    """A business rule refused the request; nothing was modified."""

    def __init__(self, code: str, error: str, details: str) -> None:
        super().__init__(details)
        self.code = code
        self.error = error
        self.details = details


@dataclass(frozen=True)
class Participant:
    role: str  # admin or member
    added_at: str  # RFC 3339


@dataclass(frozen=True)
class ChatView:
    """A chat as it is now, for responses and inspection."""

    id: str
    name: str
    type: str
    created_at: str
    participants: dict[str, Participant]  # user ID -> participant, in the order they joined


class Store:
    def __init__(self, fixtures: Fixtures) -> None:
        self.fixtures = fixtures
        self._users_by_email = {user.email.lower(): user for user in fixtures.users.values()}
        self._lock = threading.Lock()
        self._participants: dict[tuple[str, str], dict[str, Participant]] = {}
        self._last_login: dict[str, str] = {}
        self.reset()

    @property
    def users(self) -> dict[str, User]:
        return self.fixtures.users

    def reset(self) -> None:
        """Back to the fixtures, as at start-up."""
        with self._lock:
            self._participants = {
                (project.id, chat.id): {
                    user_id: Participant(role, chat.created_at) for user_id, role in chat.participants.items()
                }
                for project in self.fixtures.projects.values()
                for chat in project.chats.values()
            }
            self._last_login = {}

    def find_user_by_email(self, email: str) -> User | None:
        return self._users_by_email.get(email.lower())

    def record_login(self, user_id: str, when: str) -> None:
        with self._lock:
            self._last_login[user_id] = when

    def last_login(self, user_id: str) -> str | None:
        with self._lock:
            return self._last_login.get(user_id)

    def remove_participant(self, project_id: str, chat_id: str, caller_id: str, user_id: str) -> None:
        self._project_with_chat(project_id, chat_id)
        with self._lock:
            participants = self._participants[(project_id, chat_id)]
            if caller_id != user_id:
                self._require_admin(participants, caller_id, "remove other participants; any participant may leave")
            if user_id not in participants:
                raise RuleViolation(
                    "NOT_A_PARTICIPANT", "Not a participant", f"User {user_id} is not a participant of chat {chat_id}"
                )
            del participants[user_id]

    def add_participant(
        self, project_id: str, chat_id: str, caller_id: str, user_id: str, role: str, now: str
    ) -> ChatView:
        project = self._project_with_chat(project_id, chat_id)
        with self._lock:
            participants = self._participants[(project_id, chat_id)]
            self._require_admin(participants, caller_id, "add participants")
            if user_id not in project.members:
                raise RuleViolation(
                    "NOT_A_PROJECT_MEMBER",
                    "Not a project member",
                    f"User {user_id} is not a member of project {project_id}",
                )
            if user_id in participants:
                raise RuleViolation(
                    "ALREADY_A_PARTICIPANT", "Already a participant", f"User {user_id} is already in chat {chat_id}"
                )
            participants[user_id] = Participant(role, now)
            return self._view(project, chat_id)

    def chat(self, project_id: str, chat_id: str, caller_id: str) -> ChatView:
        """The chat as its participant `caller_id` sees it."""
        project = self._project_with_chat(project_id, chat_id)
        with self._lock:
            if caller_id not in self._participants[(project_id, chat_id)]:
                raise RuleViolation(
                    "NOT_A_PARTICIPANT", "Not a participant", f"You are not a participant of chat {chat_id}"
                )
            return self._view(project, chat_id)

    def chats(self) -> list[tuple[str, ChatView]]:
        """Every chat with its current participants, as (project ID, chat)."""
        with self._lock:
            return [
                (project.id, self._view(project, chat_id))
                for project in self.fixtures.projects.values()
                for chat_id in project.chats
            ]

    def _project_with_chat(self, project_id: str, chat_id: str) -> Project:
        project = self.fixtures.projects.get(project_id)
        if project is None:
            raise RuleViolation("PROJECT_NOT_FOUND", "Project not found", f"No project with ID {project_id}")
        if chat_id not in project.chats:
            raise RuleViolation(
                "CHAT_NOT_FOUND", "Chat not found", f"No chat with ID {chat_id} in project {project_id}"
            )
        return project

    @staticmethod
    def _require_admin(participants: dict[str, Participant], caller_id: str, action: str) -> None:
        caller = participants.get(caller_id)
        if caller is None or caller.role != "admin":
            raise RuleViolation("FORBIDDEN", "Not allowed", f"Only a chat admin may {action}")

    def _view(self, project: Project, chat_id: str) -> ChatView:
        """Call with the lock held."""
        chat = project.chats[chat_id]
        return ChatView(chat.id, chat.name, chat.type, chat.created_at, dict(self._participants[(project.id, chat_id)]))
