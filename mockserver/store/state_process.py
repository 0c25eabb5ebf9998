"""What the processes of one mock (`serve --workers N`) share: one process holds the
objects every worker must see the same (the `MemoryStore` when the state is in memory,
and what server/sharing.py hosts: the fault rules, the deleted paths, the failed logins)
and runs their methods; each worker calls them through a Unix socket, one round trip a
call (about 45 us for a small answer, measured 2026-12-02). The store's lock keeps a
check and its change apart as in one process: of parallel removals of one participant,
through any of the workers, exactly one succeeds.

A call is a pickled (target, method, args, kwargs) with its length before it; the answer
a pickled (True, value) or (False, exception). The same calls serve each worker's own
objects to the others (`serve_objects`: the journal, which every worker keeps of its own
requests and any worker lists). The socket lives in a directory only this user can
enter (mkdtemp's 0700), so only the mock's own processes reach it; a message is still
bounded, so that a broken one cannot make the state process allocate without end.
A worker's thread opens its own connection on its first call.

A read of the inferred resources (`item`, `items_page`: READS) is answered by the worker
from what it read before while the shared count of the store's changes has not moved
since: the state process counts up after every other call to the store, before it
answers, so a change a client was told of is never read from before it. (A Petstore read
with two workers: a round trip, and the state process's 68 us of CPU, saved.) What a
worker keeps is bounded in count and in bytes: a page may hold a whole collection.

A rule that takes a function (`change_item`: a merge or patch the behaviour computes) runs
as a compare-and-swap from the worker: the item is read, changed there, and written only
if nobody changed it in between (`swap_item`), else read again.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import os
import pickle
import shutil
import signal
import socket
import struct
import tempfile
import threading
import time
from collections.abc import Callable, Collection, Mapping
from typing import Any

from mockserver.sockets import set_timeout
from mockserver.store.base import FixtureUsers
from mockserver.store.budget import StateLimits, json_value_bytes
from mockserver.store.fixtures import Fixtures, User
from mockserver.store.items import copied
from mockserver.store.memory import MemoryStore
from mockserver.store.redis_store import StoreUnavailable

# The store's rules a worker calls: every public method of the memory store, but those
# that stay in the worker (what only the fixtures answer) or take a function. (`load` is
# both: called there, and the worker keeps the fixtures it sent.) Of the other objects, any
# public method may be called.
LOCAL = frozenset({"find_user_by_email", "change_item"})  # session_ended: called there, when it must
RULES = frozenset(
    name
    for name in dir(MemoryStore)
    if not name.startswith("_") and callable(getattr(MemoryStore, name)) and name not in LOCAL
)
STORE = "store"
READS = frozenset({"item", "items_page"})  # change nothing; kept by the workers (see above)
KEPT_READS = 256  # answers a worker keeps; all dropped when full, or past KEPT_READ_BYTES
KEPT_READ_BYTES = 16 * 1024 * 1024  # their memory (json_value_bytes): a page may hold every item
MAX_MESSAGE_BYTES = 256 * 1024 * 1024  # past any state the budget allows (state_bytes)
SWAP_ATTEMPTS = 100
# A call the state process has not answered by then ends in a 503 (StoreUnavailable), as a
# Redis call does (redis_store.py): a worker serves every connection on one loop, which
# waits for the call. The connection is closed, so a late answer is never read as another's.
CALL_TIMEOUT_SECONDS = 5.0
NOT_ENDED_KEPT = 10_000  # sessions a worker remembers as not ended
_HEADER = struct.Struct("!Q")
_FIRST_READ = 64 * 1024


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
    # A connection carries one message at a time, each way in turn: a first read of up to
    # _FIRST_READ takes the length and most messages whole, one system call (and one
    # release of the GIL) where a read of the length, then of the rest, took two.
    data = conn.recv(_FIRST_READ)
    if len(data) < _HEADER.size:
        data += _receive_exactly(conn, _HEADER.size - len(data))
    (size,) = _HEADER.unpack_from(data)
    if size > MAX_MESSAGE_BYTES:
        raise EOFError(f"a message of {size} bytes")
    body = data[_HEADER.size :]
    if len(body) < size:
        body += _receive_exactly(conn, size - len(body))
    elif len(body) > size:
        raise EOFError("more than one message at a time")
    return pickle.loads(body)


def start_state_process(hosted: Mapping[str, Callable[[], Any]], changes: Any = None) -> StateProcess:
    """Fork the process that holds the objects `hosted` makes (each factory is called
    there, once, on its first call: an object that starts threads must be made in the
    process it serves); the connection for this process and every worker forked after it.
    An object made before (the store) is handed over in a closure; the caller no longer
    uses it. `changes`: the shared count of the store's changes (see above)."""
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
            gc.freeze()  # what it holds at start stays: no full collection walks it (cli.py says why)
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the parent stops it
            signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
            threading.Thread(target=_watch_parent, args=(parent,), name="parent-watch", daemon=True).start()
            serve_objects(listener, _Made(hosted), changes)
            code = 0
        finally:
            os._exit(code)
    listener.close()
    return StateProcess(path, pid, directory)


