"""The Redis store's keys: each rule reads and writes the keys of what it touches, not
its project's whole state; and the layer under it (store/keyed.py), for any collection
of keyed items with an ordered index. Pinned by what crosses the wire to Redis and by
how often a rule runs, not by time."""

from __future__ import annotations

import dataclasses
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
import redis
from redis.connection import AbstractConnection
from redis_server import RedisServer
from support import CHAT, FIXTURES, MORGAN, OTHER_CHAT, PROJECT, SECRET, SPEC, ContractClient, bearer

from mockserver import create_app
from mockserver.store import RedisStore, StateLimits
from mockserver.store.fixtures import load_fixtures
from mockserver.store.keyed import INSERTION, Collection, Kind, Transaction
from mockserver.store.redis_store import LAYOUT

CONTENT_CHARS = 20_000
FILL = 20  # messages of CONTENT_CHARS in CHAT: 400 kB that no rule about another chat may read


@dataclasses.dataclass
class Traffic:
    commands: list[tuple] = dataclasses.field(default_factory=list)  # each sent one by one, with its arguments
    received: int = 0  # bytes of the values in Redis's replies

    def keys_naming(self, fragment: str) -> list[str]:
        return [_text(arg) for command in self.commands for arg in command[1:] if fragment in _text(arg)]


def _text(value) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def _size(reply) -> int:
    if isinstance(reply, bytes | str):
        return len(reply)
    if isinstance(reply, list | tuple):
        return sum(_size(item) for item in reply)
    return 0


@contextmanager
def redis_traffic(monkeypatch) -> Iterator[Traffic]:
    """What this process sends to Redis and reads back while the block runs: every
    command sent on its own (each read of a rule is one: reads happen between WATCH and
    MULTI) and the bytes of every reply (EXEC's too)."""
    traffic = Traffic()
    send, read = AbstractConnection.send_command, AbstractConnection.read_response

    def sending(self, *args, **kwargs):
        traffic.commands.append(args)
        return send(self, *args, **kwargs)

    def reading(self, *args, **kwargs):
        reply = read(self, *args, **kwargs)
        traffic.received += _size(reply)
        return reply

    with monkeypatch.context() as patch:
        patch.setattr(AbstractConnection, "send_command", sending)
        patch.setattr(AbstractConnection, "read_response", reading)
        yield traffic


@pytest.fixture
def shared(redis_server: RedisServer):
    """An app on a Redis state of its own, and that state's store; its messages may hold
    CONTENT_CHARS (past the budget's default content_bytes, 16 KiB)."""
    app = create_app(
        SPEC,
        FIXTURES,
        jwt_secret=SECRET,
        store_url=redis_server.url,
        store_prefix=uuid.uuid4().hex,
        limits=StateLimits(content_bytes=2 * CONTENT_CHARS),
    )
    app.test_client_class = ContractClient
    return app.test_client(), app.extensions["mockserver.store"]


def messages_path(chat: str) -> str:
    return f"/api/chat/projects/{PROJECT}/chats/{chat}/messages"


def fill(client) -> None:
    for index in range(FILL):
        body = {"type": "text", "content": f"{index:03d}" + "x" * (CONTENT_CHARS - 3)}
        assert client.post(messages_path(CHAT), json=body, headers=bearer()).status_code == 201


# --- what a rule reads ------------------------------------------------------------------


def test_the_details_of_a_chat_read_nothing_of_another_chats_messages(shared, monkeypatch):
    client, store = shared
    fill(client)
    with redis_traffic(monkeypatch) as traffic:
        response = client.get(f"/api/chat/projects/{PROJECT}/chats/{OTHER_CHAT}", headers=bearer())
    assert response.status_code == 200
    assert traffic.keys_naming(f"item:chat:{PROJECT}:{OTHER_CHAT}")  # what it read is seen
    assert traffic.keys_naming(f"message:{PROJECT}:{CHAT}") == []
    # The project (its members) and the chat: a few hundred bytes, not the 400 kB next door.
    assert 0 < traffic.received < 2_000, traffic.received


def test_a_send_into_a_chat_reads_nothing_of_another_chats_messages(shared, monkeypatch):
    client, store = shared
    fill(client)
    with redis_traffic(monkeypatch) as traffic:
        response = client.post(messages_path(OTHER_CHAT), json={"type": "text", "content": "hi"}, headers=bearer())
    assert response.status_code == 201
    assert traffic.keys_naming(f"message:{PROJECT}:{CHAT}") == []
    assert traffic.received < 2_000, traffic.received


