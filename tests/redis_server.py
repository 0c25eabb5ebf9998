"""A real Redis for the tests: Debian's redis-server on a free 127.0.0.1 port, with its
files in a temporary folder, stopped at the end."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time

import pytest
import redis

INSTALL = "sudo apt-get install -y --no-install-recommends redis-server"


def require_redis_server() -> str:
    """The redis-server program; without it the test skips with the install command,
    or fails under CI=true, where the tests that need it must run."""
    program = shutil.which("redis-server")
    if program is None:
        message = f"redis-server is not installed; install it with: {INSTALL}"
        if os.environ.get("CI") == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return program


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    """A redis-server process; `stop()` kills it, `start()` starts it again on the same port."""

    def __init__(self, persistent: bool = False) -> None:
        self.persistent = persistent
        self.program = require_redis_server()
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.directory = tempfile.TemporaryDirectory(prefix="mock-redis-")
        self.process: subprocess.Popen | None = None
        self.start()

    def start(self, timeout: float = 10) -> None:
        # Persistent: every write is in the append-only file before Redis answers, so a
        # killed Redis restarts with all it acknowledged. Else nothing is kept.
        durability = ["--appendonly", "yes", "--appendfsync", "always"] if self.persistent else ["--appendonly", "no"]
        self.process = subprocess.Popen(
            [self.program, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.directory.name]
            + ["--save", "", "--protected-mode", "yes", *durability],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=1)
        deadline = time.monotonic() + timeout
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"redis-server did not start on port {self.port}") from None
                time.sleep(0.05)
        client.close()

    def stop(self) -> None:
        """Kill it, as a crash would."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, socket_connect_timeout=1, socket_timeout=5)

    def close(self) -> None:
        self.stop()
        self.directory.cleanup()
