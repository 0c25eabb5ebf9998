"""What an attacker with a fixture login costs the mock's memory, and what reading the
state then costs: `python benchmarks/state_budget.py [--sends 200] [--reactions 3000]`.

Each phase starts its own `mockserver serve` on 127.0.0.1 (memory store) and reports:
- sends: RSS before and after N sendMessage calls of ~1 MiB (64 K characters of content
  and 14 mentions of 64 K characters), how many were accepted, and the messages kept;
- reactions: N distinct reactions on one message, the time and size of the last
  addReaction, and then the time and size of GET /__mock/state and the peak RSS;
- fill (--fill): messages of 16 KiB, in new chats as each fills, until the mock refuses
  them (at most 20,000 sends): RSS then, and GET /__mock/state and one page of messages.
Figures, not assertions. Every request goes to the local server only, bounded in count.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
PROJECT = "proj_CE5hbCg5EPjP"
CHAT = "VL0TZudKjN6SiWtV"
MESSAGES = f"/api/chat/projects/{PROJECT}/chats/{CHAT}/messages"
LOGIN = {"email": "morgan.chen@northwind.dev", "password": "morgan-demo-password"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def memory(pid: int) -> tuple[float, float]:
    """(RSS, peak RSS) of a process, in MiB."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


class Server:
    def __init__(self, *args: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        mockserver = str(Path(sys.executable).with_name("mockserver"))
        self.process = subprocess.Popen(
            [mockserver, "serve", "--port", str(self.port), *args],
            cwd=ROOT,
            env=dict(os.environ),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(self.base + "/__mock/health", timeout=1)
                break
            except requests.ConnectionError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise RuntimeError("the mock did not start") from None
                time.sleep(0.1)
        self.http = requests.Session()
        token = self.http.post(self.base + "/api/auth/login", json=LOGIN, timeout=10).json()["token"]
        self.http.headers["Authorization"] = f"Bearer {token}"

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def sends(count: int, extra: list[str]) -> None:
    server = Server(*extra)
    try:
        body = {"type": "text", "content": "x" * 65536, "mentions": [f"usr_{i:02d}" + "m" * 65530 for i in range(14)]}
        rss_before, _ = memory(server.process.pid)
        statuses: dict[int, int] = {}
        started = time.perf_counter()
        for _ in range(count):
            status = server.http.post(server.base + MESSAGES, json=body, timeout=60).status_code
            statuses[status] = statuses.get(status, 0) + 1
        elapsed = time.perf_counter() - started
        rss_after, peak = memory(server.process.pid)
        size = len(json.dumps(body))
        print(f"sends: {count} sendMessage of {size:,} bytes each")
        print(f"  statuses {statuses} in {elapsed:.1f} s")
        print(f"  RSS {rss_before:.1f} MiB -> {rss_after:.1f} MiB (peak {peak:.1f} MiB)")
        state_read(server)
    finally:
        server.stop()


def reactions(count: int, extra: list[str]) -> None:
    server = Server(*extra)
    try:
        sent = server.http.post(server.base + MESSAGES, json={"type": "text", "content": "react"}, timeout=10)
        url = f"{server.base}{MESSAGES}/{sent.json()['data']['_id']}/reactions"
        statuses: dict[int, int] = {}
        for i in range(count):
            started = time.perf_counter()
            response = server.http.post(url, json={"emoji": f"r{i:031d}"}, timeout=60)
            last_ms, last_size = (time.perf_counter() - started) * 1000, len(response.content)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        print(f"reactions: {count} distinct addReaction on one message: statuses {statuses}")
        print(f"  the last took {last_ms:.1f} ms and answered {last_size:,} bytes")
        state_read(server)
    finally:
        server.stop()


def fill(extra: list[str]) -> None:
    server = Server(*extra)
    try:
        rss_before, _ = memory(server.process.pid)
        chats, path, sent, refusal = f"/api/chat/projects/{PROJECT}/chats", MESSAGES, 0, None
        started = time.perf_counter()
        while refusal is None and sent < 20_000:
            response = server.http.post(server.base + path, json={"type": "text", "content": "f" * 16384}, timeout=60)
            if response.status_code == 201:
                sent += 1
                continue
            if "messages_per_chat" not in response.text:
                refusal = response.json()["details"]
                break
            chat = server.http.post(server.base + chats, json={"name": "fill", "type": "group", "participants": []})
            if chat.status_code != 201:
                refusal = chat.json()["details"]
                break
            path = f"{chats}/{chat.json()['data']['_id']}/messages"
        elapsed = time.perf_counter() - started
        rss_after, peak = memory(server.process.pid)
        print(f"fill: {sent} messages of 16 KiB accepted in {elapsed:.1f} s, then: {refusal}")
        print(f"  RSS {rss_before:.1f} MiB -> {rss_after:.1f} MiB (peak {peak:.1f} MiB)")
        state_read(server)
        started = time.perf_counter()
        query = {"projectId": PROJECT, "chatId": CHAT, "limit": 100}
        page = server.http.get(server.base + "/__mock/state", params=query, timeout=60)
        elapsed = time.perf_counter() - started
        print(f"  a page of 100 messages: {page.status_code}, {len(page.content):,} bytes in {elapsed:.2f} s")
    finally:
        server.stop()


def state_read(server: Server) -> None:
    started = time.perf_counter()
    response = server.http.get(server.base + "/__mock/state", timeout=600)
    elapsed = time.perf_counter() - started
    rss, peak = memory(server.process.pid)
    print(
        f"  GET /__mock/state: {response.status_code}, {len(response.content):,} bytes in {elapsed:.2f} s; "
        f"RSS {rss:.1f} MiB, peak {peak:.1f} MiB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sends", type=int, default=200)
    parser.add_argument("--reactions", type=int, default=3000)
    parser.add_argument("--fill", action="store_true", help="fill the state to its budget (not on today's main)")
    parser.add_argument("serve_args", nargs="*", help="more `mockserver serve` arguments, after --")
    args = parser.parse_args()
    if args.sends:
        sends(args.sends, args.serve_args)
    if args.reactions:
        reactions(args.reactions, args.serve_args)
    if args.fill:
        fill(args.serve_args)


if __name__ == "__main__":
    main()
