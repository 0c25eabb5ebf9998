"""Authentication: issue JWTs and check a request against an operation's security.

Tokens are HS256 JWTs signed with the server's secret. Verification is PyJWT's,
with an algorithm allow-list (so `alg: none`, HS512 or RS256 are refused) and a
required, enforced `exp`. Every failure is a 401 in the API's error shape with
an RFC 6750 `WWW-Authenticate` challenge.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable, Container, Mapping
from dataclasses import dataclass
from typing import Any

import jwt

from .errors import ApiError
from .security import Bearer, Handler, Unsupported, handler_for
from .spec import Operation

ALGORITHM = "HS256"
REALM = "mudbase"


@dataclass(frozen=True)
class Caller:
    """Who a verified token speaks for, and the session it belongs to."""

    user_id: str
    session_id: str  # the `sid` claim; logout ends that session


def issue_token(secret: str, user_id: str, email: str, expires_in: int, session_id: str | None = None) -> str:
    """A signed access token; without a session (`mockserver token`), one of its own."""
    now = int(time.time())
    sid = session_id or "ses_" + secrets.token_urlsafe(12)
    payload = {"sub": user_id, "email": email, "sid": sid, "iat": now, "exp": now + expires_in}
    return jwt.encode(payload, secret, algorithm=ALGORITHM)


def unauthorized(
    details: str,
    error_code: str | None = "invalid_token",
    code: str = "UNAUTHORIZED",
    error: str = "Authentication required",
) -> ApiError:
    """A 401 with the Bearer challenge; no `error` attribute when no credentials came (RFC 6750 3.1)."""
    challenge = f'Bearer realm="{REALM}"'
    if error_code:
        # RFC 6750 allows neither '"' nor '\\' inside error_description.
        description = details.replace('"', "'").replace("\\", "/")
        challenge += f', error="{error_code}", error_description="{description}"'
    return ApiError(401, code, error, details, {"WWW-Authenticate": challenge})


class BearerJWT:
    """Handler for `type: http, scheme: bearer` security schemes."""

    def __init__(self, secret: str, known_users: Container[str], session_ended: Callable[[str], bool]) -> None:
        self.secret = secret
        self.known_users = known_users
        self.session_ended = session_ended

    def authenticate(self, headers) -> Caller:
        """Who the request's token proves the caller is, or an ApiError."""
        authorization = headers.get("Authorization")
        if not authorization:
            raise unauthorized("Authorization header is missing", error_code=None)
        scheme, _, token = authorization.replace("\t", " ").partition(" ")
        if scheme.lower() != "bearer":
            raise unauthorized("Authorization header must use the Bearer scheme", error_code=None)
        token = token.strip(" ")
        if not token:
            raise unauthorized("Bearer token is empty", error_code=None)
        claims = self._decode(token)
        user_id = claims["sub"]
        if user_id not in self.known_users:
            raise unauthorized("Token subject is not a known user")
        session_id = claims.get("sid")
        if not isinstance(session_id, str):
            # A token of no session (signed elsewhere) is a session of its own.
            session_id = "tok_" + hashlib.sha256(token.encode()).hexdigest()[:24]
        if self.session_ended(session_id):
            raise unauthorized("The session of this token has ended (logged out)")
        return Caller(user_id, session_id)

    def _decode(self, token: str) -> dict[str, Any]:
        try:
            return jwt.decode(
                token,
                self.secret,
                algorithms=[ALGORITHM],
                options={"require": ["exp", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise unauthorized("Token has expired") from None
        except jwt.MissingRequiredClaimError as exc:
            raise unauthorized(f"Token is missing the required '{exc.claim}' claim") from None
        except jwt.InvalidAlgorithmError:
            raise unauthorized(f"Token algorithm is not allowed; only {ALGORITHM} is accepted") from None
        except jwt.InvalidSignatureError:
            raise unauthorized("Token signature is invalid") from None
        except jwt.ImmatureSignatureError:
            raise unauthorized("Token is not valid yet") from None
        except jwt.DecodeError as exc:
            # Not three segments, bad base64, a header that is not JSON...
            raise unauthorized(f"Token is malformed: {exc}") from None
        except jwt.InvalidTokenError as exc:
            # A claim of the wrong type, e.g. a `sub` that is not a string.
            raise unauthorized(f"Token is invalid: {exc}") from None


class Authenticator:
    """Checks requests against operations' security requirements.

    Scheme handlers (security.py) are chosen once at start-up from the spec's
    securitySchemes; the bearer-like schemes share one handler, which runs once a request.
    When every alternative fails, the 401 carries the challenge of each scheme tried.
    """

    def __init__(
        self,
        security_schemes: dict[str, dict],
        secret: str,
        known_users: Mapping[str, Any],  # fixture users by ID
        session_ended: Callable[[str], bool],
    ) -> None:
        bearer = Bearer(BearerJWT(secret, known_users, session_ended))
        self.handlers: dict[str, Handler] = {
            name: handler_for(scheme, bearer, known_users, REALM)
            for name, scheme in security_schemes.items()
            if isinstance(scheme, dict)
        }
        self.undefined = Unsupported("an undefined scheme's", f'Bearer realm="{REALM}"')

    def authenticate(self, operation: Operation, request) -> Caller | None:
        """The caller, None for an operation without security (or a scheme of no user),
        or the first failure with every failed scheme's challenge."""
        if not operation.security:
            return None
        outcomes: dict[Handler, Caller | None | ApiError] = {}  # per handler: the caller, or why not

        def run(handler: Handler) -> Caller | None | ApiError:
            if handler not in outcomes:
                try:
                    outcomes[handler] = handler.authenticate(request)
                except ApiError as exc:
                    outcomes[handler] = exc
            return outcomes[handler]

        failures: list[ApiError] = []
        for alternative in operation.security:
            if not alternative:  # `{}` among the alternatives: anonymous access allowed
                return None
            results = [run(self.handlers.get(name, self.undefined)) for name in alternative]
            failure = next((result for result in results if isinstance(result, ApiError)), None)
            if failure is None:
                return next((result for result in results if result is not None), None)
            failures.append(failure)
        challenges = dict.fromkeys(f.headers["WWW-Authenticate"] for f in failures if "WWW-Authenticate" in f.headers)
        first = failures[0]
        if len(challenges) > 1:
            first.headers = {**first.headers, "WWW-Authenticate": ", ".join(challenges)}
        raise first
