"""Fixture files: read, checked and turned into the mock's initial state.

Broken files stop start-up (or a reload) with a `FixtureError` listing every problem
found, each with its file, line and field, e.g. `fixtures/projects.yaml:52:
projects[0].chats[0].participants[2].role: 'owner' is not one of ['admin', 'member']`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator

USERS_FILE = "users.yaml"
PROJECTS_FILE = "projects.yaml"

_ID = {"type": "string", "minLength": 1}
_IDS = {"type": "array", "items": _ID, "uniqueItems": True}
_DATE_TIME = {"type": "string", "format": "date-time"}

MESSAGE_SCHEMA = {
    "type": "object",
    "required": ["id", "senderId", "content", "createdAt"],
    "additionalProperties": False,
    "properties": {
        "id": _ID,
        "senderId": _ID,
        "type": {"enum": ["text", "image", "video", "audio", "file", "location", "contact"]},
        "content": {"type": "string", "minLength": 1},
        "createdAt": _DATE_TIME,
        "readBy": _IDS,
        "replyTo": _ID,
        "mentions": _IDS,
        "reactions": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["emoji", "users"],
                "additionalProperties": False,
                "properties": {"emoji": {"type": "string", "minLength": 1}, "users": {**_IDS, "minItems": 1}},
            },
        },
    },
}

E2EE_KEY_SCHEMA = {
    "type": "object",
    "required": ["userId", "identityPublicKey", "keyVersion", "updatedAt"],
    "additionalProperties": False,
    "properties": {
        "userId": _ID,
        "identityPublicKey": {"type": "string", "minLength": 1},
        "keyVersion": {"type": "integer"},
        "updatedAt": _DATE_TIME,
    },
}

USERS_SCHEMA = {
    "type": "object",
    "required": ["org", "users"],
    "additionalProperties": False,
    "properties": {
        "org": {
            "type": "object",
            "required": ["id", "name", "slug"],
            "additionalProperties": False,
            "properties": {"id": _ID, "name": {"type": "string"}, "slug": {"type": "string"}},
        },
        "users": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["id", "email", "password", "firstName", "lastName", "role", "createdAt"],
                "additionalProperties": False,
                "properties": {
                    "id": _ID,
                    "email": {"type": "string", "pattern": r"^[^@\s]+@[^@\s]+$"},
                    "password": {"type": "string", "minLength": 1},
                    "firstName": {"type": "string"},
                    "lastName": {"type": "string"},
                    "avatar": {"type": "string"},
                    "role": {"enum": ["owner", "admin", "member", "viewer"]},
                    "createdAt": _DATE_TIME,
                },
            },
        },
    },
}

PROJECTS_SCHEMA = {
    "type": "object",
    "required": ["projects"],
    "additionalProperties": False,
    "properties": {
        "projects": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "name", "members", "chats"],
                "additionalProperties": False,
                "properties": {
                    "id": _ID,
                    "name": {"type": "string"},
                    "members": _IDS,
                    "e2eeKeys": {"type": "array", "items": E2EE_KEY_SCHEMA},
                    "chats": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["id", "name", "type", "createdAt", "participants"],
                            "additionalProperties": False,
                            "properties": {
                                "id": _ID,
                                "name": {"type": "string"},
                                "type": {"enum": ["direct", "group", "channel", "broadcast"]},
                                "createdAt": _DATE_TIME,
                                "participants": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "required": ["userId", "role"],
                                        "additionalProperties": False,
                                        "properties": {"userId": _ID, "role": {"enum": ["admin", "member"]}},
                                    },
                                },
                                "messages": {"type": "array", "items": MESSAGE_SCHEMA},
                            },
                        },
                    },
                },
            },
        },
    },
}


class FixtureError(Exception):
    """Fixture files are missing or broken. `errors` lists every problem found, each as
    `FILE:LINE: field: message`; the message is all of them, one a line."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


@dataclass(frozen=True)
class User:
    id: str
    email: str
    password: str
    first_name: str
    last_name: str
    role: str
    created_at: str
    avatar: str | None = None


@dataclass(frozen=True)
class Message:
    id: str
    sender_id: str
    type: str
    content: str
    created_at: str
    read_by: tuple[str, ...] = ()
    reply_to: str | None = None
    mentions: tuple[str, ...] = ()
    reactions: dict[str, tuple[str, ...]] = field(default_factory=dict)  # emoji -> users, in order


