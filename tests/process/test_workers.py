"""`serve --workers N` with the state in memory: one process holds it
(mockserver/store/state_process.py), N workers serve the port and call its rules. Its
lock keeps a check and its change apart across the workers as in one process; every
behaviour works through it (the contract suite and the inferred resources' lifecycles
pass); a state process gone is a 503, and the mock stops rather than serve without it."""

from __future__ import annotations

import os
import pickle
import signal
import socket
import struct
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
import requests
from suite_runs import SECRET as SUITE_SECRET
from suite_runs import WITH_SECRET, run_contract_suite
from support import (
    FIXTURES,
    MOCKSERVER,
    MORGAN,
    PARTICIPANTS,
    ROOT,
    SAM,
    SECRET,
    SPEC,
    ServeProcess,
    at_once,
    bearer,
    make_token,
    worker_pids,
)

from contract_tests.lifecycle import FAILED, PASSED, Credentials, Lifecycles
from mockserver import create_app
from mockserver.contract.index import Contract
from mockserver.pipeline.security.schemes import DEFAULT_API_KEY
from mockserver.resources import infer
from mockserver.server.sharing import Shared
from mockserver.store import MemoryStore, RuleViolation, state_process
from mockserver.store.fixtures import load_fixtures
from mockserver.store.state_process import StateClient

CLIENTS = 32
ASKS = 12  # listings on fresh connections: all from one worker 1 time in 2**11
CHAT_PATH = PARTICIPANTS.rsplit("/", 1)[0]
BOOKINGS = ROOT / "tests" / "specs" / "bookings.yaml"


@pytest.fixture
def workers():
    with ServeProcess("--workers", "2", env={"MOCKSERVER_JWT_SECRET": SECRET}) as served:
        yield served


def spread(base_url: str, method: str, path: str, **kwargs) -> Counter:
    calls = [
        lambda: requests.request(method, base_url + path, timeout=60, **kwargs)  # noqa: B023 (same call each time)
        for _ in range(CLIENTS)
    ]
    return Counter(response.status_code for response in at_once(calls))


def test_two_workers_and_the_state_process_change_one_participant_exactly_once(workers):
    assert len(worker_pids(workers.process, 3)) == 3  # the state process and two workers
    assert "State in memory (a process of its own, which every worker calls); 2 processes" in "\n".join(workers.banner)
    for _ in range(3):
        removed = spread(workers.base_url, "DELETE", PARTICIPANTS, json={"userId": SAM}, headers=bearer(MORGAN))
        assert removed == {200: 1, 400: CLIENTS - 1}
        added = spread(workers.base_url, "POST", PARTICIPANTS, json={"userId": SAM}, headers=bearer(MORGAN))
        assert added == {200: 1, 400: CLIENTS - 1}
    # The refusals crossed from the state process whole: their code, whichever worker answers.
    for _ in range(4):
        again = requests.post(workers.base_url + PARTICIPANTS, json={"userId": SAM}, headers=bearer(MORGAN), timeout=10)
        assert again.json()["code"] == "ALREADY_A_PARTICIPANT"
    # A refresh token is spent once, whichever worker each client reaches.
    login = requests.post(
        workers.base_url + "/api/auth/login",
        json={"email": "morgan.chen@northwind.dev", "password": "morgan-demo-password"},
        timeout=10,
    ).json()
    refreshed = spread(workers.base_url, "POST", "/api/auth/refresh", json={"refreshToken": login["refreshToken"]})
    assert refreshed == {200: 1, 401: CLIENTS - 1}


def test_a_reset_through_any_worker_resets_the_one_state(workers):
    assert requests.delete(workers.base_url + PARTICIPANTS, json={"userId": SAM}, headers=bearer(), timeout=10).ok
    for _ in range(4):  # the kernel hands the connections to either worker
        assert requests.post(workers.base_url + "/__mock/reset", json={}, timeout=10).status_code == 200
        chat = requests.get(workers.base_url + PARTICIPANTS.rsplit("/", 1)[0], headers=bearer(), timeout=10).json()
        assert SAM in {participant["userId"] for participant in chat["data"]["participants"]}