def _watch_parent(parent: int) -> None:
    # A parent killed outright cannot stop the state process; it notices and leaves.
    while os.getppid() == parent:
        time.sleep(1)
    os._exit(0)


class _Made(dict):
    """The hosted objects, each made on its first call."""

    def __init__(self, factories: Mapping[str, Callable[[], Any]]) -> None:
        super().__init__()
        self.factories = factories
        self.lock = threading.Lock()

    def __missing__(self, target: str) -> Any:
        with self.lock:
            if target not in self:
                self[target] = self.factories[target]()
            return dict.__getitem__(self, target)


def serve_objects(listener: socket.socket, objects: Mapping[str, Any], changes: Any = None) -> None:
    """Answer calls to the public methods of `objects` (the store's: its RULES) on
    `listener`, a thread per connection, counting up `changes` after each call to the
    store but its READS; never returns."""
    counting = threading.Lock()  # the threads' counts must not overwrite each other's
    while True:
        conn, _ = listener.accept()
        threading.Thread(
            target=_answer, args=(objects, conn, changes, counting), name="state-call", daemon=True
        ).start()


def _answer(objects: Mapping[str, Any], conn: socket.socket, changes: Any, counting: threading.Lock) -> None:
    with conn:
        while True:
            try:
                target, method, args, kwargs = _receive(conn)
            except (EOFError, OSError, pickle.UnpicklingError, ValueError, TypeError):
                return  # the worker closed it, or ended
            try:
                if method.startswith("_") or (target == STORE and method not in RULES):
                    raise LookupError(f"no method {target}.{method}")
                reply = (True, getattr(objects[target], method)(*args, **kwargs))
            except Exception as error:
                reply = (False, error)
            if changes is not None and target == STORE and method not in READS:
                with counting:  # after the change, before the answer
                    changes.value += 1
            try:
                _send(conn, reply)
            except (pickle.PicklingError, TypeError, AttributeError) as error:
                _send(conn, (False, RuntimeError(f"{target}.{method}: the answer cannot be sent: {error}")))
            except OSError:
                return


class StateProcess:
    """Calls to the objects of the process listening at `path`: a connection per thread,
    opened on its first call (a forked worker's threads open their own)."""

    def __init__(
        self, path: str, pid: int | None = None, directory: str | None = None, timeout: float = CALL_TIMEOUT_SECONDS
    ) -> None:
        self.path = path
        self.pid = pid  # of the state process, for the parent that stops it; None for a peer
        self.directory = directory
        self.timeout = timeout
        self._local = threading.local()

    def call(self, target: str, method: str, *args: Any, **kwargs: Any) -> Any:
        conn = getattr(self._local, "conn", None)
        sent = False
        try:
            if conn is None or self._local.pid != os.getpid():
                conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                set_timeout(conn, socket.SO_RCVTIMEO, self.timeout)
                set_timeout(conn, socket.SO_SNDTIMEO, self.timeout)
                conn.connect(self.path)
                self._local.conn, self._local.pid = conn, os.getpid()
            _send(conn, (target, method, args, kwargs))
            sent = True
            ok, value = _receive(conn)
        except (OSError, EOFError) as error:
            self._local.conn = None
            with contextlib.suppress(OSError):
                if conn is not None:
                    conn.close()
            if isinstance(error, BlockingIOError):  # SO_RCVTIMEO's or SO_SNDTIMEO's EAGAIN
                happened = "did not answer" if sent else "could not be asked"
                maybe = " (what it was asked may still take effect)" if sent else ""
                raise StoreUnavailable(
                    f"The mock's state process {happened} {target}.{method} within {self.timeout:g} s{maybe}"
                ) from None
            raise StoreUnavailable(f"The mock's state process is unavailable: {error}") from None
        if not ok:
            raise value
        return value

    def disconnect(self) -> None:
        """Close this thread's connection (a later call opens another)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def close(self) -> None:
        """Stop the state process (the parent, as the mock stops), and close this
        thread's connection to it."""
        self.disconnect()
        if self.pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGTERM)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(self.pid, 0)
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)


