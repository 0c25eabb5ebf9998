"""The mock's JWTs: issued by login and `mockserver token`, verified by the bearer schemes.

Tokens are HS256 JWTs signed with the server's secret. Verification is PyJWT's,
with an algorithm allow-list (so `alg: none`, HS512 or RS256 are refused) and a
required, enforced `exp`; the time claims must be JSON integers, and `exp` no further
ahead than the maximum token lifetime. Every failure is a 401 in the API's error
shape with an RFC 6750 `WWW-Authenticate` challenge, and a fixed text: nothing of
the token (or of PyJWT's messages about it) is echoed.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
import unicodedata
from collections.abc import Callable, Container
from typing import Any

import jwt

from mockserver.errors import ApiError
from mockserver.pipeline.security.caller import Caller
from mockserver.settings import MAX_AUTHORIZATION_CHARS

ALGORITHM = "HS256"
REALM = "mudbase"  # the Mudbase API's: the realm of a document its hand-written behaviours serve
DEFAULT_REALM = "api"  # a document whose title gives no realm
MAX_REALM_CHARS = 32
TIME_CLAIMS = ("exp", "nbf", "iat")
REQUIRED_CLAIMS = ("exp", "sub")
VERIFIED_TOKENS_KEPT = 4096  # beyond this many, the verified tokens are forgotten at once


def issue_token(secret: str, user_id: str, email: str, expires_in: int, session_id: str | None = None) -> str:
    """A signed access token; without a session (`mockserver token`), one of its own."""
    now = int(time.time())
    sid = session_id or "ses_" + secrets.token_urlsafe(12)
    payload = {"sub": user_id, "email": email, "sid": sid, "iat": now, "exp": now + expires_in}
    return jwt.encode(payload, secret, algorithm=ALGORITHM)


def realm_for(document: dict) -> str:
    """The realm of a document's challenges: its `info.title` as a token, lower case
    ASCII letters and digits joined by hyphens, cut to at most MAX_REALM_CHARS at a
    hyphen ("Petstore (v3)" -> "petstore-v3"); DEFAULT_REALM when that leaves nothing.
    Safe inside a challenge's quoted-string: no quote, backslash or control character."""
    info = document.get("info")
    title = info.get("title") if isinstance(info, dict) else None
    if not isinstance(title, str):
        return DEFAULT_REALM
    ascii_title = unicodedata.normalize("NFKD", title[:500]).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_title.lower())
    realm = ""
    for word in words:
        joined = f"{realm}-{word}" if realm else word
        if len(joined) > MAX_REALM_CHARS:
            break
        realm = joined
    return realm or (words[0][:MAX_REALM_CHARS] if words else DEFAULT_REALM)


def unauthorized(
    details: str,
    error_code: str | None = "invalid_token",
    code: str = "UNAUTHORIZED",
    error: str = "Authentication required",
    realm: str = REALM,
) -> ApiError:
    """A 401 with the Bearer challenge; no `error` attribute when no credentials came (RFC 6750 3.1)."""
    challenge = f'Bearer realm="{realm}"'
    if error_code:
        # RFC 6750 allows neither '"' nor '\\' inside error_description.
        description = details.replace('"', "'").replace("\\", "/")
        challenge += f', error="{error_code}", error_description="{description}"'
    return ApiError(401, code, error, details, {"WWW-Authenticate": challenge})


class BearerJWT:
    """Handler for `type: http, scheme: bearer` security schemes."""

    def __init__(
        self,
        secret: str,
        known_users: Container[str],
        session_ended: Callable[[str], bool],
        max_lifetime: int,
        realm: str = REALM,
    ) -> None:
        self.secret = secret
        self.realm = realm
        self.known_users = known_users
        self.session_ended = session_ended
        self.max_lifetime = max_lifetime
        # Tokens that passed every check: a token's signature and claims cannot change,
        # so it is verified once and then only its expiry, user and session are checked again
        # (PyJWT's decode is a quarter of a request's CPU time).
        self._verified: dict[str, tuple[int, str, str]] = {}  # token -> (exp, user ID, session ID)

    def _refused(self, details: str, error_code: str | None = "invalid_token") -> ApiError:
        return unauthorized(details, error_code, realm=self.realm)

    def authenticate(self, headers) -> Caller:
        """Who the request's token proves the caller is, or an ApiError."""
        authorization = headers.get("Authorization")
        if not authorization:
            raise self._refused("Authorization header is missing", error_code=None)
        if len(authorization) > MAX_AUTHORIZATION_CHARS:
            limit = f"longer than the limit of {MAX_AUTHORIZATION_CHARS} characters"
            raise self._refused(f"Authorization header is {limit}")
        scheme, _, token = authorization.replace("\t", " ").partition(" ")
        if scheme.lower() != "bearer":
            raise self._refused("Authorization header must use the Bearer scheme", error_code=None)
        token = token.strip(" ")
        if not token:
            raise self._refused("Bearer token is empty", error_code=None)
        known = self._verified.get(token)
        if known is None or time.time() >= known[0]:  # PyJWT's rule: expired once now >= exp
            known = self._verify(token)
            if len(self._verified) >= VERIFIED_TOKENS_KEPT:
                self._verified.clear()
            self._verified[token] = known
        _, user_id, session_id = known
        if user_id not in self.known_users:  # checked each time: reloaded fixtures may drop a user
            raise self._refused("Token subject is not a known user")
        if self.session_ended(session_id):
            raise self._refused("The session of this token has ended (logged out)")
        return Caller(user_id, session_id)

    def _verify(self, token: str) -> tuple[int, str, str]:
        """(exp, user ID, session ID) of a token that passes every check, or an ApiError."""
        claims = self._decode(token)
        for claim in TIME_CLAIMS:
            # PyJWT takes "9999999999" and 1e308 as times; a float exp can outlive any check.
            if claim in claims and type(claims[claim]) is not int:
                raise self._refused(f"Token claim '{claim}' must be an integer")
        if claims["exp"] > time.time() + self.max_lifetime:
            raise self._refused(f"Token expires more than {self.max_lifetime} seconds from now")
        user_id = claims["sub"]
        session_id = claims.get("sid")
        if not isinstance(session_id, str):
            # A token of no session (signed elsewhere) is a session of its own.
            session_id = "tok_" + hashlib.sha256(token.encode()).hexdigest()[:24]
        return claims["exp"], user_id, session_id

    def _decode(self, token: str) -> dict[str, Any]:
        try:
            return jwt.decode(
                token,
                self.secret,
                algorithms=[ALGORITHM],
                options={"require": list(REQUIRED_CLAIMS)},
            )
        except jwt.ExpiredSignatureError:
            raise self._refused("Token has expired") from None
        except jwt.MissingRequiredClaimError as exc:
            claim = exc.claim if exc.claim in REQUIRED_CLAIMS else "a required"
            raise self._refused(f"Token is missing the required '{claim}' claim") from None
        except jwt.InvalidAlgorithmError:
            raise self._refused(f"Token algorithm is not allowed; only {ALGORITHM} is accepted") from None
        except jwt.InvalidSignatureError:
            raise self._refused("Token signature is invalid") from None
        except jwt.ImmatureSignatureError:
            raise self._refused("Token is not valid yet") from None
        except jwt.DecodeError:
            # Not three segments, bad base64, a header that is not JSON, a `crit` header...
            raise self._refused("Token is malformed") from None
        except jwt.InvalidTokenError:
            # A claim of the wrong type, e.g. a `sub` that is not a string.
            raise self._refused("Token is invalid") from None
