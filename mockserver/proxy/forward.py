"""The validating proxy: `mockserver proxy --upstream URL`.

Every request is forwarded to the upstream server with its method, raw path and query,
headers (Host set to the upstream's; hop-by-hop headers, which belong to one connection,
dropped) and body; every response comes back as the upstream sent it (status, headers,
body bytes, redirects not followed, chunked when it was chunked), plus a header
`X-Contract-Violations: N`. On the way both halves are checked against the contract:
the request with the mock's own validators (pipeline/validate/), the response with
responses.py. What breaks the contract is recorded (violations.py) and served
at /__mock/violations. The other /__mock paths are forwarded like any other.

Responses are read into memory up to BUFFER_LIMIT bytes, so that their body is checked
before the header goes out; a longer one is streamed on unchecked (its status and
headers are still checked). An upstream that cannot be reached is a 502, one that does
not answer in time a 504, both in the API's Error envelope and recorded.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import urllib3
from flask import Flask, Response, g, jsonify, request
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    NewConnectionError,
    ReadTimeoutError,
)
from werkzeug.exceptions import HTTPException

from mockserver import settings
from mockserver.contract.index import HTTP_METHODS, Contract, Operation
from mockserver.contract.loading import escape
from mockserver.errors import ApiError, envelope
from mockserver.pipeline.guards import LOOPBACK_HOSTS
from mockserver.pipeline.route import route_operations
from mockserver.pipeline.validate.request import RequestValidator
from mockserver.proxy.responses import Document, Finding, ResponseValidator, seen_text
from mockserver.proxy.violations import Exchange, ViolationLog
from mockserver.redaction import Redactor, contract_names

VIOLATIONS_PATH = "/__mock/violations"
BUFFER_LIMIT = 4 * 1024 * 1024  # a response body up to this size is checked before it is sent on
CHUNK = 64 * 1024
# Headers of one connection, not of the message (RFC 9110 section 7.6.1), and those a
# WSGI application may not set; the server writes its own framing.
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "trailers",
    "transfer-encoding",
    "upgrade",
}
FILTERS = ("operationId", "status", "method", "path")


@dataclass(frozen=True)
class ProxySettings:
    upstream: str  # e.g. https://staging.example.com (a path, if any, prefixes every request)
    timeout: float = 30.0  # seconds to connect, and between bytes of the answer
    reject_invalid_requests: bool = False
    report_dir: Path | None = Path("reports/proxy")
    admin_token: str | None = None
    connections: int = 8  # kept-alive connections to the upstream (more requests at once open more)
    # Host names the proxy answers to, on every request (a web page that rebinds its own
    # name to 127.0.0.1 must not reach the upstream or read what passed); None: any, as
    # behind a reverse proxy (--shared).
    trusted_hosts: tuple[str, ...] | None = LOOPBACK_HOSTS


class PassthroughResponse(Response):
    """A response whose headers are the upstream's: no Content-Type or Content-Length added."""

    default_mimetype = None
    automatically_set_content_length = False


def check_upstream(url: str) -> str:
    """The upstream URL without a trailing slash; ValueError unless it is http(s)://host[:port][/path]."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ValueError(f"--upstream must be an http:// or https:// URL without a query, not {url!r}")
    return url.rstrip("/")


class Upstream:
    """The server the proxy forwards to, over a pool of kept-alive connections (urllib3)."""

    def __init__(self, proxy_settings: ProxySettings) -> None:
        self.base = check_upstream(proxy_settings.upstream)
        self.host = urlsplit(self.base).netloc
        self.pool = urllib3.PoolManager(
            maxsize=proxy_settings.connections,
            block=False,  # more threads than connections open extra ones rather than wait
            retries=False,  # errors raise at once; nothing is sent twice
            timeout=urllib3.Timeout(connect=proxy_settings.timeout, read=proxy_settings.timeout),
        )

    def close(self) -> None:
        """Close the kept-alive connections."""
        self.pool.clear()

    def send(self, method: str, target: str, headers: list[tuple[str, str]], body) -> urllib3.BaseHTTPResponse:
        return self.pool.urlopen(
            method,
            self.base + target,
            body=body,
            headers=urllib3.HTTPHeaderDict(headers),
            redirect=False,
            preload_content=False,
            decode_content=False,  # the bytes as sent, Content-Encoding and all
            assert_same_host=False,
        )


def request_headers(environ: dict, upstream_host: str) -> list[tuple[str, str]]:
    """The client's headers as the upstream gets them (WSGI keeps values, not the case of names)."""
    connection_named = {name.strip().lower() for name in environ.get("HTTP_CONNECTION", "").split(",") if name.strip()}
    headers = [("Host", upstream_host)]
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            name = key[5:].replace("_", "-").title()
        elif key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            name = key.replace("_", "-").title()
        else:
            continue
        lowered = name.lower()
        if lowered == "host" or lowered in HOP_BY_HOP or lowered in connection_named or not value:
            continue
        headers.append((name, value))
    return headers


