"""The in-memory store: the state of every rule, behind one lock.

One re-entrant lock guards every read-modify-write, so parallel requests see a
consistent state: of many parallel removals of one participant exactly one
succeeds. The rules themselves live in chats.py, messages.py and sessions.py, and the
state's budget in budget.py; what every store shares, in base.py.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, MutableMapping
from datetime import UTC, datetime, timedelta
from typing import Any

from mockserver.store.base import Store
from mockserver.store.budget import DEFAULT_LIMITS, StateLimits, Usage, records_from_fixtures
from mockserver.store.fixtures import Fixtures
from mockserver.store.items import copied, id_number, largest_id_number
from mockserver.store.records import ProjectRecord, Session


class MemoryStore(Store):
    kind = "memory"
    problems: list[str] = []  # nothing about the memory store is worth a warning

    def __init__(self, fixtures: Fixtures, limits: StateLimits = DEFAULT_LIMITS) -> None:
        self.fixtures = fixtures
        self.limits = limits
        self._users_by_email = {user.email.lower(): user for user in fixtures.users.values()}
        self._lock = threading.RLock()
        self._projects: dict[str, ProjectRecord] = {}
        self._sessions: dict[str, Session] = {}
        self._refresh_tokens: dict[str, str] = {}  # every refresh token issued -> its session ID
        self._last_login: dict[str, str] = {}
        self._collections: dict[tuple[str, tuple[str, ...]], dict[str, Any]] = {}  # inferred resources' items
        self._largest: dict[tuple[str, tuple[str, ...]], int] = {}  # a collection's largest number ID, once asked
        self._last_instant = datetime.min.replace(tzinfo=UTC)
        self.reset()

    def reset(self) -> None:
        """Back to the fixtures, as at start-up: sessions and logins are forgotten too."""
        with self._lock:
            self._projects = records_from_fixtures(self.fixtures)
            self._sessions = {}
            self._refresh_tokens = {}
            self._last_login = {}
            self._usage = Usage()  # what the state holds beyond the fixtures (budget.py)
            self._seeds_written = False
            self._collections = {}
            self._largest = {}
            self._write_seeds()

    def _write_seeds(self) -> None:
        with self._lock:
            if self._seeds_written or not self._item_seeds:
                return
            self._seeds_written = True
            self._largest = {}
            self._collections = {
                (seed.resource, seed.scope): {item_id: copied(item) for item_id, item in seed.items}
                for seed in self._item_seeds
                if seed.items
            }

    def _items(self, resource: str, scope: tuple[str, ...]) -> _Items:
        return _Items(self._collections, self._largest, (resource, scope))

    def _largest_number(self, resource: str, scope: tuple[str, ...]) -> int:
        return self._items(resource, scope).largest_number()

    def health(self) -> dict[str, str]:
        """What /__mock/health reports of the store: memory is always there."""
        return {"store": self.kind, "status": "ok"}

    def now(self) -> str:
        """The current time, RFC 3339 with milliseconds, strictly after the last one
        handed out, so that messages sort by creation time without ties."""
        with self._lock:
            instant = max(datetime.now(UTC), self._last_instant + timedelta(milliseconds=1))
            instant = instant.replace(microsecond=instant.microsecond // 1000 * 1000)
            self._last_instant = instant
        return instant.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class _Items(MutableMapping):
    """One collection of items in memory: made with its first item and dropped with its
    last, so that reading a scope a client makes up holds nothing. Its largest number ID
    is kept once asked for, so that a new ID one above it costs no scan of every ID."""

    def __init__(self, collections: dict, largest: dict, key) -> None:
        self._collections = collections
        self._largest = largest
        self._key = key

    def __getitem__(self, item_id: str) -> Any:
        return self._collections.get(self._key, {})[item_id]

    def __setitem__(self, item_id: str, item: Any) -> None:
        self._collections.setdefault(self._key, {})[item_id] = item
        if self._key in self._largest and (number := id_number(item_id)) > self._largest[self._key]:
            self._largest[self._key] = number

    def __delitem__(self, item_id: str) -> None:
        items = self._collections[self._key]
        del items[item_id]
        if not items:
            del self._collections[self._key]
        if (number := id_number(item_id)) and self._largest.get(self._key) == number:
            del self._largest[self._key]  # found again when next asked for

    def largest_number(self) -> int:
        if self._key not in self._largest:
            self._largest[self._key] = largest_id_number(self)
        return self._largest[self._key]

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._collections.get(self._key, {})))

    def __len__(self) -> int:
        return len(self._collections.get(self._key, {}))
