"""What hostile request bodies cost the mock: unauthenticated login bodies built to make
a validator work hard, and a normal GET while eight of them are in flight. Run by
`bench.py` against the mock it started; figures, not assertions."""

from __future__ import annotations

import statistics
import threading
import time

import requests

MIB = 1024 * 1024


def login_body(pad: str) -> bytes:
    return f'{{"email": "morgan.chen@northwind.dev", "password": "wrong", "pad": {pad}}}'.encode()


HOSTILE_BODIES = {
    "1 MiB, 524k zeros": login_body("[" + ",".join(["0"] * (MIB // 2 - 64)) + "]"),
    "1 MiB, 62-deep arrays": login_body("[" + ",".join(["[" * 62 + "]" * 62] * (MIB // 125)) + "]"),
    "32 KB, 9,000 values": login_body("[" + ",".join(["0"] * 9000) + '], "text": "' + "x" * 14_000 + '"'),
}
JSON = {"Content-Type": "application/json"}


def measure(base_url: str, details_path: str, auth: dict[str, str]) -> None:
    print(f"{'hostile login body':<24} {'bytes':>8} {'status':>8} {'p50 ms':>8} {'max ms':>8}")
    for name, body in HOSTILE_BODIES.items():
        latencies = []
        with requests.Session() as session:
            for _ in range(10):
                started = time.perf_counter()
                response = session.post(base_url + "/api/auth/login", data=body, headers=JSON, timeout=120)
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
                    base_url + "/api/auth/login", data=HOSTILE_BODIES["32 KB, 9,000 values"], headers=JSON, timeout=120
                )

    flooders = [threading.Thread(target=flood) for _ in range(8)]
    for thread in flooders:
        thread.start()
    latencies = []
    try:
        time.sleep(0.5)
        with requests.Session() as session:
            for _ in range(50):
                started = time.perf_counter()
                session.get(base_url + details_path, headers=auth, timeout=120)
                latencies.append((time.perf_counter() - started) * 1000)
    finally:
        stop.set()
        for thread in flooders:
            thread.join(timeout=120)
    print(
        f"GET chat details while 8 x 32 KB logins are in flight: p50 {statistics.median(latencies):.2f} ms,"
        f" max {max(latencies):.2f} ms"
    )
