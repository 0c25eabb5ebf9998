"""The shared store: the same rules as the in-memory store, with the state in Redis, so
that several processes and replicas of the mock are one mock.

The state is kept in small keys, so that each rule reads and writes only what it needs
(keyed.py: an item per key, an ordered index per collection). Under the prefix `P`,
with `E` the epoch of the state (a number that each reset of the state increments):

| key                                      | type       | holds                                          |
| ---------------------------------------- | ---------- | ---------------------------------------------- |
| `P:state`                                | string     | `keys-2 E DIGEST`: layout, epoch, fixtures    |
| `P:epoch`, `P:clock`                     | string     | the last epoch; the last instant handed out    |
| `P:E:item:project:{project}`             | JSON       | a project's own fields: ID, members            |
| `P:E:items:chat:{project}`               | sorted set | its chat IDs, in creation order (1, 2, ...)    |
| `P:E:item:chat:{project}:{chat}`         | JSON       | a chat but its messages: participants, ...     |
| `P:E:bytes:chat:{project}`               | integer    | the bytes of the project's chat items          |
| `P:E:items:message:{project}:{chat}`     | sorted set | its message IDs, scored by createdAt in µs     |
| `P:E:item:message:{project}:{chat}:{id}` | JSON       | one message, its reactions and readers         |
| `P:E:bytes:message:{project}:{chat}`     | integer    | the bytes of the chat's message items          |
| `P:E:item:e2ee-key:{project}:{user}`     | JSON       | a member's E2EE identity key                   |
| `P:E:item:session:{session}`             | JSON       | a login's session                              |
| `P:E:item:refresh-token:{token}`         | string     | the session ID of a refresh token              |
| `P:E:item:last-login:{user}`             | string     | the instant of the user's last login           |
| `P:E:items:resource:{name}:{scope...}`   | sorted set | an inferred resource's item IDs, in order      |
| `P:E:item:resource:{name}:{scope...}:{id}` | JSON     | one item of an inferred resource (items.py)    |
| `P:E:item:marker:seeds`                  | string     | set once the seeds of this epoch are written   |
| `P:E:usage:bytes`, `P:E:usage:sessions`  | integer    | the budget's bytes past the fixtures; sessions |
| `P:E:usage:chat-bytes:{project}:{chat}`  | integer    | bytes a chat gained since its item was created |
| `P:E:usage:items`                        | integer    | inferred items past the seeds                  |
| `P:E:usage:e2ee-keys:{project}`          | integer    | E2EE keys (and `e2ee-key-bytes:`, their bytes) |
|                                          |            | the project gained past its fixtures           |

(Each part is `%`-escaped, so an ID with `:` cannot run into the next part.) A count
per chat or project is the ZCARD of an index, its bytes one counter: a state budget
reads them without reading any item. The inferred resources of any OpenAPI document
(items.py) are collections of the same kind, one per resource and scope (the values of
its parent path parameters): a rule on one item reads that item and its collection's index.

Every rule runs as an optimistic transaction: each key it reads is WATCHed as it reads
it, the rule's own code (chats.py, messages.py, sessions.py) runs on the items in
memory, and what it changed is written with MULTI/EXEC. When another process changed a
key it read in between, EXEC writes nothing and the rule runs again on the new state;
so a check and its change are atomic across replicas, as the lock makes them in one
process. A rule that refuses (RuleViolation) commits too, since some refusals change
state (a reused refresh token ends its session), and a read checks with an empty EXEC
that what it read was one consistent state.

What each rule touches: getChatDetails reads the project and the one chat; a send reads
the project and the chat and writes its message (the chat's message index is WATCHed
as the chat is read, so that sends into one chat commit in the order of their
createdAt; sends into other chats never conflict); a page of messages reads the index
range and that page's items. The rules that read all of a chat's messages are the chat
list (getUserChats: each listed chat's last message and unread count) and
/__mock/state; they read them BATCH at a time, from the caller's chats only.

Every rule also reads `P:state`, which only a reset writes: a reset writes the fixtures
under a new epoch in one MULTI, so that a rule that ran meanwhile runs again on them,
then deletes the older epochs' keys.

The state's budget (budget.py) keeps its counters under the epoch (`P:E:usage:...`, so a
reset clears them), as integers that a rule reads without WATCH and changes with INCRBY
in its MULTI/EXEC. The budget's checks read what their rule reads already (a chat's
messages counted by the ZCARD of its index, a project's chats by theirs) and those
counters; a chat's share of the estimate is a counter of its own, not a field its item
rewrites, so reactions or reads on two messages of one chat still do not conflict.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import functools
import hashlib
import inspect
import json
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import redis
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from mockserver.store.base import Store
from mockserver.store.budget import DEFAULT_LIMITS, RedisUsage, StateLimits, key_bytes, records_from_fixtures
from mockserver.store.chats import ChatRules
from mockserver.store.fixtures import Fixtures
from mockserver.store.items import ItemRules
from mockserver.store.keyed import INSERTION, Collection, Kind, Transaction
from mockserver.store.keyed import key as keyed_key
from mockserver.store.messages import MessageRules
from mockserver.store.records import (
    ChatRecord,
    E2eeKey,
    MessageRecord,
    Participant,
    ProjectRecord,
    RuleViolation,
    Session,
    instant,
)
from mockserver.store.sessions import SessionRules

DEFAULT_PREFIX = "mudbase-mock"
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
    """The store (Redis, or the state process of `--workers`) cannot be reached or did not
    answer in time; its message says so."""


class _StateLost(Exception):
    """The state is gone (Redis restarted empty or was flushed), or a fixture project is."""


def redacted(url: str) -> str:
    """A Redis URL without its password, for messages and /__mock/health."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = f"{parts.username}:***@" if parts.username else ":***@"
    return parts._replace(netloc=user + parts.netloc.rpartition("@")[2]).geturl()