def test_the_contract_suite_passes_against_two_workers():
    with ServeProcess("--workers", "2", env={"MOCKSERVER_JWT_SECRET": SUITE_SECRET}) as served:
        env = {**os.environ, "MOCKSERVER_JWT_SECRET": SUITE_SECRET, **WITH_SECRET.env}
        suite = run_contract_suite(served.base_url, env, timeout=600)
    assert suite.returncode == 0, suite.stdout[-5000:] + suite.stderr[-3000:]
    assert " passed" in suite.stdout and "failed" not in suite.stdout


def test_the_inferred_resources_lifecycles_hold_through_the_state_process():
    # Replace and merge compute the item in the worker and swap it in the state process.
    with ServeProcess("--workers", "2", "--spec", str(BOOKINGS), env={"MOCKSERVER_JWT_SECRET": SECRET}) as served:
        contract = Contract(BOOKINGS)
        credentials = Credentials(make_token(), DEFAULT_API_KEY, "morgan.chen@northwind.dev:morgan-demo-password")
        lifecycles = Lifecycles(contract, infer(contract), served.base_url, credentials)
        checks = [check for resource in lifecycles.checkable() for check in lifecycles.run(resource)]
    assert [check.line() for check in checks if check.outcome == FAILED] == []
    passed = {check.name for check in checks if check.outcome == PASSED}
    assert {"create", "read back", "listed", "merge", "delete"} <= passed, passed


def started_at(pid: int) -> int:
    """When the process started, in clock ticks since boot (/proc/PID/stat, field 22)."""
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1].split()[19])


def test_a_state_process_gone_is_a_503_and_nothing_else():
    # The app and its client in this process, the state process killed: every rule is a
    # 503 in the envelope, never a 500.
    shared = Shared(2, None, MemoryStore(load_fixtures(FIXTURES)))
    try:
        app = create_app(SPEC, FIXTURES, jwt_secret=SECRET, store=shared.store, shared=shared)
        assert app.test_client().get(CHAT_PATH, headers=bearer()).status_code == 200
        os.kill(shared.process.pid, signal.SIGKILL)
        os.waitpid(shared.process.pid, 0)
        response = app.test_client().get(CHAT_PATH, headers=bearer())
        assert response.status_code == 503
        assert response.json["code"] == "STORE_UNAVAILABLE"
    finally:
        shared.close()


def test_a_state_process_that_stops_answering_is_a_503_in_its_time_and_then_serves_again():
    # Stopped (SIGSTOP), the state process answers nothing: without a timeout a worker's
    # loop would wait for it for ever, every connection with it.
    shared = Shared(2, None, MemoryStore(load_fixtures(FIXTURES)))
    shared.process.timeout = 2.0  # the calls before the stop too: room for a busy machine
    try:
        app = create_app(SPEC, FIXTURES, jwt_secret=SECRET, store=shared.store, shared=shared)
        client = app.test_client()
        assert client.get(CHAT_PATH, headers=bearer()).status_code == 200
        health = shared.process.call("store", "health")
        answered: list = []
        resumed = threading.Event()

        def ask() -> None:  # on one thread, so on one connection (one a thread)
            answered.append(client.get(CHAT_PATH + "/messages", headers=bearer()))
            resumed.wait(timeout=30)
            time.sleep(0.2)  # the late answer to the call that timed out is there by now
            answered.append(shared.process.call("store", "health"))
            shared.process.disconnect()

        os.kill(shared.process.pid, signal.SIGSTOP)
        asking = threading.Thread(target=ask, daemon=True)
        try:
            asking.start()
            deadline = time.monotonic() + 30
            while not answered and time.monotonic() < deadline:
                time.sleep(0.01)
        finally:
            os.kill(shared.process.pid, signal.SIGCONT)
            resumed.set()
        asking.join(timeout=30)
        assert answered, "the call to the stopped state process never ended"
        refused = answered[0]
        assert refused.status_code == 503
        assert refused.json["code"] == "STORE_UNAVAILABLE"
        assert "did not answer" in str(refused.json["details"])
        assert answered[1:] == [health]  # that late answer is never read as the next call's
        assert client.get(CHAT_PATH, headers=bearer()).status_code == 200
    finally:
        shared.close()


