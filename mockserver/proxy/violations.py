"""What the validating proxy saw break the contract, and its reports.

Each violation is one finding of one exchange: which operation (or none: undocumented),
where in the document, what was expected and seen, the exchange with its secrets
redacted, and a curl line that sends the request again (to the upstream server). The
log keeps the newest MAX_KEPT of them, counts every exchange per operation, and writes
the report as JSON and as JUnit XML (one test case per operation seen, failed when it
had violations) for CI.
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
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from mockserver.errors import rfc3339_now
from mockserver.pipeline.validate.json_body import strict_json_loads

log = logging.getLogger("mockserver.proxy")

MAX_KEPT = 10_000
SUMMARY_NAMES = 10  # test cases named in the log's summary line
MAX_BODY_CHARS = 4096
REDACTED = "REDACTED"
SECRET_HEADERS = {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key"}
SECRET_FIELDS = re.compile(r"password|secret|token|apikey|api_key|privatekey|credential", re.IGNORECASE)
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

    @property
    def case_name(self) -> str:
        return self.operationId or f"undocumented {self.method} {self.path}"


def xml_text(text: str) -> str:
    return NOT_IN_XML.sub(lambda match: match.group().encode("unicode_escape").decode("ascii"), text)


def redact_headers(headers: Iterable[tuple[str, str]], secret_headers: set[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in headers:
        shown = REDACTED if name.lower() in secret_headers else value
        out[name] = f"{out[name]}, {shown}" if name in out else shown
    return out


def redact_body(body: bytes | None, content_type: str) -> str | None:
    """The body as text for the record: JSON with secret-looking fields redacted, text as
    it is, binary as its size; cut at MAX_BODY_CHARS."""
    if body is None:
        return None
    if not body:
        return ""
    if "json" in content_type:
        try:
            text = json.dumps(_redact_json(strict_json_loads(body)), ensure_ascii=False)
        except (ValueError, UnicodeError):  # too deep or too large for the mock's own reader too
            text = None
        if text is not None:
            return text if len(text) <= MAX_BODY_CHARS else text[:MAX_BODY_CHARS] + "..."
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return f"<{len(body)} bytes of {content_type or 'binary data'}>"
    return text if len(text) <= MAX_BODY_CHARS else text[:MAX_BODY_CHARS] + "..."


def _redact_json(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            key: REDACTED if SECRET_FIELDS.search(str(key)) and isinstance(item, str) else _redact_json(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_redact_json(item) for item in value]
    return value


def curl_line(method: str, url: str, headers: Mapping[str, str], body: str | None) -> str:
    """A curl command that sends the request again; redacted headers come from the shell
    environment (`-H "Authorization: $AUTHORIZATION"`) so the line holds no secret."""
    parts = ["curl", "-i"] + (["-X", method] if method not in ("GET", "HEAD") else ["-I"] if method == "HEAD" else [])
    parts.append(shlex.quote(url))
    for name, value in headers.items():
        if name.lower() in ("host", "content-length"):
            continue  # curl sets these
        if value == REDACTED:
            variable = re.sub(r"\W", "_", name.upper())
            parts += ["-H", f'"{name}: ${variable}"']
        else:
            parts += ["-H", shlex.quote(f"{name}: {value}")]
    if body:
        parts += ["--data-binary", shlex.quote(body)]
    return " ".join(parts)


class ViolationLog:
    """Thread-safe record of the exchanges the proxy saw and what they broke."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._kept: deque[Violation] = deque(maxlen=MAX_KEPT)
        self.exchanges: Counter[str] = Counter()  # test case name -> exchanges
        self.failures: Counter[str] = Counter()  # test case name -> violations
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
        if exchange is None or not findings:
            with self._lock:
                self.exchanges[case_name] += count
            return []
        curl = curl_line(exchange.method, exchange.url, exchange.request_headers, exchange.request_body)
        recorded = []
        with self._lock:
            self.exchanges[case_name] += count
            for kind, finding in findings:
                violation = Violation(
                    id=next(self._ids),
                    time=rfc3339_now(),
                    kind=kind,
                    operationId=operation_id,
                    method=exchange.method,
                    path=path,
                    status=exchange.status,
                    pointer=finding.pointer,
                    expected=finding.expected,
                    seen=finding.seen,
                    message=finding.message,
                    exchange=asdict(exchange),
                    curl=curl,
                )
                self._kept.append(violation)
                self.failures[case_name] += 1
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

    def select(
        self,
        operation_id: str | None = None,
        status: int | None = None,
        method: str | None = None,
        path: str | None = None,
    ) -> list[Violation]:
        """The kept violations that match every filter given (path: exact, or a glob with *)."""
        with self._lock:
            kept = list(self._kept)
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
            self.exchanges.clear()
            self.failures.clear()
            self.total = 0

    def report(self) -> dict:
        with self._lock:
            violations = [asdict(v) for v in self._kept]
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
            for violation in self._kept:
                by_case.setdefault(violation.case_name, []).append(violation)
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
