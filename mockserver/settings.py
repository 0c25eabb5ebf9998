"""Defaults shared by the server, the command line and the tests."""

from __future__ import annotations

import os
from pathlib import Path

# The HS256 secret that signs and verifies JWTs, unless MOCKSERVER_JWT_SECRET is set.
# A development default, public on purpose: the mock guards no real data.
JWT_SECRET_ENV = "MOCKSERVER_JWT_SECRET"
DEFAULT_JWT_SECRET = "mudbase-mock-development-secret-not-for-production"

# Lifetime of tokens from the login operation, as the real API's `expiresIn`.
TOKEN_LIFETIME_SECONDS = 1800

# Largest request body accepted; a larger one is a 400 PAYLOAD_TOO_LARGE.
MAX_BODY_BYTES = 1024 * 1024

# Beyond this, waitress itself refuses the upload (a plain-text 413) instead of
# buffering it to disk for the app to refuse.
MAX_UPLOAD_BYTES = 16 * MAX_BODY_BYTES

# Deepest nesting of arrays and objects accepted in a JSON body.
MAX_JSON_DEPTH = 64

# Browser origins allowed to call the mock (flask-cors syntax).
CORS_ORIGINS = "*"

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 4010
DEFAULT_SPEC = Path("openapi.yaml")
DEFAULT_FIXTURES = Path("fixtures")


def jwt_secret() -> str:
    return os.environ.get(JWT_SECRET_ENV) or DEFAULT_JWT_SECRET