def response_headers(upstream_response: urllib3.BaseHTTPResponse) -> list[tuple[str, str]]:
    headers = upstream_response.headers
    connection_named = {name.strip().lower() for name in headers.get("Connection", "").split(",") if name.strip()}
    return [
        (name, value)
        for name, value in headers.iteritems()
        if name.lower() not in HOP_BY_HOP and name.lower() not in connection_named
    ]


class RequestChecker:
    """The request half: the mock's validators, their field names turned into document pointers."""

    def __init__(self, contract: Contract, document: Document) -> None:
        self.validator = RequestValidator(contract)
        self.document = document

    def check(self, operation: Operation) -> tuple[list[Finding], ApiError | None]:
        """The findings of the current request, and the mock's 400 for it (None: valid)."""
        try:
            self.validator.validate(request)
        except ApiError as exc:
            details = exc.details if isinstance(exc.details, dict) else {"body": str(exc.details)}
            return [self._finding(operation, field, str(message)) for field, message in details.items()], exc
        return [], None

    def _finding(self, operation: Operation, field: str, message: str) -> Finding:
        path_pointer = f"/paths/{escape(operation.path)}"
        operation_pointer = f"{path_pointer}/{operation.method.lower()}"
        for owner_pointer in (operation_pointer, path_pointer):
            owner = self.document.lookup(owner_pointer)
            for index, parameter in enumerate(owner.get("parameters") or []):
                parameter, pointer = self.document.follow(parameter, f"{owner_pointer}/parameters/{index}")
                if parameter.get("name") == field:
                    return Finding(pointer, seen_text(parameter.get("schema")), self._parameter(parameter), message)
        operation_node = self.document.lookup(operation_pointer)
        if "requestBody" not in operation_node:
            return Finding(operation_pointer, None, field, message)
        body, body_pointer = self.document.child(operation_node, operation_pointer, "requestBody")
        if field == "body":
            expected = {"required": body.get("required", False), "content": sorted(body.get("content") or {})}
            return Finding(body_pointer, expected, self._body_text(), message)
        media = (body.get("content") or {}).get("application/json")
        if isinstance(media, dict) and "schema" in media:
            content, content_pointer = self.document.child(body, body_pointer, "content")
            media, media_pointer = self.document.child(content, content_pointer, "application/json")
            schema, pointer = self.document.child(media, media_pointer, "schema")
            properties = schema.get("properties") or {}
            if "is a required property" in message and "required" in schema:
                return Finding(f"{pointer}/required", schema["required"], self._body_field(field), message)
            if field in properties:
                prop, pointer = self.document.child(properties, f"{pointer}/properties", field)
                return Finding(pointer, seen_text(prop), self._body_field(field), message)
            return Finding(pointer, seen_text(schema.get("required")), self._body_field(field), message)
        return Finding(body_pointer, None, self._body_text(), message)

    @staticmethod
    def _parameter(parameter: dict) -> Any:
        location, name = parameter.get("in"), parameter.get("name")
        source = {"query": request.args, "header": request.headers, "cookie": request.cookies}.get(location)
        if location == "path":
            return (request.view_args or {}).get(name)
        return source.get(name) if source is not None else None

    @staticmethod
    def _body_text() -> Any:
        return seen_text(request.get_data(cache=True).decode("utf-8", "replace")) if request.content_length else None

    @staticmethod
    def _body_field(field: str) -> Any:
        document = request.get_json(silent=True)
        return seen_text(document.get(field)) if isinstance(document, dict) else None