class StateClient:
    """The store as the app sees it, each rule a call to the state process; what only
    the fixtures answer (the users) is answered here."""

    kind = "memory"
    problems: list[str] = []

    def __init__(
        self, process: StateProcess, fixtures: Fixtures, limits: StateLimits, endings: Any, changes: Any
    ) -> None:
        """`endings`: the shared count of sessions ended, which the store counts up;
        `changes`: of the store's changes, which the state process counts up."""
        self.process = process
        self.fixtures = fixtures
        self.limits = limits
        self._users_by_email = {user.email.lower(): user for user in fixtures.users.values()}
        self._endings = endings
        self._not_ended: dict[str, int] = {}  # session ID -> the count of endings when it had not ended
        self._changes = changes
        # a read -> the count of changes when read, its answer, its cost (json_value_bytes)
        self._kept: dict[tuple, tuple[int, Any, int]] = {}
        self._kept_bytes = 0

    @property
    def users(self) -> Mapping[str, User]:
        return FixtureUsers(self)

    def find_user_by_email(self, email: str) -> User | None:
        return self._users_by_email.get(email.lower())

    def load(self, fixtures: Fixtures) -> None:
        """Start over from other fixtures (a reset re-reads the files). The other workers
        keep the users they had, as other replicas on one Redis do, until they restart."""
        self.process.call(STORE, "load", fixtures)
        self.fixtures = fixtures
        self._users_by_email = {user.email.lower(): user for user in fixtures.users.values()}

    def session_ended(self, session_id: str) -> bool:
        """Asked of the state process only when a session ended since this one was last
        found not to have (every authenticated request asks: a round trip saved)."""
        endings = self._endings.value
        if self._not_ended.get(session_id) == endings:
            return False
        ended = self.process.call(STORE, "session_ended", session_id)
        if not ended:
            if len(self._not_ended) >= NOT_ENDED_KEPT:
                self._not_ended.clear()
            self._not_ended[session_id] = endings
        return ended

    def __getattr__(self, name: str) -> Callable[..., Any]:
        # Only for a name not found otherwise: each rule's call is made once, then found.
        if name not in RULES:
            raise AttributeError(name)
        call = functools.partial(self.process.call, STORE, name)
        setattr(self, name, call)
        return call

    def item(self, resource: str, scope: tuple[str, ...], item_id: str) -> Any:
        return self._read("item", (resource, scope, item_id), resource, scope, item_id)

    def items_page(
        self,
        resource: str,
        scope: tuple[str, ...],
        where: Mapping[str, Collection[str]],
        start: int,
        size: int | None,
    ) -> tuple[list[Any], int]:
        wanted = tuple(sorted((name, tuple(sorted(values))) for name, values in where.items()))
        return self._read("items_page", (resource, scope, wanted, start, size), resource, scope, where, start, size)

    def _read(self, method: str, key: tuple, *args: Any) -> Any:
        """The answer of a READ, as kept while nothing changed since it was read (a copy:
        the caller may change it), or as the state process gives it."""
        changes = self._changes.value  # before the call: a change during it moves the count
        kept = self._kept.get((method, key))
        if kept is not None and kept[0] == changes:
            return copied(kept[1])
        answer = self.process.call(STORE, method, *args)
        if kept is not None:  # out of date
            del self._kept[method, key]
            self._kept_bytes -= kept[2]
        cost = json_value_bytes(answer)
        if cost > KEPT_READ_BYTES:
            return answer
        if len(self._kept) >= KEPT_READS or self._kept_bytes + cost > KEPT_READ_BYTES:
            self._kept.clear()
            self._kept_bytes = 0
        self._kept[method, key] = (changes, copied(answer), cost)
        self._kept_bytes += cost
        return answer

    def change_item(
        self, resource: str, scope: tuple[str, ...], item_id: str, change: Callable[[Any], Any]
    ) -> tuple[Any, Any]:
        """As the memory store's: the change computed here, written only onto the item it
        was computed from."""
        for _ in range(SWAP_ATTEMPTS):
            previous = self.process.call(STORE, "item", resource, scope, item_id)
            changed = change(copied(previous))
            if self.process.call(STORE, "swap_item", resource, scope, item_id, previous, changed):
                return previous, changed
        raise StoreUnavailable(f"{resource} {item_id} kept changing under {SWAP_ATTEMPTS} attempts to change it")
