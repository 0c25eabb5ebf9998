"""What the store promises the code that calls it: the records it hands out are copies
that later changes leave alone, and its instants follow the clock without ties."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime

from support import ALEX, CHAT, MORGAN, PROJECT, SAM

from mockserver.store import MessageRecord, memory


def store_of(app):
    return app.extensions["mockserver.store"]


def test_a_chat_handed_out_keeps_its_participants_and_messages(app):
    store = store_of(app)
    chat = store.chat(PROJECT, CHAT, MORGAN)
    participants, messages = dict(chat.participants), list(chat.messages)

    store.remove_participant(PROJECT, CHAT, MORGAN, SAM)
    store.send_message(PROJECT, CHAT, MORGAN, message_type="text", content="x", e2ee=None, reply_to=None, mentions=[])

    assert (chat.participants, list(chat.messages)) == (participants, messages)
    assert SAM not in store.chat(PROJECT, CHAT, MORGAN).participants


def test_a_message_handed_out_keeps_its_reactions_and_readers(app):
    store = store_of(app)
    page, _ = store.messages(PROJECT, CHAT, SAM, before=None, after=None, offset=0, limit=50)
    message = next(message for message in page if message.sender_id != SAM and SAM not in message.read_by)
    reactions, read_by = {emoji: list(users) for emoji, users in message.reactions.items()}, list(message.read_by)

    assert store.mark_read(PROJECT, CHAT, SAM, [message.id]) == 1
    store.add_reaction(PROJECT, CHAT, message.id, ALEX, "🎉")

    assert (message.reactions, message.read_by) == (reactions, read_by)
    latest, _ = store.messages(PROJECT, CHAT, SAM, before=None, after=None, offset=0, limit=50)
    assert SAM in next(m for m in latest if m.id == message.id).read_by


def test_instants_are_strictly_increasing_in_utc_milliseconds(app):
    # Messages sort by creation time, so two instants never tie, even within a millisecond.
    store = store_of(app)
    instants = [store.now() for _ in range(2000)]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", instant) for instant in instants)
    assert instants == sorted(set(instants)), "two instants tie or go back"


def test_instants_step_1_ms_past_a_time_that_stands_still(app, monkeypatch):
    # They keep the clock's millisecond, and move past it only as far as distinct instants need.
    clock = [datetime(2026, 1, 1, 12, 0, 0, 123_045, tzinfo=UTC)]

    class Clock(datetime):
        @classmethod
        def now(cls, tz=None):
            return clock[0]

    monkeypatch.setattr(memory, "datetime", Clock)
    store = store_of(app)
    assert [store.now() for _ in range(3)] == [f"2026-01-01T12:00:00.{ms}Z" for ms in (123, 124, 125)]
    clock[0] = clock[0].replace(microsecond=500_100)
    assert store.now() == "2026-01-01T12:00:00.500Z", "the clock moved on: so do the instants"


def test_a_message_snapshot_copies_every_field_and_shares_nothing_mutable():
    # MessageRecord.snapshot builds the copy by position: a field added to the record
    # must reach it, and the copy's lists and dicts must not be the record's.
    values = {
        "id": "msg_1",
        "sender_id": "usr_a",
        "type": "text",
        "created_at": "2026-12-02T08:00:00Z",
        "content": "hello",
        "e2ee": {"ciphertext": "abc", "keys": {"usr_b": "k"}},
        "reply_to": "msg_0",
        "mentions": ["usr_b"],
        "reactions": {"👍": ["usr_b"]},
        "read_by": ["usr_b"],
        "edited_at": "2026-12-02T08:01:00Z",
    }
    assert {f.name for f in dataclasses.fields(MessageRecord)} == set(values)
    record = MessageRecord(**values)
    copy_ = record.snapshot()
    assert copy_ == record
    for name in ("e2ee", "mentions", "reactions", "read_by"):
        assert getattr(copy_, name) is not getattr(record, name), name
    assert copy_.e2ee["keys"] is not record.e2ee["keys"]
    assert copy_.reactions["👍"] is not record.reactions["👍"]


def test_items_handed_in_and_out_are_copies_that_later_changes_leave_alone(app):
    store = store_of(app)
    born = datetime(2020, 1, 2, tzinfo=UTC)
    pet = {"name": "Rex", "tags": [{"name": "good"}], "born": born}
    original = {"name": "Rex", "tags": [{"name": "good"}], "born": born}

    def unchanged() -> bool:
        return store.item("pet", (), "1") == original

    stored = store.add_item("pet", (), "1", pet, conflict=True)
    pet["tags"][0]["name"] = "changed by the caller"
    stored["tags"].append({"name": "changed by the answer's reader"})
    assert unchanged()  # add_item stored a copy

    store.item("pet", (), "1")["tags"].clear()
    assert unchanged()  # item hands out a copy
    store.items_page("pet", (), {}, 0, None)[0][0]["tags"].clear()
    assert unchanged()  # items_page hands out copies

    # A change that empties what it was given in place, then answers another item: the
    # state before it is as it was, so the change had a copy.
    before, after = store.change_item("pet", (), "1", lambda item: item["tags"].clear() or {"tags": ["x"]})
    assert before == original and after == {"tags": ["x"]}
    after["tags"].append("changed by the answer's reader")
    assert store.item("pet", (), "1") == {"tags": ["x"]}  # change_item hands out copies
    assert store.items_page("pet", (), {}, 0, 1)[0] == [{"tags": ["x"]}]


def test_an_item_copy_shares_no_container_and_copies_what_json_does_not_hold():
    from mockserver.store.items import copied

    born = datetime(2020, 1, 2, tzinfo=UTC)
    item = {"a": [1, {"b": [True, None, 1.5, "x"]}], "born": born, "set": {1, 2}}
    copy = copied(item)
    assert copy == item
    assert copy["a"] is not item["a"]
    assert copy["a"][1] is not item["a"][1] and copy["a"][1]["b"] is not item["a"][1]["b"]
    assert copy["set"] is not item["set"]  # deep-copied, not shared
