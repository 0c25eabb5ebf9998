"""Defaults shared by the server, the command line and the tests."""

from __future__ import annotations

import os
from pathlib import Path

# The HS256 secret that signs and verifies JWTs, unless MOCKSERVER_JWT_SECRET is set.
# A development default, public on purpose, so only a mock bound to loopback uses it.
JWT_SECRET_ENV = "MOCKSERVER_JWT_SECRET"
DEFAULT_JWT_SECRET = "mudbase-mock-development-secret-not-for-production"
# Shortest secret (and admin token) accepted: HS256 keys should be at least as long as the hash.
MIN_SECRET_BYTES = 32
# The token the /__mock routes require (`--admin-token`); required off loopback.
ADMIN_TOKEN_ENV = "MOCKSERVER_ADMIN_TOKEN"

# Lifetime of tokens from the login operation, as the real API's `expiresIn`.
TOKEN_LIFETIME_SECONDS = 1800
# Tokens whose `exp` lies further ahead are refused (`--max-token-lifetime`).
MAX_TOKEN_LIFETIME_ENV = "MOCKSERVER_MAX_TOKEN_LIFETIME"
MAX_TOKEN_LIFETIME_SECONDS = 24 * 3600

# Largest request body accepted; a larger one is a 400 PAYLOAD_TOO_LARGE.
MAX_BODY_BYTES = 1024 * 1024
# Largest request body the proxy passes on (waitress refuses more); past MAX_BODY_BYTES it
# is streamed to the upstream unchecked.
PROXY_MAX_BODY_BYTES = 64 * 1024 * 1024

# Connections (`mockserver serve --max-connections ...`): how many at once, and how
# long (seconds) a connection may stay idle between requests, a request take to send
# its headers (from its first byte) and its body (from the end of the headers), and a
# request take from its first byte to its answer. A connection past one is closed.
MAX_CONNECTIONS = 500
IDLE_TIMEOUT = 15.0
HEADER_TIMEOUT = 10.0
BODY_TIMEOUT = 30.0
REQUEST_TIMEOUT = 60.0

# Longest value, in characters, of each request header the mock parses itself (waitress
# bounds all the headers of a request together at 256 KiB, a 431). A longer Prefer is a
# 400 INVALID_PREFER_HEADER; a longer Authorization header or API key, a 401 with the
# scheme's challenge. Prefer: some twenty times `code=200, example=NAME, dynamic=true`,
# room for other tools' preferences. Authorization: the field size Apache and nginx allow
# by default (8 KiB), far above the mock's tokens (about 250 characters) and Basic
# credentials. API keys: the mock's own is 20 characters.
MAX_PREFER_CHARS = 1024
MAX_AUTHORIZATION_CHARS = 8192
MAX_API_KEY_CHARS = 1024

# Deepest nesting of arrays and objects accepted in a JSON body.
MAX_JSON_DEPTH = 64

# Most JSON values (objects, arrays, strings, numbers, true, false, null) in a body,
# and the longest string (or object key), in characters. With these and the body
# limit, the work a request costs is bounded by its size.
MAX_JSON_VALUES = 10_000
MAX_JSON_STRING_CHARS = 64 * 1024

# Most parts of a multipart body: each is read and checked as its property says, so the
# work a request costs stays bounded (a 1 MiB body of 19,063 small parts took 15 s).
MAX_MULTIPART_PARTS = 1000

# The request journal (GET /__mock/requests) keeps of each request at most
# JOURNAL_BODY_BYTES of its body and as much of its answer's (the sizes sent are noted),
# its first JOURNAL_HEADERS headers cut to JOURNAL_HEADER_CHARS characters each, and its
# path, query string and each validation message cut to JOURNAL_TEXT_CHARS; past
# JOURNAL_MAX_BYTES for all entries together (or --journal-size entries), the oldest go.
# Anyone may send requests, and refused ones are journaled too: these bound what they cost.
JOURNAL_BODY_BYTES = 4 * 1024
JOURNAL_HEADERS = 64
JOURNAL_HEADER_CHARS = 1024
JOURNAL_TEXT_CHARS = 2048
JOURNAL_MAX_BYTES = 8 * 1024 * 1024

# The validating proxy's record of violations: each string of a violation (path, URL,
# pointer, message, seen and expected as JSON) cut to VIOLATION_TEXT_CHARS, each body to
# VIOLATION_BODY_CHARS, the first VIOLATION_HEADERS headers of each message to
# VIOLATION_HEADER_CHARS; the newest VIOLATIONS_KEPT violations within VIOLATIONS_MAX_BYTES;
# past UNDOCUMENTED_CASES distinct undocumented paths, the others are one test case.
VIOLATION_TEXT_CHARS = 2048
VIOLATION_BODY_CHARS = 4096
VIOLATION_HEADERS = 64
VIOLATION_HEADER_CHARS = 1024
VIOLATIONS_KEPT = 10_000
VIOLATIONS_MAX_BYTES = 32 * 1024 * 1024
UNDOCUMENTED_CASES = 100


DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 4010
# The contract and fixtures ship in the package: in the repository mockserver/data links
# to openapi.yaml and fixtures/, and a built wheel holds copies. So the defaults do not
# depend on the current folder.
PACKAGE_DATA = Path(__file__).resolve().parent / "data"
DEFAULT_SPEC = (PACKAGE_DATA / "openapi.yaml").resolve()
DEFAULT_FIXTURES = (PACKAGE_DATA / "fixtures").resolve()


class SettingsError(Exception):
    """A setting the mock cannot run with; the message says which and what to do."""


def jwt_secret(default_allowed: bool = True) -> str:
    """MOCKSERVER_JWT_SECRET (empty counts as unset), else the public default if allowed."""
    value = os.environ.get(JWT_SECRET_ENV, "")
    if not value:
        if not default_allowed:
            raise SettingsError(
                f"{JWT_SECRET_ENV} must be set off loopback: the default secret is public, so anyone could "
                "sign tokens. Generate one with: python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"
            )
        return DEFAULT_JWT_SECRET
    check_secret(JWT_SECRET_ENV, value)
    return value


def check_secret(name: str, value: str) -> None:
    length = len(value.encode())
    if length < MIN_SECRET_BYTES:
        raise SettingsError(
            f"{name} is {length} bytes long; it must be at least {MIN_SECRET_BYTES}. "
            "Generate one with: python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"
        )
