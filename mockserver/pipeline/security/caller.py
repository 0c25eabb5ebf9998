"""Who a request speaks for, once a security scheme has verified it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Caller:
    """Who a verified token speaks for, and the session it belongs to."""

    user_id: str
    session_id: str  # the `sid` claim; logout ends that session