def test_a_page_of_messages_reads_that_page_alone(shared, monkeypatch):
    client, store = shared
    fill(client)
    with redis_traffic(monkeypatch) as traffic:
        response = client.get(messages_path(CHAT), query_string={"limit": 2}, headers=bearer())
    page = response.get_json()["data"]
    assert [m["content"][:3] for m in page["messages"]] == [f"{FILL - 1:03d}", f"{FILL - 2:03d}"]
    assert page["total"] == FILL + 3  # and the fixtures' three
    # Two messages' worth (and the index's IDs), of the twenty-three.
    assert 2 * CONTENT_CHARS < traffic.received < 3 * CONTENT_CHARS, traffic.received


def test_a_page_between_two_instants_reads_that_page_alone(shared, monkeypatch):
    client, store = shared
    fill(client)
    listed = client.get(messages_path(CHAT), query_string={"limit": 100}, headers=bearer()).get_json()["data"]
    times = [m["createdAt"] for m in listed["messages"]]  # newest first
    with redis_traffic(monkeypatch) as traffic:
        response = client.get(
            messages_path(CHAT), query_string={"before": times[2], "after": times[6], "limit": 2}, headers=bearer()
        )
    page = response.get_json()["data"]
    assert [m["createdAt"] for m in page["messages"]] == times[3:5]
    assert page["total"] == 3  # strictly between: times[3], [4] and [5]
    assert 2 * CONTENT_CHARS < traffic.received < 3 * CONTENT_CHARS, traffic.received


def test_the_state_summary_reads_no_message(shared, monkeypatch):
    # Each chat's messages are counted by its index, its bytes by a counter: no item read.
    client, store = shared
    fill(client)
    with redis_traffic(monkeypatch) as traffic:
        response = client.get("/__mock/state")
    assert response.status_code == 200
    assert traffic.keys_naming("item:message:") == []
    assert traffic.received < 10_000, traffic.received
    chat = next(chat for chat in response.get_json()["chats"] if chat["_id"] == CHAT)
    assert chat["messageCount"] == FILL + 3 and chat["bytes"] > FILL * CONTENT_CHARS


# --- what a rule conflicts with ---------------------------------------------------------


def runs_while_another_commits(
    store: RedisStore, monkeypatch, held: Callable[[], None], other: Callable[[], None]
) -> int:
    """Runs `held` in a thread whose rule, on its first run, reads its keys and then waits,
    before taking its instant, for `other` to commit; how many times the held rule ran."""
    runs = {"held": 0}
    current = threading.current_thread
    holding, other_done = threading.Event(), threading.Event()
    begin, now = store._begin, store.now

    def counting_begin(pipe):
        if current().name == "held":
            runs["held"] += 1
        return begin(pipe)

    def held_now():
        if current().name == "held" and runs["held"] == 1 and not holding.is_set():
            holding.set()
            assert other_done.wait(10)
        return now()

    monkeypatch.setattr(store, "_begin", counting_begin)
    monkeypatch.setattr(store, "now", held_now)
    thread = threading.Thread(target=held, name="held")
    thread.start()
    assert holding.wait(10)
    other()
    other_done.set()
    thread.join(timeout=30)
    monkeypatch.undo()
    return runs["held"]


def runs_of_a_held_send(store: RedisStore, monkeypatch, other_chat: str) -> tuple[int, str, str]:
    """A send into CHAT held while a send into `other_chat` commits; how many times the held
    send ran, and both instants."""
    sent = {}

    def send(chat: str, name: str) -> None:
        message = store.send_message(
            PROJECT, chat, MORGAN, message_type="text", content=name, e2ee=None, reply_to=None, mentions=[]
        )
        sent[name] = message.created_at

    runs = runs_while_another_commits(store, monkeypatch, lambda: send(CHAT, "held"), lambda: send(other_chat, "other"))
    return runs, sent["held"], sent["other"]


def test_sends_into_two_chats_of_one_project_do_not_conflict(shared, monkeypatch):
    client, store = shared
    runs, _, _ = runs_of_a_held_send(store, monkeypatch, OTHER_CHAT)
    assert runs == 1  # the other chat's send changed nothing the held one read


def test_sends_into_one_chat_commit_in_the_order_of_their_instants(shared, monkeypatch):
    # The control of the test above: the other send into the chat the held one read is a
    # conflict, so the held one runs again after it commits, and takes a later instant.
    client, store = shared
    runs, held_at, other_at = runs_of_a_held_send(store, monkeypatch, CHAT)
    assert runs == 2
    assert held_at > other_at
    listed = client.get(messages_path(CHAT), headers=bearer()).get_json()["data"]["messages"]
    assert [m["content"] for m in listed[:2]] == ["held", "other"]


