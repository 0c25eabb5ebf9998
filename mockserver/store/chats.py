"""Rules of chats, their participants and their members' E2EE keys."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from mockserver.store.budget import PARTICIPANT_BYTES, SESSIONS, chat_bytes, key_bytes, text_bytes
from mockserver.store.records import ChatRecord, E2eeKey, MessageRecord, Participant, RuleViolation, instant


@dataclass(frozen=True)
class ChatSummary:
    """A chat as one user's chat list shows it."""

    chat: ChatRecord  # without its messages
    last_message: MessageRecord | None
    unread_count: int


@dataclass(frozen=True)
class ChatCounts:
    """A chat as the state's summary shows it: its participants, how many messages it
    holds and the estimate of its bytes, never its messages."""

    project_id: str
    chat: ChatRecord  # without its messages; its size_bytes, the estimate
    message_count: int


@dataclass(frozen=True)
class ProjectCounts:
    project_id: str
    chat_count: int
    message_count: int
    e2ee_key_count: int
    size_bytes: int


@dataclass(frozen=True)
class StateCounts:
    projects: list[ProjectCounts]
    chats: list[ChatCounts]
    sessions: int
    size_bytes: int  # the whole store's estimate, sessions included


class ChatRules:
    def user_chats(self, project_id: str, caller_id: str) -> list[ChatSummary]:
        """The caller's chats in the project, most recent activity first."""
        with self._lock:
            project = self._member_project(project_id, caller_id)
            summaries = []
            for chat in project.chats.values():
                if caller_id not in chat.participants:
                    continue
                messages = list(chat.messages.values())
                last = messages[-1].snapshot() if messages else None
                unread = sum(message.unread_by(caller_id) for message in messages)
                overview = ChatRecord(chat.id, chat.name, chat.type, chat.created_at, chat.description)
                summaries.append(ChatSummary(overview, last, unread))
        summaries.sort(
            key=lambda s: instant(s.last_message.created_at if s.last_message else s.chat.created_at), reverse=True
        )
        return summaries

    def create_chat(
        self, project_id: str, caller_id: str, name: str, chat_type: str, invited: list[str], description: str | None
    ) -> ChatRecord:
        """A new chat: the caller is its admin, the invited project members its members."""
        with self._lock:
            project = self._project(project_id)
            if caller_id not in project.members:
                raise RuleViolation(
                    "NOT_A_PROJECT_MEMBER", "Not a project member", f"You are not a member of project {project_id}"
                )
            others = [user for user in dict.fromkeys(invited) if user != caller_id]
            for user_id in others:
                if user_id not in project.members:
                    raise RuleViolation(
                        "NOT_A_PROJECT_MEMBER",
                        "Not a project member",
                        f"User {user_id} is not a member of project {project_id}",
                    )
            if chat_type == "direct" and len(others) != 1:
                raise RuleViolation(
                    "INVALID_PARTICIPANTS",
                    "Invalid participants",
                    f"A direct chat is between you and exactly one other member; {len(others)} given",
                )
            limits = self.limits
            self._require_within(
                len(project.chats) + 1, limits.chats_per_project, "chats_per_project", f"Chats in project {project_id}"
            )
            self._require_within(
                len(others) + 1, limits.participants_per_chat, "participants_per_chat", "Participants of the chat"
            )
            self._require_text_within(text_bytes(name) + text_bytes(description), "The chat's name and description")
            now = self.now()
            chat = ChatRecord(
                id="chat_" + secrets.token_urlsafe(12),
                name=name,
                type=chat_type,
                created_at=now,
                description=description,
                participants={caller_id: Participant("admin", now)}
                | {user_id: Participant("member", now) for user_id in others},
            )
            self._spend(chat_bytes(chat), chat)
            project.chats[chat.id] = chat
            return chat.snapshot()

    def chat(self, project_id: str, chat_id: str, caller_id: str) -> ChatRecord:
        """The chat as its participant `caller_id` sees it, without its messages."""
        with self._lock:
            return self._visible_chat(project_id, chat_id, caller_id).snapshot(with_messages=False)

    def chats(self) -> list[tuple[str, ChatRecord]]:
        """Every chat with its participants and messages, as (project ID, chat)."""
        with self._lock:
            return [
                (project.id, chat.snapshot()) for project in self._projects.values() for chat in project.chats.values()
            ]

    def state_counts(self) -> StateCounts:
        """What the store holds, counted: each project and chat, without reading a message
        (a chat's messages are counted by the store: the Redis store's index answers)."""
        with self._lock:
            projects, chats = [], []
            for project in self._projects.values():
                messages = chats_bytes = 0
                for chat in project.chats.values():
                    counted = ChatCounts(project.id, self._chat_overview(chat), len(chat.messages))
                    chats.append(counted)
                    messages += counted.message_count
                    chats_bytes += counted.chat.size_bytes
                keys, keys_bytes = self._keys_held(project)
                projects.append(ProjectCounts(project.id, len(project.chats), messages, keys, chats_bytes + keys_bytes))
            return StateCounts(projects, chats, self._usage.value(SESSIONS), self._state_bytes())

    def state_page(
        self, project_id: str, chat_id: str, offset: int, limit: int
    ) -> tuple[ChatRecord, list[MessageRecord], int]:
        """The chat (without its messages), its messages offset to offset + limit, oldest
        first, and how many it has: what the admin routes show, whoever takes part."""
        with self._lock:
            chat = self._chat(project_id, chat_id)
            page, total = self._messages_in_order(chat, offset=offset, limit=limit)
            return self._chat_overview(chat), [message.snapshot() for message in page], total

    def _chat_overview(self, chat: ChatRecord) -> ChatRecord:
        """A copy of the chat without its messages, with the estimate of its bytes."""
        overview = chat.snapshot(with_messages=False)
        overview.size_bytes = self._chat_bytes(chat)
        return overview

    def remove_participant(self, project_id: str, chat_id: str, caller_id: str, user_id: str) -> None:
        with self._lock:
            chat = self._chat(project_id, chat_id)
            participants = chat.participants
            if caller_id != user_id:
                self._require_admin(participants, caller_id, "remove other participants; any participant may leave")
            if user_id not in participants:
                raise RuleViolation(
                    "NOT_A_PARTICIPANT", "Not a participant", f"User {user_id} is not a participant of chat {chat_id}"
                )
            self._between_check_and_change()
            del participants[user_id]
            self._spend(-PARTICIPANT_BYTES, chat)

    def add_participant(
        self, project_id: str, chat_id: str, caller_id: str, user_id: str, role: str, now: str
    ) -> ChatRecord:
        with self._lock:
            chat = self._chat(project_id, chat_id)
            self._require_admin(chat.participants, caller_id, "add participants")
            if user_id not in self._projects[project_id].members:
                raise RuleViolation(
                    "NOT_A_PROJECT_MEMBER",
                    "Not a project member",
                    f"User {user_id} is not a member of project {project_id}",
                )
            if user_id in chat.participants:
                raise RuleViolation(
                    "ALREADY_A_PARTICIPANT", "Already a participant", f"User {user_id} is already in chat {chat_id}"
                )
            self._require_within(
                len(chat.participants) + 1,
                self.limits.participants_per_chat,
                "participants_per_chat",
                f"Participants of chat {chat_id}",
            )
            self._spend(PARTICIPANT_BYTES, chat)
            chat.participants[user_id] = Participant(role, now)
            return chat.snapshot(with_messages=False)

    def put_e2ee_key(self, project_id: str, caller_id: str, public_key: str, version: int | None) -> E2eeKey:
        with self._lock:
            project = self._project(project_id)
            if caller_id not in project.members:
                raise RuleViolation(
                    "NOT_A_PROJECT_MEMBER", "Not a project member", f"You are not a member of project {project_id}"
                )
            previous = project.e2ee_keys.get(caller_id)
            if version is None:
                version = previous.key_version + 1 if previous else 1
            self._require_text_within(text_bytes(public_key), "The identity public key")
            key = E2eeKey(public_key, version, self.now())
            self._spend(key_bytes(key) - key_bytes(previous))
            self._key_stored(project, previous, key)
            project.e2ee_keys[caller_id] = key
            return key

    def participant_keys(self, project_id: str, chat_id: str, caller_id: str) -> list[tuple[str, E2eeKey]]:
        """The registered keys of the chat's participants, in the order they joined."""
        with self._lock:
            chat = self._visible_chat(project_id, chat_id, caller_id)
            keys = self._projects[project_id].e2ee_keys
            return [(user_id, keys[user_id]) for user_id in chat.participants if user_id in keys]

    @staticmethod
    def _require_admin(participants: dict[str, Participant], caller_id: str, action: str) -> None:
        caller = participants.get(caller_id)
        if caller is None or caller.role != "admin":
            raise RuleViolation("FORBIDDEN", "Not allowed", f"Only a chat admin may {action}", "forbidden")
