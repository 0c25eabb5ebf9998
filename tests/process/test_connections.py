"""Connections over real HTTP: idle and slow clients cannot lock others out, bodies over
the limit are refused before they touch the disk, and waitress's own refusals are in
the Error shape."""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from support import MORGAN, PARTICIPANTS, ServeProcess, bearer

from mockserver.server.serving import ConnectionLimits, serve_in_background
from mockserver.settings import MAX_BODY_BYTES

LIMITS = ConnectionLimits(max_connections=8, idle_timeout=1, header_timeout=1, body_timeout=1, request_timeout=2.5)


@pytest.fixture
def guarded(app) -> Iterator[tuple[str, int]]:
    with serve_in_background(app, limits=LIMITS) as base_url:
        host, port = base_url.removeprefix("http://").split(":")
        yield base_url, int(port)


def connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=10)


def read_response(sock: socket.socket) -> tuple[str, dict]:
    """The status line and headers, and the JSON body, of the next response on `sock`."""
    data = b""
    while b"\r\n\r\n" not in data:
        more = sock.recv(65536)
        assert more, "connection closed before a response"
        data += more
    head, _, body = data.partition(b"\r\n\r\n")
    headers = dict(line.split(b": ", 1) for line in head.split(b"\r\n")[1:])
    length = int(headers[b"Content-Length"])
    while len(body) < length:
        more = sock.recv(65536)
        assert more, "connection closed mid-response"
        body += more
    return head.decode(), json.loads(body)


def closed_by_server(sock: socket.socket) -> bool:
    """Whether the server closed `sock`, waiting at most its timeout."""
    try:
        while data := sock.recv(65536):
            if not data:
                break
        return True
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def trickle(sockets: list[socket.socket], pieces: list[bytes], interval: float) -> dict[int, float]:
    """Send `pieces` to every socket, one every `interval` s; when each was closed (index -> s)."""
    started = time.monotonic()
    closed: dict[int, float] = {}
    for piece in pieces:
        for index, sock in enumerate(sockets):
            if index in closed:
                continue
            try:
                sock.sendall(piece)
            except OSError:
                closed[index] = time.monotonic() - started
        if len(closed) == len(sockets):
            break
        time.sleep(interval)
    return closed


def test_idle_connections_at_the_limit_do_not_lock_others_out(guarded):
    base_url, port = guarded
    # The review: ~98 idle connections filled waitress's limit of 100 for minutes.
    held = [connect(port) for _ in range(LIMITS.max_connections)]
    try:
        response = requests.get(base_url + "/__mock/state", timeout=15)
        assert response.status_code == 200
        assert all(closed_by_server(sock) for sock in held)
    finally:
        for sock in held:
            sock.close()


def test_trickled_headers_do_not_keep_a_connection(guarded):
    base_url, port = guarded
    held = [connect(port) for _ in range(LIMITS.max_connections - 2)]
    header = f"GET /__mock/state HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: {'a' * 100}".encode()
    closed: dict[int, float] = {}
    # One byte every 0.2 s resets waitress's inactivity timer; the header deadline does not move.
    worker = threading.Thread(target=lambda: closed.update(trickle(held, [bytes([b]) for b in header], 0.2)))
    worker.start()
    try:
        response = requests.get(base_url + "/__mock/state", timeout=15)
        assert response.status_code == 200
    finally:
        worker.join(timeout=60)
        for sock in held:
            sock.close()
    assert len(closed) == len(held), f"{len(held) - len(closed)} trickling connections were never closed"


def test_a_trickled_body_does_not_keep_a_connection(guarded):
    _, port = guarded
    with connect(port) as sock:
        sock.sendall(
            f"DELETE {PARTICIPANTS} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Authorization: {bearer(MORGAN)['Authorization']}\r\nContent-Length: 200\r\n\r\n".encode()
        )
        closed = trickle([sock], [b" "] * 199, 0.2)  # 40 s at this pace, if nobody stopped it
    assert closed, "a body trickled for 40 s was accepted"


