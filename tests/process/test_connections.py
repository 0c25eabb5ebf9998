"""Connections over real HTTP: idle and slow clients cannot lock others out, bodies over
the limit are refused before they touch the disk, the parser's refusals are in the
Error shape, and the server keeps HTTP/1.1's rules (pipelining, 100-continue, 1.0)."""

from __future__ import annotations

import json
import os
import signal
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
    head, body = read_plain(sock)
    return head, json.loads(body)


def read_plain(sock: socket.socket) -> tuple[str, bytes]:
    """The status line and headers, and the body, of the next response on `sock`."""
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
    return head.decode(), body


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


def test_every_connection_is_served_on_the_loops_one_thread(app):
    # Read, run and answered on one thread: no hand-off of the GIL between threads.
    served: dict[int, set[int]] = {}

    def recording(environ, start_response):
        served.setdefault(int(environ["REMOTE_PORT"]), set()).add(threading.get_ident())
        return app(environ, start_response)

    chat = PARTICIPANTS.removesuffix("/participants")
    statuses: list[int] = []
    with serve_in_background(recording) as base_url:

        def client() -> None:
            with requests.Session() as session:
                for _ in range(50):
                    statuses.append(session.get(base_url + chat, headers=bearer(MORGAN), timeout=10).status_code)

        loads = [threading.Thread(target=client) for _ in range(4)]
        for load in loads:
            load.start()
        for load in loads:
            load.join()
    assert statuses == [200] * 200
    assert len(served) == 4 and len(set().union(*served.values())) == 1, served


def test_an_app_that_waits_gets_a_thread_per_connection():
    # The proxy's app waits on its upstream: four requests are in it at once, each on
    # a thread of its own (the barrier breaks unless all four arrive).
    together = threading.Barrier(4, timeout=10)
    threads: set[int] = set()

    def waiting(environ, start_response):
        threads.add(threading.get_ident())
        together.wait()
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
        return [b"ok"]

    statuses: list[int] = []
    with serve_in_background(waiting, waits=True) as base_url:
        loads = [
            threading.Thread(target=lambda: statuses.append(requests.get(base_url, timeout=15).status_code))
            for _ in range(4)
        ]
        for load in loads:
            load.start()
        for load in loads:
            load.join()
    assert statuses == [200] * 4 and len(threads) == 4


def test_an_answer_held_back_does_not_hold_up_the_others(app):
    # A delay rule holds getChatDetails's answer for 3 s on the loop's timer; meanwhile
    # the loop answers another operation, sent later and answered first.
    answered: list[str] = []
    chat = PARTICIPANTS.removesuffix("/participants")
    with serve_in_background(app) as base_url:
        rule = {"operationId": "getChatDetails", "delayMs": 3000}
        assert requests.post(f"{base_url}/__mock/faults", json=rule, timeout=10).status_code == 201

        def slow() -> None:
            response = requests.get(base_url + chat, headers=bearer(MORGAN), timeout=15)
            answered.append(f"held {response.status_code}")

        held = threading.Thread(target=slow)
        held.start()
        time.sleep(0.5)  # the held request is in
        quick = requests.get(base_url + chat.rsplit("/", 1)[0], headers=bearer(MORGAN), timeout=15)  # getUserChats
        answered.append(f"quick {quick.status_code}")
        held.join()
    assert answered == ["quick 200", "held 200"]


def test_no_more_connections_are_served_than_the_limit():
    # Two idle connections fill a limit of 2: a third waits in the backlog, unanswered,
    # through several sweeps of the deadlines, until one of the two ends.
    limits = ConnectionLimits(max_connections=2, idle_timeout=30, header_timeout=30, body_timeout=30)
    with serve_in_background(plain(), limits=limits) as base_url:
        port = int(base_url.rsplit(":", 1)[1])
        held = [connect(port) for _ in range(2)]
        for sock in held:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            assert read_plain(sock)[1] == b"done"  # both accepted, kept alive
        with connect(port) as third:
            third.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            third.settimeout(1.0)  # ten sweeps
            with pytest.raises(TimeoutError):
                third.recv(65536)
            held.pop().close()
            third.settimeout(10)
            assert read_plain(third)[1] == b"done"
        for sock in held:
            sock.close()


