"""The state's budget: the most the store holds, in counts and in bytes.

Every rule that adds to the state checks the limit it could pass before it changes
anything, in the rules both stores run (chats.py, messages.py, sessions.py), and refuses
past it with a RuleViolation of code LIMIT_EXCEEDED: a 400 where the operation declares
one (sendMessage, addReaction, createChat, addParticipant, markMessagesAsRead, editMessage,
putChatE2eeKey, loginUser, refreshToken; logoutUser declares only 401, so a logout the
sessions have no room for is a 401), in the Error envelope; the state is as it was and
the mock serves on. Taking away (deleting a message, removing a participant or a
reaction) is never refused.

The limits (`mockserver serve --state-limits NAME=N,NAME=N`, or MOCKSERVER_STATE_LIMITS;
byte sizes take KiB, MiB or GiB):

| name                  | default | what it bounds                                               |
| --------------------- | ------- | ------------------------------------------------------------ |
| messages_per_chat     | 2000    | messages in one chat                                         |
| chats_per_project     | 200     | chats in one project                                         |
| participants_per_chat | 100     | participants of one chat (at creation and added)             |
| reactions_per_message | 20      | distinct emoji on one message (each user once per emoji)     |
| mentions_per_message  | 10      | users one message mentions, each a participant of the chat   |
| content_bytes         | 16KiB   | UTF-8 bytes of a message's content or its e2ee payload (as   |
|                       |         | JSON), of a chat's name plus description, of an E2EE key     |
| sessions              | 10000   | sessions (each login opens one; a logout of a token of no    |
|                       |         | known session records one)                                   |
| items                 | 10000   | items of the resources inferred from the document (beyond    |
|                       |         | the seeds from its examples), in all collections together    |
| state_bytes           | 64MiB   | the estimate of everything the store holds (below)           |
| journal_bytes         | 8MiB    | request and response bodies the journal keeps; past it the   |
|                       |         | oldest entries go (the journal is never refused)             |

The contract declares no maxLength for a message's content and no maxItems for its
mentions (only `emoji`, 1 to 32 characters): those limits are the mock's own choices.
With the defaults, a mock filled to its budget with 16 KiB messages (3,939 of them)
measured 178 MiB of RSS, its journal full included, from 82 MiB at start; an attacker
sending 1 MiB messages, all refused, left it at 136 MiB (benchmarks/state_budget.py).

The byte estimate approximates, on the side of caution, what the records cost in this
process's memory: the text they hold, plus a fixed cost per record, list item and dict
entry, calibrated with tracemalloc on CPython 3.11 (a short message: 725 estimated, 597
allocated). Each chat keeps its own (`ChatRecord.size_bytes`, what /__mock/state shows),
and the store adds each change's cost to a counter (`Usage`, below), so a check costs the
same however full the store is. The fixtures' own cost is the baseline.

In Redis the counters are keys of their own, read without WATCH and added to with
INCRBY when a rule's transaction commits, so that they add no conflict between rules
that touch different items: replicas writing at the same instant may pass state_bytes or
sessions by what those writes add, never more. There a chat's share past its creation,
and a project's E2EE keys past its fixtures, are counters too (redis_store.py), not
fields of the items every rule of the chat or project reads. Counts within a chat (its messages,
participants, a message's reactions) are exact in both stores.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mockserver import settings
from mockserver.settings import SettingsError
from mockserver.store.fixtures import Fixtures
from mockserver.store.records import (
    ChatRecord,
    E2eeKey,
    MessageRecord,
    Participant,
    ProjectRecord,
    RuleViolation,
)

LIMIT_EXCEEDED = "LIMIT_EXCEEDED"
STATE_LIMITS_ENV = "MOCKSERVER_STATE_LIMITS"
KIB = 1024
MIB = 1024 * KIB


@dataclass(frozen=True)
class StateLimits:
    """The budget of a store; the table in this module's docstring says what each bounds."""

    messages_per_chat: int = 2_000
    chats_per_project: int = 200
    participants_per_chat: int = 100
    reactions_per_message: int = 20
    mentions_per_message: int = 10
    content_bytes: int = 16 * KIB
    sessions: int = 10_000
    items: int = 10_000
    state_bytes: int = 64 * MIB
    # settings.JOURNAL_MAX_BYTES as the limits are made: the journal's own default, one figure.
    journal_bytes: int = dataclasses.field(default_factory=lambda: settings.JOURNAL_MAX_BYTES)

    @classmethod
    def parse(cls, text: str | None, base: StateLimits | None = None) -> StateLimits:
        """`base` (the defaults) with the limits `text` sets, e.g.
        `messages_per_chat=100,state_bytes=16MiB`; ValueError naming what is wrong."""
        limits = base or cls()
        changes: dict[str, int] = {}
        names = {field.name for field in dataclasses.fields(cls)}
        for item in filter(None, (part.strip() for part in (text or "").replace(" ", ",").split(","))):
            name, equals, value = item.partition("=")
            name = name.strip().replace("-", "_")
            if not equals or name not in names:
                known = ", ".join(sorted(names))
                raise ValueError(f"{item!r} is not NAME=N with NAME one of {known}")
            match = re.fullmatch(r"(\d+)\s*(KiB|MiB|GiB)?", value.strip(), re.IGNORECASE)
            if match is None or int(match[1]) < 1:
                raise ValueError(f"{item!r}: the limit must be a positive integer (bytes may end in KiB, MiB or GiB)")
            unit = {"kib": KIB, "mib": MIB, "gib": 1024 * MIB}.get((match[2] or "").lower(), 1)
            changes[name] = int(match[1]) * unit
        return dataclasses.replace(limits, **changes)

    @classmethod
    def from_env(cls) -> StateLimits:
        """The defaults with what MOCKSERVER_STATE_LIMITS sets; SettingsError if it is malformed."""
        try:
            return cls.parse(os.environ.get(STATE_LIMITS_ENV))
        except ValueError as exc:
            raise SettingsError(f"{STATE_LIMITS_ENV}: {exc}") from None

    def document(self) -> dict[str, int]:
        """The limits as /__mock/state shows them (camelCase)."""
        return {_camel(field.name): getattr(self, field.name) for field in dataclasses.fields(self)}


