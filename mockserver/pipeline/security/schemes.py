"""One handler per security scheme type, chosen from a document's `securitySchemes`.

Each checks a request as far as a mock can, and answers with the caller or raises a 401
whose `WWW-Authenticate` challenge names the scheme:

- `http` bearer, `oauth2`, `openIdConnect`: a bearer JWT of the mock's, verified
  (tokens.BearerJWT: signature, `exp`, user, session); the token is the one login and
  `mockserver token` issue, whatever flow the document describes; with `serve --auth
  jwks:FILE` or `pem:FILE` an identity provider's too, and with `--auth any` any token
  (verification.py). Scopes are not checked.
- `http` basic: a fixture user's email (or user ID) and password.
- `apiKey` in a header, the query or a cookie: the mock's API key
  (`MOCKSERVER_API_KEY`, else `mudbase-mock-api-key`). It stands for no user. The default
  is public, so a shared mock whose document has an apiKey scheme needs a key of its own
  of at least 32 bytes, or does not start (`require_own_api_key`).
- any other `http` scheme (digest, ...): refused with a challenge of that scheme, as the
  mock cannot check it.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import os
from collections.abc import Mapping
from typing import Any, Protocol

from mockserver import settings
from mockserver.errors import ApiError
from mockserver.pipeline.security.caller import Caller
from mockserver.pipeline.validate.compiled import SOURCES
from mockserver.settings import MAX_API_KEY_CHARS, MAX_AUTHORIZATION_CHARS

API_KEY_ENV = "MOCKSERVER_API_KEY"
DEFAULT_API_KEY = "mudbase-mock-api-key"


def api_key() -> str:
    return os.environ.get(API_KEY_ENV) or DEFAULT_API_KEY


def require_own_api_key(security_schemes: Mapping[str, Any], shared: bool) -> None:
    """A SettingsError when a shared mock would check an apiKey scheme against the public
    default key: MOCKSERVER_API_KEY must then be set, at least MIN_SECRET_BYTES long."""
    names = [name for name, scheme in security_schemes.items() if (scheme or {}).get("type") == "apiKey"]
    if not shared or not names:
        return
    value = os.environ.get(API_KEY_ENV, "")
    if not value:
        raise settings.SettingsError(
            f"{API_KEY_ENV} must be set on a shared mock: the document's apiKey scheme "
            f"{', '.join(names)} would accept the public default key {DEFAULT_API_KEY!r}. "
            "Generate one with: python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"
        )
    settings.check_secret(API_KEY_ENV, value)


class Handler(Protocol):
    def authenticate(self, request) -> Any:
        """The caller (None: no user), or raise a 401 ApiError."""


def challenge_error(details: str, challenge: str, code: str = "UNAUTHORIZED") -> ApiError:
    return ApiError(401, code, "Authentication required", details, {"WWW-Authenticate": challenge})


class Bearer:
    """`http` bearer, `oauth2` and `openIdConnect`: the JWT check of tokens.BearerJWT."""

    def __init__(self, jwt_check) -> None:
        self.jwt_check = jwt_check

    def authenticate(self, request) -> Any:
        return self.jwt_check.authenticate(request.headers)


class Basic:
    """`http` basic: a fixture user's email or ID, and password (RFC 7617)."""

    def __init__(self, users: Mapping[str, Any], realm: str) -> None:
        self.users = users
        self.challenge = f'Basic realm="{realm}", charset="UTF-8"'

    def authenticate(self, request) -> Any:
        authorization = request.headers.get("Authorization") or ""
        if len(authorization) > MAX_AUTHORIZATION_CHARS:
            limit = f"longer than the limit of {MAX_AUTHORIZATION_CHARS} characters"
            raise challenge_error(f"Authorization header is {limit}", self.challenge)
        scheme, _, encoded = authorization.strip().partition(" ")
        if scheme.lower() != "basic":
            raise challenge_error("Basic credentials are required", self.challenge)
        try:
            username, colon, password = base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise challenge_error("Basic credentials are malformed", self.challenge) from None
        user = self.users.get(username) or next((u for u in self.users.values() if u.email == username), None)
        if not colon or user is None or not hmac.compare_digest(password.encode(), user.password.encode()):
            raise challenge_error("Unknown user or wrong password", self.challenge)
        return Caller(user.id, "basic_" + user.id)


class ApiKey:
    """`apiKey` in a header, the query or a cookie: the mock's key."""

    def __init__(self, name: str, location: str, realm: str) -> None:
        self.name = name
        self.location = location
        self.challenge = f'ApiKey realm="{realm}", in="{location}", name="{name}"'
        self.source = SOURCES[location]  # only its own is parsed (the query, the cookies)

    def authenticate(self, request) -> Any:
        value = self.source(request).get(self.name)
        if not value:
            raise challenge_error(f"API key {self.name} ({self.location}) is missing", self.challenge)
        if len(value) > MAX_API_KEY_CHARS:
            limit = f"longer than the limit of {MAX_API_KEY_CHARS} characters"
            raise challenge_error(f"API key {self.name} ({self.location}) is {limit}", self.challenge)
        if not hmac.compare_digest(value.encode(), api_key().encode()):
            raise challenge_error(f"API key {self.name} ({self.location}) is not valid", self.challenge)
        return None


class Unsupported:
    """A scheme the mock cannot check (http digest, mutualTLS, ...): every request fails."""

    def __init__(self, description: str, challenge: str) -> None:
        self.description = description
        self.challenge = challenge

    def authenticate(self, request) -> Any:
        raise challenge_error(f"The mock cannot check {self.description} credentials", self.challenge)


def handler_for(scheme: Mapping[str, Any], bearer: Bearer, users: Mapping[str, Any], realm: str) -> Handler:
    kind = scheme.get("type")
    if kind in ("oauth2", "openIdConnect"):
        return bearer
    if kind == "http":
        name = str(scheme.get("scheme", "")).lower()
        if name == "bearer":
            return bearer
        if name == "basic":
            return Basic(users, realm)
        return Unsupported(f"http {name}", f'{name.capitalize() or "Unknown"} realm="{realm}"')
    if kind == "apiKey" and scheme.get("in") in ("header", "query", "cookie") and scheme.get("name"):
        return ApiKey(str(scheme["name"]), scheme["in"], realm)
    return Unsupported(str(kind), f'Unknown realm="{realm}"')