@dataclass(frozen=True)
class Chat:
    id: str
    name: str
    type: str
    created_at: str
    participants: dict[str, str]  # user ID -> chat role, in fixture order
    messages: tuple[Message, ...] = ()  # oldest first


@dataclass(frozen=True)
class E2eeKey:
    identity_public_key: str
    key_version: int
    updated_at: str


@dataclass(frozen=True)
class Project:
    id: str
    name: str
    members: tuple[str, ...]
    chats: dict[str, Chat]
    e2ee_keys: dict[str, E2eeKey] = field(default_factory=dict)  # user ID -> key


@dataclass(frozen=True)
class Fixtures:
    org: dict[str, str]
    users: dict[str, User]
    projects: dict[str, Project]


def load_fixtures(directory: Path) -> Fixtures:
    """The fixtures of `directory`; FixtureError listing every problem of its files."""
    errors: list[str] = []
    users_file = _read(directory / USERS_FILE, USERS_SCHEMA, errors)
    projects_file = _read(directory / PROJECTS_FILE, PROJECTS_SCHEMA, errors)
    users = _users(users_file, errors) if users_file else {}
    # Memberships refer to users: with users.yaml unreadable, only projects.yaml's shape is checked.
    projects = _projects(projects_file, users_file, users, errors) if projects_file and users_file else {}
    if errors:
        raise FixtureError(errors)
    return Fixtures(org=users_file.document["org"], users=users, projects=projects)


@dataclass(frozen=True)
class _File:
    """A fixture file as read: its document, and its YAML nodes for line numbers."""

    path: Path
    document: Any
    node: yaml.Node | None

    def problem(self, where: tuple[str | int, ...], message: str) -> str:
        return f"{self.path}:{self.line(where)}: {_field(where)}: {message}"

    def line(self, where: tuple[str | int, ...]) -> int:
        """The line of the value at `where`, or of the deepest part of it that exists."""
        node = self.node
        line = node.start_mark.line + 1 if node else 1
        for part in where:
            if isinstance(node, yaml.MappingNode):
                node = next((value for key, value in node.value if key.value == part), None)
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
                node = node.value[part]
            else:
                node = None
            if node is None:
                break
            line = node.start_mark.line + 1
        return line


def _users(file: _File, errors: list[str]) -> dict[str, User]:
    users: dict[str, User] = {}
    emails: set[str] = set()
    for i, raw in enumerate(file.document["users"]):
        if raw["id"] in users:
            errors.append(file.problem(("users", i, "id"), f"duplicate user ID {raw['id']!r}"))
        if raw["email"].lower() in emails:
            errors.append(file.problem(("users", i, "email"), f"duplicate email {raw['email']!r}"))
        emails.add(raw["email"].lower())
        users.setdefault(
            raw["id"],
            User(
                id=raw["id"],
                email=raw["email"],
                password=raw["password"],
                first_name=raw["firstName"],
                last_name=raw["lastName"],
                role=raw["role"],
                created_at=raw["createdAt"],
                avatar=raw.get("avatar"),
            ),
        )
    return users


def _projects(file: _File, users_file: _File, users: dict[str, User], errors: list[str]) -> dict[str, Project]:
    def problem(where: tuple[str | int, ...], message: str) -> None:
        errors.append(file.problem(where, message))

    projects: dict[str, Project] = {}
    for i, raw in enumerate(file.document["projects"]):
        where = ("projects", i)
        if raw["id"] in projects:
            problem((*where, "id"), f"duplicate project ID {raw['id']!r}")
        for j, member in enumerate(raw["members"]):
            if member not in users:
                problem((*where, "members", j), f"{member!r} is not a user in {users_file.path}")
        chats: dict[str, Chat] = {}
        for j, chat in enumerate(raw["chats"]):
            chat_where = (*where, "chats", j)
            if chat["id"] in chats:
                problem((*chat_where, "id"), f"duplicate chat ID {chat['id']!r}")
            participants: dict[str, str] = {}
            for k, participant in enumerate(chat["participants"]):
                user_id = participant["userId"]
                field_where = (*chat_where, "participants", k, "userId")
                if user_id not in raw["members"]:
                    problem(field_where, f"{user_id!r} is not a member of project {raw['id']!r}")
                if user_id in participants:
                    problem(field_where, f"{user_id!r} is listed twice")
                participants[user_id] = participant["role"]
            messages = _messages(chat.get("messages", []), raw["members"], chat_where, problem)
            chats.setdefault(
                chat["id"], Chat(chat["id"], chat["name"], chat["type"], chat["createdAt"], participants, messages)
            )
        keys: dict[str, E2eeKey] = {}
        for j, key in enumerate(raw.get("e2eeKeys", [])):
            key_where = (*where, "e2eeKeys", j, "userId")
            if key["userId"] not in raw["members"]:
                problem(key_where, f"{key['userId']!r} is not a member of project {raw['id']!r}")
            if key["userId"] in keys:
                problem(key_where, f"{key['userId']!r} has two keys")
            keys.setdefault(key["userId"], E2eeKey(key["identityPublicKey"], key["keyVersion"], key["updatedAt"]))
        projects.setdefault(raw["id"], Project(raw["id"], raw["name"], tuple(raw["members"]), chats, keys))
    return projects


