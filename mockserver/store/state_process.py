"""The memory store shared by the processes of one mock (`serve --workers N`, state in
memory): one process holds the `MemoryStore` and runs every rule; each worker calls them
through a Unix socket, one round trip a call (about 45 us for a small answer, measured
2026-12-02). The store's lock keeps a check and its change apart as in one process: of
parallel removals of one participant, through any of the workers, exactly one succeeds.

A call is a pickled (rule, args, kwargs) with its length before it; the answer a pickled
(True, value) or (False, exception). The socket lives in a directory only this user can
enter (mkdtemp's 0700), so only the mock's own processes reach it; a message is still
bounded, so that a broken one cannot make the state process allocate without end.
A worker's thread opens its own connection on its first call.

A rule that takes a function (`change_item`: a merge or patch the behaviour computes) runs
as a compare-and-swap from the worker: the item is read, changed there, and written only
if nobody changed it in between (`swap_item`), else read again.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import os
import pickle
import shutil
import signal
import socket
import struct
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from mockserver.store.base import FixtureUsers
from mockserver.store.budget import StateLimits
from mockserver.store.fixtures import Fixtures, User
from mockserver.store.memory import MemoryStore
from mockserver.store.redis_store import StoreUnavailable

# The rules a worker may call: every public method of the memory store, but those that
# stay in the worker (what only the fixtures answer) or take a function. (`load` is both:
# called there, and the worker keeps the fixtures it sent.)
LOCAL = frozenset({"find_user_by_email", "change_item"})
RULES = frozenset(
    name
    for name in dir(MemoryStore)
    if not name.startswith("_") and callable(getattr(MemoryStore, name)) and name not in LOCAL
)
MAX_MESSAGE_BYTES = 256 * 1024 * 1024  # past any state the budget allows (state_bytes)
SWAP_ATTEMPTS = 100
_HEADER = struct.Struct("!Q")


def _send(conn: socket.socket, value: Any) -> None:
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    conn.sendall(_HEADER.pack(len(data)) + data)


def _receive_exactly(conn: socket.socket, size: int) -> bytes:
    chunks, left = [], size
    while left:
        chunk = conn.recv(min(left, 1 << 20))
        if not chunk:
            raise EOFError("the other end closed the connection")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _receive(conn: socket.socket) -> Any:
    (size,) = _HEADER.unpack(_receive_exactly(conn, _HEADER.size))
    if size > MAX_MESSAGE_BYTES:
        raise EOFError(f"a message of {size} bytes")
    return pickle.loads(_receive_exactly(conn, size))


def start_state_process(store: MemoryStore) -> StateClient:
    """Fork the process that holds `store` (the caller no longer uses it); the client for
    this process and every worker forked after it."""
    directory = tempfile.mkdtemp(prefix="mockserver-state-")
    path = os.path.join(directory, "state.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(1024)
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:  # the state process: it serves, and never returns to the caller
        code = 1
        try:
            _serve(store, listener, parent)
            code = 0
        finally:
            os._exit(code)
    listener.close()
    return StateClient(store.fixtures, store.limits, path, pid, directory)


def _serve(store: MemoryStore, listener: socket.socket, parent: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the parent stops it
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))

    def watch_parent() -> None:
        # A parent killed outright cannot stop the state process; it notices and leaves.
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(0)

    threading.Thread(target=watch_parent, name="parent-watch", daemon=True).start()
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=_answer, args=(store, conn), name="state-call", daemon=True).start()


def _answer(store: MemoryStore, conn: socket.socket) -> None:
    with conn:
        while True:
            try:
                rule, args, kwargs = _receive(conn)
            except (EOFError, OSError, pickle.UnpicklingError, ValueError):
                return  # the worker closed it, or ended
            try:
                if rule not in RULES:
                    raise LookupError(f"no rule {rule!r}")
                reply = (True, getattr(store, rule)(*args, **kwargs))
            except Exception as error:
                reply = (False, error)
            try:
                _send(conn, reply)
            except (pickle.PicklingError, TypeError, AttributeError) as error:
                _send(conn, (False, RuntimeError(f"{rule}: the answer cannot be sent: {error}")))
            except OSError:
                return


class StateClient:
    """The store as the app sees it, each rule a call to the state process; what only
    the fixtures answer (the users) is answered here."""

    kind = "memory"
    problems: list[str] = []

    def __init__(self, fixtures: Fixtures, limits: StateLimits, path: str, pid: int, directory: str) -> None:
        self.fixtures = fixtures
        self.limits = limits
        self.path = path
        self.pid = pid
        self._directory = directory
        self._users_by_email = {user.email.lower(): user for user in fixtures.users.values()}
        self._local = threading.local()

    @property
    def users(self) -> Mapping[str, User]:
        return FixtureUsers(self)

    def find_user_by_email(self, email: str) -> User | None:
        return self._users_by_email.get(email.lower())

    def load(self, fixtures: Fixtures) -> None:
        """Start over from other fixtures (a reset re-reads the files). The other workers
        keep the users they had, as other replicas on one Redis do, until they restart."""
        self._call("load", fixtures)
        self.fixtures = fixtures
        self._users_by_email = {user.email.lower(): user for user in fixtures.users.values()}

    def __getattr__(self, name: str) -> Callable[..., Any]:
        # Only for a name not found otherwise: each rule's call is made once, then found.
        if name not in RULES:
            raise AttributeError(name)
        call = functools.partial(self._call, name)
        setattr(self, name, call)
        return call

    def _call(self, rule: str, *args: Any, **kwargs: Any) -> Any:
        conn = getattr(self._local, "conn", None)
        try:
            if conn is None or self._local.pid != os.getpid():  # a forked worker opens its own
                conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                conn.connect(self.path)
                self._local.conn, self._local.pid = conn, os.getpid()
            _send(conn, (rule, args, kwargs))
            ok, value = _receive(conn)
        except (OSError, EOFError) as error:
            self._local.conn = None
            with contextlib.suppress(OSError):
                if conn is not None:
                    conn.close()
            raise StoreUnavailable(f"The mock's state process is unavailable: {error}") from None
        if not ok:
            raise value
        return value

    def change_item(
        self, resource: str, scope: tuple[str, ...], item_id: str, change: Callable[[Any], Any]
    ) -> tuple[Any, Any]:
        """As the memory store's: the change computed here, written only onto the item it
        was computed from."""
        for _ in range(SWAP_ATTEMPTS):
            previous = self._call("item", resource, scope, item_id)
            changed = change(copy.deepcopy(previous))
            if self._call("swap_item", resource, scope, item_id, previous, changed):
                return previous, changed
        raise StoreUnavailable(f"{resource} {item_id} kept changing under {SWAP_ATTEMPTS} attempts to change it")

    def close(self) -> None:
        """Stop the state process (the parent, as the mock stops)."""
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGTERM)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)
        shutil.rmtree(self._directory, ignore_errors=True)