@pytest.mark.parametrize("workers", ["1", "2"])
def test_stopping_with_connections_open_is_clean(workers):
    # SIGINT (Ctrl-C) for one process, SIGTERM for workers: the loop ends by an
    # exception with keep-alive connections open, and closes them without a traceback.
    with ServeProcess("--workers", workers) as served:
        sessions = [requests.Session() for _ in range(3)]
        for session in sessions:
            assert session.get(served.base_url + "/__mock/health", timeout=10).status_code == 200
        served.process.send_signal(signal.SIGINT if workers == "1" else signal.SIGTERM)
        code = served.process.wait(timeout=15)
        logged = served.stop()
        for session in sessions:
            session.close()
    assert code == 0, logged
    assert "Traceback" not in logged and "failed" not in logged, logged


def plain(body: bytes = b"done", delay: float = 0.0):
    """A WSGI app answering `body` after `delay` seconds, to test the server alone."""

    def answer(environ, start_response):
        time.sleep(delay)
        environ["wsgi.input"].read()
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
        return [body]

    return answer


def test_pipelined_requests_are_answered_in_order(app):
    with serve_in_background(app) as base_url, connect(int(base_url.rsplit(":", 1)[1])) as sock:
        chat = PARTICIPANTS.removesuffix("/participants")
        auth = bearer(MORGAN)["Authorization"]
        sock.sendall(
            f"GET {chat} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {auth}\r\n\r\n"
            f"GET {chat} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()
        )
        answers = sock.makefile("rb")  # both answers may come in one read
        (first, details), (second, refusal) = read_buffered(answers), read_buffered(answers)
    assert first.startswith("HTTP/1.1 200 ") and details["data"]["_id"] == chat.rsplit("/", 1)[1]
    assert second.startswith("HTTP/1.1 401 ") and refusal["code"] == "UNAUTHORIZED"


def read_buffered(answers) -> tuple[str, dict]:
    status = answers.readline().decode()
    headers = {}
    while (line := answers.readline()) != b"\r\n":
        name, _, value = line.decode().partition(": ")
        headers[name] = value.strip()
    return status, json.loads(answers.read(int(headers["Content-Length"])))


def test_a_client_that_expects_100_continue_gets_it_before_sending_the_body():
    with serve_in_background(plain(b"taken")) as base_url, connect(int(base_url.rsplit(":", 1)[1])) as sock:
        sock.sendall(b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
        assert sock.recv(65536) == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(b"hello")
        head, body = read_plain(sock)
    assert head.startswith("HTTP/1.1 200 ") and body == b"taken"


def test_an_http_1_0_request_without_keep_alive_is_answered_then_closed():
    with serve_in_background(plain()) as base_url, connect(int(base_url.rsplit(":", 1)[1])) as sock:
        sock.sendall(b"GET / HTTP/1.0\r\n\r\n")
        head, body = read_plain(sock)
        assert head.startswith("HTTP/1.0 200 ") and body == b"done"
        assert closed_by_server(sock)


def test_stopping_the_server_answers_the_request_in_flight_first():
    answers: list[int] = []
    answered = threading.Event()
    slow = plain(delay=0.5)

    def app(environ, start_response):
        body = slow(environ, start_response)
        answered.set()
        return body

    with serve_in_background(app) as base_url:
        asking = threading.Thread(target=lambda: answers.append(requests.get(base_url, timeout=10).status_code))
        asking.start()
        time.sleep(0.2)  # the request is in the app
    assert answered.is_set()  # stopping waited for it
    asking.join()
    assert answers == [200]


def test_a_client_that_reads_nothing_is_dropped_and_its_slot_freed():
    # 64 MiB of answer: far more than the socket's buffers take; the client never reads.
    limits = ConnectionLimits(max_connections=1, idle_timeout=1, header_timeout=1, body_timeout=1, request_timeout=2)
    big = plain(b"x" * (64 * 1024 * 1024))
    with serve_in_background(big, limits=limits) as base_url, connect(int(base_url.rsplit(":", 1)[1])) as stalled:
        stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        stalled.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        time.sleep(0.5)
        answer = requests.get(base_url, timeout=15)  # the only slot is the stalled one's until it is dropped
        assert answer.status_code == 200 and len(answer.content) == 64 * 1024 * 1024


def test_timeouts_of_no_end_are_served_as_the_longest_the_kernel_takes():
    # `--idle-timeout inf` passes the command line's check; the kernel's timeouts take seconds.
    endless = float("inf")
    limits = ConnectionLimits(max_connections=2, idle_timeout=endless, header_timeout=endless, body_timeout=endless)
    with serve_in_background(plain(), limits=limits) as base_url:
        assert [requests.get(base_url, timeout=10).status_code for _ in range(2)] == [200, 200]
