"""Keyed JSON items with an ordered index in Redis, read and written in one optimistic
transaction that touches only the keys it names: the layer under the Redis store's
rules, and under any resource that is a collection of items with IDs.

A collection is one kind of item in one scope: the IDs of what it belongs to (for an
OpenAPI path, the values of its parent path parameters; for a chat's messages, the
project and the chat). Its keys, with each part `%`-escaped so that `:` never appears
inside one:

    {prefix}:item:{kind}:{scope...}:{id}   one item (JSON, or any bytes its kind encodes)
    {prefix}:items:{kind}:{scope...}       sorted set of its IDs, when the kind is ordered
    {prefix}:bytes:{kind}:{scope...}       the bytes of its items, counted with each change

A `Transaction` WATCHes each key as a rule first reads it, caches what it read, and at
`commit()` writes what changed (SET/DEL, ZADD/ZREM, INCRBY) in one MULTI/EXEC, which
fails (WatchError: nothing is written) when another client changed a key it read. An
item written without being read (a new random ID) is only WATCHed (and its size read,
for the byte count), so that inserts into one collection do not conflict.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, MutableMapping, ValuesView
from dataclasses import dataclass
from typing import Any

import redis

ESCAPES = str.maketrans({"%": "%25", ":": "%3A"})
BATCH = 64  # items read with one MGET


def key(prefix: str, *parts: str) -> str:
    return ":".join([prefix, *(part.translate(ESCAPES) for part in parts)])


class _Insertion:
    def __repr__(self) -> str:
        return "INSERTION"


# An index ordered as its items were added: each new ID scores one above the last one
# (read and written at EXEC, by a script, so that commit order is index order).
INSERTION = _Insertion()
_APPEND = """
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
local score = 1
if last[2] then score = tonumber(last[2]) + 1 end
redis.call('ZADD', KEYS[1], score, ARGV[1])
return score
"""
_UNREAD = object()  # an item written without reading it, its size not counted either


@dataclass(frozen=True)
class Kind:
    """How one kind of item is stored. `decode(raw, collection, id)` makes the item the
    rules change in place (it may open collections under its own scope); `encode` is
    compared with what was read to tell whether it changed, so it must be stable.
    `order`: None (no index: the items are looked up by ID only), INSERTION, or a
    function of the item giving its score, an integer (exact below 2**53), such as its
    creation instant in microseconds. `fingerprint`, for big items: a copy of what the
    item holds that stays equal to a new one while the item is unchanged, and shares its
    immutable parts (long strings), so that taking and comparing it costs little: an
    item equal to its fingerprint as read is not even encoded at commit."""

    name: str
    decode: Callable[[bytes, Collection, str], Any]
    encode: Callable[[Any], bytes]
    order: Callable[[Any], int] | _Insertion | None = None
    fingerprint: Callable[[Any], Any] | None = None


class Transaction:
    """The keys one run of a rule read, and the collections it read and changed."""

    def __init__(self, pipe: redis.client.Pipeline, prefix: str) -> None:
        self.pipe = pipe
        self.prefix = prefix
        self._watched: set[str] = set()
        self._collections: dict[tuple[str, tuple[str, ...]], Collection] = {}

    def watch(self, *keys: str) -> None:
        new = [name for name in dict.fromkeys(keys) if name not in self._watched]
        if new:
            self.pipe.watch(*new)
            self._watched.update(new)

    def read(self, name: str) -> bytes | None:
        self.watch(name)
        return self.pipe.get(name)

    def read_many(self, names: list[str]) -> list[bytes | None]:
        self.watch(*names)
        return self.pipe.mget(names)

    def collection(self, kind: Kind, scope: tuple[str, ...] = ()) -> Collection:
        """The items of `kind` under `scope`: one Collection per transaction, so that what
        the rule read once, and changed, is the same object wherever it looks again."""
        found = self._collections.get((kind.name, scope))
        if found is None:
            found = self._collections[kind.name, scope] = Collection(self, kind, scope)
        return found

    def commit(
        self,
        first: Callable[[redis.client.Pipeline], Any] | None = None,
        last: Callable[[redis.client.Pipeline], Any] | None = None,
    ) -> None:
        """Write every change at once (`first` and `last` may queue more); WatchError when
        another client changed a key this transaction read (then nothing is written).
        With nothing to write, the EXEC still checks that what was read was one state."""
        self.pipe.multi()
        if first:
            first(self.pipe)
        for collection in list(self._collections.values()):
            collection.queue_writes(self.pipe)
        if last:
            last(self.pipe)
        self.pipe.execute()


class Collection(MutableMapping):
    """The items of one kind in one scope, as a dict of ID -> item, read as the rule asks
    for them. Iteration follows the index: its order as stored, with this transaction's
    own additions (ordered by their score, or last for INSERTION) and removals."""

    def __init__(self, tx: Transaction, kind: Kind, scope: tuple[str, ...]) -> None:
        self.tx = tx
        self.kind = kind
        self.scope = scope
        # ID -> as read: its bytes, None when absent; for an item written unread, its size
        # (0: absent) or _UNREAD when not counted (an unordered kind).
        self._stored: dict[str, bytes | int | object | None] = {}
        self._values: dict[str, Any] = {}  # ID -> the item as the rule has it now
        self._scores: dict[str, int] = {}  # ID -> its score as read (ordered by a function)
        self._fingerprints: dict[str, Any] = {}  # ID -> its fingerprint as read
        self._index: dict[str, float] | None = None  # the index as read: ID -> score, in order

    # --- keys --------------------------------------------------------------------------

    def item_key(self, id_: str) -> str:
        return key(self.tx.prefix, "item", self.kind.name, *self.scope, id_)

    @property
    def index_key(self) -> str:
        return key(self.tx.prefix, "items", self.kind.name, *self.scope)

    @property
    def bytes_key(self) -> str:
        return key(self.tx.prefix, "bytes", self.kind.name, *self.scope)

    # --- reading -----------------------------------------------------------------------

    def _load(self, ids: Iterable[str]) -> None:
        todo = [id_ for id_ in dict.fromkeys(ids) if id_ not in self._stored]
        for start in range(0, len(todo), BATCH):
            chunk = todo[start : start + BATCH]
            for id_, raw in zip(chunk, self.tx.read_many([self.item_key(id_) for id_ in chunk]), strict=True):
                self._stored[id_] = raw
                if raw is not None:
                    item = self._values[id_] = self.kind.decode(raw, self, id_)
                    if callable(self.kind.order):
                        self._scores[id_] = self.kind.order(item)
                    if self.kind.fingerprint is not None:
                        self._fingerprints[id_] = self.kind.fingerprint(item)

    def __getitem__(self, id_: str) -> Any:
        self._load([id_])
        try:
            return self._values[id_]
        except KeyError:
            raise KeyError(id_) from None

    def watch_index(self) -> None:
        """From now on, the transaction fails if an item is added to or removed from this
        collection by anyone else: for a rule whose own additions must come after all
        others' (scored by a clock it read after this)."""
        self.tx.watch(self.index_key)

    def _stored_index(self) -> dict[str, float]:
        if self._index is None:
            self._require_ordered()
            self.watch_index()
            self._index = {
                member.decode(): score for member, score in self.tx.pipe.zrange(self.index_key, 0, -1, withscores=True)
            }
        return self._index

    def _added_and_removed(self) -> tuple[list[str], set[str]]:
        stored = self._index if self._index is not None else {}
        added = [id_ for id_ in self._stored if id_ in self._values and id_ not in stored and self._new(id_)]
        removed = {id_ for id_ in self._stored if id_ not in self._values}
        return added, removed

    def _new(self, id_: str) -> bool:
        stored = self._stored[id_]
        return stored is None or stored == 0 or stored is _UNREAD

    def ids(self) -> list[str]:
        """Every ID, in the index's order."""
        stored = self._stored_index()
        added, removed = self._added_and_removed()
        ids = [id_ for id_ in stored if id_ not in removed]
        if not added:
            return ids
        if self.kind.order is INSERTION:
            return ids + added
        scores = stored | {id_: self.kind.order(self._values[id_]) for id_ in added}
        return sorted(ids + added, key=lambda id_: (scores[id_], id_))

    def __iter__(self) -> Iterator[str]:
        return iter(self.ids())

    def __len__(self) -> int:
        added, removed = self._added_and_removed()
        if self._index is None and not added and not removed:
            self._require_ordered()
            self.watch_index()
            return self.tx.pipe.zcard(self.index_key)
        return len(self.ids())

    def values(self) -> _Values:
        """The items in order, read BATCH at a time as the iteration reaches them."""
        return _Values(self)

    def _items_of(self, ids: list[str]) -> Iterator[Any]:
        for start in range(0, len(ids), BATCH):
            chunk = ids[start : start + BATCH]
            self._load(chunk)
            yield from (self._values[id_] for id_ in chunk if id_ in self._values)

    def page(
        self,
        *,
        above: int | None = None,
        below: int | None = None,
        offset: int = 0,
        limit: int | None = None,
        reverse: bool = False,
    ) -> tuple[list[Any], int]:
        """The items scored strictly between `above` and `below` (None: unbounded), in
        index order (or reversed), from `offset`, at most `limit` of them; and how many
        are scored in between in all. Only that page is read, from the index as stored:
        call it before adding or removing items in the same transaction."""
        self._require_ordered()
        added, removed = self._added_and_removed()
        if added or removed:
            raise RuntimeError("page() reads the stored index: call it before adding or removing items")
        low = "-inf" if above is None else f"({above}"
        high = "+inf" if below is None else f"({below}"
        self.watch_index()
        total = self.tx.pipe.zcount(self.index_key, low, high)
        # Past the last item, no range is asked for: Redis refuses a LIMIT offset past a
        # 64-bit integer, and a client's page number may take it there.
        if offset >= total or limit == 0:
            return [], total
        count = total - offset if limit is None else min(limit, total - offset)
        if reverse:
            members = self.tx.pipe.zrevrangebyscore(self.index_key, high, low, start=offset, num=count)
        else:
            members = self.tx.pipe.zrangebyscore(self.index_key, low, high, start=offset, num=count)
        return list(self._items_of([member.decode() for member in members])), total

    def stored_bytes(self) -> int:
        """The bytes of this collection's items as stored (this transaction's changes not
        counted): kept with each write, so that a budget needs no item read."""
        self._require_ordered()
        raw = self.tx.read(self.bytes_key)
        return int(raw) if raw is not None else 0

    def _require_ordered(self) -> None:
        if self.kind.order is None:
            raise TypeError(f"items of kind {self.kind.name!r} are looked up by ID: they have no index")

    # --- writing -----------------------------------------------------------------------

    def __setitem__(self, id_: str, item: Any) -> None:
        if id_ not in self._stored:
            # Written unread (new IDs are random): watched, so that two writers of one new
            # ID still conflict, and for an ordered kind its size read, for the byte count.
            name = self.item_key(id_)
            self.tx.watch(name)
            self._stored[id_] = _UNREAD if self.kind.order is None else self.tx.pipe.strlen(name)
        self._values[id_] = item

    def __delitem__(self, id_: str) -> None:
        self._load([id_])
        if id_ not in self._values:
            raise KeyError(id_)
        del self._values[id_]

    def seed(self, id_: str, item: Any) -> None:
        """Write `item` into a collection known to be empty (the fixtures, after deleting
        everything in the same MULTI): no read at all."""
        self._stored[id_] = None
        self._values[id_] = item

    def queue_writes(self, pipe: redis.client.Pipeline) -> None:
        ordered = self.kind.order is not None
        delta = 0
        for id_, stored in self._stored.items():
            if (
                id_ in self._fingerprints
                and id_ in self._values
                and self.kind.fingerprint(self._values[id_]) == self._fingerprints[id_]
            ):
                continue  # unchanged, and not encoded to tell
            encoded = self.kind.encode(self._values[id_]) if id_ in self._values else None
            if isinstance(stored, bytes) and encoded == stored:
                continue
            size = len(stored) if isinstance(stored, bytes) else stored if isinstance(stored, int) else 0
            existed = size > 0 or stored is _UNREAD
            if encoded is None:
                if existed:
                    pipe.delete(self.item_key(id_))
                    if ordered:
                        pipe.zrem(self.index_key, id_)
                    delta -= size
                continue
            pipe.set(self.item_key(id_), encoded)
            delta += len(encoded) - size
            if not ordered:
                continue
            if self.kind.order is INSERTION:
                if not existed:
                    pipe.eval(_APPEND, 1, self.index_key, id_)
            else:
                score = self.kind.order(self._values[id_])
                if not existed or self._scores.get(id_) != score:
                    pipe.zadd(self.index_key, {id_: score})
        if ordered and delta:
            pipe.incrby(self.bytes_key, delta)


class _Values(ValuesView):
    _mapping: Collection

    def __iter__(self) -> Iterator[Any]:
        return self._mapping._items_of(self._mapping.ids())

    def __reversed__(self) -> Iterator[Any]:
        return self._mapping._items_of(self._mapping.ids()[::-1])
