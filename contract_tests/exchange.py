"""HTTP calls for scenario tests: each response is checked against openapi.yaml,
and every failed expectation prints a curl line that reproduces the request."""

from __future__ import annotations

import shlex
from dataclasses import dataclass

import requests

from contract_tests.schema import schema

ERROR_FIELDS = ("error", "code", "details", "timestamp", "path", "requestId")


@dataclass
class Exchange:
    response: requests.Response
    secrets: tuple[str, ...] = ()

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
        line = shlex.join(parts)
        for secret in self.secrets:  # the suite's own token stays out of logs
            line = line.replace(f"'Authorization: Bearer {secret}'", '"Authorization: Bearer $CONTRACT_TOKEN"')
        return line

    def fail(self, message: str) -> None:
        body = self.response.text[:500]
        raise AssertionError(f"{message}\n[{self.status}] {body}\nReproduce with:\n    {self.curl()}")

    def conforms(self, operation_id: str) -> Exchange:
        """The response is one that openapi.yaml documents for the operation."""
        try:
            schema.find_operation_by_id(operation_id).validate_response(self.response)
        except Exception as exc:  # schemathesis raises a FailureGroup describing each violation
            self.fail(f"response breaks openapi.yaml for {operation_id}: {exc}")
        return self

    def expect(self, status: int, hint: str = "") -> Exchange:
        if self.status != status:
            self.fail(f"expected status {status}, got {self.status}" + (f" ({hint})" if hint else ""))
        return self

    def expect_error(self, status: int, code: str | None = None) -> dict:
        """A documented error response in the Error shape; 401s carry a Bearer challenge."""
        self.expect(status)
        if not self.response.headers.get("Content-Type", "").startswith("application/json"):
            self.fail("error response is not JSON")
        body = self.json()
        if not isinstance(body, dict) or not {"error", "code"} <= body.keys():
            self.fail("error body lacks the Error fields `error` and `code`")
        if code is not None and body["code"] != code:
            self.fail(f"expected error code {code}, got {body['code']}")
        if status == 401 and not self.response.headers.get("WWW-Authenticate", "").lower().startswith("bearer"):
            self.fail("a 401 must carry a `WWW-Authenticate: Bearer ...` challenge (RFC 6750)")
        return body