def test_a_request_has_a_total_deadline(app):
    # Each stage within its own deadline, the whole over request_timeout.
    limits = ConnectionLimits(max_connections=8, idle_timeout=5, header_timeout=5, body_timeout=5, request_timeout=1.5)
    with serve_in_background(app, limits=limits) as base_url:
        port = int(base_url.rsplit(":", 1)[1])
        with connect(port) as sock:
            head = f"DELETE {PARTICIPANTS} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n".encode()
            closed = trickle([sock], [bytes([b]) for b in head] + [b" "] * 100, 0.05)
    assert closed, "a request that took 8 s was answered"


def temporary_files(pid: int, folder: Path) -> list[str]:
    links = []
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            links.append(os.readlink(fd))
        except OSError:
            continue  # closed meanwhile
    return [link for link in links if link.startswith(str(folder))]


def test_bodies_are_never_spooled_to_disk(tmp_path):
    # The review: 20 held-open uploads between 1 and 16 MiB kept 321 MiB in temporary files.
    with ServeProcess(env={"TMPDIR": str(tmp_path)}) as server:
        port = int(server.base_url.rsplit(":", 1)[1])
        head = (
            f"DELETE {PARTICIPANTS} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            "Content-Length: {length}\r\n\r\n"
        )
        within = [connect(port) for _ in range(5)]
        over = [connect(port) for _ in range(5)]
        try:
            for sock in within:
                sock.sendall(head.format(length=MAX_BODY_BYTES).encode() + b" " * (MAX_BODY_BYTES - 1000))
            for sock in over:
                sock.sendall(head.format(length=2 * MAX_BODY_BYTES).encode() + b" " * 65536)
            # Refused from the headers alone, in the Error shape, while the body is still coming.
            for sock in over:
                head, document = read_response(sock)
                assert head.startswith("HTTP/1.1 400 Bad Request\r\n"), head
                assert document["code"] == "PAYLOAD_TOO_LARGE"
            assert temporary_files(server.process.pid, tmp_path) == []
        finally:
            for sock in within + over:
                sock.close()


@pytest.mark.parametrize(
    "request_bytes, status, code",
    [
        (b"GET /__mock/state HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n", 400, "BAD_REQUEST"),
        (b"POST /api/auth/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 501, "NOT_IMPLEMENTED"),
    ],
    ids=["malformed header", "unknown transfer coding"],
)
def test_waitress_refusals_are_in_the_error_shape(guarded, request_bytes, status, code):
    _, port = guarded
    with connect(port) as sock:
        sock.sendall(request_bytes)
        head, document = read_response(sock)
    assert head.startswith(f"HTTP/1.1 {status} ")
    assert "Content-Type: application/json" in head
    assert document["code"] == code
    assert f"X-Request-Id: {document['requestId']}" in head


def test_the_servers_loop_waits_while_a_task_sends_its_answer(app, monkeypatch):
    # The loop turns a few times a request. It spun while a task held its connection's
    # buffer to send an answer (waitress's channel is "writable" whenever bytes are in
    # it), holding the GIL that task waited for: 11,398 turns for these 200 requests.
    from waitress import wasyncore

    turns = 0
    poll = wasyncore.poll2

    def counted(*args, **kwargs):
        nonlocal turns
        turns += 1
        return poll(*args, **kwargs)

    monkeypatch.setattr(wasyncore, "poll2", counted)  # looked up as each loop starts
    chat = PARTICIPANTS.removesuffix("/participants")
    clients, each = 4, 50
    statuses: list[int] = []
    with serve_in_background(app, threads=1) as base_url:

        def client() -> None:
            with requests.Session() as session:
                for _ in range(each):
                    statuses.append(session.get(base_url + chat, headers=bearer(MORGAN), timeout=10).status_code)

        loads = [threading.Thread(target=client) for _ in range(clients)]
        before = turns
        for load in loads:
            load.start()
        for load in loads:
            load.join()
        loop_turns = turns - before
    assert statuses == [200] * clients * each
    assert loop_turns < 10 * clients * each, f"{loop_turns} turns of the loop for {clients * each} requests"
