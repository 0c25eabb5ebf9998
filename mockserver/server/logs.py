"""Logging for `mockserver serve`: records on stderr, their control characters escaped.

Flask, waitress and the mock log request paths (decoded: `%0A` is a newline) and
exception messages; escaped, none of them can start a line that looks like a record of
its own. A traceback keeps its lines, each indented under its record.
"""

from __future__ import annotations

import logging
import re
import sys
import time
from collections.abc import Callable
from typing import TextIO

# C0 and C1 controls, DEL, and the Unicode line and paragraph separators.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def escape(text: str) -> str:
    """`text` with each control character written as its Python escape (`\\n`, `\\x00`)."""
    return _CONTROL.sub(lambda match: match.group().encode("unicode_escape").decode("ascii"), text)


class EscapingFormatter(logging.Formatter):
    _second: tuple[int, str] = (-1, "")  # a second, and its date and time as written

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        # Formatter's own, but its strftime made once a second, not once a line (a request).
        if datefmt is not None:
            return super().formatTime(record, datefmt)
        second, text = self._second
        if int(record.created) != second:
            second = int(record.created)
            text = time.strftime(self.default_time_format, self.converter(record.created))
            self._second = (second, text)
        return self.default_msec_format % (text, record.msecs)

    def format(self, record: logging.LogRecord) -> str:
        # Not Formatter.format: it reuses a traceback text another handler cached unescaped.
        record.message = record.getMessage()
        if self.usesTime():
            record.asctime = self.formatTime(record, self.datefmt)
        text = escape(self.formatMessage(record))
        trace = self.formatException(record.exc_info) if record.exc_info else record.exc_text
        for extra in (trace, record.stack_info and self.formatStack(record.stack_info)):
            if extra:
                text += "\n" + _indented(extra.rstrip("\n"))
        return text


def _indented(text: str) -> str:
    return "\n".join("    " + escape(line) for line in text.split("\n"))


class BatchingHandler(logging.StreamHandler):
    """A stream handler that, once `batch` is called, keeps its INFO lines until `flush`
    writes them in one write: the event loop flushes after each pass over its connections,
    whose requests would otherwise cost a write each (half of what an access log line
    costs). A line waits at most one pass (the loop passes at least every 0.1 s); a warning
    or an error is written at once, with the lines before it."""

    def __init__(self, stream: TextIO | None = None) -> None:
        super().__init__(stream)
        self.batched = False
        self._lines: list[str] = []

    def batch(self) -> Callable[[], None]:
        """Keep the lines from now on; the flush for the event loop's `after_pass`. Called
        where the loop runs: a worker after its fork, so that the parent, which runs no
        loop, writes its lines at once and no line is kept in two processes."""
        self.batched = True
        return self.flush

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._lines.append(self.format(record) + self.terminator)  # under the handler's lock
        except Exception:
            self.handleError(record)
            return
        if not self.batched or record.levelno >= logging.WARNING:
            self.flush()

    def flush(self) -> None:
        with self.lock:
            if not self._lines:
                return
            text, self._lines = "".join(self._lines), []
            try:
                self.stream.write(text)
                self.stream.flush()
            except (OSError, ValueError):  # stderr closed or gone: the lines are lost, the mock serves on
                pass


def configure_logging(stream: TextIO | None = None) -> BatchingHandler:
    """Send INFO and above of every logger to `stream` (stderr), escaped; returns the
    handler (its lines not yet batched)."""
    # What the format does not print is not gathered for each record (the Logging HOWTO's
    # "Optimization"): the caller's frame, the thread, the process. The access log writes
    # one record a request.
    logging._srcfile = None
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    handler = BatchingHandler(stream or sys.stderr)
    handler.setFormatter(EscapingFormatter("%(asctime)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    return handler
