"""The Redis store: replicas and worker processes that share one state, against a real
redis-server (tests/redis_server.py). The rules themselves run against both stores in
the modules marked both_stores."""

from __future__ import annotations

import contextlib
import functools
import os
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from redis_server import RedisServer
from round_robin import round_robin
from suite_runs import SECRET as SUITE_SECRET
from suite_runs import WITH_SECRET
from support import (
    ALEX,
    CHAT,
    ERROR_FIELDS,
    FIXTURES,
    MORGAN,
    PARTICIPANTS,
    PRIYA,
    PROJECT,
    ROOT,
    SAM,
    SECRET,
    SPEC,
    ContractClient,
    ServeProcess,
    at_once,
    bearer,
    make_token,
    worker_pids,
)

from mockserver import create_app
from mockserver.server.serving import serve_in_background
from mockserver.store import redis_store

MESSAGES = f"/api/chat/projects/{PROJECT}/chats/{CHAT}/messages"
CLIENTS = 32
ROUNDS = 3


def replica(redis: RedisServer, prefix: str, *args: str) -> ServeProcess:
    return ServeProcess(
        "--store",
        redis.url,
        "--store-prefix",
        prefix,
        *args,
        env={"MOCKSERVER_JWT_SECRET": SECRET},
    )


@pytest.fixture
def replicas(redis_server: RedisServer) -> Iterator[list[str]]:
    """Two `mockserver serve` processes sharing one state in Redis; their base URLs."""
    prefix = f"replicas-{uuid.uuid4().hex}"
    with replica(redis_server, prefix) as first, replica(redis_server, prefix) as second:
        yield [first.base_url, second.base_url]


def shared_app(url: str, prefix: str):
    app = create_app(SPEC, FIXTURES, jwt_secret=SECRET, store_url=url, store_prefix=prefix)
    app.test_client_class = ContractClient
    return app


def spread(base_urls: list[str], method: str, path: str, **kwargs) -> list[requests.Response]:
    """CLIENTS identical requests at once, spread over the replicas in turn."""
    return at_once(
        [
            functools.partial(requests.request, method, base_urls[index % len(base_urls)] + path, timeout=60, **kwargs)
            for index in range(CLIENTS)
        ]
    )


def reset(base_url: str) -> None:
    assert requests.post(base_url + "/__mock/reset", json={}, timeout=10).status_code == 200


def message_ids(base_url: str) -> list[str]:
    """Every message of CHAT, newest first, page by page."""
    ids: list[str] = []
    for page in range(1, 1000):
        data = requests.get(
            base_url + MESSAGES, params={"limit": 100, "page": page}, headers=bearer(), timeout=10
        ).json()["data"]
        ids += [message["_id"] for message in data["messages"]]
        if len(ids) >= data["total"]:
            return ids
    raise AssertionError("more pages than expected")


def participants(base_url: str) -> dict[str, str]:
    response = requests.get(f"{base_url}/api/chat/projects/{PROJECT}/chats/{CHAT}", headers=bearer(MORGAN), timeout=10)
    return {p["userId"]: p["role"] for p in response.json()["data"]["participants"]}


# --- the contract suite through a round-robin balancer -------------------------------


def test_the_contract_suite_passes_against_two_replicas_alternating_request_by_request(redis_server, tmp_path):
    prefix = f"suite-{uuid.uuid4().hex}"
    env = {"MOCKSERVER_JWT_SECRET": SUITE_SECRET}
    with (
        ServeProcess("--store", redis_server.url, "--store-prefix", prefix, env=env) as first,
        ServeProcess("--store", redis_server.url, "--store-prefix", prefix, env=env) as second,
        round_robin([first.base_url, second.base_url]) as (balancer, served),
    ):
        inherited = {name: value for name, value in os.environ.items() if not name.startswith("CONTRACT_")}
        suite = subprocess.run(
            [sys.executable, "-m", "pytest", "contract_tests", "-q", "-p", "no:cacheprovider"]
            + [f"--base-url={balancer}", f"--junitxml={tmp_path / 'junit.xml'}"],
            cwd=ROOT,
            env={**inherited, **env, **WITH_SECRET.env},
            capture_output=True,
            text=True,
            timeout=900,
        )
    assert suite.returncode == 0, suite.stdout[-4000:] + suite.stderr[-2000:]
    assert " passed" in suite.stdout
    counts = sorted(served.values())
    # Request by request: the two replicas served all but at most one request each.
    assert len(counts) == 2 and counts[0] > 100 and counts[1] - counts[0] <= 1, served


