"""The shared store: the same rules as the in-memory Store, with the state in Redis, so
that several processes and replicas of the mock are one mock.

Each project, session, refresh token and last login is one JSON document under the key
prefix. Every rule runs as an optimistic transaction: the documents it reads are
WATCHed as it reads them, the rule's own code (chats.py, messages.py, sessions.py)
runs on them in memory, and what it changed is written with MULTI/EXEC. When another
process changed a document in between, EXEC writes nothing and the rule runs again on
the new state; so a check and its change are atomic across replicas, as the lock makes
them in one process. A rule that refuses (RuleViolation) commits too, since some
refusals change state (a reused refresh token ends its session), and a read checks
with an empty EXEC that what it read was one consistent state.

The state's budget (budget.py) keeps its counters beside the documents, as integers
that a rule reads without WATCH and changes with INCRBY in its MULTI/EXEC.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import inspect
import json
import threading
import time
from collections.abc import Callable, Iterator, MutableMapping
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import redis
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from ..fixtures import Fixtures
from .budget import DEFAULT_LIMITS, RedisUsage, StateLimits
from .chats import ChatRules
from .memory import Store
from .messages import MessageRules
from .records import (
    ChatRecord,
    E2eeKey,
    MessageRecord,
    Participant,
    ProjectRecord,
    RuleViolation,
    Session,
    records_from_fixtures,
)
from .sessions import SessionRules

DEFAULT_PREFIX = "mudbase-mock"
_UNREAD = object()  # a document the rule wrote without reading it first
# A rule that keeps losing to other writers gives up after this long (503).
CONTENTION_BUDGET_SECONDS = 10.0

# The next instant in milliseconds: the caller's clock, but strictly after the last
# instant any replica handed out, so that times never tie or run backwards.
_NEXT_INSTANT = """
local last = tonumber(redis.call('GET', KEYS[1]) or '0')
local now = tonumber(ARGV[1])
if now <= last then now = last + 1 end
redis.call('SET', KEYS[1], now)
return now
"""


class StoreError(Exception):
    """The store cannot be opened; the message says why and what to do."""


class StoreUnavailable(Exception):
    """The shared store did not answer in time; the request changed nothing."""


class _StateLost(Exception):
    """A fixture project's document is gone: Redis restarted empty or was flushed."""


