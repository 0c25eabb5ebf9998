"""The bearer tokens: the mock's JWTs, issued by login and `mockserver token`, and, with
`serve --auth jwks:FILE` or `pem:FILE`, an identity provider's (verification.py).

The mock's tokens are HS256 JWTs signed with the server's secret. Verification is PyJWT's,
with an algorithm allow-list (so `alg: none`, HS512 or, without keys, RS256 are refused)
and a required, enforced `exp`; the time claims must be JSON integers, and `exp` no further
ahead than the maximum token lifetime. A provider's token passes the same checks, verified
with the key its `kid` names (in that key's one algorithm), and its `iss` and `aud` when an
issuer and audience are given; its `sub` need not be a fixture user (the caller is then a
stranger to every rule). Every failure is a 401 in the API's error shape with an RFC 6750
`WWW-Authenticate` challenge, and a fixed text saying which check failed: nothing of the
token (or of PyJWT's messages about it) is echoed. With `--auth any` nothing is checked
but that a bearer token came.
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
from mockserver.pipeline.security.verification import ANY, MOCK_TOKENS, TokenVerification
from mockserver.settings import MAX_AUTHORIZATION_CHARS

ALGORITHM = "HS256"
REALM = "mudbase"  # the Mudbase API's: the realm of a document its hand-written behaviours serve
DEFAULT_REALM = "api"  # a document whose title gives no realm
MAX_REALM_CHARS = 32
TIME_CLAIMS = ("exp", "nbf", "iat")
REQUIRED_CLAIMS = ("exp", "sub")
VERIFIED_TOKENS_KEPT = 4096  # beyond this many, the verified tokens are forgotten at once
# Whom a token speaks for under `--auth any` when it names no one (not a JWT, or no string `sub`).
ANONYMOUS = "anonymous"


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


def bearer_token(headers, realm: str = REALM) -> str:
    """The token of a request's `Authorization: Bearer` header, or a 401."""
    authorization = headers.get("Authorization")
    if not authorization:
        raise unauthorized("Authorization header is missing", error_code=None, realm=realm)
    if len(authorization) > MAX_AUTHORIZATION_CHARS:
        raise unauthorized(
            f"Authorization header is longer than the limit of {MAX_AUTHORIZATION_CHARS} characters", realm=realm
        )
    scheme, _, token = authorization.replace("\t", " ").partition(" ")
    if scheme.lower() != "bearer":
        raise unauthorized("Authorization header must use the Bearer scheme", error_code=None, realm=realm)
    token = token.strip(" ")
    if not token:
        raise unauthorized("Bearer token is empty", error_code=None, realm=realm)
    return token


def token_session(token: str, claims: dict[str, Any]) -> str:
    """The `sid` claim; a token of no session (signed elsewhere) is a session of its own."""
    session_id = claims.get("sid")
    if isinstance(session_id, str):
        return session_id
    return "tok_" + hashlib.sha256(token.encode()).hexdigest()[:24]