# --- races over two replicas ------------------------------------------------------------


def test_32_clients_on_2_replicas_remove_one_participant_exactly_once(replicas):
    for round_ in range(ROUNDS):
        responses = spread(replicas, "DELETE", PARTICIPANTS, json={"userId": SAM}, headers=bearer(MORGAN))
        statuses = Counter(response.status_code for response in responses)
        assert statuses == {200: 1, 400: CLIENTS - 1}, f"round {round_}: {statuses}"
        assert {r.json()["code"] for r in responses if r.status_code == 400} == {"NOT_A_PARTICIPANT"}
        assert participants(replicas[0]) == participants(replicas[1]) == {MORGAN: "admin", ALEX: "member"}
        reset(replicas[round_ % 2])  # any replica resets the state of both
        assert SAM in participants(replicas[(round_ + 1) % 2])


def test_32_clients_on_2_replicas_add_one_participant_exactly_once(replicas):
    for round_ in range(ROUNDS):
        responses = spread(replicas, "POST", PARTICIPANTS, json={"userId": PRIYA}, headers=bearer(MORGAN))
        statuses = Counter(response.status_code for response in responses)
        assert statuses == {200: 1, 400: CLIENTS - 1}, f"round {round_}: {statuses}"
        assert {r.json()["code"] for r in responses if r.status_code == 400} == {"ALREADY_A_PARTICIPANT"}
        assert list(participants(replicas[1])) == [MORGAN, ALEX, SAM, PRIYA]
        reset(replicas[round_ % 2])


def test_32_clients_on_2_replicas_rotate_one_refresh_token_exactly_once(replicas):
    login = requests.post(
        replicas[0] + "/api/auth/login",
        json={"email": "morgan.chen@northwind.dev", "password": "morgan-demo-password"},
        timeout=10,
    ).json()
    responses = spread(replicas, "POST", "/api/auth/refresh", json={"refreshToken": login["refreshToken"]})
    statuses = Counter(response.status_code for response in responses)
    assert statuses[200] == 1, statuses
    # The others reused a spent token: the session is ended, for both replicas.
    winner = next(response.json() for response in responses if response.status_code == 200)
    for base_url in replicas:
        again = requests.post(base_url + "/api/auth/refresh", json={"refreshToken": winner["refreshToken"]}, timeout=10)
        assert again.status_code != 200
        session = requests.get(
            base_url + "/api/auth/session", headers={"Authorization": f"Bearer {winner['token']}"}, timeout=10
        )
        assert session.status_code == 401


def test_32_parallel_edits_of_one_message_on_2_replicas_leave_the_last_one(replicas):
    sent = requests.post(
        replicas[0] + MESSAGES, json={"type": "text", "content": "draft"}, headers=bearer(), timeout=10
    )
    message_id = sent.json()["data"]["_id"]
    responses = at_once(
        [
            functools.partial(
                requests.patch,
                f"{replicas[index % 2]}{MESSAGES}/{message_id}",
                json={"content": f"edit {index}"},
                headers=bearer(),
                timeout=60,
            )
            for index in range(CLIENTS)
        ]
    )
    assert {response.status_code for response in responses} == {200}
    edits = [response.json()["data"] for response in responses]
    assert len({edit["editedAt"] for edit in edits}) == CLIENTS  # one at a time, each strictly later
    last = max(edits, key=lambda edit: edit["editedAt"])
    listed = requests.get(replicas[1] + MESSAGES, headers=bearer(), timeout=10).json()["data"]["messages"]
    message = next(m for m in listed if m["_id"] == message_id)
    assert (message["content"], message["editedAt"]) == (last["content"], last["editedAt"])


