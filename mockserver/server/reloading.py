"""`serve --watch`: the fixtures and the contract reloaded when their files change.

The server serves a `SwappableApp`, which hands each request to the Flask app of the
moment. What a reload does to the state:
- fixture files changed: the state starts over from them, as after POST /__mock/reset
  (sessions end too, so clients log in again);
- the contract changed (its file, or one its `$ref`s point to): a new Flask app
  (routes, validators, examples) is built around the same store and swapped in
  whole; the state, sessions and inferred resources' items included, carries over
  (the new document's seeds apply from the next reset). Requests already running
  finish on the old app.
An edit that does not load changes nothing: the last good version keeps serving, and
every error found is logged (one record each). watchfiles (Rust `notify`: inotify,
FSEvents, ...) batches the events of one save, so a reload follows a save within about
its 50 ms step.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

import watchfiles
from flask import Flask

from mockserver.contract.index import SpecError
from mockserver.store import Store
from mockserver.store.fixtures import FixtureError

log = logging.getLogger("mockserver.reload")
logging.getLogger("watchfiles").setLevel(logging.WARNING)  # its "N changes detected": ours say what they did


class SwappableApp:
    """A WSGI app that serves whichever Flask app was swapped in last."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)  # one read of the attribute: swaps are atomic


class Watcher:
    """Watches the contract's files and the fixture folder; reloads on a thread of its own."""

    def __init__(self, app: Flask, spec: Path, fixtures: Path, build: Callable[[Store], Flask]) -> None:
        self.app = SwappableApp(app)
        self.spec = spec.resolve()
        self.fixtures = fixtures.resolve()
        self._build = build  # a new app for the current contract, around the given store
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        ready = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(ready,), name="mockserver-watch", daemon=True)
        self._thread.start()
        ready.wait(timeout=10)

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=10)

    def _spec_files(self) -> set[Path]:
        """The contract's files: the --spec file and those its `$ref`s point to (as last loaded)."""
        return {self.spec, *self.app.app.extensions["mockserver.contract"].source.files}

    def _folders(self) -> set[Path]:
        # Folders, not files: editors save by writing a new file and renaming it over the old.
        return {path.parent for path in self._spec_files()} | {self.fixtures}

    def _run(self, ready: threading.Event) -> None:
        while not self._stop.is_set():
            folders = self._folders()
            # watchfiles starts watching at the first next(); a batch, empty on timeout, tells it has.
            changes = watchfiles.watch(
                *folders,
                watch_filter=self._concerns,
                recursive=False,
                stop_event=self._stop,
                rust_timeout=200,
                yield_on_timeout=True,
                raise_interrupt=False,
            )
            for batch in changes:
                ready.set()
                if batch:
                    try:
                        self.reload({Path(path) for _change, path in batch})
                    except Exception:  # the watcher must outlive any one reload
                        log.exception("reload failed")
                if self._folders() != folders:
                    changes.close()  # the contract now refers to files elsewhere: watch those folders
                    break

    def _concerns(self, _change: watchfiles.Change, path: str) -> bool:
        path = Path(path)
        return path in self._spec_files() or (path.parent == self.fixtures and path.suffix in {".yaml", ".yml"})

    def reload(self, changed: set[Path]) -> None:
        """Reload what `changed` touches; log, and keep serving the last good version, on errors."""
        app = self.app.app
        if any(path.parent == self.fixtures for path in changed):
            try:
                app.extensions["mockserver.reload_fixtures"]()
            except FixtureError as exc:
                for error in exc.errors:
                    log.error("fixtures not reloaded: %s", error)
            else:
                log.info("fixtures reloaded from %s; the state starts over from them", self.fixtures)
        if changed & self._spec_files():
            try:
                new = self._build(app.extensions["mockserver.store"])
            except SpecError as exc:
                log.error("contract not reloaded: %s", exc)
                return
            for problem in new.extensions["mockserver.startup"]["problems"]:
                log.warning("contract reloaded with a warning: %s", problem)
            self.app.app = new
            log.info(
                "contract reloaded from %s: %d operations",
                self.spec,
                len(new.extensions["mockserver.contract"].operations),
            )