def test_the_mock_stops_when_its_state_process_dies(workers):
    state = min(worker_pids(workers.process, 3), key=started_at)  # forked before the workers
    os.kill(state, signal.SIGKILL)
    assert workers.process.wait(timeout=15) == 1  # it stops rather than serve without its state


def test_a_rule_violation_crosses_processes_whole():
    refused = pickle.loads(pickle.dumps(RuleViolation("NOT_A_PARTICIPANT", "Not a participant", "User x", "missing")))
    assert (refused.code, refused.error, refused.details, refused.kind) == (
        "NOT_A_PARTICIPANT",
        "Not a participant",
        "User x",
        "missing",
    )


@pytest.mark.parametrize("size", [0, 100, 64 * 1024, 3 * 1024 * 1024])
def test_a_message_crosses_the_state_socket_whole_whether_one_read_takes_it_or_many(size):
    from mockserver.store.state_process import _receive, _send

    ours, theirs = socket.socketpair()
    with ours, theirs:
        sending = threading.Thread(target=_send, args=(theirs, ("store", "x" * size)))
        sending.start()
        assert _receive(ours) == ("store", "x" * size)
        sending.join()
        theirs.sendall(struct.pack("!Q", 8) + b"12345")  # the length's header, then less than it says
        theirs.shutdown(socket.SHUT_WR)
        with pytest.raises(EOFError):
            _receive(ours)


def test_the_state_process_leaves_with_its_parent():
    served = ServeProcess("--workers", "2", env={"MOCKSERVER_JWT_SECRET": SECRET})
    pids = worker_pids(served.process, 3)
    assert len(pids) == 3  # the state process and two workers, all to be gone
    served.process.send_signal(signal.SIGKILL)  # no chance to stop its children
    served.process.wait(timeout=10)
    deadline = time.monotonic() + 10
    while any(Path(f"/proc/{pid}").exists() and _alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in pids if Path(f"/proc/{pid}").exists() and _alive(pid)]
    served.stop()


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except (OSError, IndexError):
        return False


