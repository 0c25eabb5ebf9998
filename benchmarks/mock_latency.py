"""Latency, throughput and memory of the mock under load: `make bench`.

Starts `mockserver serve` on a free port in its own process, sends a fixed number of
requests per scenario from a few client threads, and prints the figures. The client
shares the machine's cores with the server, so compare runs on the same machine.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
PARTICIPANTS = "/api/chat/projects/proj_CE5hbCg5EPjP/chats/VL0TZudKjN6SiWtV/participants"
MIB = 1024 * 1024


def login_body(pad: str) -> bytes:
    return f'{{"email": "morgan.chen@northwind.dev", "password": "wrong", "pad": {pad}}}'.encode()


# Unauthenticated bodies that cost openapi-core minutes before the per-request limits.
HOSTILE_BODIES = {
    "1 MiB, 524k zeros": login_body("[" + ",".join(["0"] * (MIB // 2 - 64)) + "]"),
    "1 MiB, 62-deep arrays": login_body("[" + ",".join(["[" * 62 + "]" * 62] * (MIB // 125)) + "]"),
    "32 KB, 9,000 values": login_body("[" + ",".join(["0"] * 9000) + '], "text": "' + "x" * 14_000 + '"'),
}


def rss_kib(pid: int) -> dict[str, int]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in {"VmRSS", "VmHWM"}:
            fields[name] = int(value.split()[0])
    return fields


def load(base_url: str, send, requests_total: int, clients: int) -> tuple[list[float], float]:
    """Latencies (ms) of `requests_total` calls of `send(session, base_url)` from `clients` threads."""
    latencies: list[float] = []
    lock = threading.Lock()
    per_client = requests_total // clients

    def client() -> None:
        mine = []
        with requests.Session() as session:
            for _ in range(per_client):
                started = time.perf_counter()
                send(session, base_url)
                mine.append((time.perf_counter() - started) * 1000)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, time.perf_counter() - started


def hostile(base_url: str, auth: dict[str, str]) -> None:
    """Latency of hostile login bodies, and of a GET while eight of them are in flight."""
    print(f"{'hostile login body':<24} {'bytes':>8} {'status':>8} {'p50 ms':>8} {'max ms':>8}")
    for name, body in HOSTILE_BODIES.items():
        latencies = []
        with requests.Session() as session:
            for _ in range(10):
                started = time.perf_counter()
                response = session.post(
                    base_url + "/api/auth/login", data=body, headers={"Content-Type": "application/json"}, timeout=120
                )
                latencies.append((time.perf_counter() - started) * 1000)
        print(
            f"{name:<24} {len(body):>8} {response.status_code:>8} {statistics.median(latencies):>8.2f}"
            f" {max(latencies):>8.2f}"
        )
    stop = threading.Event()

    def flood() -> None:
        with requests.Session() as session:
            while not stop.is_set():
                session.post(
                    base_url + "/api/auth/login",
                    data=HOSTILE_BODIES["32 KB, 9,000 values"],
                    headers={"Content-Type": "application/json"},
                    timeout=120,
                )

    flooders = [threading.Thread(target=flood) for _ in range(8)]
    for thread in flooders:
        thread.start()
    try:
        time.sleep(0.5)
        latencies, _ = load(
            base_url, lambda s, u: s.get(u + PARTICIPANTS.rsplit("/", 1)[0], headers=auth, timeout=120), 50, 1
        )
    finally:
        stop.set()
        for thread in flooders:
            thread.join(timeout=120)
    print(
        f"GET chat details while 8 x 32 KB logins are in flight: p50 {statistics.median(latencies):.2f} ms,"
        f" max {max(latencies):.2f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=2000, help="requests per scenario")
    parser.add_argument("--clients", type=int, default=4, help="concurrent client threads")
    args = parser.parse_args()

    mockserver = Path(sys.executable).with_name("mockserver")
    server = subprocess.Popen(
        [str(mockserver), "serve", "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        base_url = server.stdout.readline().rsplit(" ", 1)[1].strip()
        token = requests.post(
            base_url + "/api/auth/login",
            json={"email": "morgan.chen@northwind.dev", "password": "morgan-demo-password"},
            timeout=10,
        ).json()["token"]
        auth = {"Authorization": f"Bearer {token}"}
        scenarios = {
            # Refused at authentication: no validation, no behaviour.
            "401 no token": lambda s, u: s.delete(u + PARTICIPANTS, json={"userId": "usr_x"}, timeout=10),
            # Token verified, request validated by openapi-core, business rule checked.
            "400 not a participant": lambda s, u: s.delete(
                u + PARTICIPANTS, json={"userId": "usr_x"}, headers=auth, timeout=10
            ),
            "400 malformed JSON": lambda s, u: s.delete(
                u + PARTICIPANTS, data="{bad", headers={**auth, "Content-Type": "application/json"}, timeout=10
            ),
            "200 chat details": lambda s, u: s.get(u + PARTICIPANTS.rsplit("/", 1)[0], headers=auth, timeout=10),
            "200 login": lambda s, u: s.post(
                u + "/api/auth/login",
                json={"email": "morgan.chen@northwind.dev", "password": "morgan-demo-password"},
                timeout=10,
            ),
        }
        print(f"mock at {base_url}; {args.requests} requests per scenario from {args.clients} client threads")
        print(f"idle server memory: {rss_kib(server.pid)['VmRSS'] / 1024:.1f} MiB RSS")
        print(f"{'scenario':<24} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8}")
        for name, send in scenarios.items():
            load(base_url, send, 100, args.clients)  # warm-up
            latencies, elapsed = load(base_url, send, args.requests, args.clients)
            q = statistics.quantiles(latencies, n=100)
            print(
                f"{name:<24} {len(latencies) / elapsed:>8.0f} {q[49]:>8.2f} {q[94]:>8.2f} {q[98]:>8.2f}"
                f" {max(latencies):>8.2f}"
            )
        hostile(base_url, auth)
        memory = rss_kib(server.pid)
        print(
            f"server memory after the run: {memory['VmRSS'] / 1024:.1f} MiB RSS, peak {memory['VmHWM'] / 1024:.1f} MiB"
        )
    finally:
        server.terminate()
        server.wait(timeout=10)
        server.stdout.close()


if __name__ == "__main__":
    main()
