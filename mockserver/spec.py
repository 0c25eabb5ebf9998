"""The contract, loaded and indexed once at start-up.

`Contract` holds the parsed `openapi.yaml`, the openapi-core validator built from it,
one `Operation` per path and method, which the app factory turns into routes, and the
request validators compiled for each operation (request_validators.py).
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from pathlib import Path

import yaml
from openapi_core import Config, OpenAPI
from openapi_core.contrib.flask import FlaskOpenAPIRequest
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIResponse
from openapi_core.testing import MockRequest
from werkzeug.routing import BaseConverter

from .json_body import strict_json_loads
from .request_validators import compile_request_validators

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


class SpecError(Exception):
    """The spec file cannot be served: unreadable, invalid, or asks for unsupported features."""


@dataclass(frozen=True)
class Operation:
    operation_id: str
    method: str  # upper case, as Flask wants it
    path: str  # the spec's template, e.g. /api/chat/projects/{projectId}/...
    # Alternatives of the spec's `security`: one of them must be met; each is
    # a tuple of scheme names that must all be met. Empty: no authentication.
    security: tuple[tuple[str, ...], ...]
    # Per path parameter, the literal values a more concrete sibling path claims:
    # `/messages/read` is not `/messages/{messageId}` with messageId "read".
    claimed: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @property
    def flask_rule(self) -> str:
        claimed = dict(self.claimed)

        def rule_part(match: re.Match) -> str:
            name = match.group(1)
            if name in claimed:
                literals = ", ".join(repr(literal) for literal in claimed[name])
                return f"<except({literals}):{name}>"
            return f"<{name}>"

        return re.sub(r"{(\w+)}", rule_part, self.path)


class ExceptConverter(BaseConverter):
    """A path segment, except the given literals (`<except('read'):messageId>`)."""

    def __init__(self, url_map, *literals: str) -> None:
        super().__init__(url_map)
        self.regex = "(?!(?:" + "|".join(re.escape(literal) for literal in literals) + ")$)[^/]+"


def claimed_literals(template: str, templates: list[str]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """For each parameter of `template`, the literals that sibling templates put in its
    place, all else being equal (OpenAPI matches concrete paths before templated ones)."""
    segments = template.split("/")
    claimed: dict[str, list[str]] = {}
    for other in templates:
        others = other.split("/")
        if other == template or len(others) != len(segments):
            continue
        differing = [i for i, (a, b) in enumerate(zip(segments, others, strict=True)) if _differ(a, b)]
        if len(differing) == 1:
            i = differing[0]
            if _is_parameter(segments[i]) and not _is_parameter(others[i]):
                claimed.setdefault(segments[i][1:-1], []).append(others[i])
    return tuple((name, tuple(literals)) for name, literals in claimed.items())


def _is_parameter(segment: str) -> bool:
    return segment.startswith("{") and segment.endswith("}")


def _differ(a: str, b: str) -> bool:
    return a != b and not (_is_parameter(a) and _is_parameter(b))


class Contract:
    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.document = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise SpecError(f"{path}: cannot read the spec: {exc}") from exc
        try:
            self.openapi = OpenAPI.from_dict(
                self.document,
                config=Config(
                    extra_media_type_deserializers={"application/json": strict_json_loads},
                    extra_format_validators={"byte": _is_base64},
                    security_provider_factory=_AuthenticatedAlready(),
                ),
            )
        except Exception as exc:  # openapi-core raises several validator-specific types
            raise SpecError(f"{path}: not a valid OpenAPI document: {exc}") from exc
        self.security_schemes: dict[str, dict] = self.document.get("components", {}).get("securitySchemes", {})
        self.operations = tuple(self._index())
        self.server_url = _default_server_url(self.document)
        self.request_validators = compile_request_validators(
            self.openapi, self.document, self.operations, strict_json_loads
        )

    def _index(self):
        global_security = self.document.get("security", [])
        templates = list(self.document.get("paths", {}))
        for path, item in self.document.get("paths", {}).items():
            for method in HTTP_METHODS:
                if method not in item:
                    continue
                op = item[method]
                if "operationId" not in op:
                    raise SpecError(f"{self.path}: {method.upper()} {path} has no operationId")
                security = op.get("security", global_security)
                for requirement in security:
                    for name in requirement:
                        if name not in self.security_schemes:
                            raise SpecError(f"{self.path}: {op['operationId']} uses undefined security scheme {name}")
                yield Operation(
                    operation_id=op["operationId"],
                    method=method.upper(),
                    path=path,
                    security=tuple(tuple(requirement) for requirement in security),
                    claimed=claimed_literals(path, templates),
                )

    def openapi_request(self, request) -> FlaskOpenAPIRequest:
        """Wrap a routed Flask request for openapi-core."""
        return _ContractRequest(request, self.server_url)

    def response_errors(self, method: str, path: str, response) -> list[Exception]:
        """Where a Werkzeug response to `method path` breaks the contract (empty: it conforms)."""
        request = MockRequest(self.server_url, method.lower(), path)
        return list(self.openapi.iter_response_errors(request, WerkzeugOpenAPIResponse(response)))


class _ContractRequest(FlaskOpenAPIRequest):
    """A Flask request as openapi-core sees it: path parameters are the values Flask
    routed on (openapi-core's own URL parsing drops characters such as a newline)."""

    def __init__(self, request, server_url: str) -> None:
        super().__init__(request)
        self._server_url = server_url

    @property
    def host_url(self) -> str:
        # Validation must not depend on the Host the client used (localhost, a LAN
        # address, a proxy): openapi-core wants a URL under one of the spec's servers.
        return self._server_url

    @property
    def method(self) -> str:
        # Flask answers HEAD with the GET view; validate it as the GET it stands for.
        return "get" if self.request.method == "HEAD" else self.request.method.lower()

    @property
    def content_type(self) -> str:
        # Werkzeug's parse of the header: openapi-core's own raises a ValueError on
        # parameters such as `application/json; charset` (no value).
        return self.request.mimetype or "application/octet-stream"


class _AuthenticatedAlready:
    """openapi-core's security check, which only looks for a header, left to auth.py:
    it runs before validation and verifies the token itself."""

    def create(self, scheme):
        return lambda parameters: None


def _is_base64(value: object) -> bool:
    """The `byte` format check, without openapi-schema-validator's UnicodeEncodeError
    (a 500) on a string that is not ASCII."""
    if not isinstance(value, str):
        return True
    try:
        base64.b64decode(value.encode("ascii"), validate=True)
    except ValueError:  # binascii.Error and UnicodeEncodeError both are
        return False
    return True


def _default_server_url(document: dict) -> str:
    servers = document.get("servers") or [{"url": "/"}]
    server = servers[0]
    url = server["url"]
    for name, variable in server.get("variables", {}).items():
        url = url.replace("{" + name + "}", str(variable["default"]))
    return url if "://" in url else "http://127.0.0.1" + url