def test_a_mock_of_workers_refuses_watch():
    started = subprocess.run(
        [str(MOCKSERVER), "serve", "--port", "0", "--workers", "2", "--watch"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert started.returncode == 2
    assert "--watch reloads one process" in started.stderr


def test_parallel_creates_through_two_workers_each_get_the_next_number():
    petstore = ROOT / "tests" / "specs" / "petstore.yaml"
    with ServeProcess("--workers", "2", "--spec", str(petstore), env={"MOCKSERVER_JWT_SECRET": SECRET}) as served:
        pet = {"name": "Rex", "photoUrls": [], "status": "pending"}
        calls = [
            lambda: requests.post(served.base_url + "/pet", json=pet, headers=bearer(), timeout=60)
            for _ in range(CLIENTS)
        ]
        responses = at_once(calls)
    assert Counter(response.status_code for response in responses) == {200: CLIENTS}
    numbers = sorted(response.json()["id"] for response in responses)
    assert numbers == list(range(numbers[0], numbers[0] + CLIENTS))  # one above the largest, none taken twice


def fresh(method: str, url: str, **kwargs) -> requests.Response:
    """A request on a connection of its own, which the kernel hands to either worker."""
    return requests.request(
        method, url, timeout=10, headers={"Connection": "close", **kwargs.pop("headers", {})}, **kwargs
    )


def test_each_worker_writes_its_access_lines_as_it_serves(workers):
    # Batched a pass of the loop at a time, from each worker: not held until the mock stops.
    for _ in range(ASKS):  # fresh connections: both workers answer some
        assert fresh("GET", workers.base_url + CHAT_PATH, headers=bearer()).status_code == 200
    deadline = time.monotonic() + 10
    while workers.logged().count(f"GET {CHAT_PATH} 200 ") < ASKS and time.monotonic() < deadline:
        time.sleep(0.05)
    assert workers.logged().count(f"GET {CHAT_PATH} 200 ") == ASKS


def test_the_workers_keep_one_journal(workers):
    sent = [fresh("GET", workers.base_url + CHAT_PATH, headers=bearer()) for _ in range(10)]
    assert {response.status_code for response in sent} == {200}
    for _ in range(ASKS):  # each worker lists every worker's entries, as one numbered journal
        listed = fresh("GET", workers.base_url + "/__mock/requests").json()["requests"]
        assert [entry["path"] for entry in listed] == [CHAT_PATH] * 10
        ids = [entry["id"] for entry in listed]
        assert ids == sorted(set(ids), reverse=True)
    assert fresh("GET", workers.base_url + "/__mock/requests?limit=3").json()["requests"][0]["id"] == ids[0]
    assert fresh("DELETE", workers.base_url + "/__mock/requests", json={}).status_code == 200
    for _ in range(ASKS):
        assert fresh("GET", workers.base_url + "/__mock/requests").json()["requests"] == []
    assert fresh("GET", workers.base_url + "/__mock/requests?status=x").status_code == 400


def test_the_workers_share_the_fault_rules(workers):
    rule = {"operationId": "getChatDetails", "status": 404, "times": 3}
    added = fresh("POST", workers.base_url + "/__mock/faults", json=rule)
    assert added.status_code == 201
    for _ in range(ASKS):
        assert [listed["id"] for listed in fresh("GET", workers.base_url + "/__mock/faults").json()["faults"]] == [
            added.json()["id"]
        ]
    statuses = [fresh("GET", workers.base_url + CHAT_PATH, headers=bearer()).status_code for _ in range(ASKS)]
    assert statuses == [404] * 3 + [200] * (ASKS - 3)  # three times in all, whichever worker answered
    assert fresh("GET", workers.base_url + "/__mock/faults").json()["faults"] == []


STATIC = """
openapi: 3.0.3
info: {title: Settings, version: "1"}
paths:
  /settings/theme:
    get:
      operationId: getTheme
      responses:
        "200": {description: The theme, content: {application/json: {schema: {type: object}, example: {name: dark}}}}
        "404": {description: None}
    delete:
      operationId: deleteTheme
      responses:
        "204": {description: Deleted}
"""


def test_the_workers_share_what_was_deleted(tmp_path):
    spec = tmp_path / "settings.yaml"
    spec.write_text(STATIC)
    with ServeProcess("--workers", "2", "--spec", str(spec), env={"MOCKSERVER_JWT_SECRET": SECRET}) as served:
        theme = served.base_url + "/settings/theme"
        assert fresh("GET", theme).status_code == 200
        assert fresh("DELETE", theme).status_code == 204
        assert [fresh("GET", theme).status_code for _ in range(ASKS)] == [404] * ASKS
        assert fresh("POST", served.base_url + "/__mock/reset", json={}).status_code == 200
        assert [fresh("GET", theme).status_code for _ in range(ASKS)] == [200] * ASKS


def test_the_workers_count_failed_logins_together():
    with ServeProcess("--workers", "2", "--rate-limit", "3/minute", env={"MOCKSERVER_JWT_SECRET": SECRET}) as served:
        wrong = {"email": "morgan.chen@northwind.dev", "password": "guess"}
        statuses = [fresh("POST", served.base_url + "/api/auth/login", json=wrong).status_code for _ in range(ASKS)]
    assert statuses == [401] * 3 + [429] * (ASKS - 3)


def test_a_logout_through_one_worker_ends_the_session_on_every_worker(workers):
    login = fresh(
        "POST",
        workers.base_url + "/api/auth/login",
        json={"email": "morgan.chen@northwind.dev", "password": "morgan-demo-password"},
    ).json()
    auth = {"Authorization": f"Bearer {login['token']}"}
    # Each worker finds the session open, and remembers it so.
    assert [fresh("GET", workers.base_url + CHAT_PATH, headers=auth).status_code for _ in range(ASKS)] == [200] * ASKS
    assert fresh("POST", workers.base_url + "/api/auth/logout", headers=auth).status_code == 200
    assert [fresh("GET", workers.base_url + CHAT_PATH, headers=auth).status_code for _ in range(ASKS)] == [401] * ASKS


def counted_calls(process) -> list[str]:
    """The methods asked of `process` from now on, in order."""
    calls: list[str] = []
    asked = process.call

    def counting(target: str, method: str, *args, **kwargs):
        calls.append(method)
        return asked(target, method, *args, **kwargs)

    process.call = counting
    return calls


def test_a_worker_reads_an_item_again_without_a_round_trip_until_any_worker_changes_the_store():
    petstore = ROOT / "tests" / "specs" / "petstore.yaml"
    fixtures = load_fixtures(FIXTURES)
    shared = Shared(2, None, MemoryStore(fixtures))
    try:
        reader = shared.store
        writer = StateClient(shared.process, fixtures, reader.limits, reader._endings, shared.changes)  # another worker
        app = create_app(petstore, FIXTURES, jwt_secret=SECRET, store=writer, shared=shared)
        created = app.test_client().post("/api/v3/pet", json={"name": "Rex", "photoUrls": []}, headers=bearer())
        assert created.status_code == 200, created.text
        pet = str(created.json["id"])
        calls = counted_calls(shared.process)
        for _ in range(3):  # each a copy: what the reader kept stays as it was read
            again = reader.item("pet", (), pet)
            assert again["name"] == "Rex"
            again["name"] = "changed by its reader"
        page, total = reader.items_page("pet", (), {"status": ["pending", "available"]}, 0, None)
        as_read = list(page)
        for _ in range(2):  # the same read, its values in another order: one key; each a copy
            kept_page = reader.items_page("pet", (), {"status": ["available", "pending"]}, 0, None)
            assert kept_page == (as_read, total)
            kept_page[0].append({"name": "added by its reader"})
        assert calls == ["item", "items_page"]  # the second of each from what the reader kept
        deleted = app.test_client().delete(f"/api/v3/pet/{pet}", headers=bearer())
        assert deleted.status_code in (200, 204), deleted.text
        with pytest.raises(RuleViolation):  # the writer's change moved the count: asked again
            reader.item("pet", (), pet)
        assert calls[-1] == "item"
    finally:
        shared.close()


def test_what_a_worker_keeps_of_its_reads_is_bounded_in_bytes(monkeypatch):
    # A page may hold every item of a collection: a worker keeps answers up to
    # KEPT_READ_BYTES in all, and one larger than that not at all.
    monkeypatch.setattr(state_process, "KEPT_READ_BYTES", 4096)
    fixtures = load_fixtures(FIXTURES)
    shared = Shared(2, None, MemoryStore(fixtures))
    try:
        reader = shared.store
        app = create_app(
            ROOT / "tests" / "specs" / "petstore.yaml", FIXTURES, jwt_secret=SECRET, store=reader, shared=shared
        )
        for index in range(40):  # some 200 bytes each as the budget counts them: the page of all is past 4096
            pet = {"name": f"Rex {index}", "photoUrls": [], "status": "pending"}
            assert app.test_client().post("/api/v3/pet", json=pet, headers=bearer()).status_code == 200
        calls = counted_calls(shared.process)
        everything = ("pet", (), {"status": ["pending"]}, 0, None)
        assert reader.items_page(*everything) == reader.items_page(*everything)
        assert calls == ["items_page", "items_page"]  # too large to keep: asked each time
        assert reader._kept_bytes == 0
        for _ in range(2):  # pages of one pet (about 700 bytes), four of them kept within the budget
            for start in range(4):
                reader.items_page("pet", (), {"status": ["pending"]}, start, 1)
        assert calls.count("items_page") == 2 + 4  # the second time from what was kept
        for start in range(4, 8):  # four more: past the budget, what was kept is dropped first
            reader.items_page("pet", (), {"status": ["pending"]}, start, 1)
        assert 0 < reader._kept_bytes <= 4096
        kept = (reader._kept_bytes, sorted(reader._kept))
        pet = {"name": "Rex", "photoUrls": [], "status": "sold"}
        assert app.test_client().post("/api/v3/pet", json=pet, headers=bearer()).status_code == 200
        for _method, key in kept[1]:  # out of date now: each read again, in its own place
            reader.items_page("pet", (), {"status": ["pending"]}, key[3], key[4])
        assert (reader._kept_bytes, sorted(reader._kept)) == kept
    finally:
        shared.close()
