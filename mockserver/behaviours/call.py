"""What every behaviour gets (`Call`), and how business-rule failures become errors."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from mockserver.errors import ApiError
from mockserver.pipeline.security.caller import Caller
from mockserver.store import RuleViolation, Store


@dataclass(frozen=True)
class Call:
    """One authenticated, validated request to an operation."""

    store: Store
    jwt_secret: str
    token_lifetime: int
    caller: Caller | None  # None for operations without security
    path: dict[str, Any]
    body: Any
    query: dict[str, Any] = field(default_factory=dict)  # with the contract's defaults filled in
    media_type: str = ""  # the request body's, without parameters
    json: Any = None  # the JSON body as the validator parsed it, dates and UUIDs as text (None: not parsed)

    @property
    def user_id(self) -> str | None:
        """The caller's user ID; None when the contract lets the operation be called
        anonymously, which every rule then treats as a stranger."""
        return self.caller.user_id if self.caller else None


@contextmanager
def rule_failures(missing: int = 404, forbidden: int = 403, invalid: int = 400, conflict: int = 409) -> Iterator[None]:
    """Answer a broken rule with the status the operation's contract declares for its kind.

    A 404 reads `NOT_FOUND`, whatever was missing, as the real API's 404s do; a 400
    keeps the rule's own code, so a client can tell the rules apart.
    """
    try:
        yield
    except RuleViolation as exc:
        status = {"missing": missing, "forbidden": forbidden, "invalid": invalid, "conflict": conflict}[exc.kind]
        code = "NOT_FOUND" if status == 404 else exc.code
        raise ApiError(status, code, exc.error, exc.details) from None
