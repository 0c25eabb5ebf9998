"""Who a request speaks for, once a security scheme has verified it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Caller:
    """Who a verified token speaks for, and the session it belongs to.

    `user_id` is the token's `sub`: a fixture user's ID, or, for an identity provider's
    token (`serve --auth jwks:FILE`, `pem:FILE` or `any`), possibly no fixture user's, a
    stranger to every rule (a member of no project, a participant of no chat)."""

    user_id: str
    session_id: str  # the `sid` claim; logout ends that session