# --- items ------------------------------------------------------------------------

LAYOUT = "keys-2"  # the first word of P:state; a state of another layout is replaced
_EPOCH_ZERO = datetime(1970, 1, 1, tzinfo=UTC)


def _dump(record: Any) -> bytes:
    # A record's fields are its __dict__, in order: json's C encoder walks them, ten times
    # faster than dataclasses.asdict's deep copy.
    return json.dumps(record, default=vars, ensure_ascii=False, separators=(",", ":")).encode()


def micros(moment: datetime | str) -> int:
    """An instant (RFC 3339 text or datetime) in microseconds since 1970: a message's score."""
    value = instant(moment) if isinstance(moment, str) else moment
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return (value - _EPOCH_ZERO) // timedelta(microseconds=1)


class _OwnChat(ChatRecord):
    """A chat decoded for one run of a rule, its messages read as the rule asks for them
    (`messages` is a keyed.Collection): the request's own copy, so that what the rules
    hand out (snapshot) shares its participants."""

    def snapshot(self, with_messages: bool = True) -> ChatRecord:
        messages = {message.id: message for message in self.messages.values()} if with_messages else {}
        return ChatRecord(self.id, self.name, self.type, self.created_at, self.description, self.participants, messages)


class _OwnMessage(MessageRecord):
    def snapshot(self) -> MessageRecord:
        return self


def _decode_project(raw: bytes, projects: Collection, project_id: str) -> ProjectRecord:
    data = json.loads(raw)
    data["members"] = tuple(data["members"])
    chats = projects.tx.collection(CHATS, (project_id,))
    keys = projects.tx.collection(E2EE_KEYS, (project_id,))
    return ProjectRecord(**data, chats=chats, e2ee_keys=keys)


def _encode_project(project: ProjectRecord) -> bytes:
    """Its own fields: its chats and keys are items of their own."""
    return _dump({name: value for name, value in vars(project).items() if name not in ("chats", "e2ee_keys")})


def _decode_chat(raw: bytes, chats: Collection, chat_id: str) -> _OwnChat:
    data = json.loads(raw)
    messages = chats.tx.collection(MESSAGES, (*chats.scope, chat_id))
    # Before the rule reads the clock: a send that took an earlier instant than another
    # and commits after it runs again, so the index never gains a message in the past.
    messages.watch_index()
    participants = {user: Participant(**participant) for user, participant in data.pop("participants").items()}
    return _OwnChat(**data, participants=participants, messages=messages)