def test_32_parallel_sends_on_2_replicas_lose_no_message(replicas):
    responses = at_once(
        [
            functools.partial(
                requests.post,
                replicas[index % 2] + MESSAGES,
                json={"type": "text", "content": f"message {index}"},
                headers=bearer(),
                timeout=60,
            )
            for index in range(CLIENTS)
        ]
    )
    assert {response.status_code for response in responses} == {201}
    listed = requests.get(replicas[0] + MESSAGES, params={"limit": 100}, headers=bearer(), timeout=10).json()["data"]
    sent = {response.json()["data"]["_id"] for response in responses}
    assert sent <= {message["_id"] for message in listed["messages"]}
    times = [message["createdAt"] for message in listed["messages"]]
    assert times == sorted(times, reverse=True) and len(set(times)) == len(times)


# --- the check and the change, held apart, in two in-process replicas ------------------


def held_removals(redis_server: RedisServer) -> list[int]:
    """Two apps on one state each check that SAM is a participant, wait for the other
    to have checked too, then remove SAM; their statuses."""
    prefix = f"held-{uuid.uuid4().hex}"
    apps = [shared_app(redis_server.url, prefix) for _ in range(2)]
    meeting = threading.Barrier(2)

    def wait() -> None:
        with contextlib.suppress(threading.BrokenBarrierError):
            meeting.wait(timeout=3)

    for app in apps:
        app.extensions["mockserver.store"]._between_check_and_change = wait
    with serve_in_background(apps[0]) as first, serve_in_background(apps[1]) as second:
        responses = at_once(
            [
                functools.partial(
                    requests.delete, base_url + PARTICIPANTS, json={"userId": SAM}, headers=bearer(), timeout=30
                )
                for base_url in (first, second)
            ]
        )
    return sorted(response.status_code for response in responses)


def test_two_replicas_that_both_checked_still_remove_once(redis_server):
    assert held_removals(redis_server) == [200, 400]


def test_without_watch_the_held_removals_both_succeed(redis_server, monkeypatch):
    # The control of the test above: it sees a check-then-change that is not atomic.
    # Reads run at once, as after a WATCH, but nothing is watched.
    monkeypatch.setattr(
        redis_store.redis.client.Pipeline, "watch", lambda self, *names: setattr(self, "watching", True)
    )
    assert held_removals(redis_server) == [200, 200]


# --- shared state: start-up, reset, /__mock/state ---------------------------------------


def test_a_second_replica_keeps_the_state_and_a_reset_on_either_resets_both(redis_server):
    prefix = f"shared-{uuid.uuid4().hex}"
    first = shared_app(redis_server.url, prefix).test_client()
    assert first.delete(PARTICIPANTS, json={"userId": SAM}, headers=bearer()).status_code == 200

    second = shared_app(redis_server.url, prefix).test_client()  # starts on the state, not the fixtures
    chats = second.get("/__mock/state").get_json()["chats"]
    assert [p["userId"] for p in next(c for c in chats if c["_id"] == CHAT)["participants"]] == [MORGAN, ALEX]

    assert second.post("/__mock/reset", json={}).status_code == 200
    chats = first.get("/__mock/state").get_json()["chats"]
    assert [p["userId"] for p in next(c for c in chats if c["_id"] == CHAT)["participants"]] == [MORGAN, ALEX, SAM]