DEFAULT_LIMITS = StateLimits()


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


# --- the estimate -------------------------------------------------------------------------

# What a record costs beyond the text it holds (the object, its __dict__, its empty
# lists and dicts, its IDs and timestamps), and what one more entry of a list or dict
# costs (the reference, and a short ID string when it is one); CPython 3.11 on 64 bits.
MESSAGE_BYTES = 650
CHAT_BYTES = 900
PARTICIPANT_BYTES = 150
ITEM_BYTES = 64
REACTION_BYTES = 150  # an emoji's entry: its key, its list of users
KEY_BYTES = 350  # an E2EE key record
SESSION_BYTES = 400  # a session, its refresh token and the token's entry
REFRESH_TOKEN_BYTES = 200  # each later refresh token, kept to detect its reuse
JSON_VALUE_BYTES = 48  # a value of an e2ee payload, besides its text
REFERENCE_BYTES = 8  # an item of a list


def text_bytes(text: str | None) -> int:
    return 0 if text is None else len(text.encode("utf-8", "surrogatepass"))


def json_text_bytes(value: Any) -> int:
    """The size of a JSON value as the client sent it (UTF-8, compact)."""
    return 0 if value is None else len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode())


def json_value_bytes(value: Any) -> int:
    """What a parsed JSON value costs in memory: its text, and each of its values."""
    if value is None:
        return 0
    cost, pending = 0, [value]
    while pending:  # no recursion: a body nests at most settings.MAX_JSON_DEPTH deep, but why rely on it
        item = pending.pop()
        cost += JSON_VALUE_BYTES
        if isinstance(item, dict):
            cost += sum(text_bytes(key) + ITEM_BYTES for key in item)
            pending.extend(item.values())
        elif isinstance(item, (list, tuple)):  # a tuple: an answer of several values (a page and its count)
            cost += REFERENCE_BYTES * len(item)
            pending.extend(item)
        elif isinstance(item, str):
            cost += text_bytes(item)
    return cost


