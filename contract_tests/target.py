"""What the suite tests: the implementation's base URL, credentials and IDs.

Everything comes from the environment (or `--base-url`); the defaults are the
project's mock and its fixtures, so a bare `pytest contract_tests` needs nothing.
"""

from __future__ import annotations

import functools
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import jwt
import requests
import yaml

from contract_tests.redaction import SECRETS

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
class Role:
    """Another user the scenarios act as, and the variables that give the suite a token of theirs."""

    name: str
    id_variable: str  # the user's ID
    token_variable: str  # a JWT of theirs
    credentials: str  # prefix of the _EMAIL and _PASSWORD variables to log in with

    @property
    def enabled_by(self) -> str:
        return (
            f"set {self.credentials}_EMAIL and {self.credentials}_PASSWORD, "
            f"or {self.token_variable}, or CONTRACT_JWT_SECRET"
        )


MEMBER = Role("member", "CONTRACT_PARTICIPANT_ID", "CONTRACT_PARTICIPANT_TOKEN", "CONTRACT_MEMBER")
OUTSIDER = Role("outsider", "CONTRACT_OUTSIDER_ID", "CONTRACT_OUTSIDER_TOKEN", "CONTRACT_OUTSIDER")


@dataclass(frozen=True)
class Target:
    base_url: str
    token: str
    email: str
    jwt_secret: str | None  # known secret: the suite may sign tokens of its own
    ids: TargetIds
    _tokens: dict[str, str | None] = field(default_factory=dict, repr=False, compare=False)  # by role name

    def __post_init__(self) -> None:
        SECRETS.add(self.token, "CONTRACT_TOKEN")
        SECRETS.add(self.jwt_secret, "CONTRACT_JWT_SECRET")

    @property
    def user_id(self) -> str:
        """The `sub` of the suite's token."""
        return subject(self.token)

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
        SECRETS.add(password, "CONTRACT_PASSWORD")
        return login(self.base_url, self.email, password) if password else None

    def fresh_token(self) -> str | None:
        session = self.fresh_login()
        return session["token"] if session else None

    def user_id_of(self, role: Role) -> str:
        return self.ids.participant_id if role is MEMBER else self.ids.outsider_id

    def token_of(self, role: Role) -> str | None:
        """A token of the member or the outsider: given, else a login with their
        credentials, else signed with the secret, else None. Checked to be of the user
        the IDs name, so that a mix-up of accounts is an error, not a silent pass."""
        if role.name not in self._tokens:
            token = os.environ.get(role.token_variable)
            email = os.environ.get(f"{role.credentials}_EMAIL")
            password = os.environ.get(f"{role.credentials}_PASSWORD")
            SECRETS.add(token, role.token_variable)
            SECRETS.add(password, f"{role.credentials}_PASSWORD")
            if not token and email and password:
                token = login(self.base_url, email, password)["token"]
            if not token and self.jwt_secret:
                token = self.signed_token(self.user_id_of(role))
            if token and subject(token) != self.user_id_of(role):
                raise RuntimeError(
                    f"the {role.name}'s token is of {subject(token)!r}, but {role.id_variable} "
                    f"is {self.user_id_of(role)!r}: set {role.id_variable} to the {role.name}'s user ID"
                )
            SECRETS.add(token, role.token_variable)
            self._tokens[role.name] = token
        return self._tokens[role.name]

    def expired_token(self) -> str | None:
        """CONTRACT_EXPIRED_TOKEN (checked to be expired), else one signed with the secret, else None."""
        token = os.environ.get("CONTRACT_EXPIRED_TOKEN")
        SECRETS.add(token, "CONTRACT_EXPIRED_TOKEN")
        if token:
            expiry = jwt.decode(token, options={"verify_signature": False}).get("exp")
            if not isinstance(expiry, int | float) or expiry >= time.time():
                raise RuntimeError("CONTRACT_EXPIRED_TOKEN has no `exp` in the past: it is not an expired token")
            return token
        if not self.jwt_secret:
            return None
        token = self.signed_token(self.user_id, lifetime=-120)
        SECRETS.add(token, "CONTRACT_EXPIRED_TOKEN")  # what a reader would set to reproduce
        return token

    def signed_token(self, user_id: str, lifetime: int = 600) -> str:
        """A token of any user, signed with the target's secret (which the suite must know)."""
        claims = {"sub": user_id, "iat": int(time.time()), "exp": int(time.time()) + lifetime}
        return jwt.encode(claims, self.jwt_secret, algorithm="HS256")


def subject(token: str) -> str | None:
    """The `sub` of a JWT, read without checking its signature."""
    try:
        return jwt.decode(token, options={"verify_signature": False}).get("sub")
    except jwt.InvalidTokenError:
        return None


@functools.cache
def operations() -> dict[str, tuple[str, str]]:
    """operationId -> (HTTP method, path template) of every operation in openapi.yaml, read once."""
    document = yaml.load(SPEC.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    found = {}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if isinstance(operation, dict) and "operationId" in operation:
                found[operation["operationId"]] = (method.upper(), path)
    return found


def spec_path(operation_id: str) -> str:
    """The path template of an operation in openapi.yaml."""
    try:
        return operations()[operation_id][1]
    except KeyError:
        raise LookupError(f"{operation_id} is not in {SPEC}") from None


def credentials_from_env(base_url: str) -> tuple[str, str]:
    """(token, email): CONTRACT_TOKEN, else a login with CONTRACT_EMAIL/CONTRACT_PASSWORD
    (default: the mock's fixture admin) through the spec's login operation."""
    email = os.environ.get("CONTRACT_EMAIL") or DEFAULT_EMAIL
    token = os.environ.get("CONTRACT_TOKEN")
    if token:
        SECRETS.add(token, "CONTRACT_TOKEN")
        return token, email
    password = os.environ.get("CONTRACT_PASSWORD") or DEFAULT_PASSWORD
    SECRETS.add(password, "CONTRACT_PASSWORD")
    token = login(base_url, email, password)["token"]
    SECRETS.add(token, "CONTRACT_TOKEN")
    return token, email


def login(base_url: str, email: str, password: str) -> dict:
    """The body of a successful loginUser; its tokens are redacted from then on."""
    response = requests.post(base_url + spec_path("loginUser"), json={"email": email, "password": password}, timeout=30)
    SECRETS.learn_from(response)
    if response.status_code != 200:
        raise RuntimeError(
            f"login as {email} at {base_url} failed with {response.status_code}: {response.text[:300]}; "
            "set CONTRACT_TOKEN, or CONTRACT_EMAIL and CONTRACT_PASSWORD"
        )
    return response.json()
