"""Constants and helpers shared by the tests: fixture IDs, tokens, response checks."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import jwt
import requests
from flask import Flask
from flask.testing import FlaskClient
from openapi_core import Config, OpenAPI
from openapi_core.contrib.requests import RequestsOpenAPIResponse
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIResponse
from openapi_core.deserializing.media_types.util import plain_loads
from openapi_core.templating.paths.exceptions import OperationNotFound, PathNotFound
from openapi_core.testing import MockRequest

from mockserver.controls.steering import admin_document

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "openapi.yaml"
FIXTURES = ROOT / "fixtures"
# The full Mudbase description, beside the repository (as CI lays shared/ out); elsewhere
# with MUDBASE_OPENAPI (a git worktree's parent has no shared/).
MUDBASE_OPENAPI = Path(
    os.environ.get("MUDBASE_OPENAPI") or ROOT.parent / "shared" / "reference" / "mudbase-openapi.yaml"
)
SECRET = "test-secret-for-the-mock-server-tests-long-enough-for-hs512-keys-0123"

PROJECT = "proj_CE5hbCg5EPjP"
BILLING = "proj_Zr8WmQ4xTb2K"  # a second project, with chat Bx7PnL2sKq9VwD4R
CHAT = "VL0TZudKjN6SiWtV"  # morgan admin; alex and sam members
OTHER_CHAT = "Hq3ZpW7tRbN2xKcL"  # alex admin; morgan member
MORGAN = "usr_morgan_de"
ALEX = "usr_CuXGNqCoY9JGW0"
SAM = "usr_l6ZF362tQSr4nE"
PRIYA = "usr_Q8mT2vLx9RkP1a"  # project member in no chat
PARTICIPANTS = f"/api/chat/projects/{PROJECT}/chats/{CHAT}/participants"
ERROR_FIELDS = {"error", "code", "details", "timestamp", "path", "requestId"}


def participants_path(project: str = PROJECT, chat: str = CHAT) -> str:
    return f"/api/chat/projects/{project}/chats/{chat}/participants"


# The admin API's own document, as the mock serves it at /__mock/openapi.json.
# openapi-core reads text/plain and text/html as text; the console's CSS and JS are text
# too, and so is the proxy's JUnit report (its schema: a string).
ADMIN_OPENAPI = OpenAPI.from_dict(
    admin_document(),
    config=Config(
        extra_media_type_deserializers={
            media_type: plain_loads for media_type in ("text/css", "text/javascript", "application/xml")
        }
    ),
)


def admin_response_errors(method: str, path: str, response) -> list[Exception]:
    """Where a response (Werkzeug's or requests') to an admin route breaks admin_openapi.yaml."""
    wrapped = RequestsOpenAPIResponse(response) if hasattr(response, "ok") else WerkzeugOpenAPIResponse(response)
    request = MockRequest("http://localhost", method.lower(), path)
    return list(ADMIN_OPENAPI.iter_response_errors(request, wrapped))


def check_admin_response(response) -> None:
    """A live (requests) response of an admin route conforms to admin_openapi.yaml."""
    path = response.request.path_url.split("?")[0]
    errors = admin_response_errors(response.request.method, path, response)
    assert errors == [], (
        f"{response.request.method} {path} -> {response.status_code} breaks the admin contract: {errors!r}"
    )


def check_response(app: Flask, method: str, path: str, response) -> None:
    """Every response to a spec operation validates against the served document (an admin
    route's against admin_openapi.yaml), every header is printable ASCII, and every error
    carries the full Error envelope with its request ID: on openapi.yaml, and the mock's own
    (an admin route's); another document's errors are in the shapes it declares."""
    if path == "/__mock" or path.startswith("/__mock/"):
        errors = admin_response_errors(method, path, response)
    else:
        errors = app.extensions["mockserver.validator"].reference.response_errors(method, path, response)
    on_spec_operation = not any(isinstance(e, PathNotFound | OperationNotFound) for e in errors)
    if on_spec_operation:
        assert errors == [], f"{method} {path} -> {response.status_code} breaks the contract: {errors!r}"
    for name, value in response.headers.items():
        # Printable ASCII only: waitress cannot send anything else, and what X-Mock-Validation echoes is escaped.
        assert value.isascii() and value.isprintable(), f"{method} {path}: header {name}: {value!r}"
    own = app.extensions["mockserver.contract"].path == SPEC or path.startswith("/__mock")
    if response.status_code >= 400 and own:
        body = response.get_json()
        assert set(body) == ERROR_FIELDS, body
        assert body["path"] == path
        assert body["requestId"] == response.headers["X-Request-Id"]


class ContractClient(FlaskClient):
    """Flask's test client, checking each response with check_response."""

    def open(self, *args, **kwargs):
        response = super().open(*args, **kwargs)
        check_response(self.application, response.request.method, response.request.path, response)
        return response


def make_token(
    sub: str | None = MORGAN,
    *,
    expires_in: int | None = 600,
    key: str | bytes = SECRET,
    algorithm: str = "HS256",
    **claims,
) -> str:
    payload = dict(claims)
    if sub is not None:
        payload["sub"] = sub
    if expires_in is not None:
        payload["exp"] = int(time.time()) + expires_in
    return jwt.encode(payload, key, algorithm=algorithm)


def bearer(user: str = MORGAN) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token(user)}"}


MOCKSERVER = Path(sys.executable).with_name("mockserver")


class ServeProcess:
    """`mockserver serve --port 0 ARGS` on 127.0.0.1 in its own process, as a team runs it.

    `banner` holds its stdout up to the reset hint, `base_url` its address; stop() ends
    it and returns what it logged to stderr."""

    def __init__(self, *args: str, env: dict[str, str] | None = None, cwd: Path = ROOT) -> None:
        self.process = subprocess.Popen(
            [str(MOCKSERVER), "serve", "--port", "0", *args],
            cwd=cwd,
            env={**os.environ, **(env or {})},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        lines: queue.Queue[str] = queue.Queue()
        self._stdout_reader = threading.Thread(
            target=lambda: [lines.put(line) for line in self.process.stdout], daemon=True
        )
        self._stdout_reader.start()
        # Read as it comes: a full pipe would block the server's next log line, and with it the server.
        self._stderr: list[str] = []
        self._stderr_reader = threading.Thread(target=lambda: self._stderr.extend(self.process.stderr), daemon=True)
        self._stderr_reader.start()
        self.banner: list[str] = []
        try:
            while not self.banner or not self.banner[-1].startswith("Reset the state"):
                self.banner.append(lines.get(timeout=15))
        except queue.Empty:
            raise RuntimeError(f"mockserver serve {' '.join(args)} did not start: {self.stop()}") from None
        self.base_url = self.banner[0].split(" at ", 1)[1].split()[0]

    def logged(self) -> str:
        """What it has logged to stderr so far."""
        return "".join(self._stderr)

    def stop(self) -> str:
        self.process.terminate()
        self.process.wait(timeout=10)
        for reader, stream in ((self._stdout_reader, self.process.stdout), (self._stderr_reader, self.process.stderr)):
            reader.join(timeout=10)
            stream.close()
        return self.logged()

    def __enter__(self) -> ServeProcess:
        return self

    def __exit__(self, *_exc) -> None:
        self.stop()


def read_line(process: subprocess.Popen, timeout: float = 30) -> str:
    """The next line of a process's stdout (text mode), or TimeoutError if none comes in
    time: a server that hangs before printing must not hang the tests."""
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: lines.put(process.stdout.readline()), daemon=True).start()
    try:
        return lines.get(timeout=timeout)
    except queue.Empty:
        raise TimeoutError(f"{process.args!r} printed no line in {timeout} s") from None


def state_messages(base_url: str, project: str, chat: str, headers: dict[str, str] | None = None) -> list[dict]:
    """Every message of a chat, oldest first, read a page at a time from /__mock/state."""
    messages, cursor = [], None
    while True:
        query = {"projectId": project, "chatId": chat, "limit": 100} | ({"cursor": cursor} if cursor else {})
        page = requests.get(base_url + "/__mock/state", params=query, headers=headers, timeout=10).json()
        messages += page["messages"]
        cursor = page["nextCursor"]
        if cursor is None:
            return messages


def lasting_state(base_url: str, secret: str) -> dict[str, dict]:
    """What a contract scenario must leave as it found it, read from a running mock:
    each chat's participants with their roles (not when they joined) and its messages
    with their reads and reactions, and the E2EE keys of the project's members in CHAT."""
    chats = requests.get(base_url + "/__mock/state", timeout=10).json()["chats"]
    state = {
        chat["_id"]: {
            "participants": {p["userId"]: p["role"] for p in chat["participants"]},
            "messages": state_messages(base_url, chat["projectId"], chat["_id"]),
        }
        for chat in chats
    }
    keys = requests.get(
        f"{base_url}/api/chat/projects/{PROJECT}/chats/{CHAT}/e2ee/participant-keys",
        headers={"Authorization": f"Bearer {make_token(MORGAN, key=secret)}"},
        timeout=10,
    ).json()["data"]
    state["e2ee keys"] = {key["userId"]: (key["identityPublicKey"], key["keyVersion"]) for key in keys}
    return state


def changed(before: dict[str, dict], after: dict[str, dict]) -> dict[str, tuple]:
    """What differs between two lasting states, for what the first had (new chats may stay)."""
    return {name: (was, after.get(name)) for name, was in before.items() if after.get(name) != was}


def at_once(calls: list[Callable[[], requests.Response]]) -> list[requests.Response]:
    """Each call on its own thread, all released together; their responses in order."""
    barrier = threading.Barrier(len(calls))
    responses: list[requests.Response | None] = [None] * len(calls)

    def run(index: int) -> None:
        barrier.wait(timeout=30)
        responses[index] = calls[index]()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert all(response is not None for response in responses), "a request did not finish"
    return responses


def worker_pids(process: subprocess.Popen, expected: int, timeout: float = 15) -> set[int]:
    """The processes `process` forked, once there are `expected` of them."""
    deadline = time.monotonic() + timeout
    while True:
        pids = {int(pid) for pid in Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()}
        if len(pids) == expected or time.monotonic() > deadline:
            return pids
        time.sleep(0.05)