def budget_traffic(client) -> None:
    """A rule of each kind the state's budget counts, through the API."""
    key_path = f"/api/chat/projects/{PROJECT}/me/chat-e2ee-key"
    kickoff = "msg_7Hc2LqW9xT4bNp3R"  # Morgan's, in CHAT
    sent = client.post(MESSAGES, json={"type": "text", "content": "counted"}, headers=bearer())
    gone = client.post(MESSAGES, json={"type": "text", "content": "deleted"}, headers=bearer())
    calls = [
        sent,
        gone,
        client.delete(f"{MESSAGES}/{gone.get_json()['data']['_id']}", headers=bearer()),
        client.post(f"{MESSAGES}/{kickoff}/reactions", json={"emoji": "🚀"}, headers=bearer()),
        client.post(f"{MESSAGES}/{kickoff}/reactions", json={"emoji": "🚀"}, headers=bearer(ALEX)),
        client.delete(f"{MESSAGES}/{kickoff}/reactions", json={"emoji": "🚀"}, headers=bearer(ALEX)),
        client.post(f"{MESSAGES}/read", json={"messageIds": [sent.get_json()["data"]["_id"]]}, headers=bearer(ALEX)),
        client.patch(f"{MESSAGES}/{kickoff}", json={"content": "kick-off, edited at length"}, headers=bearer()),
        client.post(PARTICIPANTS, json={"userId": PRIYA}, headers=bearer()),
        client.delete(PARTICIPANTS, json={"userId": SAM}, headers=bearer()),
        client.post(
            f"/api/chat/projects/{PROJECT}/chats",
            json={"name": "Counted", "type": "group", "participants": [ALEX]},
            headers=bearer(),
        ),
        client.put(key_path, json={"identityPublicKey": "c2FtLWtleQ=="}, headers=bearer(SAM)),
        client.put(key_path, json={"identityPublicKey": "bW9yZ2FuLWlkZW50aXR5LWtleS12Mi1sb25nZXI="}, headers=bearer()),
        client.post("/api/auth/login", json={"email": "morgan.chen@northwind.dev", "password": "morgan-demo-password"}),
    ]
    assert all(call.status_code < 300 for call in calls), [(call.status_code, call.get_json()) for call in calls]


def counted(summary: dict) -> dict:
    """A state summary but its instants and random IDs."""
    return {
        "bytes": summary["bytes"],
        "sessions": summary["sessions"],
        "projects": summary["projects"],
        "chats": sorted(
            (chat["name"], chat["messageCount"], chat["bytes"], [p["userId"] for p in chat["participants"]])
            for chat in summary["chats"]
        ),
    }


def test_the_state_summary_counts_on_redis_as_in_memory(redis_server):
    # The Redis store keeps a chat's share of the estimate and a project's E2EE keys in
    # counters of their own (not in the items its rules read): they add up as the
    # memory store's records do.
    memory = create_app(SPEC, FIXTURES, jwt_secret=SECRET).test_client()
    shared = shared_app(redis_server.url, f"counted-{uuid.uuid4().hex}").test_client()
    assert counted(memory.get("/__mock/state").get_json()) == counted(shared.get("/__mock/state").get_json())
    for client in (memory, shared):
        budget_traffic(client)
    in_memory, in_redis = (counted(client.get("/__mock/state").get_json()) for client in (memory, shared))
    assert in_redis == in_memory
    project = next(p for p in in_redis["projects"] if p["projectId"] == PROJECT)
    assert (project["chatCount"], project["e2eeKeyCount"]) == (3, 3)


def test_mocks_with_other_prefixes_do_not_share(redis_server):
    first = shared_app(redis_server.url, f"one-{uuid.uuid4().hex}").test_client()
    second = shared_app(redis_server.url, f"two-{uuid.uuid4().hex}").test_client()
    assert first.delete(PARTICIPANTS, json={"userId": SAM}, headers=bearer()).status_code == 200
    assert second.delete(PARTICIPANTS, json={"userId": SAM}, headers=bearer()).status_code == 200


def test_a_redis_that_lost_its_data_gets_the_fixtures_again(redis_server):
    prefix = f"lost-{uuid.uuid4().hex}"
    client = shared_app(redis_server.url, prefix).test_client()
    assert client.delete(PARTICIPANTS, json={"userId": SAM}, headers=bearer()).status_code == 200
    with redis_server.client() as direct:
        direct.delete(*direct.keys(f"{prefix}:*"))
    assert client.delete(PARTICIPANTS, json={"userId": SAM}, headers=bearer()).status_code == 200


# --- Redis faults ------------------------------------------------------------------------


def test_health_reports_each_store(redis_server):
    memory = create_app(SPEC, FIXTURES, jwt_secret=SECRET).test_client()
    assert memory.get("/__mock/health").get_json() == {"store": "memory", "status": "ok"}
    shared = shared_app(redis_server.url, "health").test_client()
    response = shared.get("/__mock/health")
    assert response.status_code == 200
    assert response.get_json() == {"store": "redis", "status": "ok", "url": redis_server.url, "prefix": "health"}


def test_a_password_in_the_store_url_is_never_shown():
    assert redis_store.redacted("redis://user:s3cret@db:6379/0") == "redis://user:***@db:6379/0"
    assert redis_store.redacted("redis://:s3cret@db:6379/0") == "redis://:***@db:6379/0"