class UpstreamBody:
    """The rest of a response too long to hold: streamed on, its end recorded if it fails."""

    def __init__(self, head: list[bytes], upstream_response, on_failure) -> None:
        self.head = head
        self.upstream_response = upstream_response
        self.on_failure = on_failure

    def __iter__(self) -> Iterator[bytes]:
        yield from self.head
        try:
            yield from self.upstream_response.stream(CHUNK, decode_content=False)
        except HTTPError as exc:
            self.on_failure(exc)
            raise

    def close(self) -> None:
        self.upstream_response.release_conn()


class Forwarder:
    """The proxy's last stage: each request checked, forwarded to the upstream, and its
    response checked and passed on; plus the routes of /__mock/violations. Wired into `app`:
    its operations' routes, a catch-all for undocumented paths, its own routes."""

    def __init__(self, app: Flask, contract: Contract, proxy_settings: ProxySettings) -> None:
        self.app = app
        self.contract = contract
        self.proxy_settings = proxy_settings
        self.document = Document(contract.document)
        self.upstream = Upstream(proxy_settings)
        self.responses = ResponseValidator(contract)
        self.requests_checker = RequestChecker(contract, self.document)
        self.violations = ViolationLog()
        self.redactor = Redactor(contract_names(contract.security_schemes))
        self.operations = {operation.operation_id: operation for operation in contract.operations}
        self.every_method = [method.upper() for method in HTTP_METHODS]
        app.extensions["mockserver.contract"] = contract
        app.extensions["mockserver.violations"] = self.violations
        app.extensions["mockserver.proxy"] = proxy_settings
        app.extensions["mockserver.upstream"] = self.upstream
        route_operations(app, contract, self.forward, provide_automatic_options=False)
        for rule in ("/", "/<path:rest>"):
            app.add_url_rule(
                rule, "undocumented", self.undocumented, methods=self.every_method, provide_automatic_options=False
            )
        self._own_routes(app)

    @staticmethod
    def own_route(path: str) -> bool:
        """The proxy's own routes; every other /__mock path is forwarded like any other."""
        return path == VIOLATIONS_PATH or path.startswith(VIOLATIONS_PATH + "/")

    def undocumented(self, **_ignored: str) -> Response:
        return self.forward(None)

    def exchange_of(self, status: int | None = None, headers=(), body: bytes | None = None) -> Exchange:
        return Exchange.redacted(
            self.redactor,
            method=request.method,
            url=self.upstream.base + target_of(request.environ),
            request_headers=request_headers(request.environ, self.upstream.host),
            request_body=request.get_data(cache=True) if g.body_read else None,
            request_type=request.content_type or "",
            status=status,
            response_headers=headers,
            response_body=body,
            response_type=_content_type(headers),
        )

    def record(
        self, findings: list[tuple[str, Finding]], status: int | None, headers=(), body: bytes | None = None
    ) -> int:
        # The exchange is written down (redacted, with its curl line) only when it broke something.
        exchange = self.exchange_of(status, headers, body) if findings else None
        self.violations.record(*self.case_of(), exchange, request.path, findings)
        return len(findings)

    def case_of(self) -> tuple[str, str | None]:
        """The test case name of the current request, and its operationId."""
        operation_id = request.endpoint if request.endpoint in self.operations else None
        # Undocumented methods of a documented path are grouped under its template.
        return operation_id or f"undocumented {request.method} {g.get('template') or request.path}", operation_id

    def error_response(self, exc: ApiError, findings: list[tuple[str, Finding]]) -> Response:
        response = jsonify(envelope(exc, request.path, g.request_id))
        response.status_code = exc.status
        response.headers.update(exc.headers)
        count = self.record(findings, exc.status, response.headers.items(), response.get_data())
        response.headers["X-Contract-Violations"] = str(count)
        return response

    def forward(self, operation: Operation | None) -> Response:
        findings: list[tuple[str, Finding]] = []
        # Bodies past the mock's own limit are streamed on without being read (or checked).
        g.body_read = (request.content_length or 0) <= settings.MAX_BODY_BYTES
        if operation is None:
            if not self.is_preflight():
                findings.append(("undocumented", self.undocumented_finding()))
        elif g.body_read:
            found, refusal = self.requests_checker.check(operation)
            findings += [("request", finding) for finding in found]
            if refusal is not None and self.proxy_settings.reject_invalid_requests:
                return self.error_response(refusal, findings)
        body = (request.get_data(cache=True) or None) if g.body_read else request.stream
        try:
            upstream_response = self.upstream.send(
                request.method, target_of(request.environ), request_headers(request.environ, self.upstream.host), body
            )
        except NewConnectionError as exc:  # refused, unknown host (a subclass of the timeout below)
            return self.upstream_failure(502, "UPSTREAM_UNREACHABLE", "Upstream unreachable", exc, findings)
        except (ConnectTimeoutError, ReadTimeoutError) as exc:
            return self.upstream_failure(504, "UPSTREAM_TIMEOUT", "Upstream timed out", exc, findings)
        except HTTPError as exc:  # reset, TLS, a malformed answer
            return self.upstream_failure(502, "UPSTREAM_UNREACHABLE", "Upstream unreachable", exc, findings)
        return self.relay(operation, upstream_response, findings)

    def upstream_failure(self, status: int, code: str, title: str, exc: Exception, findings) -> Response:
        details = f"{request.method} {self.upstream.base}{target_of(request.environ)}: {exc}"
        failure = Finding("", f"an answer within {self.proxy_settings.timeout:g} s", type(exc).__name__, details)
        return self.error_response(ApiError(status, code, title, details), [*findings, ("upstream", failure)])

    def relay(self, operation: Operation | None, upstream_response, findings) -> Response:
        headers = response_headers(upstream_response)
        head: list[bytes] = []
        size, complete = 0, True
        try:
            for chunk in upstream_response.stream(CHUNK, decode_content=False):
                head.append(chunk)
                size += len(chunk)
                if size > BUFFER_LIMIT:
                    complete = False
                    break
        except ReadTimeoutError as exc:
            upstream_response.release_conn()
            return self.upstream_failure(504, "UPSTREAM_TIMEOUT", "Upstream timed out", exc, findings)
        except HTTPError as exc:
            upstream_response.release_conn()
            return self.upstream_failure(502, "UPSTREAM_UNREACHABLE", "Upstream failed mid-answer", exc, findings)
        body = b"".join(head) if complete else None
        status = upstream_response.status
        if operation is not None:
            header_map = urllib3.HTTPHeaderDict(headers)
            found = self.responses.findings(operation, request.method, status, header_map, body)
            findings += [("response", finding) for finding in found]
            findings += self.derived_findings(operation, status, body, header_map, findings)
        count = self.record(findings, status, headers, body)
        headers.append(("X-Contract-Violations", str(count)))
        if complete:
            upstream_response.release_conn()
            chunked = not any(name.lower() == "content-length" for name, _ in headers)
            # A list is sent with its Content-Length; an iterator as it came, chunked.
            payload: Any = iter(head) if chunked and head else [body]
        else:
            # Streamed after the view has returned: what the record needs of the request, now.
            case, operation_id = self.case_of()
            exchange, path = self.exchange_of(status, headers, None), request.path

            def failed(exc: Exception) -> None:
                failure = Finding("", "the rest of the body", type(exc).__name__, f"upstream failed mid-body: {exc}")
                self.violations.record(case, operation_id, exchange, path, [("upstream", failure)], count=False)

            payload = UpstreamBody(head, upstream_response, failed)
        return PassthroughResponse(payload, status=status, headers=headers, direct_passthrough=True)

    def derived_findings(self, operation, status, body, headers, findings) -> list[tuple[str, Finding]]:
        """What the two halves show together: an invalid request accepted, a valid one
        refused as invalid (the Error envelope's VALIDATION_ERROR, as the self.contract suite reads it)."""
        request_findings = [finding for kind, finding in findings if kind == "request"]
        if request_findings and 200 <= status < 300:
            first = request_findings[0]
            message = f"a request that breaks the contract was accepted ({first.message})"
            return [("response", Finding(first.pointer, "a 4xx refusal", status, message))]
        if not request_findings and status in (400, 422) and body and _error_field(body, "code") == "VALIDATION_ERROR":
            pointer = f"/paths/{escape(operation.path)}/{operation.method.lower()}"
            message = "a request the contract accepts was refused as VALIDATION_ERROR"
            seen = seen_text(_error_field(body, "details"))
            return [("response", Finding(pointer, "no VALIDATION_ERROR", seen, message))]
        return []

    def is_preflight(self) -> bool:
        """A browser's CORS preflight: the browser's question, no operation of the API."""
        return request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers

    def undocumented_finding(self) -> Finding:
        adapter = self.app.url_map.bind_to_environ(request.environ)
        allowed = []
        for method in HTTP_METHODS:
            try:
                endpoint, _ = adapter.match(method=method.upper())
            except HTTPException:
                continue
            if endpoint in self.operations:
                allowed.append(method.upper())
        if allowed:
            path = self.operations[adapter.match(method=allowed[0])[0]].path
            g.template = self.contract.base_path + path
            return Finding(
                f"/paths/{escape(path)}",
                sorted(allowed),
                request.method,
                f"{request.method} is not an operation of {path}",
            )
        return Finding("/paths", "a documented path", request.path, f"{request.path} is not a path of the contract")

    def violation_filters(self) -> dict[str, Any]:
        details = {name: f"unknown filter; use {', '.join(FILTERS)}" for name in set(request.args) - set(FILTERS)}
        status, method = request.args.get("status"), request.args.get("method")
        if status is not None and not (status.isdigit() and 100 <= int(status) <= 599):
            details["status"] = "must be an HTTP status, 100-599"
        if method is not None and method.lower() not in HTTP_METHODS:
            details["method"] = f"must be one of {', '.join(self.every_method)}"
        if details:
            raise ApiError(400, "VALIDATION_ERROR", "Validation failed", details)
        return {
            "operation_id": request.args.get("operationId"),
            "status": int(status) if status is not None else None,
            "method": method,
            "path": request.args.get("path"),
        }

    # --- the proxy's own routes ---------------------------------------------------------

    def _own_routes(self, app: Flask) -> None:
        @self.app.get(VIOLATIONS_PATH, endpoint="__mock.list_violations")
        def list_violations() -> Response:
            chosen = self.violation_filters()
            found = self.violations.select(**chosen)
            return jsonify(violations=[violation.__dict__ for violation in found], total=len(found))

        @self.app.get(f"{VIOLATIONS_PATH}/junit", endpoint="__mock.junit_report")
        def junit_report() -> Response:
            return Response(self.violations.junit(), mimetype="application/xml")

        @self.app.post(f"{VIOLATIONS_PATH}/report", endpoint="__mock.write_report")
        def write_report() -> Response:
            report = self.violations.report()
            written = {}
            if self.proxy_settings.report_dir is not None:
                json_path, junit_path = self.violations.write_reports(self.proxy_settings.report_dir)
                written = {"json": str(json_path), "junit": str(junit_path)}
            return jsonify(
                summary=self.violations.summary(),
                violationCount=report["violationCount"],
                exchanges=report["exchanges"],
                operations=report["operations"],
                written=written,
            )

        @self.app.post(f"{VIOLATIONS_PATH}/reset", endpoint="__mock.reset_violations")
        def reset_violations() -> Response:
            self.violations.clear()
            return jsonify(message="Violations cleared")


def target_of(environ: dict) -> str:
    """The request target as the client sent it (raw path and query; waitress keeps it)."""
    raw = environ.get("REQUEST_URI")
    if raw and raw.startswith("/"):
        return raw
    query = environ.get("QUERY_STRING")
    return (urllib3.util.parse_url(environ.get("PATH_INFO") or "/").path or "/") + (f"?{query}" if query else "")


def _content_type(headers) -> str:
    return next((value for name, value in headers if name.lower() == "content-type"), "")


def _error_field(body: bytes, name: str) -> Any:
    """A field of an Error envelope body, or None."""
    try:
        document = json.loads(body)
    except ValueError:
        return None
    return document.get(name) if isinstance(document, dict) else None