def message_body_bytes(content: str | None, e2ee: dict | None) -> int:
    return text_bytes(content) + json_value_bytes(e2ee)


def reaction_bytes(emoji: str, users: list[str]) -> int:
    return REACTION_BYTES + text_bytes(emoji) + ITEM_BYTES * len(users)


def message_bytes(message: MessageRecord) -> int:
    return (
        MESSAGE_BYTES
        + message_body_bytes(message.content, message.e2ee)
        + ITEM_BYTES * (len(message.mentions) + len(message.read_by))
        + sum(reaction_bytes(emoji, users) for emoji, users in message.reactions.items())
    )


def chat_bytes(chat: ChatRecord) -> int:
    """The chat's own cost with its participants and messages."""
    return (
        CHAT_BYTES
        + text_bytes(chat.name)
        + text_bytes(chat.description)
        + PARTICIPANT_BYTES * len(chat.participants)
        + sum(message_bytes(message) for message in chat.messages.values())
    )


def key_bytes(key: E2eeKey | None) -> int:
    return 0 if key is None else KEY_BYTES + text_bytes(key.identity_public_key)


def project_bytes(project: ProjectRecord) -> int:
    return sum(chat.size_bytes for chat in project.chats.values()) + sum(
        key_bytes(key) for key in project.e2ee_keys.values()
    )


# --- the counters ---------------------------------------------------------------------------

BYTES = "bytes"  # what the store holds beyond its fixtures (negative once fixture data is gone)
SESSIONS = "sessions"
ITEMS = "items"  # the items of inferred resources (items.py) beyond the seeds
# A counter's name: one word, or a word and the IDs it is of, e.g. ("chat-bytes", project, chat).
Name = str | tuple[str, ...]


class Usage:
    """The in-memory store's counters, behind its lock."""

    def __init__(self) -> None:
        self._values: dict[Name, int] = {}

    def value(self, name: Name) -> int:
        return self._values.get(name, 0)

    def add(self, name: Name, delta: int) -> None:
        self._values[name] = self.value(name) + delta


class RedisUsage(Usage):
    """A Redis store's counters for one run of a rule: read without WATCH (the rules of
    other chats and sessions do not conflict over them), and changed by INCRBY in the
    rule's MULTI/EXEC, so that a rule run again after a lost race counts once."""

    def __init__(self, read: Callable[[str], bytes | None], key_of: Callable[[Name], str]) -> None:
        super().__init__()
        self._read = read
        self._key_of = key_of
        self._pending: dict[Name, int] = {}

    def value(self, name: Name) -> int:
        if name not in self._values:
            raw = self._read(self._key_of(name))
            self._values[name] = int(raw) if raw is not None else 0
        return self._values[name]

    def add(self, name: Name, delta: int) -> None:
        super().add(name, delta)
        self._pending[name] = self._pending.get(name, 0) + delta

    def queue(self, pipe: Any) -> None:
        """The INCRBYs of this run, into a pipeline in MULTI."""
        for name, delta in self._pending.items():
            if delta:
                pipe.incrby(self._key_of(name), delta)


# --- the checks, for the rules (called with the store's lock held, or in its transaction) ---


def exceeded(details: str) -> RuleViolation:
    return RuleViolation(LIMIT_EXCEEDED, "Limit exceeded", details)


