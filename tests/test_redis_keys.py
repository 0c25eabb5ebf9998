"""The layer under the Redis store (store/keyed.py): keyed items with an ordered index,
read and written in optimistic transactions, for any collection of keyed items."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import redis
from redis_server import RedisServer

from mockserver.store.keyed import INSERTION, Collection, Kind, Transaction

# --- the layer: keyed items with an ordered index ---------------------------------------


@dataclasses.dataclass
class Thing:
    id: str
    rank: int
    note: str = ""


def _decode_thing(raw: bytes, collection: Collection, id_: str) -> Thing:
    rank, _, note = raw.decode().partition(" ")
    return Thing(id_, int(rank), note)


def _encode_thing(thing: Thing) -> bytes:
    return f"{thing.rank} {thing.note}".encode()


BY_RANK = Kind("thing", _decode_thing, _encode_thing, order=lambda thing: thing.rank)
IN_TURN = Kind("turn", _decode_thing, _encode_thing, order=INSERTION)
LOOKED_UP = Kind("lookup", _decode_thing, _encode_thing)


@pytest.fixture
def direct(redis_server: RedisServer) -> Iterator[redis.Redis]:
    with redis_server.client() as client:
        yield client


@contextmanager
def transaction(client: redis.Redis, prefix: str) -> Iterator[Transaction]:
    with client.pipeline() as pipe:
        yield Transaction(pipe, prefix)


def written(client: redis.Redis, prefix: str, kind: Kind, scope: tuple[str, ...], *things: Thing) -> None:
    with transaction(client, prefix) as tx:
        for thing in things:
            tx.collection(kind, scope)[thing.id] = thing
        tx.commit()


def test_items_are_listed_and_paged_by_score_or_in_turn(direct):
    prefix = uuid.uuid4().hex
    written(direct, prefix, BY_RANK, ("a",), Thing("t3", 30), Thing("t1", 10))
    written(direct, prefix, BY_RANK, ("a",), Thing("t2", 20))
    written(direct, prefix, IN_TURN, ("a",), Thing("z", 3), Thing("y", 2))
    written(direct, prefix, IN_TURN, ("a",), Thing("x", 1))
    with transaction(direct, prefix) as tx:
        ranked, turns = tx.collection(BY_RANK, ("a",)), tx.collection(IN_TURN, ("a",))
        assert list(ranked) == ["t1", "t2", "t3"] and len(ranked) == 3
        assert list(turns) == ["z", "y", "x"]
        assert [thing.id for thing in reversed(ranked.values())] == ["t3", "t2", "t1"]
        assert ranked.page(above=10, below=30) == ([Thing("t2", 20)], 1)
        assert ranked.page(offset=1, limit=1, reverse=True) == ([Thing("t2", 20)], 3)
        ranked["t0"] = Thing("t0", 0)  # this transaction's own, ordered among the stored ones
        del ranked["t2"]
        assert list(ranked) == ["t0", "t1", "t3"]
        with pytest.raises(RuntimeError):
            ranked.page()  # pages are read from the index as stored


def test_the_bytes_of_a_collection_follow_each_write(direct):
    prefix = uuid.uuid4().hex
    written(direct, prefix, BY_RANK, ("a",), Thing("t1", 1, "x" * 10), Thing("t2", 2, "y" * 5))
    with transaction(direct, prefix) as tx:
        things = tx.collection(BY_RANK, ("a",))
        assert things.stored_bytes() == len(b"1 " + b"x" * 10) + len(b"2 " + b"y" * 5)
        things["t1"].note = "x"  # changed in place: written because its encoding changed
        del things["t2"]
        things["t3"] = Thing("t3", 3)
        tx.commit()
    with transaction(direct, prefix) as tx:
        things = tx.collection(BY_RANK, ("a",))
        assert things.stored_bytes() == len(b"1 x") + len(b"3 ")
        assert dict(things) == {"t1": Thing("t1", 1, "x"), "t3": Thing("t3", 3)}
        things["t1"] = Thing("t1", 1, "x" * 4)  # written over without being read first
        tx.commit()
    with transaction(direct, prefix) as tx:
        assert tx.collection(BY_RANK, ("a",)).stored_bytes() == len(b"1 xxxx") + len(b"3 ")


def test_scopes_and_ids_never_run_into_each_other(direct):
    prefix = uuid.uuid4().hex
    written(direct, prefix, LOOKED_UP, ("a:b",), Thing("c", 1))
    written(direct, prefix, LOOKED_UP, ("a",), Thing("b:c", 2))
    with transaction(direct, prefix) as tx:
        assert tx.collection(LOOKED_UP, ("a:b",))["c"].rank == 1
        assert tx.collection(LOOKED_UP, ("a",))["b:c"].rank == 2
        assert "c" not in tx.collection(LOOKED_UP, ("a",))
        with pytest.raises(TypeError):
            list(tx.collection(LOOKED_UP, ("a",)))  # looked up by ID only: no index


def test_inserts_into_one_collection_do_not_conflict_but_a_read_of_its_index_does(direct):
    prefix = uuid.uuid4().hex
    written(direct, prefix, BY_RANK, ("a",), Thing("t1", 1))
    with direct.pipeline() as first_pipe, direct.pipeline() as second_pipe, direct.pipeline() as reader_pipe:
        first, second, reader = (Transaction(pipe, prefix) for pipe in (first_pipe, second_pipe, reader_pipe))
        assert list(reader.collection(BY_RANK, ("a",))) == ["t1"]
        first.collection(BY_RANK, ("a",))["t2"] = Thing("t2", 2)
        second.collection(BY_RANK, ("a",))["t3"] = Thing("t3", 3)
        first.commit()
        second.commit()  # no WatchError: it read nothing the first one wrote
        with pytest.raises(redis.WatchError):
            reader.commit()  # it listed the index, which changed
    with transaction(direct, prefix) as tx:
        assert list(tx.collection(BY_RANK, ("a",))) == ["t1", "t2", "t3"]


def test_two_writers_of_one_new_id_conflict(direct):
    prefix = uuid.uuid4().hex
    with direct.pipeline() as first_pipe, direct.pipeline() as second_pipe:
        first, second = Transaction(first_pipe, prefix), Transaction(second_pipe, prefix)
        first.collection(BY_RANK, ("a",))["same"] = Thing("same", 1, "first")
        second.collection(BY_RANK, ("a",))["same"] = Thing("same", 1, "second")
        first.commit()
        with pytest.raises(redis.WatchError):
            second.commit()
    with transaction(direct, prefix) as tx:
        things = tx.collection(BY_RANK, ("a",))
        assert (things["same"].note, len(things), things.stored_bytes()) == ("first", 1, len(b"1 first"))


def test_an_item_equal_to_its_fingerprint_as_read_is_not_encoded_again(direct):
    encoded: list[str] = []

    def encode(thing: Thing) -> bytes:
        encoded.append(thing.id)
        return _encode_thing(thing)

    kind = Kind("print", _decode_thing, encode, order=INSERTION, fingerprint=lambda thing: dataclasses.replace(thing))
    prefix = uuid.uuid4().hex
    written(direct, prefix, kind, (), Thing("read", 1, "x" * 1000), Thing("changed", 2))
    encoded.clear()
    with transaction(direct, prefix) as tx:
        things = tx.collection(kind)
        assert [thing.note[:1] for thing in things.values()] == ["x", ""]
        things["changed"].note = "new"
        tx.commit()
    assert encoded == ["changed"]
    with transaction(direct, prefix) as tx:
        assert tx.collection(kind)["changed"].note == "new"