def _messages(
    raw_messages: list[dict[str, Any]], members: list[str], chat_where: tuple, problem: Callable[[tuple, str], None]
) -> tuple[Message, ...]:
    """A chat's messages, checked: project members only, replies to earlier messages, time order."""
    messages: list[Message] = []
    seen: set[str] = set()
    for k, raw in enumerate(raw_messages):
        where = (*chat_where, "messages", k)
        if raw["id"] in seen:
            problem((*where, "id"), f"duplicate message ID {raw['id']!r}")
        users: list[tuple[tuple, str]] = [(("senderId",), raw["senderId"])]
        users += [(("readBy", i), user) for i, user in enumerate(raw.get("readBy", []))]
        users += [(("mentions", i), user) for i, user in enumerate(raw.get("mentions", []))]
        for i, reaction in enumerate(raw.get("reactions", [])):
            users += [(("reactions", i, "users", j), user) for j, user in enumerate(reaction["users"])]
        for name, user in users:
            if user not in members:
                problem((*where, *name), f"{user!r} is not a member of the project")
        if raw["senderId"] in raw.get("readBy", []):
            problem((*where, "readBy"), f"the sender {raw['senderId']!r} cannot be a reader")
        if "replyTo" in raw and raw["replyTo"] not in seen:
            problem((*where, "replyTo"), f"{raw['replyTo']!r} is not an earlier message of the chat")
        if messages and _instant(raw["createdAt"]) <= _instant(messages[-1].created_at):
            problem((*where, "createdAt"), "messages must be listed oldest first, each after the last")
        seen.add(raw["id"])
        messages.append(
            Message(
                id=raw["id"],
                sender_id=raw["senderId"],
                type=raw.get("type", "text"),
                content=raw["content"],
                created_at=raw["createdAt"],
                read_by=tuple(raw.get("readBy", [])),
                reply_to=raw.get("replyTo"),
                mentions=tuple(raw.get("mentions", [])),
                reactions={reaction["emoji"]: tuple(reaction["users"]) for reaction in raw.get("reactions", [])},
            )
        )
    return tuple(messages)


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _parse(text: str, loader_class) -> tuple[yaml.Node | None, Any]:
    loader = loader_class(text)
    try:
        node = loader.get_single_node()
        return node, loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()


def _read(path: Path, schema: dict[str, Any], errors: list[str]) -> _File | None:
    """The file at `path` if it is YAML of the schema's shape; else None, its problems added to `errors`."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        errors.append(f"{path}: cannot read: {exc.strerror}")
        return None
    except UnicodeDecodeError as exc:
        errors.append(f"{path}: not UTF-8: {exc.reason} at byte {exc.start}")
        return None
    # libyaml where present (the pure-Python parser took a tenth of a second per load); a
    # file it refuses is read again by the pure-Python parser, whose messages point at the
    # place of the mistake.
    try:
        node, document = _parse(text, getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError:
        try:
            node, document = _parse(text, yaml.SafeLoader)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            where = f"{mark.line + 1}:{mark.column + 1}" if mark else "1"
            reason = ", ".join(part for part in (exc.context, exc.problem) if part)
            errors.append(f"{path}:{where}: not valid YAML: {reason}")
            return None
        except yaml.YAMLError as exc:
            errors.append(f"{path}: not valid YAML: {exc}")
            return None
    file = _File(path, document, node)
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    problems = [
        (file.line(tuple(e.absolute_path)), file.problem(tuple(e.absolute_path), e.message))
        for e in validator.iter_errors(document)
    ]
    errors.extend(problem for _line, problem in sorted(problems))
    return None if problems else file


def _field(path) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"