def test_redis_down_at_start_up_stops_the_mock_with_a_clear_message():
    from redis_server import free_port

    url = f"redis://127.0.0.1:{free_port()}/0"
    started = subprocess.run(
        [str(Path(sys.executable).with_name("mockserver")), "serve", "--port", "0", "--store", url],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert started.returncode == 1
    assert f"Error: cannot reach Redis at {url}" in started.stderr
    assert "Traceback" not in started.stderr


def test_workers_serve_one_port_from_processes_that_share_the_state(redis_server):
    with replica(redis_server, f"workers-{uuid.uuid4().hex}", "--workers", "3") as served:
        workers = worker_pids(served.process, 4)
        assert len(workers) == 4  # and the process of what they share besides Redis (the journal, ...)
        assert "3 processes, each with an event loop (at most 500 connections)" in "\n".join(served.banner)
        assert "The workers share one journal" in "\n".join(served.banner)
        statuses = Counter(
            response.status_code
            for response in spread(
                [served.base_url], "DELETE", PARTICIPANTS, json={"userId": SAM}, headers=bearer(MORGAN)
            )
        )
        assert statuses == {200: 1, 400: CLIENTS - 1}
    time.sleep(0.5)  # the workers leave with their parent
    assert not [pid for pid in workers if Path(f"/proc/{pid}").exists()]


def test_redis_killed_and_restarted_while_serving(tmp_path):
    """503s in the Error envelope while Redis is down, never a 500, nothing half-done;
    both replicas recover on their own, on one consistent state."""
    redis = RedisServer(persistent=True)
    try:
        prefix = "outage"
        with replica(redis, prefix) as first, replica(redis, prefix) as second:
            base_urls = [first.base_url, second.base_url]
            assert requests.delete(first.base_url + PARTICIPANTS, json={"userId": SAM}, headers=bearer(), timeout=10).ok

            sent: list[tuple[int, str | None]] = []  # (status, message ID) of sends during the outage
            stop = threading.Event()

            def keep_sending() -> None:
                for index in range(10_000):
                    if stop.is_set():
                        return
                    response = requests.post(
                        base_urls[index % 2] + MESSAGES,
                        json={"type": "text", "content": f"during {index}"},
                        headers=bearer(),
                        timeout=30,
                    )
                    body = response.json()
                    sent.append((response.status_code, body.get("data", {}).get("_id")))
                    if response.status_code == 503:
                        assert set(body) == ERROR_FIELDS and body["code"] == "STORE_UNAVAILABLE", body

            sender = threading.Thread(target=keep_sending)
            sender.start()
            time.sleep(0.5)
            redis.stop()
            time.sleep(0.5)
            for base_url in base_urls:
                down = requests.get(base_url + MESSAGES, headers=bearer(), timeout=10)
                assert down.status_code == 503 and down.headers["Retry-After"] == "1"
                assert set(down.json()) == ERROR_FIELDS
                health = requests.get(base_url + "/__mock/health", timeout=10)
                assert health.status_code == 503 and health.json()["status"] == "unavailable"
                assert requests.get(base_url + "/__mock/state", timeout=10).status_code == 503
            redis.start()
            deadline = time.monotonic() + 20
            while not all(
                requests.get(base_url + "/__mock/health", timeout=10).status_code == 200 for base_url in base_urls
            ):
                assert time.monotonic() < deadline, "the replicas did not reconnect"
                time.sleep(0.1)
            time.sleep(0.5)
            stop.set()
            sender.join(timeout=60)

            statuses = Counter(status for status, _ in sent)
            assert set(statuses) == {201, 503}, statuses  # never a 500
            acknowledged = {message_id for status, message_id in sent if status == 201}
            assert acknowledged <= set(message_ids(second.base_url))
            # The removal before the outage stands on both replicas.
            assert participants(first.base_url) == participants(second.base_url) == {MORGAN: "admin", ALEX: "member"}
            assert requests.get(
                first.base_url + MESSAGES, headers={"Authorization": f"Bearer {make_token(MORGAN)}"}, timeout=10
            ).ok
    finally:
        redis.close()