def _encode_chat(chat: ChatRecord) -> bytes:
    if isinstance(chat.messages, dict) and chat.messages:
        raise ValueError("a new chat's messages are added to its `messages` once it is stored")
    return _dump({name: value for name, value in vars(chat).items() if name != "messages"})


def _text(raw: bytes, *_: Any) -> str:
    return raw.decode()


PROJECTS = Kind("project", _decode_project, _encode_project)
CHATS = Kind("chat", _decode_chat, _encode_chat, order=INSERTION)
MESSAGES = Kind(
    "message",
    lambda raw, *_: _OwnMessage(**json.loads(raw)),
    _dump,
    order=lambda message: micros(message.created_at),
    # Its fields, copied but for the strings (deepcopy shares them): up to a MiB of content
    # is compared by identity, not encoded again, when a rule read the message only.
    fingerprint=lambda message: copy.deepcopy(vars(message)),
)
E2EE_KEYS = Kind("e2ee-key", lambda raw, *_: E2eeKey(**json.loads(raw)), _dump)
SESSIONS = Kind("session", lambda raw, *_: Session(**json.loads(raw)), _dump)
REFRESH_TOKENS = Kind("refresh-token", _text, str.encode)
LAST_LOGINS = Kind("last-login", _text, str.encode)
RESOURCE_ITEMS = Kind(
    "resource",
    lambda raw, *_: json.loads(raw),
    lambda item: json.dumps(item, ensure_ascii=False, separators=(",", ":")).encode(),
    order=INSERTION,
)
MARKERS = Kind("marker", _text, str.encode)
SEEDS_WRITTEN = "seeds"


class _Projects(Mapping):
    """The fixtures' projects (no rule adds one): a missing one means the state is lost."""

    def __init__(self, items: Collection, ids: tuple[str, ...]) -> None:
        self._items = items
        self._ids = ids

    def __getitem__(self, project_id: str) -> ProjectRecord:
        try:
            return self._items[project_id]
        except KeyError:
            if project_id in self._ids:
                raise _StateLost(self._items.item_key(project_id)) from None
            raise

    def __iter__(self) -> Iterator[str]:
        return iter(self._ids)

    def __len__(self) -> int:
        return len(self._ids)


def _transactional(rule: Callable) -> Callable:
    @functools.wraps(rule)
    def run(self: RedisStore, *args: Any, **kwargs: Any) -> Any:
        return self._atomically(rule, args, kwargs)

    return run


def _rules_in_transactions(cls: type[RedisStore]) -> type[RedisStore]:
    """Every public rule of the mixins runs in a transaction of `cls`."""
    for rules in (ChatRules, MessageRules, SessionRules, ItemRules):
        for name, rule in vars(rules).items():
            if not name.startswith("_") and name != "seed_items" and inspect.isfunction(rule):
                setattr(cls, name, _transactional(rule))
    return cls


