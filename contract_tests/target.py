"""What the suite tests: the implementation's base URL, credentials and IDs.

Everything comes from the environment (or `--base-url`); the defaults are the
project's mock and its fixtures, so a bare `pytest contract_tests` needs nothing.
"""

from __future__ import annotations

import functools
import os
import time
from dataclasses import dataclass
from pathlib import Path

import jwt
import requests
import yaml

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "openapi.yaml"
SCHEMATHESIS_CONFIG = ROOT / "schemathesis.toml"

# The mock's fixtures (fixtures/*.yaml): a chat admin, and a member the suite may remove.
DEFAULT_EMAIL = "morgan.chen@northwind.dev"
DEFAULT_PASSWORD = "morgan-demo-password"
DEFAULT_PROJECT_ID = "proj_CE5hbCg5EPjP"
DEFAULT_CHAT_ID = "VL0TZudKjN6SiWtV"
DEFAULT_PARTICIPANT_ID = "usr_CuXGNqCoY9JGW0"
DEFAULT_MESSAGE_ID = "msg_7Hc2LqW9xT4bNp3R"  # a message of the suite's user in that chat
DEFAULT_OUTSIDER_ID = "usr_Q8mT2vLx9RkP1a"  # a member of the project in none of its chats


@dataclass(frozen=True)
class TargetIds:
    project_id: str
    chat_id: str
    participant_id: str  # a non-admin participant whom the suite's user (an admin) may remove
    message_id: str = DEFAULT_MESSAGE_ID  # a message the suite's user sent in the chat
    outsider_id: str = DEFAULT_OUTSIDER_ID  # a project member who is no participant of the chat

    @classmethod
    def from_env(cls) -> TargetIds:
        return cls(
            project_id=os.environ.get("CONTRACT_PROJECT_ID") or DEFAULT_PROJECT_ID,
            chat_id=os.environ.get("CONTRACT_CHAT_ID") or DEFAULT_CHAT_ID,
            participant_id=os.environ.get("CONTRACT_PARTICIPANT_ID") or DEFAULT_PARTICIPANT_ID,
            message_id=os.environ.get("CONTRACT_MESSAGE_ID") or DEFAULT_MESSAGE_ID,
            outsider_id=os.environ.get("CONTRACT_OUTSIDER_ID") or DEFAULT_OUTSIDER_ID,
        )

    def participants_path(self, project_id: str | None = None, chat_id: str | None = None) -> str:
        return spec_path("removeParticipant").format(
            projectId=project_id or self.project_id, chatId=chat_id or self.chat_id
        )


@dataclass(frozen=True)
class Target:
    base_url: str
    token: str
    email: str
    jwt_secret: str | None  # known secret: the suite may sign tokens of its own
    ids: TargetIds
    participant_token: str | None = None  # CONTRACT_PARTICIPANT_TOKEN: a JWT of ids.participant_id
    outsider_token: str | None = None  # CONTRACT_OUTSIDER_TOKEN: a JWT of ids.outsider_id

    @property
    def user_id(self) -> str:
        """The `sub` of the suite's token."""
        return jwt.decode(self.token, options={"verify_signature": False})["sub"]

    def auth(self, token: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token or self.token}"}

    def url(self, operation_id: str, **path: str) -> str:
        """The URL of an operation, on the target's project and chat unless `path` says otherwise."""
        values = {"projectId": self.ids.project_id, "chatId": self.ids.chat_id, **path}
        return self.base_url + spec_path(operation_id).format(**values)

    def fresh_login(self) -> dict | None:
        """A new session of the suite's user (loginUser's answer), when the suite knows the password."""
        password = os.environ.get("CONTRACT_PASSWORD")
        if not password and not os.environ.get("CONTRACT_TOKEN"):
            password = DEFAULT_PASSWORD
        return login(self.base_url, self.email, password) if password else None

    def fresh_token(self) -> str | None:
        session = self.fresh_login()
        return session["token"] if session else None

    def token_for(self, user_id: str) -> str | None:
        """A token of another user, signed with the target's secret when the suite knows it."""
        if not self.jwt_secret:
            return None
        claims = {"sub": user_id, "iat": int(time.time()), "exp": int(time.time()) + 600}
        return jwt.encode(claims, self.jwt_secret, algorithm="HS256")


@functools.cache
def spec_path(operation_id: str) -> str:
    """The path template of an operation in openapi.yaml."""
    document = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    for path, item in document["paths"].items():
        if any(isinstance(op, dict) and op.get("operationId") == operation_id for op in item.values()):
            return path
    raise LookupError(f"{operation_id} is not in {SPEC}")


def credentials_from_env(base_url: str) -> tuple[str, str]:
    """(token, email): CONTRACT_TOKEN, else a login with CONTRACT_EMAIL/CONTRACT_PASSWORD
    (default: the mock's fixture admin) through the spec's login operation."""
    email = os.environ.get("CONTRACT_EMAIL") or DEFAULT_EMAIL
    token = os.environ.get("CONTRACT_TOKEN")
    if token:
        return token, email
    password = os.environ.get("CONTRACT_PASSWORD") or DEFAULT_PASSWORD
    return login(base_url, email, password)["token"], email


def login(base_url: str, email: str, password: str) -> dict:
    """The body of a successful loginUser."""
    response = requests.post(base_url + spec_path("loginUser"), json={"email": email, "password": password}, timeout=30)
    if response.status_code != 200:
        raise RuntimeError(
            f"login as {email} at {base_url} failed with {response.status_code}: {response.text[:300]}; "
            "set CONTRACT_TOKEN, or CONTRACT_EMAIL and CONTRACT_PASSWORD"
        )
    return response.json()
