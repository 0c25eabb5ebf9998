"""removeParticipant against the in-memory state: success changes it, rules give 400s."""

from __future__ import annotations

import contextlib
import socket
import threading

import pytest
import requests
from support import (
    ALEX,
    BILLING,
    CHAT,
    MORGAN,
    OTHER_CHAT,
    PARTICIPANTS,
    PRIYA,
    PROJECT,
    SAM,
    bearer,
    participants_path,
)

from mockserver.store import RuleViolation
from mockserver.store.state_process import STORE, StateProcess, serve_objects

pytestmark = pytest.mark.both_stores  # the memory and the Redis store keep the same rules


def participants(client, chat: str = CHAT) -> dict[str, str]:
    state = client.get("/__mock/state").get_json()
    chat_state = next(c for c in state["chats"] if c["_id"] == chat)
    return {p["userId"]: p["role"] for p in chat_state["participants"]}


def test_admin_removes_a_member(client):
    response = client.delete(PARTICIPANTS, json={"userId": SAM}, headers=bearer(MORGAN))

    assert response.status_code == 200
    assert response.get_json() == {"message": "Participant removed successfully"}
    assert participants(client) == {MORGAN: "admin", ALEX: "member"}


def test_the_same_removal_again_is_a_400(client):
    assert client.delete(PARTICIPANTS, json={"userId": SAM}, headers=bearer(MORGAN)).status_code == 200

    again = client.delete(PARTICIPANTS, json={"userId": SAM}, headers=bearer(MORGAN))

    assert again.status_code == 400
    assert again.get_json()["code"] == "NOT_A_PARTICIPANT"


def test_a_member_removes_themselves(client):
    response = client.delete(PARTICIPANTS, json={"userId": ALEX}, headers=bearer(ALEX))
    assert response.status_code == 200
    assert ALEX not in participants(client)


def test_a_member_may_not_remove_someone_else(client):
    response = client.delete(PARTICIPANTS, json={"userId": SAM}, headers=bearer(ALEX))

    assert response.status_code == 400
    assert response.get_json()["code"] == "FORBIDDEN"
    assert SAM in participants(client)


def test_admin_rights_are_per_chat(client):
    # Alex is admin of the other chat, where Morgan is a member.
    path = participants_path(chat=OTHER_CHAT)
    assert client.delete(path, json={"userId": ALEX}, headers=bearer(MORGAN)).get_json()["code"] == "FORBIDDEN"
    assert client.delete(path, json={"userId": MORGAN}, headers=bearer(ALEX)).status_code == 200
    assert participants(client, OTHER_CHAT) == {ALEX: "admin"}


def test_a_caller_outside_the_chat_may_not_remove_anyone(client):
    response = client.delete(PARTICIPANTS, json={"userId": SAM}, headers=bearer(PRIYA))
    assert response.status_code == 400
    assert response.get_json()["code"] == "FORBIDDEN"


@pytest.mark.parametrize(
    "path, user, code",
    [
        (participants_path(project="proj_unknown"), SAM, "PROJECT_NOT_FOUND"),
        (participants_path(chat="chat_unknown"), SAM, "CHAT_NOT_FOUND"),
        (participants_path(chat=CHAT), PRIYA, "NOT_A_PARTICIPANT"),
        (participants_path(chat=CHAT), "usr_nobody", "NOT_A_PARTICIPANT"),
    ],
)
def test_business_rule_failures_are_400s_with_their_own_code(client, path, user, code):
    response = client.delete(path, json={"userId": user}, headers=bearer(MORGAN))

    assert response.status_code == 400
    body = response.get_json()
    assert body["code"] == code
    assert isinstance(body["details"], str) and body["details"]
    assert len(participants(client)) == 3


def test_a_chat_of_another_project_is_not_found(client):
    # A chat ID is looked up inside the project of the path, not globally.
    response = client.delete(
        participants_path(project=BILLING, chat=CHAT), json={"userId": SAM}, headers=bearer(MORGAN)
    )
    assert response.get_json()["code"] == "CHAT_NOT_FOUND"
    assert SAM in participants(client)


@pytest.mark.parametrize("suffix", ["%0A", "%0D", "%09", "%20", "%00"])
def test_ids_with_control_characters_name_no_project(client, suffix):
    # The routed value, control characters and all, is the ID: never trimmed to a real one.
    path = f"/api/chat/projects/{PROJECT}{suffix}/chats/{CHAT}/participants"
    response = client.delete(path, json={"userId": SAM}, headers=bearer(MORGAN))
    assert response.status_code == 400
    assert response.get_json()["code"] == "PROJECT_NOT_FOUND"
    assert SAM in participants(client)


