"""What the validating proxy saw break the contract, and its reports.

Each violation is one finding of one exchange: which operation (or none: undocumented),
where in the document, what was expected and seen, the exchange with its secrets
redacted (redaction.py: headers, query, bodies, and what the finding echoes), and a curl
line that sends the request again (to the upstream server). The log counts every exchange
per test case, and writes the report as JSON and as JUnit XML (one test case per
operation seen, failed when it had violations) for CI.

Anyone who can reach the proxy chooses what it records, so everything is bounded
(settings.py, VIOLATION_*): each string of a violation is cut, bodies and headers too;
the log keeps the newest VIOLATIONS_KEPT violations within VIOLATIONS_MAX_BYTES; and past
UNDOCUMENTED_CASES distinct undocumented paths, the others count as one test case,
OTHER_PATHS, so the counters and the JUnit report stay as small.
"""

from __future__ import annotations

import fnmatch
import itertools
import json
import logging
import re
import shlex
import threading
import xml.etree.ElementTree as ET
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from mockserver import settings
from mockserver.errors import rfc3339_now
from mockserver.redaction import MARKER, Redactor, redact_tokens

log = logging.getLogger("mockserver.proxy")

SUMMARY_NAMES = 10  # test cases named in the log's summary line
MAX_BODY_CHARS = settings.VIOLATION_BODY_CHARS
TEXT_CHARS = settings.VIOLATION_TEXT_CHARS
OTHER_PATHS = "undocumented (other paths)"
# What a violation costs besides its strings (the objects, its numbers), and each header.
VIOLATION_OVERHEAD = 512
HEADER_OVERHEAD = 64
# What XML 1.0 cannot hold, and lone surrogates (a client may send any byte): written escaped.
NOT_IN_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# Who broke the contract: the client's request, the server's response, or neither (the
# upstream could not be reached); `undocumented`: the path or method is not in the document.
KINDS = ("request", "response", "undocumented", "upstream")


