"""What a big chat costs the other requests of its project, with the state in Redis.

`.venv/bin/python benchmarks/redis_growth.py`: starts its own redis-server and one
`mockserver serve --workers 2 --store redis://...` on 127.0.0.1 (loopback only), then

1. sendMessage throughput into two chats of one project (one client thread per chat)
   on the fixtures;
2. fills chat A with `--sends` messages of the largest body the mock accepts: the body
   limit (settings.MAX_BODY_BYTES, 1 MiB) holds one JSON string of at most
   MAX_JSON_STRING_CHARS (65,536) characters each, so the content is one such string
   and the rest of the MiB is in `mentions` (strings the rule keeps as they are);
3. times getChatDetails of chat B (same project, small) and getChatMessages of chat A
   (limit=1 and the default first page of 50);
4. the throughput of 1. again, on the filled project.

Bounded: every phase stops after its count or its seconds, whichever comes first.
Figures, not assertions: nothing here fails on a timing.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import jwt

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from mockserver.settings import MAX_BODY_BYTES, MAX_JSON_STRING_CHARS  # noqa: E402

PROJECT = "proj_CE5hbCg5EPjP"
CHAT_A, CHAT_B = "VL0TZudKjN6SiWtV", "Hq3ZpW7tRbN2xKcL"  # both have MORGAN as a participant
MORGAN = "usr_morgan_de"
SECRET = "redis-growth-benchmark-secret-0123456789"
FILL_SECONDS = 600  # the fill stops after this long, whatever --sends says


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(check, what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while True:
        with contextlib.suppress(OSError, http.client.HTTPException):
            if check():
                return
        if time.monotonic() > deadline:
            raise SystemExit(f"{what} did not come up in {seconds:.0f} s")
        time.sleep(0.1)


@contextlib.contextmanager
def redis_server() -> Iterator[str]:
    program = shutil.which("redis-server") or "/usr/bin/redis-server"
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="growth-redis-") as directory:
        process = subprocess.Popen(
            [program, "--port", str(port), "--bind", "127.0.0.1", "--dir", directory, "--save", ""]
            + ["--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:

            def answers() -> bool:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                    sock.sendall(b"PING\r\n")
                    return sock.recv(16).startswith(b"+PONG")

            wait_until(answers, "redis-server")
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            process.kill()
            process.wait(timeout=10)


@contextlib.contextmanager
def mock(store_url: str, workers: int) -> Iterator[int]:
    port = free_port()
    process = subprocess.Popen(
        [str(Path(sys.executable).with_name("mockserver")), "serve", "--port", str(port)]
        + ["--workers", str(workers), "--store", store_url, "--store-prefix", f"growth-{uuid.uuid4().hex}"],
        cwd=ROOT,
        env={**os.environ, "MOCKSERVER_JWT_SECRET": SECRET},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(lambda: Client(port).request("GET", "/__mock/health")[0] == 200, "the mock")
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


class Client:
    """One kept-alive HTTP/1.1 connection to the mock, as MORGAN."""

    def __init__(self, port: int) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        token = jwt.encode({"sub": MORGAN, "exp": int(time.time()) + 3600}, SECRET, algorithm="HS256")
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes, float]:
        """(status, body, seconds) of one request."""
        started = time.perf_counter()
        self.connection.request(method, path, body=body, headers=self.headers)
        response = self.connection.getresponse()
        data = response.read()
        return response.status, data, time.perf_counter() - started


def messages_path(chat: str) -> str:
    return f"/api/chat/projects/{PROJECT}/chats/{chat}/messages"


def message_body(content_bytes: int, mentions: list[str] | None = None) -> bytes:
    document = {"type": "text", "content": "x" * content_bytes} | ({"mentions": mentions} if mentions else {})
    return json.dumps(document, separators=(",", ":")).encode()


def largest_body() -> bytes:
    """A sendMessage body of MAX_BODY_BYTES: content of the longest string the mock takes,
    and mentions of such strings (each different: the rule drops repeats) for the rest."""
    longest = MAX_JSON_STRING_CHARS
    mentions: list[str] = []
    while True:
        room = MAX_BODY_BYTES - len(message_body(longest, mentions + [""]))
        if room <= 0:
            return message_body(longest, mentions)
        mentions.append(f"{len(mentions):02d}" + "y" * (min(room, longest) - 2))


def throughput(port: int, seconds: float, count: int) -> dict:
    """Small sends into CHAT_A and CHAT_B at once, one client thread each, for `seconds`
    or `count` sends per chat."""
    results: dict[str, list[tuple[int, float]]] = {CHAT_A: [], CHAT_B: []}
    body = message_body(100)
    start = threading.Barrier(2)

    def send(chat: str) -> None:
        client = Client(port)
        start.wait()
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and len(results[chat]) < count:
            status, _, elapsed = client.request("POST", messages_path(chat), body)
            results[chat].append((status, elapsed))

    started = time.perf_counter()
    threads = [threading.Thread(target=send, args=(chat,)) for chat in results]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    every = [result for chat in results.values() for result in chat]
    statuses = Counter(status for status, _ in every)
    return {
        "sends_per_second": round(statuses[201] / elapsed, 1),
        "statuses": dict(statuses),
        "p50_ms": round(statistics.median(t for _, t in every) * 1000, 1),
        "max_ms": round(max(t for _, t in every) * 1000, 1),
    }


def timed(client: Client, path: str, repeat: int) -> dict:
    times, statuses = [], Counter()
    for _ in range(repeat):
        status, _, elapsed = client.request("GET", path)
        statuses[status] += 1
        times.append(elapsed)
    return {
        "median_ms": round(statistics.median(times) * 1000, 1),
        "max_ms": round(max(times) * 1000, 1),
        "statuses": dict(statuses),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sends", type=int, default=60, help="messages of the largest size into chat A")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=5.0, help="of each throughput phase")
    parser.add_argument("--repeat", type=int, default=20, help="of each small GET")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()

    body = largest_body()
    figures: dict = {"body_bytes": len(body), "sends": args.sends, "workers": args.workers}
    with redis_server() as url, mock(url, args.workers) as port:
        figures["throughput_fresh"] = throughput(port, args.seconds, 100_000)
        print("throughput on the fixtures:", figures["throughput_fresh"], flush=True)

        client = Client(port)
        fill_times, statuses = [], Counter()
        deadline = time.monotonic() + FILL_SECONDS
        for _ in range(args.sends):
            status, _, elapsed = client.request("POST", messages_path(CHAT_A), body)
            statuses[status] += 1
            fill_times.append(elapsed)
            if status != 201 or time.monotonic() > deadline:
                break
        figures["fill"] = {
            "statuses": dict(statuses),
            "first_send_ms": round(fill_times[0] * 1000, 1),
            "last_send_ms": round(fill_times[-1] * 1000, 1),
            "total_s": round(sum(fill_times), 1),
        }
        print("fill:", figures["fill"], flush=True)

        figures["chat_details_B"] = timed(client, f"/api/chat/projects/{PROJECT}/chats/{CHAT_B}", args.repeat)
        print("getChatDetails of chat B:", figures["chat_details_B"], flush=True)
        figures["messages_A_limit_1"] = timed(client, messages_path(CHAT_A) + "?limit=1", args.repeat)
        print("getChatMessages of chat A, limit=1:", figures["messages_A_limit_1"], flush=True)
        figures["messages_A_first_page"] = timed(client, messages_path(CHAT_A), 3)
        print("getChatMessages of chat A, first page (50):", figures["messages_A_first_page"], flush=True)

        figures["throughput_filled"] = throughput(port, args.seconds, 100_000)
        print("throughput on the filled project:", figures["throughput_filled"], flush=True)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