def runs_of_a_held_edit(store: RedisStore, monkeypatch, held_id: str, other_id: str) -> int:
    """An edit of message `held_id` of CHAT that read the chat and the message and waits,
    before taking its instant, for an edit of `other_id` to commit; how many times the
    held edit ran. Both make their message longer, so both change the chat's share of
    the state's budget."""

    def edit(message_id: str) -> None:
        store.edit_message(PROJECT, CHAT, message_id, MORGAN, f"{message_id} at greater length", None)

    return runs_while_another_commits(store, monkeypatch, lambda: edit(held_id), lambda: edit(other_id))


def sent_by_morgan(store: RedisStore, *contents: str) -> list[str]:
    return [
        store.send_message(
            PROJECT, CHAT, MORGAN, message_type="text", content=content, e2ee=None, reply_to=None, mentions=[]
        ).id
        for content in contents
    ]


def test_edits_of_two_messages_of_one_chat_do_not_conflict(shared, monkeypatch):
    # What they add to the chat's share of the budget goes to a counter no rule WATCHes,
    # not to the chat's item, which the other edit read.
    client, store = shared
    first, second = sent_by_morgan(store, "a", "b")
    before = next(chat for chat in store.state_counts().chats if chat.chat.id == CHAT).chat.size_bytes
    assert runs_of_a_held_edit(store, monkeypatch, first, second) == 1
    after = next(chat for chat in store.state_counts().chats if chat.chat.id == CHAT).chat.size_bytes
    assert after - before == len(f"{first} at greater length") - 1 + len(f"{second} at greater length") - 1


def test_edits_of_one_message_conflict(shared, monkeypatch):
    # The control of the test above: the other edit wrote the message the held one read.
    client, store = shared
    [only] = sent_by_morgan(store, "a")
    assert runs_of_a_held_edit(store, monkeypatch, only, only) == 2


# --- resets and layouts ------------------------------------------------------------------


def keys_under(redis_server: RedisServer, prefix: str) -> set[str]:
    with redis_server.client() as direct:
        return {name.decode() for name in direct.scan_iter(match=f"{prefix}:*")}


def test_a_rule_that_runs_across_a_reset_runs_again_on_the_fixtures(redis_server, monkeypatch):
    prefix = uuid.uuid4().hex
    store = RedisStore(load_fixtures(FIXTURES), redis_server.url, prefix)
    store.send_message(
        PROJECT, CHAT, MORGAN, message_type="text", content="gone", e2ee=None, reply_to=None, mentions=[]
    )
    now, reset_done = store.now, []

    def now_with_a_reset_in_between():
        if not reset_done:
            reset_done.append(True)
            RedisStore(load_fixtures(FIXTURES), redis_server.url, prefix).reset()  # another replica
        return now()

    monkeypatch.setattr(store, "now", now_with_a_reset_in_between)
    chat = store.create_chat(PROJECT, MORGAN, "after the reset", "group", [], None)
    monkeypatch.undo()
    # It ran again after the reset, so the chat is there; the message from before is not.
    assert chat.id in {summary.chat.id for summary in store.user_chats(PROJECT, MORGAN)}
    page, _ = store.messages(PROJECT, CHAT, MORGAN, before=None, after=None, offset=0, limit=50)
    assert "gone" not in {message.content for message in page}
    # Nothing is left of the epoch before the reset: no key a rule could find by ID.
    with redis_server.client() as direct:
        epoch = direct.get(f"{prefix}:state").decode().split()[1]
    others = {f"{prefix}:{name}" for name in ("state", "epoch", "clock")}
    current = f"{prefix}:{epoch}:"
    assert {name for name in keys_under(redis_server, prefix) - others if not name.startswith(current)} == set()


def test_a_state_of_the_former_layout_is_replaced_by_the_fixtures(redis_server):
    prefix = uuid.uuid4().hex
    with redis_server.client() as direct:
        # One JSON document per project, as the store kept it before.
        direct.set(f"{prefix}:fixtures", "0" * 64)
        direct.set(f"{prefix}:project:{PROJECT}", '{"id": "x", "members": [], "chats": {}, "e2ee_keys": {}}')
    store = RedisStore(load_fixtures(FIXTURES), redis_server.url, prefix)
    assert len(store.problems) == 1 and "another layout" in store.problems[0]
    assert CHAT in {summary.chat.id for summary in store.user_chats(PROJECT, MORGAN)}
    assert f"{prefix}:fixtures" not in keys_under(redis_server, prefix)

    with redis_server.client() as direct:
        direct.set(f"{prefix}:state", "keys-1 7 " + "0" * 64)  # a layout this mock does not know
    again = RedisStore(load_fixtures(FIXTURES), redis_server.url, prefix)
    assert len(again.problems) == 1 and "another layout" in again.problems[0]
    with redis_server.client() as direct:
        assert direct.get(f"{prefix}:state").decode().startswith(LAYOUT + " ")


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