@dataclass(frozen=True)
class Exchange:
    method: str
    url: str  # the upstream URL the request went to
    request_headers: dict[str, str]
    request_body: str | None
    status: int | None = None
    response_headers: dict[str, str] = field(default_factory=dict)
    response_body: str | None = None
    # Redacts what a finding of this exchange echoes (its seen and message); not recorded.
    scrub: Callable[[Any], Any] = field(default_factory=lambda: Redactor().scrubber(()), repr=False, compare=False)

    @classmethod
    def redacted(
        cls,
        redactor: Redactor,
        method: str,
        url: str,
        request_headers: Iterable[tuple[str, str]],
        request_body: bytes | None,
        request_type: str,
        status: int | None = None,
        response_headers: Iterable[tuple[str, str]] = (),
        response_body: bytes | None = None,
        response_type: str = "",
    ) -> Exchange:
        """The exchange as recorded: secrets redacted, everything cut to its limit."""
        found: set[str] = set()
        return cls(
            method=cut(method, TEXT_CHARS),
            url=cut(redactor.url(url, found), TEXT_CHARS),
            request_headers=bounded_headers(redactor.headers(request_headers, found)),
            request_body=redact_body(request_body, request_type, redactor, found),
            status=status,
            response_headers=bounded_headers(redactor.headers(response_headers, found)),
            response_body=redact_body(response_body, response_type, redactor, found),
            scrub=redactor.scrubber(found),
        )

    def document(self) -> dict[str, Any]:
        """The exchange as the violation shows it."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "scrub"}


@dataclass(frozen=True)
class Violation:
    id: int
    time: str
    kind: str
    operationId: str | None  # noqa: N815 - the JSON field name
    method: str
    path: str
    status: int | None
    pointer: str
    expected: Any
    seen: Any
    message: str
    exchange: dict
    curl: str
    case: str  # the test case it counts in (JUnit)


def xml_text(text: str) -> str:
    return NOT_IN_XML.sub(lambda match: match.group().encode("unicode_escape").decode("ascii"), text)


def cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def bounded_headers(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    """The first VIOLATION_HEADERS headers (repeated ones joined), each cut."""
    out: dict[str, str] = {}
    limit = settings.VIOLATION_HEADER_CHARS
    for name, value in headers:
        name = cut(name, limit)
        if name not in out and len(out) == settings.VIOLATION_HEADERS:
            continue
        out[name] = cut(f"{out[name]}, {value}" if name in out else value, limit)
    return out


def redact_body(body: bytes | None, content_type: str, redactor: Redactor, found: set[str] | None = None) -> str | None:
    """The body as text for the record, redacted (redaction.py: JSON whatever its declared
    type, forms, multipart, text), binary as its size; cut at MAX_BODY_CHARS."""
    if body is None:
        return None
    if not body:
        return ""
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return f"<{len(body)} bytes of {cut(content_type, TEXT_CHARS) or 'binary data'}>"
    redacted = redactor.body(body, content_type, found, text_chars=2 * MAX_BODY_CHARS)
    text = redacted if isinstance(redacted, str) else json.dumps(redacted, ensure_ascii=False)
    return cut(text, MAX_BODY_CHARS)


def bounded(value: Any) -> Any:
    """A seen or expected value as recorded: as it is, unless its JSON is longer than
    TEXT_CHARS, then that JSON cut."""
    if isinstance(value, str):
        return cut(value, TEXT_CHARS)
    text = json.dumps(value, default=str, ensure_ascii=False)
    return value if len(text) <= TEXT_CHARS else cut(text, TEXT_CHARS)


def _echoed(scrub: Callable[[Any], Any], value: Any) -> Any:
    """What a finding echoes, redacted and cut (a long string cut first: redaction is work)."""
    if isinstance(value, str):
        value = value[: 2 * TEXT_CHARS]
    return bounded(scrub(value))


def _size(value: Any) -> int:
    return len(value) if isinstance(value, str) else len(json.dumps(value, default=str))


def curl_line(method: str, url: str, headers: Mapping[str, str], body: str | None) -> str:
    """A curl command that sends the request again; redacted headers come from the shell
    environment (`-H "Authorization: $AUTHORIZATION"`) so the line holds no secret."""
    parts = ["curl", "-i"] + (["-X", method] if method not in ("GET", "HEAD") else ["-I"] if method == "HEAD" else [])
    parts.append(shlex.quote(url))
    for name, value in headers.items():
        if name.lower() in ("host", "content-length"):
            continue  # curl sets these
        if value == MARKER:
            variable = re.sub(r"\W", "_", name.upper())
            parts += ["-H", f'"{name}: ${variable}"']
        else:
            parts += ["-H", shlex.quote(f"{name}: {value}")]
    if body:
        parts += ["--data-binary", shlex.quote(body)]
    return " ".join(parts)


class ViolationLog:
    """Thread-safe record of the exchanges the proxy saw and what they broke."""

    def __init__(
        self, max_kept: int | None = None, max_bytes: int | None = None, undocumented_cases: int | None = None
    ) -> None:
        """Limits default to settings.py's, read now."""
        self.max_kept = settings.VIOLATIONS_KEPT if max_kept is None else max_kept
        self.max_bytes = settings.VIOLATIONS_MAX_BYTES if max_bytes is None else max_bytes
        self.undocumented_cases = settings.UNDOCUMENTED_CASES if undocumented_cases is None else undocumented_cases
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._kept: deque[tuple[Violation, int]] = deque()  # oldest first, with its cost in bytes
        self.bytes = 0  # the cost of the violations kept
        self.exchanges: Counter[str] = Counter()  # test case name -> exchanges
        self.failures: Counter[str] = Counter()  # test case name -> violations
        self._undocumented: set[str] = set()  # the undocumented test cases, but OTHER_PATHS
        self.total = 0

    def record(
        self,
        case_name: str,
        operation_id: str | None,
        exchange: Exchange | None,
        path: str,
        findings: list[tuple[str, Any]],
        count: bool = True,
    ) -> list[Violation]:
        """Count one exchange (unless `count` is false: a finding of one counted already) and
        record its findings ((kind, Finding) pairs); `exchange` may be None when there are none."""
        case_name = cut(redact_tokens(case_name), TEXT_CHARS)
        if exchange is None or not findings:
            with self._lock:
                self.exchanges[self._case(case_name, operation_id)] += count
            return []
        path = cut(redact_tokens(path), TEXT_CHARS)
        curl = curl_line(exchange.method, exchange.url, exchange.request_headers, exchange.request_body)
        document = exchange.document()  # one for all the findings of the exchange
        shared = len(curl) + len(exchange.url) + len(exchange.request_body or "") + len(exchange.response_body or "")
        for headers in (exchange.request_headers, exchange.response_headers):
            shared += sum(len(name) + len(value) + HEADER_OVERHEAD for name, value in headers.items())
        echoed = [
            (kind, finding, _echoed(exchange.scrub, finding.seen), _echoed(exchange.scrub, finding.message))
            for kind, finding in findings
        ]
        recorded = []
        with self._lock:
            case = self._case(case_name, operation_id)
            self.exchanges[case] += count
            for kind, finding, seen, message in echoed:
                violation = Violation(
                    id=next(self._ids),
                    time=rfc3339_now(),
                    kind=kind,
                    operationId=operation_id,
                    method=exchange.method,
                    path=path,
                    status=exchange.status,
                    pointer=cut(finding.pointer, TEXT_CHARS),
                    expected=bounded(finding.expected),
                    seen=seen,
                    message=message if isinstance(message, str) else str(message),
                    exchange=document,
                    curl=curl,
                    case=case,
                )
                cost = VIOLATION_OVERHEAD + shared + len(path) + len(violation.pointer) + len(violation.message)
                cost += _size(violation.expected) + _size(seen)
                self._kept.append((violation, cost))
                self.bytes += cost
                while len(self._kept) > self.max_kept or self.bytes > self.max_bytes:
                    self.bytes -= self._kept.popleft()[1]
                self.failures[case] += 1
                self.total += 1
                recorded.append(violation)
        for violation in recorded:
            log.warning(
                "contract violation (%s) %s %s -> %s: %s [%s]",
                violation.kind,
                violation.method,
                violation.path.encode("unicode_escape").decode("ascii"),
                violation.status,
                violation.message,
                violation.pointer,
            )
        return recorded

    def _case(self, case_name: str, operation_id: str | None) -> str:
        """The test case an exchange counts in: past `undocumented_cases` distinct undocumented
        ones, OTHER_PATHS (under the lock)."""
        if operation_id is not None or case_name in self._undocumented:
            return case_name
        if len(self._undocumented) < self.undocumented_cases:
            self._undocumented.add(case_name)
            return case_name
        return OTHER_PATHS

    def select(
        self,
        operation_id: str | None = None,
        status: int | None = None,
        method: str | None = None,
        path: str | None = None,
    ) -> list[Violation]:
        """The kept violations that match every filter given (path: exact, or a glob with *)."""
        with self._lock:
            kept = [violation for violation, _ in self._kept]
        return [
            v
            for v in kept
            if (operation_id is None or v.operationId == operation_id)
            and (status is None or v.status == status)
            and (method is None or v.method == method.upper())
            and (path is None or v.path == path or ("*" in path and fnmatch.fnmatchcase(v.path, path)))
        ]

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()
            self.bytes = 0
            self.exchanges.clear()
            self.failures.clear()
            self._undocumented.clear()
            self.total = 0

    def report(self) -> dict:
        with self._lock:
            violations = [asdict(v) for v, _ in self._kept]
            operations = {
                name: {"exchanges": count, "violations": self.failures[name]} for name, count in self.exchanges.items()
            }
            total = self.total
        return {
            "generated": rfc3339_now(),
            "exchanges": sum(o["exchanges"] for o in operations.values()),
            "violationCount": total,
            "operations": operations,
            "violations": violations,
        }

    def junit(self) -> bytes:
        """JUnit XML: a test case per operation seen; a failure lists its violations."""
        with self._lock:
            cases = sorted(self.exchanges.items())
            by_case: dict[str, list[Violation]] = {}
            for violation, _ in self._kept:
                by_case.setdefault(violation.case, []).append(violation)
            failures = dict(self.failures)
        suite = ET.Element(
            "testsuite",
            name="contract violations",
            tests=str(len(cases)),
            failures=str(sum(1 for name, _ in cases if failures.get(name))),
            errors="0",
            skipped="0",
        )
        for name, count in cases:
            case = ET.SubElement(suite, "testcase", classname="proxy", name=xml_text(name))
            if failures.get(name):
                failure = ET.SubElement(case, "failure", message=f"{failures[name]} contract violations")
                failure.text = xml_text(
                    "\n\n".join(
                        f"{v.kind}: {v.method} {v.path} -> {v.status}: {v.message}\n"
                        f"  at {v.pointer}\n  expected: {json.dumps(v.expected, default=str)}\n"
                        f"  seen: {json.dumps(v.seen, default=str)}\n  {v.curl}"
                        for v in by_case.get(name, [])
                    )
                )
            ET.SubElement(case, "system-out").text = f"{count} exchanges"  # after <failure>, as the schema orders them
        tree = ET.ElementTree(ET.Element("testsuites"))
        tree.getroot().append(suite)
        return ET.tostring(tree.getroot(), encoding="utf-8", xml_declaration=True)

    def write_reports(self, directory: Path) -> tuple[Path, Path]:
        directory.mkdir(parents=True, exist_ok=True)
        json_path, junit_path = directory / "violations.json", directory / "violations-junit.xml"
        # ASCII, with escapes: what a client sent may hold lone surrogates, which UTF-8 cannot.
        json_path.write_text(json.dumps(self.report(), indent=2, default=str), encoding="utf-8")
        junit_path.write_bytes(self.junit())
        return json_path, junit_path

    def summary(self) -> str:
        with self._lock:
            exchanges = sum(self.exchanges.values())
            failed = sorted(name for name, count in self.failures.items() if count)
            total = self.total
        text = f"{exchanges} exchanges over {len(self.exchanges)} operations, {total} contract violations"
        if len(failed) > SUMMARY_NAMES:
            failed = [*failed[:SUMMARY_NAMES], f"{len(failed) - SUMMARY_NAMES} more"]
        return text + (f" in {', '.join(failed)}" if failed else "")
