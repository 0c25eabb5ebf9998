"""The security stage: a request checked against its operation's security requirements."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from mockserver.contract.index import Operation
from mockserver.errors import ApiError, untraced
from mockserver.pipeline.security.caller import Caller
from mockserver.pipeline.security.schemes import Bearer, Handler, Unsupported, handler_for
from mockserver.pipeline.security.tokens import REALM, BearerJWT
from mockserver.pipeline.security.verification import MOCK_TOKENS, TokenVerification


class Authenticator:
    """Checks requests against operations' security requirements.

    Scheme handlers (schemes.py) are chosen once at start-up from the spec's
    securitySchemes; the bearer-like schemes share one handler, which runs once a request.
    When every alternative fails, the 401 carries the challenge of each scheme tried.
    """

    def __init__(
        self,
        security_schemes: dict[str, dict],
        secret: str,
        known_users: Mapping[str, Any],  # fixture users by ID
        session_ended: Callable[[str], bool],
        max_token_lifetime: int,
        verification: TokenVerification = MOCK_TOKENS,  # what the bearer schemes accept (--auth)
        realm: str = REALM,  # of every challenge (tokens.realm_for: from the document's title)
    ) -> None:
        bearer = Bearer(BearerJWT(secret, known_users, session_ended, max_token_lifetime, verification, realm))
        self.handlers: dict[str, Handler] = {
            name: handler_for(scheme, bearer, known_users, realm)
            for name, scheme in security_schemes.items()
            if isinstance(scheme, dict)
        }
        self.undefined = Unsupported("an undefined scheme's", f'Bearer realm="{realm}"')

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
                    outcomes[handler] = untraced(exc)  # its frames hold `outcomes`
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
