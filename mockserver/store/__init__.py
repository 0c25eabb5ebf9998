"""The mock's state and its rules. `Store` is what every store is (base.py); the state lives
in this process's memory (`MemoryStore`), or in Redis, shared by every process and replica
(`RedisStore`)."""

from __future__ import annotations

from mockserver.store.base import Store
from mockserver.store.budget import DEFAULT_LIMITS, LIMIT_EXCEEDED, STATE_LIMITS_ENV, StateLimits
from mockserver.store.chats import ChatSummary
from mockserver.store.fixtures import Fixtures
from mockserver.store.memory import MemoryStore
from mockserver.store.records import ChatRecord, E2eeKey, MessageRecord, Participant, RuleViolation
from mockserver.store.redis_store import DEFAULT_PREFIX, RedisStore, StoreError, StoreUnavailable

MEMORY = "memory"


def open_store(
    fixtures: Fixtures, url: str = MEMORY, prefix: str = DEFAULT_PREFIX, limits: StateLimits = DEFAULT_LIMITS
) -> Store:
    """The store `url` names: `memory`, or a Redis URL (redis://HOST:PORT/DB, rediss://, unix://),
    holding at most what `limits` allow."""
    if url == MEMORY:
        return MemoryStore(fixtures, limits)
    if not url.startswith(("redis://", "rediss://", "unix://")):
        raise StoreError(f"--store {url!r}: use `memory` or a Redis URL such as redis://127.0.0.1:6379/0")
    return RedisStore(fixtures, url, prefix, limits)


__all__ = [
    "DEFAULT_LIMITS",
    "DEFAULT_PREFIX",
    "LIMIT_EXCEEDED",
    "STATE_LIMITS_ENV",
    "MEMORY",
    "MemoryStore",
    "ChatRecord",
    "ChatSummary",
    "E2eeKey",
    "MessageRecord",
    "Participant",
    "RedisStore",
    "RuleViolation",
    "StateLimits",
    "Store",
    "StoreError",
    "StoreUnavailable",
    "open_store",
]
