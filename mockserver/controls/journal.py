"""The request journal: the last API requests and their answers, for GET /__mock/requests.

Anyone may send requests, refused ones are journaled too: each entry is cut to the
limits of settings.py (JOURNAL_*: bodies, headers, path and query, messages; the sizes
sent are noted) and the journal keeps the newest within a byte budget as well as an entry
count. Recording is on the hot path of every request, so it only slices what Flask holds
already; parsing, redaction (redaction.py) and rendering happen when the journal is read.
/__mock requests are never recorded.
"""

from __future__ import annotations

import fnmatch
import itertools
import re
import threading
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from typing import Any
from urllib.parse import parse_qsl

from werkzeug.datastructures import MultiDict

from mockserver import settings
from mockserver.errors import ApiError
from mockserver.redaction import MARKER, Redactor, redact_tokens

DEFAULT_SIZE = 500
REDACTED = MARKER
# What an entry costs besides its strings and bytes (the entry, its numbers), and each header.
ENTRY_OVERHEAD = 512
HEADER_OVERHEAD = 64
_CONTENT_KEYS = ("CONTENT_TYPE", "CONTENT_LENGTH")


@dataclass
class Entry:
    """One request and its answer, cut to the journal's limits (never changed once kept)."""

    time: float
    method: str
    path: str
    query_string: str
    operation_id: str | None
    caller: str | None
    status: int | None  # None: the connection was dropped (a fault rule)
    duration_ms: float
    request_headers: tuple[tuple[str, str], ...]
    request_headers_truncated: bool  # headers past JOURNAL_HEADERS dropped, or values cut
    request_body: bytes  # at most JOURNAL_BODY_BYTES of it
    request_body_bytes: int  # as sent
    request_type: str | None
    response_body: bytes
    response_body_bytes: int
    response_type: str | None
    validation_errors: Any
    fault: str | None
    cost: int  # bytes counted against the journal's budget
    redactor: Redactor = field(repr=False, compare=False)
    id: int = 0  # given when kept

    @classmethod
    def cut(
        cls,
        redactor: Redactor,
        *,
        time: float,
        method: str,
        path: str,
        query_string: str,
        operation_id: str | None,
        caller: str | None,
        status: int | None,
        duration_ms: float,
        request_headers: Any,
        request_body: bytes,
        request_type: str | None,
        response_body: bytes,
        response_type: str | None,
        validation_errors: Any,
        fault: str | None,
    ) -> Entry:
        """An entry of what was recorded, cut to the journal's limits: slices only, no parsing
        (recording is on the hot path of every request)."""
        text, chars, body_limit = (
            settings.JOURNAL_TEXT_CHARS,
            settings.JOURNAL_HEADER_CHARS,
            settings.JOURNAL_BODY_BYTES,
        )
        method, path, query_string = method[:text], path[:text], query_string[:text]
        headers, headers_cut, cost = _cut_headers(request_headers)
        kept_request, kept_response = request_body[:body_limit], response_body[:body_limit]
        errors = None if validation_errors is None else _cut_errors(validation_errors)
        cost += ENTRY_OVERHEAD + len(method) + len(path) + len(query_string) + len(kept_request) + len(kept_response)
        if errors is not None:
            cost += _size_of_errors(errors)
        return cls(
            time,
            method,
            path,
            query_string,
            operation_id,
            caller,
            status,
            duration_ms,
            headers,
            headers_cut,
            kept_request,
            len(request_body),
            request_type if request_type is None else request_type[:chars],
            kept_response,
            len(response_body),
            response_type if response_type is None else response_type[:chars],
            errors,
            fault,
            cost,
            redactor,
        )

    @cached_property
    def document(self) -> dict[str, Any]:
        """The entry as the journal lists it, redacted: rendered once, when first read (an
        entry never changes)."""
        redactor, found = self.redactor, set()
        query = {
            name: [redactor.query_value(name, value, found) for value in values]
            for name, values in MultiDict(parse_qsl(self.query_string, keep_blank_values=True)).lists()
        }
        headers = dict(redactor.headers(self.request_headers, found))
        request_body = redactor.body(self.request_body, self.request_type, found)
        response_body = redactor.body(self.response_body, self.response_type, found)
        document = {
            "id": self.id,
            "time": datetime.fromtimestamp(self.time, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "method": self.method,
            "path": redact_tokens(self.path),
            "query": query,
            "operationId": self.operation_id,
            "caller": self.caller,
            "status": self.status,
            "durationMs": round(self.duration_ms, 3),
            "requestHeaders": headers,
            "requestHeadersTruncated": self.request_headers_truncated,
            "requestBody": request_body,
            "requestBodyBytes": self.request_body_bytes,
            "requestBodyTruncated": len(self.request_body) < self.request_body_bytes,
            "responseBody": response_body,
            "responseBodyBytes": self.response_body_bytes,
            "responseBodyTruncated": len(self.response_body) < self.response_body_bytes,
            "validationErrors": _validation_errors(self.validation_errors, redactor, found),
        }
        if self.fault:
            document["fault"] = self.fault
        return document


class Journal:
    """The newest `size` entries within `max_bytes`; `secret_names` (the contract's apiKey
    names) are redacted besides the names that look secret (redaction.py)."""

    def __init__(
        self,
        size: int = DEFAULT_SIZE,
        secret_names: tuple[str, ...] | list[str] = (),
        max_bytes: int | None = None,
        ids: Iterator[int] | None = None,
    ) -> None:
        """`ids`: the entries' numbers (by default 1, 2, ...; the workers of one mock
        number theirs from one shared count, server/sharing.py)."""
        self.size = size
        self.max_bytes = settings.JOURNAL_MAX_BYTES if max_bytes is None else max_bytes
        self.redactor = Redactor(secret_names)
        self.entries: deque[Entry] = deque()
        self.bytes = 0  # the cost of the entries kept
        self.ids = itertools.count(1) if ids is None else ids
        self.lock = threading.Lock()

    def record(self, **fields: Any) -> None:
        if not self.size:
            return
        entry = Entry.cut(self.redactor, **fields)
        with self.lock:
            entry.id = next(self.ids)
            self.entries.append(entry)
            self.bytes += entry.cost
            while len(self.entries) > self.size or self.bytes > self.max_bytes:
                self.bytes -= self.entries.popleft().cost

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()
            self.bytes = 0

    def listing(self, filters: MultiDict) -> list[dict[str, Any]]:
        """The entries, newest first, that match every filter of a GET's query; a 400
        ApiError naming a filter that is malformed."""
        plain, limit = read_filters(filters)
        return self.selection(plain, limit)

    def selection(self, filters: Mapping[str, str], limit: int | None) -> list[dict[str, Any]]:
        """The documents of the newest `limit` entries that match `filters`, newest first."""
        tests = list(_tests(filters))
        with self.lock:
            entries = list(self.entries)
        selected = (entry for entry in reversed(entries) if all(test(entry) for test in tests))
        return [entry.document for entry in itertools.islice(selected, limit)]


def read_filters(filters: Mapping[str, str]) -> tuple[dict[str, str], int | None]:
    """A GET's filters, checked (a 400 ApiError naming one that is malformed), as a plain
    mapping, and its limit."""
    plain = filters.to_dict() if isinstance(filters, MultiDict) else dict(filters)
    list(_tests(plain))
    return plain, _positive("limit", plain.get("limit"))


def _tests(filters: Mapping[str, str]):
    operation_id, method = filters.get("operationId"), filters.get("method", "").upper()
    if operation_id is not None:
        yield lambda entry: entry.operation_id == operation_id
    if method:
        yield lambda entry: entry.method == method
    if "status" in filters:
        status = _positive("status", filters["status"])
        yield lambda entry: entry.status == status
    if "path" in filters:
        # fnmatch's [...] classes are escaped: a path filter is literal but for `*`.
        pattern = re.compile(fnmatch.translate(filters["path"].replace("[", "[[]")))
        yield lambda entry: pattern.match(entry.path) is not None


def _positive(name: str, text: str | None) -> int | None:
    if text is None:
        return None
    if not text.isdigit() or int(text) < 1:
        raise ApiError(400, "VALIDATION_ERROR", "Validation failed", {name: f"{text!r} is not a positive integer"})
    return int(text)


def _cut_headers(headers: Any) -> tuple[tuple[tuple[str, str], ...], bool, int]:
    """The first JOURNAL_HEADERS headers, each cut; whether any was dropped or cut; their
    cost. The headers of a request (werkzeug's EnvironHeaders) are read from its environ,
    named as werkzeug names them, in one comprehension (the hot path)."""
    limit, chars = settings.JOURNAL_HEADERS, settings.JOURNAL_HEADER_CHARS
    environ = getattr(headers, "environ", None)
    if environ is None:
        pairs = list(headers)
    else:
        pairs = [
            (key[5:].replace("_", "-").title() if key[:5] == "HTTP_" else key.replace("_", "-").title(), value)
            for key, value in environ.items()
            if key[:5] == "HTTP_" or (key in _CONTENT_KEYS and value)
        ]
    longest = max((max(len(name), len(value)) for name, value in pairs), default=0)
    cut = len(pairs) > limit or longest > chars
    if cut:
        pairs = [(name[:chars], value[:chars]) for name, value in pairs[:limit]]
    cost = sum(len(name) + len(value) for name, value in pairs) + HEADER_OVERHEAD * len(pairs)
    return tuple(pairs), cut, cost


def _cut_errors(details: Any) -> Any:
    """Validation details (a dict of messages, or one message), cut: they may echo the body."""
    text = settings.JOURNAL_TEXT_CHARS
    if not isinstance(details, dict):
        return str(details)[:text]
    return {
        str(key)[:text]: str(value)[:text] for key, value in itertools.islice(details.items(), settings.JOURNAL_HEADERS)
    }


def _size_of_errors(errors: Any) -> int:
    if isinstance(errors, dict):
        return sum(len(key) + len(value) for key, value in errors.items())
    return len(errors or "")


def _validation_errors(details: Any, redactor: Redactor, found: set[str]) -> dict[str, str] | None:
    if details is None:
        return None
    scrub = redactor.scrubber(found)
    if not isinstance(details, dict):
        return {"request": scrub(details)}
    return {key: REDACTED if redactor.is_secret(key) else scrub(value) for key, value in details.items()}
