"""The request journal: the last API requests and their answers, for GET /__mock/requests.

Recording is on the hot path of every request, so it keeps references only (the body
bytes Flask already holds, the response's bytes, the parsed query); decoding, redaction
and rendering happen when the journal is read. /__mock requests are never recorded.
It keeps the last `size` requests, and fewer when their bodies would pass `max_bytes`
(the state limit journal_bytes): then the oldest go first.
"""

from __future__ import annotations

import fnmatch
import itertools
import json
import re
import threading
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import Any
from urllib.parse import parse_qsl

from werkzeug.datastructures import Headers, MultiDict

from .errors import ApiError

DEFAULT_SIZE = 500
DEFAULT_BYTES = 32 * 1024 * 1024  # the request and response bodies kept, at most
ENTRY_BYTES = 2048  # what an entry costs besides its bodies: its fields, headers and query
REDACTED = "[redacted]"
# Body fields and query parameters whose values never leave the mock: passwords, tokens, secrets.
SECRET_NAME = re.compile(r"password|token|secret|apikey|api_key", re.IGNORECASE)
SECRET_HEADERS = {"authorization", "cookie", "proxy-authorization"}


@dataclass(frozen=True)
class Entry:
    id: int
    time: float
    method: str
    path: str
    query_string: str
    operation_id: str | None
    caller: str | None
    status: int | None  # None: the connection was dropped (a fault rule)
    duration_ms: float
    request_headers: Headers
    request_body: bytes
    request_type: str | None
    response_body: bytes
    response_type: str | None
    validation_errors: Any
    fault: str | None

    @cached_property
    def document(self) -> dict[str, Any]:
        """The entry as the journal lists it: rendered once, when first read (an entry never changes)."""
        document = {
            "id": self.id,
            "time": datetime.fromtimestamp(self.time, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "method": self.method,
            "path": self.path,
            "query": {
                name: [_redact_value(name, v) for v in values]
                for name, values in MultiDict(parse_qsl(self.query_string, keep_blank_values=True)).lists()
            },
            "operationId": self.operation_id,
            "caller": self.caller,
            "status": self.status,
            "durationMs": round(self.duration_ms, 3),
            "requestHeaders": {
                name: REDACTED if name.lower() in SECRET_HEADERS else value for name, value in self.request_headers
            },
            "requestBody": _body(self.request_body, self.request_type),
            "responseBody": _body(self.response_body, self.response_type),
            "validationErrors": _validation_errors(self.validation_errors),
        }
        if self.fault:
            document["fault"] = self.fault
        return document


def _cost(entry: Entry) -> int:
    return ENTRY_BYTES + len(entry.request_body) + len(entry.response_body)


class Journal:
    def __init__(self, size: int = DEFAULT_SIZE, max_bytes: int = DEFAULT_BYTES) -> None:
        self.size = size
        self.max_bytes = max_bytes
        self.entries: deque[Entry] = deque()
        self.bytes = 0  # what the entries kept cost (_cost)
        self.ids = itertools.count(1)
        self.lock = threading.Lock()

    def record(self, **fields: Any) -> None:
        if self.size:
            with self.lock:
                entry = Entry(id=next(self.ids), **fields)
                self.entries.append(entry)
                self.bytes += _cost(entry)
                while len(self.entries) > self.size or (self.bytes > self.max_bytes and len(self.entries) > 1):
                    self.bytes -= _cost(self.entries.popleft())

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()
            self.bytes = 0

    def listing(self, filters: MultiDict) -> list[dict[str, Any]]:
        """The entries, newest first, that match every filter of a GET's query; a 400
        ApiError naming a filter that is malformed."""
        tests = list(_tests(filters))
        limit = _positive("limit", filters.get("limit"))
        with self.lock:
            entries = list(self.entries)
        selected = [entry for entry in reversed(entries) if all(test(entry) for test in tests)]
        return [entry.document for entry in selected[:limit]]


def _tests(filters: MultiDict):
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


def _body(data: bytes, content_type: str | None) -> Any:
    if not data:
        return None
    text = data.decode("utf-8", errors="replace")
    if content_type and "json" in content_type:
        try:
            return _redact(json.loads(text))
        except ValueError:
            pass  # a malformed body is shown as sent
    return text


def _redact(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: REDACTED if SECRET_NAME.search(key) else _redact(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_redact(item) for item in value]
    return value


def _redact_value(name: str, value: str) -> str:
    return REDACTED if SECRET_NAME.search(name) else value


def _validation_errors(details: Any) -> dict[str, str] | None:
    if details is None:
        return None
    if not isinstance(details, dict):
        return {"request": str(details)}
    return {str(key): _redact_value(str(key), str(value)) for key, value in details.items()}