class BearerJWT:
    """Handler for `type: http, scheme: bearer` security schemes (and oauth2, openIdConnect)."""

    def __init__(
        self,
        secret: str,
        known_users: Container[str],
        session_ended: Callable[[str], bool],
        max_lifetime: int,
        verification: TokenVerification = MOCK_TOKENS,
        realm: str = REALM,
    ) -> None:
        self.secret = secret
        self.realm = realm
        self.known_users = known_users
        self.session_ended = session_ended
        self.max_lifetime = max_lifetime
        self.verification = verification
        # Tokens that passed every check: a token's signature and claims cannot change,
        # so it is verified once and then only its expiry, user and session are checked again
        # (PyJWT's decode is a quarter of a request's CPU time).
        self._verified: dict[str, tuple[int, str, str, bool]] = {}  # token -> (exp, user, session, by a key)

    def _refused(self, details: str, error_code: str | None = "invalid_token") -> ApiError:
        return unauthorized(details, error_code, realm=self.realm)

    def authenticate(self, headers) -> Caller:
        """Who the request's token proves the caller is, or an ApiError."""
        token = bearer_token(headers, self.realm)
        if self.verification.mode == ANY:
            return self._unverified(token)
        known = self._verified.get(token)
        if known is None or time.time() >= known[0]:  # PyJWT's rule: expired once now >= exp
            known = self._verify(token)
            if len(self._verified) >= VERIFIED_TOKENS_KEPT:
                self._verified.clear()
            self._verified[token] = known
        _, user_id, session_id, by_key = known
        # Checked each time: reloaded fixtures may drop a user. A provider's user need be none.
        if not by_key and user_id not in self.known_users:
            raise self._refused("Token subject is not a known user")
        if self.session_ended(session_id):
            raise self._refused("The session of this token has ended (logged out)")
        return Caller(user_id, session_id)

    def _unverified(self, token: str) -> Caller:
        """`--auth any`: the `sub` of a JWT, its signature and claims unchecked; else anonymous."""
        try:
            claims = jwt.decode(token, options={"verify_signature": False})
        except jwt.InvalidTokenError:
            claims = {}
        subject = claims.get("sub")
        return Caller(subject if isinstance(subject, str) and subject else ANONYMOUS, token_session(token, claims))

    def _verify(self, token: str) -> tuple[int, str, str, bool]:
        """(exp, user ID, session ID, whether a key verified it) of a token that passes every
        check, or an ApiError."""
        claims, by_key = self._decode(token)
        for claim in TIME_CLAIMS:
            # PyJWT takes "9999999999" and 1e308 as times; a float exp can outlive any check.
            if claim in claims and type(claims[claim]) is not int:
                raise self._refused(f"Token claim '{claim}' must be an integer")
        if claims["exp"] > time.time() + self.max_lifetime:
            raise self._refused(f"Token expires more than {self.max_lifetime} seconds from now")
        return claims["exp"], claims["sub"], token_session(token, claims), by_key

    def _decode(self, token: str) -> tuple[dict[str, Any], bool]:
        """The verified claims, and whether a key of --auth (not the mock's secret) verified them."""
        verification = self.verification
        if not verification.by_keys:
            return self._mock_claims(token), False
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError:
            raise self._refused("Token is malformed") from None
        algorithm = header.get("alg")
        if algorithm == ALGORITHM:  # the mock's own (login, `mockserver token`)
            return self._mock_claims(token), False
        if algorithm not in verification.algorithms:
            raise self._algorithm_refused()
        key = verification.key_for(header.get("kid"))
        if isinstance(key, str):
            raise self._refused(key)
        if algorithm != key.algorithm:
            raise self._refused(f"Token algorithm is not allowed for its key, which takes {key.algorithm}")
        checks = {
            "algorithms": [key.algorithm],
            "issuer": verification.issuer,
            "audience": verification.audience,
            # Without an audience to check, a token's `aud` is no reason to refuse it.
            "options": {"require": self._required(), "verify_aud": verification.audience is not None},
        }
        return self._claims(lambda: jwt.decode(token, key.jwk, **checks), by_key=True), True

    def _mock_claims(self, token: str) -> dict[str, Any]:
        options = {"require": list(REQUIRED_CLAIMS)}
        return self._claims(lambda: jwt.decode(token, self.secret, algorithms=[ALGORITHM], options=options))

    def _required(self) -> list[str]:
        """The claims a provider's token must have: `exp`, `sub`, and `iss`/`aud` when checked."""
        checked = (("iss", self.verification.issuer), ("aud", self.verification.audience))
        return [*REQUIRED_CLAIMS, *(claim for claim, value in checked if value)]

    def _algorithm_refused(self) -> ApiError:
        accepted = self.verification.algorithms
        if len(accepted) == 1:
            return self._refused(f"Token algorithm is not allowed; only {accepted[0]} is accepted")
        return self._refused(f"Token algorithm is not allowed; only {', '.join(accepted)} are accepted")

    def _claims(self, decode: Callable[[], dict[str, Any]], by_key: bool = False) -> dict[str, Any]:
        """What `decode` answers, its failures as 401s naming the check that failed."""
        try:
            return decode()
        except jwt.ExpiredSignatureError:
            raise self._refused("Token has expired") from None
        except jwt.MissingRequiredClaimError as exc:
            claim = exc.claim if exc.claim in (self._required() if by_key else REQUIRED_CLAIMS) else "a required"
            raise self._refused(f"Token is missing the required '{claim}' claim") from None
        except jwt.InvalidAlgorithmError:
            raise self._algorithm_refused() from None
        except jwt.InvalidSignatureError:
            raise self._refused("Token signature is invalid") from None
        except jwt.ImmatureSignatureError:
            raise self._refused("Token is not valid yet") from None
        except (jwt.InvalidIssuerError, jwt.InvalidAudienceError) as exc:
            if not by_key:  # the mock's own tokens have neither: an `aud` in one is wrong
                raise self._refused("Token is invalid") from None
            if isinstance(exc, jwt.InvalidIssuerError):
                raise self._refused(f"Token issuer (iss) is not {self.verification.issuer}") from None
            raise self._refused(f"Token audience (aud) is not {self.verification.audience}") from None
        except jwt.DecodeError:
            # Not three segments, bad base64, a header that is not JSON, a `crit` header...
            raise self._refused("Token is malformed") from None
        except jwt.InvalidTokenError:
            # A claim of the wrong type, e.g. a `sub` that is not a string.
            raise self._refused("Token is invalid") from None
