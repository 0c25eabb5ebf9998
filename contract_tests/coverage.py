"""What a run of the suite exercised, against what the document declares.

Every response the suite sees (the scenarios', the lifecycle checks', schemathesis's
generated cases) is recorded with the test that sent it. The report gives, for each
operation and declared status, whether a response had it and from which tests; the
statuses and content types the server sent that the document does not declare; and the
share of operations and of declared statuses covered. `CONTRACT_COVERAGE_MIN` (a share,
0.8, or a percentage, 80%) fails a run whose share of operations is below it.
"""

from __future__ import annotations

import json
import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from mockserver.contract.index import Contract
from mockserver.contract.pointers import follow

MAX_TESTS_LISTED = 3


@dataclass
class _Operation:
    operation_id: str
    method: str
    path: str
    pattern: re.Pattern
    declared: dict[str, set[str]]  # status key (200, 4XX, default) -> media types
    seen: dict[str, set[str]] = field(default_factory=dict)  # status key -> tests
    undeclared: dict[str, set[str]] = field(default_factory=dict)  # "500" or "200 text/html" -> tests


class Coverage:
    def __init__(self, contract: Contract) -> None:
        self.contract = contract
        self._lock = threading.Lock()
        self.operations: list[_Operation] = []
        for operation in contract.operations:
            op = contract.document["paths"][operation.path][operation.method.lower()]
            declared = {}
            for key, response in (op.get("responses") or {}).items():
                response, _ = follow(contract.document, response, "", default=None)
                content = response.get("content") if isinstance(response, dict) else None
                declared[str(key)] = {str(m).split(";")[0].strip().lower() for m in (content or {})}
            template = re.escape(contract.base_path + operation.path)
            pattern = re.compile(re.sub(r"\\\{[^}]*\\\}", "[^/]+", template) + "/?$")
            self.operations.append(
                _Operation(operation.operation_id, operation.method, operation.path, pattern, declared)
            )
        # Literal paths first: /pet/findByStatus before /pet/{petId}.
        self._matching = sorted(self.operations, key=lambda o: o.path.count("{"))

    def record(self, method: str, url: str, status: int, content_type: str | None, test: str) -> None:
        path = urlsplit(url).path
        operation = next((o for o in self._matching if o.method == method.upper() and o.pattern.match(path)), None)
        if operation is None:
            return
        key = _declared_key(status, operation.declared)
        media = (content_type or "").split(";")[0].strip().lower()
        with self._lock:
            if key is None:
                operation.undeclared.setdefault(str(status), set()).add(test)
                return
            operation.seen.setdefault(key, set()).add(test)
            declared_media = operation.declared[key]
            if media and declared_media and not any(_media_matches(media, d) for d in declared_media):
                operation.undeclared.setdefault(f"{status} {media}", set()).add(test)

    def hook(self, test: str):
        """A requests response hook recording each response for `test`."""

        def record(response, *args, **kwargs):
            self.record(response.request.method, response.request.url, response.status_code,
                        response.headers.get("Content-Type"), test)  # fmt: skip

        return record

    # --- the report ---------------------------------------------------------------------

    def document(self) -> dict[str, Any]:
        operations = []
        for o in self.operations:
            operations.append(
                {
                    "operationId": o.operation_id,
                    "method": o.method,
                    "path": o.path,
                    "statuses": {key: sorted(o.seen.get(key, ())) for key in o.declared},
                    "undeclared": {key: sorted(tests) for key, tests in o.undeclared.items()},
                }
            )
        total_statuses = sum(len(o.declared) for o in self.operations)
        covered_statuses = sum(1 for o in self.operations for key in o.declared if o.seen.get(key))
        covered = sum(1 for o in self.operations if o.seen or o.undeclared)
        return {
            "operations": operations,
            "operationsCovered": covered,
            "operationsTotal": len(self.operations),
            "operationShare": round(covered / len(self.operations), 4) if self.operations else 1.0,
            "statusesCovered": covered_statuses,
            "statusesTotal": total_statuses,
            "statusShare": round(covered_statuses / total_statuses, 4) if total_statuses else 1.0,
            "undeclared": sum(len(o.undeclared) for o in self.operations),
        }

    def lines(self) -> list[str]:
        """The report as a table: one row per operation, each declared status ✓ or ✗."""
        report = self.document()
        width = max((len(f"{o.method} {o.path}") for o in self.operations), default=10)
        rows = [f"{'OPERATION'.ljust(width)}  DECLARED STATUSES (✓ exercised, ✗ not)  UNDECLARED SEEN"]
        for o in self.operations:
            marks = " ".join(f"{key}{'✓' if o.seen.get(key) else '✗'}" for key in o.declared)
            undeclared = ", ".join(f"{key} ({_tests(tests)})" for key, tests in sorted(o.undeclared.items()))
            rows.append(f"{f'{o.method} {o.path}'.ljust(width)}  {marks}  {undeclared}".rstrip())
        rows.append(
            f"operations covered: {report['operationsCovered']}/{report['operationsTotal']} "
            f"({report['operationShare']:.0%}); declared statuses: {report['statusesCovered']}/"
            f"{report['statusesTotal']} ({report['statusShare']:.0%}); undeclared seen: {report['undeclared']}"
        )
        return rows

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.document(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def minimum_share() -> float | None:
    """CONTRACT_COVERAGE_MIN as a share; ValueError when it is neither 0-1 nor a percentage."""
    text = (os.environ.get("CONTRACT_COVERAGE_MIN") or "").strip()
    if not text:
        return None
    value = float(text.rstrip("%")) / (100 if text.endswith("%") or float(text.rstrip("%")) > 1 else 1)
    if not 0 <= value <= 1:
        raise ValueError(f"CONTRACT_COVERAGE_MIN={text!r}: give a share (0.8) or a percentage (80%)")
    return value


def _declared_key(status: int, declared: dict[str, set[str]]) -> str | None:
    for key in (str(status), f"{status // 100}XX", f"{status // 100}xx", "default"):
        if key in declared:
            return key
    return None


def _media_matches(media: str, declared: str) -> bool:
    if declared in ("*/*", media):
        return True
    return declared.endswith("/*") and media.startswith(declared[:-1])


def _tests(tests: set[str]) -> str:
    names = sorted(tests)
    shown = ", ".join(names[:MAX_TESTS_LISTED])
    return shown + (f" +{len(names) - MAX_TESTS_LISTED}" if len(names) > MAX_TESTS_LISTED else "")