def redacted(url: str) -> str:
    """A Redis URL without its password, for messages and /__mock/health."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = f"{parts.username}:***@" if parts.username else ":***@"
    return parts._replace(netloc=user + parts.netloc.rpartition("@")[2]).geturl()


# --- documents ----------------------------------------------------------------------


def _dump(record: Any) -> bytes:
    # A record's fields are its __dict__, in order: json's C encoder walks them, ten times
    # faster than dataclasses.asdict's deep copy on a chat with hundreds of messages.
    return json.dumps(record, default=vars, ensure_ascii=False, separators=(",", ":")).encode()


def _encode_project(project: ProjectRecord) -> bytes:
    return _dump(project)


class _OwnChat(ChatRecord):
    """A chat decoded for one run of a rule: the request's own copy, so that the copy
    the rules hand out (snapshot) can be the record itself."""

    def snapshot(self, with_messages: bool = True) -> ChatRecord:
        return self


class _OwnMessage(MessageRecord):
    def snapshot(self) -> MessageRecord:
        return self


def _decode_project(raw: bytes) -> ProjectRecord:
    data = json.loads(raw)
    chats = {}
    for chat_id, chat in data["chats"].items():
        chats[chat_id] = _OwnChat(
            **chat
            | {
                "participants": {user: Participant(**p) for user, p in chat["participants"].items()},
                "messages": {message_id: _OwnMessage(**m) for message_id, m in chat["messages"].items()},
            }
        )
    keys = {user: E2eeKey(**key) for user, key in data["e2ee_keys"].items()}
    return ProjectRecord(data["id"], tuple(data["members"]), chats, keys)


def _encode_session(session: Session) -> bytes:
    return _dump(session)


def _decode_session(raw: bytes) -> Session:
    return Session(**json.loads(raw))


class _Documents(MutableMapping):
    """One kind of document as the rules see it (a dict), read from Redis as the rule
    asks for each one, WATCHed from then on, and written back if the rule changed it."""

    def __init__(
        self,
        pipe: redis.client.Pipeline,
        key_of: Callable[[str], str],
        decode: Callable[[bytes], Any],
        encode: Callable[[Any], bytes],
        ids: tuple[str, ...] | None = None,
    ) -> None:
        self._pipe = pipe
        self._key_of = key_of
        self._decode = decode
        self._encode = encode
        self._ids = ids  # every ID there is, for kinds that can be listed (projects): never absent
        self._stored: dict[str, Any] = {}  # ID -> the document as read (None: absent), or _UNREAD
        self._values: dict[str, Any] = {}  # ID -> the document as the rule has it now

    def _load(self, id_: str) -> None:
        if id_ in self._stored:
            return
        key = self._key_of(id_)
        self._pipe.watch(key)
        raw = self._pipe.get(key)
        if raw is None and self._ids is not None and id_ in self._ids:
            raise _StateLost(key)
        self._stored[id_] = raw
        if raw is not None:
            self._values[id_] = self._decode(raw)

    def __getitem__(self, id_: str) -> Any:
        self._load(id_)
        return self._values[id_]

    def __setitem__(self, id_: str, value: Any) -> None:
        # A blind write (new IDs are random) needs no read: it is written whatever was there.
        self._stored.setdefault(id_, _UNREAD)
        self._values[id_] = value

    def __delitem__(self, id_: str) -> None:
        self._load(id_)
        del self._values[id_]

    def __iter__(self) -> Iterator[str]:
        if self._ids is None:
            raise TypeError("these documents are looked up by ID, not listed")
        return (id_ for id_ in self._ids if id_ in self)

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def writes(self) -> Iterator[tuple[str, bytes | None]]:
        """(key, new document or None to delete) for each document the rule changed."""
        for id_, stored in self._stored.items():
            value = self._values.get(id_)
            encoded = None if value is None else self._encode(value)
            if encoded != stored:
                yield self._key_of(id_), encoded


@dataclasses.dataclass
class _Transaction:
    """The documents one run of a rule read and changed."""

    pipe: redis.client.Pipeline
    projects: _Documents
    sessions: _Documents
    refresh_tokens: _Documents
    last_login: _Documents
    usage: RedisUsage  # the budget's counters (budget.py)

    def commit(self) -> None:
        """Write every change at once; WatchError when another process changed a
        document this run read (then nothing is written)."""
        self.pipe.multi()
        for documents in (self.projects, self.sessions, self.refresh_tokens, self.last_login):
            for key, value in documents.writes():
                if value is None:
                    self.pipe.delete(key)
                else:
                    self.pipe.set(key, value)
        self.usage.queue(self.pipe)
        self.pipe.execute()


def _transactional(rule: Callable) -> Callable:
    @functools.wraps(rule)
    def run(self: RedisStore, *args: Any, **kwargs: Any) -> Any:
        return self._atomically(rule, args, kwargs)

    return run


def _rules_in_transactions(cls: type[RedisStore]) -> type[RedisStore]:
    """Every public rule of the mixins runs in a transaction of `cls`."""
    for rules in (ChatRules, MessageRules, SessionRules):
        for name, rule in vars(rules).items():
            if not name.startswith("_") and inspect.isfunction(rule):
                setattr(cls, name, _transactional(rule))
    return cls


@_rules_in_transactions
class RedisStore(Store):
    """The in-memory Store's rules and lookups; only where the state lives and what
    makes a check and its change atomic differ."""

    kind = "redis"

    def __init__(
        self, fixtures: Fixtures, url: str, prefix: str = DEFAULT_PREFIX, limits: StateLimits = DEFAULT_LIMITS
    ) -> None:
        self.fixtures = fixtures
        self.limits = limits
        self._users_by_email = {user.email.lower(): user for user in fixtures.users.values()}
        self.url = url
        self.prefix = prefix
        # The rules' `with self._lock:` blocks run inside a transaction instead.
        self._lock = nullcontext()
        self._current = threading.local()
        self._retrying = threading.Lock()
        self._project_ids = tuple(fixtures.projects)
        try:
            self._redis = redis.Redis.from_url(
                url,
                socket_connect_timeout=2,
                socket_timeout=5,
                # One quick retry: the first command on a pooled connection to a Redis
                # that has restarted fails, and a fresh connection then works.
                retry=Retry(ExponentialBackoff(cap=0.05, base=0.01), 1),
            )
        except ValueError as exc:
            raise StoreError(f"--store {redacted(url)}: {exc}") from None
        self._next_instant = self._redis.register_script(_NEXT_INSTANT)
        try:
            self.problems = self._load_fixtures_once()
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            raise StoreError(
                f"cannot reach Redis at {redacted(url)}: {exc}. Start it (e.g. `redis-server --port 6379`) "
                "or leave out --store to keep the state in memory"
            ) from None
        except redis.ResponseError as exc:
            raise StoreError(f"Redis at {redacted(url)} refused the mock's state: {exc}") from None

    # --- where the state lives ----------------------------------------------------------

    def _key(self, kind: str, id_: str = "") -> str:
        return f"{self.prefix}:{kind}:{id_}" if id_ else f"{self.prefix}:{kind}"

    @property
    def _projects(self) -> _Documents:
        return self._transaction().projects

    @property
    def _sessions(self) -> _Documents:
        return self._transaction().sessions

    @property
    def _refresh_tokens(self) -> _Documents:
        return self._transaction().refresh_tokens

    @property
    def _last_login(self) -> _Documents:
        return self._transaction().last_login

    @property
    def _usage(self) -> RedisUsage:
        return self._transaction().usage

    def _transaction(self) -> _Transaction:
        transaction = getattr(self._current, "transaction", None)
        if transaction is None:
            raise RuntimeError("the state of a RedisStore is read inside a rule's transaction only")
        return transaction

    def _begin(self, pipe: redis.client.Pipeline) -> _Transaction:
        return _Transaction(
            pipe,
            _Documents(
                pipe,
                functools.partial(self._key, "project"),
                _decode_project,
                _encode_project,
                self._project_ids,
            ),
            _Documents(pipe, functools.partial(self._key, "session"), _decode_session, _encode_session),
            _Documents(pipe, functools.partial(self._key, "refresh-token"), bytes.decode, str.encode),
            _Documents(pipe, functools.partial(self._key, "last-login"), bytes.decode, str.encode),
            RedisUsage(self._redis.get, functools.partial(self._key, "usage")),
        )

    def _atomically(self, rule: Callable, args: tuple, kwargs: dict) -> Any:
        if getattr(self._current, "transaction", None) is not None:
            return rule(self, *args, **kwargs)  # a rule calling another: one transaction
        deadline = time.monotonic() + CONTENTION_BUDGET_SECONDS
        lost_a_race = False
        with self._reaching_redis(), self._redis.pipeline() as pipe:
            while True:
                # After a lost race, this process's rules retry one at a time, so that they
                # stop undoing each other's work (which costs more than waiting); other
                # processes and replicas are still kept apart by WATCH alone.
                with self._retrying if lost_a_race else nullcontext():
                    self._current.transaction = transaction = self._begin(pipe)
                    try:
                        try:
                            result, refusal = rule(self, *args, **kwargs), None
                        except RuleViolation as exc:
                            result, refusal = None, exc
                        transaction.commit()
                    except _StateLost as lost:
                        self._load_fixtures_once(lost_key=str(lost))  # and the rule runs again, on the fixtures
                        continue
                    except redis.WatchError:
                        if time.monotonic() > deadline:
                            raise StoreUnavailable(
                                f"Another replica kept changing the same state for {CONTENTION_BUDGET_SECONDS:.0f} s"
                            ) from None
                        lost_a_race = True
                        continue
                    finally:
                        self._current.transaction = None
                        pipe.reset()
                if refusal is not None:
                    raise refusal
                return result

    @contextmanager
    def _reaching_redis(self) -> Iterator[None]:
        try:
            yield
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            raise StoreUnavailable(f"The mock's shared store (Redis) is unavailable: {exc}") from None

    # --- the store's own operations -------------------------------------------------------

    def now(self) -> str:
        with self._reaching_redis():
            millis = self._next_instant(keys=[self._key("clock")], args=[time.time_ns() // 1_000_000])
        instant = datetime.fromtimestamp(millis // 1000, UTC).replace(microsecond=millis % 1000 * 1000)
        return instant.isoformat(timespec="milliseconds").replace("+00:00", "Z")

    def load(self, fixtures: Fixtures) -> None:
        """Start over from other fixtures (files edited since start-up), for every replica."""
        self._project_ids = tuple(fixtures.projects)
        super().load(fixtures)  # which resets

    def reset(self) -> None:
        """Back to the fixtures for every replica: sessions and logins are forgotten too."""
        with self._reaching_redis(), self._redis.pipeline() as pipe:
            self._write_fixtures(pipe)

    def health(self) -> dict[str, Any]:
        status = {"store": self.kind, "url": redacted(self.url), "prefix": self.prefix}
        try:
            self._redis.ping()
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            return status | {"status": "unavailable", "details": str(exc)}
        return status | {"status": "ok"}

    def _load_fixtures_once(self, lost_key: str | None = None) -> list[str]:
        """Loads the fixtures unless a replica did already (its state is kept), or when
        `lost_key`, a fixture project's document, is gone; what is worth a warning."""
        with self._redis.pipeline() as pipe:
            try:
                pipe.watch(self._key("fixtures"), *([lost_key] if lost_key else []))
                loaded = pipe.get(self._key("fixtures"))
                if loaded is None or (lost_key and not pipe.exists(lost_key)):
                    self._write_fixtures(pipe)
                    return []
            except redis.WatchError:
                return []  # another replica loaded them just now
        if loaded.decode() != self._fixtures_digest():
            return [
                f"the shared state under prefix {self.prefix!r} was loaded from other fixtures than these; "
                "POST /__mock/reset loads these, or give this mock its own --store-prefix"
            ]
        return []

    def _write_fixtures(self, pipe: redis.client.Pipeline) -> None:
        """Replace everything under the prefix (but the clock) with the fixtures, at once."""
        pattern = _glob_escape(self.prefix) + ":*"
        stale = [key for key in self._redis.scan_iter(match=pattern, count=1000) if key != self._key("clock").encode()]
        pipe.multi()
        if stale:
            pipe.delete(*stale)
        for project in records_from_fixtures(self.fixtures).values():
            pipe.set(self._key("project", project.id), _encode_project(project))
        pipe.set(self._key("fixtures"), self._fixtures_digest())
        pipe.execute()

    def _fixtures_digest(self) -> str:
        projects = records_from_fixtures(self.fixtures).values()
        return hashlib.sha256(b"\n".join(_encode_project(project) for project in projects)).hexdigest()


def _glob_escape(text: str) -> str:
    return "".join("\\" + char if char in "*?[]\\" else char for char in text)