class BudgetRules:
    """The budget's checks and its bookkeeping, shared by the rules of both stores."""

    limits: StateLimits = DEFAULT_LIMITS

    def _fixture_records(self) -> tuple[dict[str, ProjectRecord], int]:
        """The fixtures' records and their cost, built once per fixtures: the baseline of
        the counters. Read them only: they are not the state."""
        baseline = getattr(self, "_baseline", None)
        if baseline is None or baseline[0] is not self.fixtures:
            projects = records_from_fixtures(self.fixtures)
            cost = sum(project_bytes(project) for project in projects.values())
            baseline = self._baseline = (self.fixtures, projects, cost)
        return baseline[1], baseline[2]

    def _state_bytes(self) -> int:
        """The estimate of everything the store holds: its fixtures' cost plus the counter."""
        return self._fixture_records()[1] + self._usage.value(BYTES)

    # How a chat and a project keep their own share (what /__mock/state shows). In memory,
    # on the records; the Redis store keeps them in counters of their own (redis_store.py),
    # so that no rule writes an item that every other rule of its chat or project reads.

    def _add_to_chat(self, chat: ChatRecord, cost: int) -> None:
        chat.size_bytes += cost

    def _chat_bytes(self, chat: ChatRecord) -> int:
        """The estimate of what `chat` holds, its messages included."""
        return chat.size_bytes

    def _key_stored(self, project: ProjectRecord, previous: E2eeKey | None, key: E2eeKey) -> None:
        """`key` replaces `previous` (None: the member had none) in `project`: the records tell."""

    def _keys_held(self, project: ProjectRecord) -> tuple[int, int]:
        """How many E2EE keys `project` holds, and the estimate of their bytes."""
        return len(project.e2ee_keys), sum(key_bytes(key) for key in project.e2ee_keys.values())

    def _spend(self, cost: int, chat: ChatRecord | None = None) -> None:
        """Add `cost` bytes (negative: free them) to the state, and to `chat`'s own, or refuse
        a cost the budget has no room for. Call it last, just before the change itself."""
        if cost > 0:
            held = self._state_bytes()
            if held + cost > self.limits.state_bytes:
                raise exceeded(
                    f"The mock's state holds about {held:,} bytes; this change would pass its limit of "
                    f"{self.limits.state_bytes:,} (state_bytes). POST /__mock/reset starts over"
                )
        self._usage.add(BYTES, cost)
        if chat is not None:
            self._add_to_chat(chat, cost)

    @staticmethod
    def _require_within(count: int, limit: int, name: str, what: str) -> None:
        """Refuse a change after which there would be `count` of something, past `limit`."""
        if count > limit:
            raise exceeded(f"{what} would be {count:,}, past the mock's limit of {limit:,} ({name})")

    def _require_text_within(self, size: int, what: str) -> None:
        limit = self.limits.content_bytes
        if size > limit:
            raise exceeded(f"{what} is {size:,} bytes, past the mock's limit of {limit:,} (content_bytes)")


def records_from_fixtures(fixtures: Fixtures) -> dict[str, ProjectRecord]:
    """The fixtures as the store's records, each chat with its cost estimate."""
    projects: dict[str, ProjectRecord] = {}
    for project in fixtures.projects.values():
        chats = {}
        for chat in project.chats.values():
            chats[chat.id] = ChatRecord(
                id=chat.id,
                name=chat.name,
                type=chat.type,
                created_at=chat.created_at,
                participants={user: Participant(role, chat.created_at) for user, role in chat.participants.items()},
                messages={
                    message.id: MessageRecord(
                        id=message.id,
                        sender_id=message.sender_id,
                        type=message.type,
                        created_at=message.created_at,
                        content=message.content,
                        reply_to=message.reply_to,
                        mentions=list(message.mentions),
                        reactions={emoji: list(users) for emoji, users in message.reactions.items()},
                        read_by=list(message.read_by),
                    )
                    for message in chat.messages
                },
            )
            chats[chat.id].size_bytes = chat_bytes(chats[chat.id])
        keys = dict(project.e2ee_keys)  # frozen: the fixtures' own
        projects[project.id] = ProjectRecord(project.id, project.members, chats, keys)
    return projects
