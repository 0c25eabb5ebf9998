"""Fixture files: read, checked and turned into the mock's initial state.

A broken file stops start-up with a `FixtureError` naming the file and the field,
e.g. `fixtures/projects.yaml: projects[0].chats[1].participants[2].role: 'owner' is
not one of ['admin', 'member']`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

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
    """A fixture file is missing or broken; the message names the file and the field."""


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
    users_path = directory / USERS_FILE
    projects_path = directory / PROJECTS_FILE
    users_doc = _read(users_path, USERS_SCHEMA)
    projects_doc = _read(projects_path, PROJECTS_SCHEMA)

    users: dict[str, User] = {}
    emails: set[str] = set()
    for i, raw in enumerate(users_doc["users"]):
        where = f"{users_path}: users[{i}]"
        if raw["id"] in users:
            raise FixtureError(f"{where}.id: duplicate user ID {raw['id']!r}")
        if raw["email"].lower() in emails:
            raise FixtureError(f"{where}.email: duplicate email {raw['email']!r}")
        emails.add(raw["email"].lower())
        users[raw["id"]] = User(
            id=raw["id"],
            email=raw["email"],
            password=raw["password"],
            first_name=raw["firstName"],
            last_name=raw["lastName"],
            role=raw["role"],
            created_at=raw["createdAt"],
            avatar=raw.get("avatar"),
        )

    projects: dict[str, Project] = {}
    for i, raw in enumerate(projects_doc["projects"]):
        where = f"{projects_path}: projects[{i}]"
        if raw["id"] in projects:
            raise FixtureError(f"{where}.id: duplicate project ID {raw['id']!r}")
        for j, member in enumerate(raw["members"]):
            if member not in users:
                raise FixtureError(f"{where}.members[{j}]: {member!r} is not a user in {users_path}")
        chats: dict[str, Chat] = {}
        for j, chat in enumerate(raw["chats"]):
            chat_where = f"{where}.chats[{j}]"
            if chat["id"] in chats:
                raise FixtureError(f"{chat_where}.id: duplicate chat ID {chat['id']!r}")
            participants: dict[str, str] = {}
            for k, participant in enumerate(chat["participants"]):
                user_id = participant["userId"]
                field = f"{chat_where}.participants[{k}].userId"
                if user_id not in raw["members"]:
                    raise FixtureError(f"{field}: {user_id!r} is not a member of project {raw['id']!r}")
                if user_id in participants:
                    raise FixtureError(f"{field}: {user_id!r} is listed twice")
                participants[user_id] = participant["role"]
            messages = _messages(chat.get("messages", []), raw["members"], chat_where)
            chats[chat["id"]] = Chat(chat["id"], chat["name"], chat["type"], chat["createdAt"], participants, messages)
        keys: dict[str, E2eeKey] = {}
        for j, key in enumerate(raw.get("e2eeKeys", [])):
            field_name = f"{where}.e2eeKeys[{j}].userId"
            if key["userId"] not in raw["members"]:
                raise FixtureError(f"{field_name}: {key['userId']!r} is not a member of project {raw['id']!r}")
            if key["userId"] in keys:
                raise FixtureError(f"{field_name}: {key['userId']!r} has two keys")
            keys[key["userId"]] = E2eeKey(key["identityPublicKey"], key["keyVersion"], key["updatedAt"])
        projects[raw["id"]] = Project(raw["id"], raw["name"], tuple(raw["members"]), chats, keys)

    return Fixtures(org=users_doc["org"], users=users, projects=projects)


def _messages(raw_messages: list[dict[str, Any]], members: list[str], chat_where: str) -> tuple[Message, ...]:
    """A chat's messages, checked: project members only, replies to earlier messages, time order."""
    messages: list[Message] = []
    seen: set[str] = set()
    for k, raw in enumerate(raw_messages):
        where = f"{chat_where}.messages[{k}]"
        if raw["id"] in seen:
            raise FixtureError(f"{where}.id: duplicate message ID {raw['id']!r}")
        users = [("senderId", raw["senderId"])]
        users += [(f"readBy[{i}]", user) for i, user in enumerate(raw.get("readBy", []))]
        users += [(f"mentions[{i}]", user) for i, user in enumerate(raw.get("mentions", []))]
        for i, reaction in enumerate(raw.get("reactions", [])):
            users += [(f"reactions[{i}].users[{j}]", user) for j, user in enumerate(reaction["users"])]
        for name, user in users:
            if user not in members:
                raise FixtureError(f"{where}.{name}: {user!r} is not a member of the project")
        if raw["senderId"] in raw.get("readBy", []):
            raise FixtureError(f"{where}.readBy: the sender {raw['senderId']!r} cannot be a reader")
        if "replyTo" in raw and raw["replyTo"] not in seen:
            raise FixtureError(f"{where}.replyTo: {raw['replyTo']!r} is not an earlier message of the chat")
        if messages and _instant(raw["createdAt"]) <= _instant(messages[-1].created_at):
            raise FixtureError(f"{where}.createdAt: messages must be listed oldest first, each after the last")
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


def _read(path: Path, schema: dict[str, Any]) -> dict[str, Any]:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise FixtureError(f"{path}: cannot read: {exc.strerror}") from exc
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise FixtureError(f"{path}: not valid YAML: {exc}") from exc
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    error = best_match(validator.iter_errors(document))
    if error is not None:
        raise FixtureError(f"{path}: {_field(error.absolute_path)}: {error.message}")
    return document


def _field(path) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"