def test_reset_restores_the_fixtures(client):
    client.delete(PARTICIPANTS, json={"userId": SAM}, headers=bearer(MORGAN))
    client.delete(PARTICIPANTS, json={"userId": ALEX}, headers=bearer(ALEX))

    response = client.post("/__mock/reset", json={})

    assert response.status_code == 200
    assert participants(client) == {MORGAN: "admin", ALEX: "member", SAM: "member"}
    assert client.delete(PARTICIPANTS, json={"userId": SAM}, headers=bearer(MORGAN)).status_code == 200


def test_state_is_per_app(app):
    from support import FIXTURES, SECRET, SPEC

    from mockserver import create_app

    other = create_app(SPEC, FIXTURES, jwt_secret=SECRET)
    app.test_client().delete(PARTICIPANTS, json={"userId": SAM}, headers=bearer(MORGAN))
    assert SAM in participants(other.test_client())


WORKERS = 8  # the live server's threads


def parallel_removals(base_url: str) -> list[int]:
    """The statuses of WORKERS removals of SAM, sent at once."""
    barrier = threading.Barrier(WORKERS)
    statuses: list[int] = []

    def remove() -> None:
        with requests.Session() as session:
            barrier.wait(timeout=30)
            response = session.delete(base_url + PARTICIPANTS, json={"userId": SAM}, headers=bearer(MORGAN), timeout=30)
        statuses.append(response.status_code)

    threads = [threading.Thread(target=remove) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(statuses) == WORKERS, "a removal did not finish"
    return statuses


def hold_between_check_and_change(store) -> None:
    """A removal that has checked SAM is a participant waits there (up to 3 s) for a
    second one to check too: without the lock, both then remove SAM."""
    meeting = threading.Barrier(2)

    def wait() -> None:
        with contextlib.suppress(threading.BrokenBarrierError):
            meeting.wait(timeout=3)

    store._between_check_and_change = wait


@pytest.mark.concurrent
def test_parallel_removals_of_one_participant_succeed_exactly_once(app, live_server):
    hold_between_check_and_change(app.extensions["mockserver.store"])

    assert sorted(parallel_removals(live_server)) == [200] + [400] * (WORKERS - 1)
    state = requests.get(live_server + "/__mock/state", timeout=10).json()
    chat = next(c for c in state["chats"] if c["_id"] == CHAT)
    assert [p["userId"] for p in chat["participants"]] == [MORGAN, ALEX]


@pytest.mark.concurrent
@pytest.mark.memory_store_only  # the Redis store has no lock: its control is in test_redis_store.py
@pytest.mark.parametrize("locked", [True, False], ids=["with the lock", "without it"])
def test_the_state_process_keeps_removals_apart_with_its_lock_only(app, monkeypatch, tmp_path, locked):
    # One process serves every connection on one event loop, so its requests never
    # overlap: the test above passes without the lock too. Rules run at once in the state
    # process of --workers, which answers each worker on a thread of its own. Here its
    # serve_objects, on the app's store, and WORKERS connections calling the rule at once.
    store = app.extensions["mockserver.store"]
    assert store.kind == "memory"
    if not locked:
        monkeypatch.setattr(store, "_lock", contextlib.nullcontext())
    hold_between_check_and_change(store)
    path = str(tmp_path / "state.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen()

    def serve() -> None:
        with contextlib.suppress(OSError):  # the listener closed: the test is over
            serve_objects(listener, {STORE: store})

    threading.Thread(target=serve, daemon=True).start()
    process = StateProcess(path)  # a connection per thread, as each worker has its own
    barrier = threading.Barrier(WORKERS)
    outcomes: list[str] = []

    def remove() -> None:
        barrier.wait(timeout=30)
        try:
            process.call(STORE, "remove_participant", PROJECT, CHAT, MORGAN, SAM)
            outcomes.append("removed")
        except RuleViolation as refusal:
            outcomes.append(refusal.code)
        except Exception as error:  # the second removal of SAM found nothing to delete
            outcomes.append(type(error).__name__)
        finally:
            process.disconnect()  # this thread's connection

    threads = [threading.Thread(target=remove) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    listener.shutdown(socket.SHUT_RDWR)  # wakes serve_objects' accept: it ends
    listener.close()
    assert len(outcomes) == WORKERS, "a removal did not finish"
    if locked:
        assert sorted(outcomes) == ["NOT_A_PARTICIPANT"] * (WORKERS - 1) + ["removed"]
    else:
        assert outcomes.count("removed") + outcomes.count("KeyError") >= 2, outcomes