@_rules_in_transactions
class RedisStore(Store):
    """Every store's rules and lookups (base.py), as in memory; only where the state lives and what
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

    def _key(self, name: str) -> str:
        return f"{self.prefix}:{name}"

    @property
    def _projects(self) -> _Projects:
        return _Projects(self._transaction().collection(PROJECTS), self._project_ids)

    @property
    def _sessions(self) -> Collection:
        return self._transaction().collection(SESSIONS)

    @property
    def _refresh_tokens(self) -> Collection:
        return self._transaction().collection(REFRESH_TOKENS)

    @property
    def _last_login(self) -> Collection:
        return self._transaction().collection(LAST_LOGINS)

    def _items(self, resource: str, scope: tuple[str, ...]) -> Collection:
        return self._transaction().collection(RESOURCE_ITEMS, (resource, *scope))

    def _write_seeds(self) -> None:
        """The seeds, once per epoch: by the first replica to start on it (a reset writes
        them with the fixtures)."""
        self._atomically(RedisStore._seed_once, (), {})

    def _seed_once(self) -> None:
        markers = self._transaction().collection(MARKERS)
        if SEEDS_WRITTEN in markers:
            return
        for seed in self._item_seeds:
            items = self._items(seed.resource, seed.scope)
            for item_id, item in seed.items:
                items.setdefault(item_id, item)
        markers[SEEDS_WRITTEN] = "1"

    @property
    def _usage(self) -> RedisUsage:
        return self._transaction().usage

    def _transaction(self) -> Transaction:
        transaction = getattr(self._current, "transaction", None)
        if transaction is None:
            raise RuntimeError("the state of a RedisStore is read inside a rule's transaction only")
        return transaction

    def _begin(self, pipe: redis.client.Pipeline) -> Transaction:
        """A transaction on the current epoch's keys; _StateLost when there is no state."""
        state = self._key("state")
        pipe.watch(state)
        epoch = _epoch_of(pipe.get(state))
        if epoch is None:
            raise _StateLost(state)
        transaction = Transaction(pipe, f"{self.prefix}:{epoch}")
        # The budget's counters (budget.py), read without WATCH, added at commit.
        transaction.usage = RedisUsage(self._redis.get, functools.partial(_usage_key, transaction.prefix))
        return transaction

    @staticmethod
    def _messages_between(
        chat: ChatRecord, *, after: datetime | None, before: datetime | None, offset: int, limit: int
    ) -> tuple[list[MessageRecord], int]:
        """That page alone, from the chat's message index (scored by createdAt in µs)."""
        return chat.messages.page(
            above=None if after is None else micros(after),
            below=None if before is None else micros(before),
            offset=offset,
            limit=limit,
            reverse=True,
        )

    @staticmethod
    def _messages_in_order(chat: ChatRecord, *, offset: int, limit: int) -> tuple[list[MessageRecord], int]:
        """That page alone, oldest first, from the chat's message index."""
        return chat.messages.page(offset=offset, limit=limit)

    # --- the budget's shares of a chat and a project (budget.py) --------------------------
    # A chat item holds the estimate of its bytes as it was created; what the rules add
    # and take away afterwards goes to a counter of the chat's own, and a project's E2EE
    # keys are counted beyond the fixtures' in counters of the project's own: the items
    # every rule of the chat or the project reads are not written to keep a count.

    def _add_to_chat(self, chat: ChatRecord, cost: int) -> None:
        if isinstance(chat, _OwnChat):
            self._usage.add(("chat-bytes", *chat.messages.scope), cost)
        else:
            super()._add_to_chat(chat, cost)  # a new chat: in its item, written anyway

    def _chat_bytes(self, chat: ChatRecord) -> int:
        if isinstance(chat, _OwnChat):
            return chat.size_bytes + self._usage.value(("chat-bytes", *chat.messages.scope))
        return chat.size_bytes

    def _key_stored(self, project: ProjectRecord, previous: E2eeKey | None, key: E2eeKey) -> None:
        if previous is None:
            self._usage.add(("e2ee-keys", project.id), 1)
        self._usage.add(("e2ee-key-bytes", project.id), key_bytes(key) - key_bytes(previous))

    def _keys_held(self, project: ProjectRecord) -> tuple[int, int]:
        """The fixtures' keys (no rule removes one) and the counters: no key read."""
        count, cost = 0, 0
        fixture = self._fixture_records()[0].get(project.id)
        if fixture is not None:
            count, cost = super()._keys_held(fixture)
        return (
            count + self._usage.value(("e2ee-keys", project.id)),
            cost + self._usage.value(("e2ee-key-bytes", project.id)),
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
                    try:
                        self._current.transaction = transaction = self._begin(pipe)
                        try:
                            result, refusal = rule(self, *args, **kwargs), None
                        except RuleViolation as exc:
                            result, refusal = None, exc
                        transaction.commit(last=transaction.usage.queue)
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
            pipe.watch(self._key("state"))
            # A WatchError: another replica wrote the fixtures at the same moment, which is the reset.
            with contextlib.suppress(redis.WatchError):
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
        `lost_key`, a key the state cannot be without, is gone; what is worth a warning."""
        problems = []
        with self._redis.pipeline() as pipe:
            try:
                pipe.watch(self._key("state"), *([lost_key] if lost_key else []))
                state = pipe.get(self._key("state"))
                if state is None or _epoch_of(state) is None or (lost_key and not pipe.exists(lost_key)):
                    # Another layout: this one's P:state in other words, or the former P:fixtures.
                    if (state is not None and _epoch_of(state) is None) or pipe.exists(self._key("fixtures")):
                        problems.append(
                            f"the shared state under prefix {self.prefix!r} was kept in another layout of keys "
                            f"than this mock's ({LAYOUT}); it starts from the fixtures"
                        )
                    self._write_fixtures(pipe)
                    return problems
            except redis.WatchError:
                return problems  # another replica loaded them just now
        if state.decode().split()[2] != self._fixtures_digest():
            return [
                f"the shared state under prefix {self.prefix!r} was loaded from other fixtures than these; "
                "POST /__mock/reset loads these, or give this mock its own --store-prefix"
            ]
        return []

    def _write_fixtures(self, pipe: redis.client.Pipeline) -> None:
        """The fixtures, as the state, under a new epoch, at once (WatchError when a key
        `pipe` watches changed: then nothing is written); then the older epochs' keys go."""
        epoch = self._redis.incr(self._key("epoch"))
        transaction = Transaction(pipe, f"{self.prefix}:{epoch}")
        for project in records_from_fixtures(self.fixtures).values():
            transaction.collection(PROJECTS).seed(project.id, project)
            chats = transaction.collection(CHATS, (project.id,))
            for chat in project.chats.values():
                chats.seed(chat.id, dataclasses.replace(chat, messages={}))
                messages = transaction.collection(MESSAGES, (project.id, chat.id))
                for message in chat.messages.values():
                    messages.seed(message.id, message)
            keys = transaction.collection(E2EE_KEYS, (project.id,))
            for user_id, key in project.e2ee_keys.items():
                keys.seed(user_id, key)
        for seed in self._item_seeds:
            items = transaction.collection(RESOURCE_ITEMS, (seed.resource, *seed.scope))
            for item_id, item in seed.items:
                items.seed(item_id, item)
        if self._item_seeds:  # else the seeds come later (seed_items), once per epoch
            transaction.collection(MARKERS).seed(SEEDS_WRITTEN, "1")
        state = f"{LAYOUT} {epoch} {self._fixtures_digest()}"
        transaction.commit(last=lambda pipe: pipe.set(self._key("state"), state))
        self._delete_epochs_before(epoch)

    def _delete_epochs_before(self, epoch: int) -> None:
        """Deletes the keys of epochs before `epoch`, and any of another layout: no rule
        writes them again, since each one read P:state, which moved on."""
        kept = {self._key(name).encode() for name in ("state", "epoch", "clock")}
        start = len(self.prefix) + 1
        stale = []
        for name in self._redis.scan_iter(match=_glob_escape(self.prefix) + ":*", count=1000):
            part = name[start:].split(b":", 1)[0]
            if name not in kept and not (part.isdigit() and int(part) >= epoch):
                stale.append(name)
        for first in range(0, len(stale), 1000):
            self._redis.unlink(*stale[first : first + 1000])

    def _fixtures_digest(self) -> str:
        projects = records_from_fixtures(self.fixtures).values()
        return hashlib.sha256(b"\n".join(_dump(project) for project in projects)).hexdigest()


def _usage_key(prefix: str, name: str | tuple[str, ...]) -> str:
    """The key of a budget counter (budget.py): `P:E:usage:{name...}`."""
    return keyed_key(prefix, "usage", *((name,) if isinstance(name, str) else name))


def _epoch_of(state: bytes | None) -> int | None:
    """The epoch in P:state, if it is there in this layout."""
    words = state.decode().split() if state else []
    return int(words[1]) if len(words) == 3 and words[0] == LAYOUT and words[1].isdigit() else None


def _glob_escape(text: str) -> str:
    return "".join("\\" + char if char in "*?[]\\" else char for char in text)
