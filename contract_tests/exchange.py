"""HTTP calls for scenario tests: each response is checked against openapi.yaml,
and every failed expectation prints a curl line that reproduces the request, with every
credential the suite holds as its variable (redaction.py)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote, urlparse

import requests
from schemathesis.errors import FailureGroup

# schemathesis's response checks, run on the scenario tests' own requests.
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from contract_tests.redaction import SECRETS
from contract_tests.schema import schema

CONFORMANCE_CHECKS = [
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@dataclass
class Exchange:
    response: requests.Response

    @property
    def status(self) -> int:
        return self.response.status_code

    def json(self):
        return self.response.json()

    def curl(self) -> str:
        request = self.response.request
        parts = ["curl", "-i", "-X", request.method]
        for name, value in request.headers.items():
            if name.lower() in {"content-type", "authorization"}:
                parts += ["-H", f"{name}: {value}"]
        body = request.body
        if body:
            parts += ["--data-binary", body.decode("utf-8", "replace") if isinstance(body, bytes) else body]
        parts.append(request.url)
        return SECRETS.shell_join(parts)  # no credential of the suite's in a log

    def fail(self, message: str) -> None:
        body = self.response.text[:500]
        raise AssertionError(SECRETS.redact(f"{message}\n[{self.status}] {body}\nReproduce with:\n    ") + self.curl())

    def conforms(self, operation_id: str) -> Exchange:
        """The response is one that openapi.yaml documents for the operation."""
        operation = schema.find_operation_by_id(operation_id)
        case = operation.Case(path_parameters=self._path_parameters(operation.path))
        try:
            case.validate_response(self.response, checks=CONFORMANCE_CHECKS)
        except FailureGroup as group:
            problems = "; ".join(f"{failure.title}: {failure.message}" for failure in group.exceptions)
            self.fail(f"response breaks openapi.yaml for {operation_id}: {problems}")
        return self

    def _path_parameters(self, template: str) -> dict[str, str]:
        """The values the request put in the operation's path template."""
        pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template)) + "$"
        match = re.search(pattern, urlparse(self.response.request.url).path)
        return {name: unquote(value) for name, value in match.groupdict().items()} if match else {}

    def expect(self, status: int, hint: str = "") -> Exchange:
        if self.status != status:
            self.fail(f"expected status {status}, got {self.status}" + (f" ({hint})" if hint else ""))
        return self

    def expect_error(self, status: int, code: str | None = None, challenge: bool = True) -> dict:
        """A documented error response in the Error shape; 401s carry a Bearer challenge,
        unless no bearer token was at stake (`challenge=False`: a refresh token)."""
        self.expect(status)
        if not self.response.headers.get("Content-Type", "").startswith("application/json"):
            self.fail("error response is not JSON")
        body = self.json()
        if not isinstance(body, dict) or not {"error", "code"} <= body.keys():
            self.fail("error body lacks the Error fields `error` and `code`")
        if code is not None and body["code"] != code:
            self.fail(f"expected error code {code}, got {body['code']}")
        if (
            status == 401
            and challenge
            and not self.response.headers.get("WWW-Authenticate", "").lower().startswith("bearer")
        ):
            self.fail("a 401 must carry a `WWW-Authenticate: Bearer ...` challenge (RFC 6750)")
        return body

    def expect_rule_violation(self) -> dict:
        """A 400 for a business rule: the request was valid, so its code is not VALIDATION_ERROR."""
        body = self.expect_error(400)
        if body["code"] == "VALIDATION_ERROR":
            self.fail("a schema-valid request was answered with code VALIDATION_ERROR")
        return body
