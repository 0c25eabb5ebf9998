"""What the workers of one mock (`serve --workers N`) share, so that N processes answer as
one: the state process (store/state_process.py) holds the store when the state is in
memory, the fault rules, the paths deleted of operations without a behaviour, and the
failed-attempt windows of the rate limit. Each worker keeps a journal of its own requests,
numbered from one count, and lists every worker's: it calls the others through their own
sockets, beside the state process's, so that a request is listed as soon as it is
answered, whichever worker answered it and whichever is asked.

A worker asks the state process about fault rules and deletions only when there are any:
the state process keeps their number in memory every process maps (multiprocessing's
RawValue, inherited across fork), so a mock without them pays nothing for them.
"""

from __future__ import annotations

import contextlib
import functools
import glob
import os
import socket
import threading
from collections.abc import Callable
from multiprocessing import RawValue, Value
from typing import Any

from werkzeug.datastructures import MultiDict

from mockserver.controls.faults import Rule, RuleBook
from mockserver.controls.journal import Journal, read_filters
from mockserver.pipeline.respond.negotiate import DeletedPaths
from mockserver.server.rate_limit import new_limiter
from mockserver.store.memory import MemoryStore
from mockserver.store.redis_store import StoreUnavailable
from mockserver.store.state_process import STORE, StateClient, StateProcess, serve_objects, start_state_process

FAULTS, DELETED, FAILURES, JOURNAL = "faults", "deleted", "failures", "journal"
JOURNAL_SOCKETS = "journal-*.sock"


class Shared:
    """The state process of `workers` workers, and each shared piece as a worker uses it.
    With `store` (the state in memory), the state process holds it: `self.store` is its
    client; else the workers open their own store (Redis)."""

    def __init__(self, workers: int, seed: int | None, store: MemoryStore | None = None) -> None:
        self.workers = workers
        self.rules = RawValue("q", 0)
        self.deletions = RawValue("q", 0)
        self.journal_ids = Value("q", 0)  # with a lock of its own, across processes
        hosted: dict[str, Callable[[], Any]] = {
            FAULTS: lambda: RuleBook(seed, self.rules),
            DELETED: lambda: DeletedPaths(self.deletions),
            FAILURES: new_limiter,  # made there: its storage starts a timer thread
        }
        self.store = None
        if store is not None:
            store.endings = RawValue("q", 0)
            hosted[STORE] = lambda: store
        self.changes = None if store is None else RawValue("q", 0)  # of the store, counted by the state process
        self.process = start_state_process(hosted, self.changes)
        if store is not None:
            self.store = StateClient(self.process, store.fixtures, store.limits, store.endings, self.changes)
        self.journals: list[WorkersJournal] = []

    def rule_book(self) -> SharedRuleBook:
        return SharedRuleBook(self.process, self.rules)

    def deleted_paths(self) -> SharedDeletedPaths:
        return SharedDeletedPaths(self.process, self.deletions)

    def failures(self) -> Remote:
        return Remote(self.process, FAILURES)

    def journal(self, size: int, secret_names: tuple[str, ...] | list[str], max_bytes: int | None) -> WorkersJournal:
        """This worker's journal (the state's journal budget split between the workers),
        listed with the others'."""
        share = None if max_bytes is None else max_bytes // self.workers
        journal = WorkersJournal(Journal(size, secret_names, share, _Count(self.journal_ids)), self.process.directory)
        self.journals.append(journal)
        return journal

    def worker_started(self) -> None:
        """In each worker, once forked: its journal answers the others."""
        for journal in self.journals:
            journal.listen()

    def close(self) -> None:
        self.process.close()


class SharedRuleBook:
    """The state process's fault rules (controls/faults.py's RuleBook), asked only when
    there are any."""

    def __init__(self, process: StateProcess, active: Any) -> None:
        self.process, self.active = process, active

    def take(self, operation_id: str) -> Rule | None:
        return self.process.call(FAULTS, "take", operation_id) if self.active.value else None

    def add(self, fields: dict[str, Any]) -> Rule:
        return self.process.call(FAULTS, "add", fields)

    def listing(self) -> list[dict[str, Any]]:
        return self.process.call(FAULTS, "listing")

    def remove(self, rule_id: str) -> bool:
        return self.process.call(FAULTS, "remove", rule_id)

    def clear(self) -> None:
        self.process.call(FAULTS, "clear")


class SharedDeletedPaths:
    """The state process's deleted paths (negotiate.py's DeletedPaths), asked only when
    there are any."""

    def __init__(self, process: StateProcess, count: Any) -> None:
        self.process, self.count = process, count

    def gone(self, path: str) -> bool:
        return bool(self.count.value) and self.process.call(DELETED, "gone", path)

    def deleted(self, path: str) -> None:
        self.process.call(DELETED, "deleted", path)

    def created(self, path: str) -> None:
        if self.count.value:
            self.process.call(DELETED, "created", path)

    def clear(self) -> None:
        self.process.call(DELETED, "clear")


class Remote:
    """An object of the state process, each public method a call (the rate limit's limiter)."""

    def __init__(self, process: StateProcess, target: str) -> None:
        self.process, self.target = process, target

    def __getattr__(self, name: str) -> Callable[..., Any]:
        if name.startswith("_"):
            raise AttributeError(name)
        return functools.partial(self.process.call, self.target, name)


class WorkersJournal:
    """A worker's journal: it records this worker's requests; its listing and clearing
    reach every worker's, through the socket each serves its journal on (`listen`)."""

    def __init__(self, journal: Journal, directory: str) -> None:
        self.journal = journal
        self.size = journal.size
        self.record = journal.record
        self.directory = directory
        self._peers: dict[str, StateProcess] = {}

    def listen(self) -> None:
        path = os.path.join(self.directory, JOURNAL_SOCKETS.replace("*", str(os.getpid())))
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(path)
        listener.listen(64)
        threading.Thread(
            target=serve_objects, args=(listener, {JOURNAL: self.journal}), name="journal-peer", daemon=True
        ).start()

    def listing(self, filters: MultiDict) -> list[dict[str, Any]]:
        """The newest entries of every worker that match `filters`, newest first, at most
        the journal's size (a 400 ApiError for a malformed filter, before any is asked)."""
        plain, limit = read_filters(filters)
        limit = self.size if limit is None else min(limit, self.size)
        documents = [document for peer in self._each_peer() for document in peer("selection", plain, limit)]
        documents.sort(key=lambda document: document["id"], reverse=True)
        return documents[:limit]

    def clear(self) -> None:
        for peer in self._each_peer():
            peer("clear")

    def _each_peer(self):
        for path in sorted(glob.glob(os.path.join(glob.escape(self.directory), JOURNAL_SOCKETS))):
            peer = self._peers.get(path) or self._peers.setdefault(path, StateProcess(path))
            yield functools.partial(_ask_peer, peer)


def _ask_peer(peer: StateProcess, method: str, *args: Any) -> Any:
    # A worker that is stopping (the mock stops with it) has nothing more to list.
    with contextlib.suppress(StoreUnavailable):
        return peer.call(JOURNAL, method, *args)
    return []


class _Count:
    """Numbers counted up across processes (the journal's entry IDs)."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def __iter__(self) -> _Count:
        return self

    def __next__(self) -> int:
        with self.value.get_lock():
            self.value.value += 1
            return self.value.value
