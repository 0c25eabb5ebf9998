"""The contract, loaded and indexed once at start-up.

`Contract` holds the parsed `openapi.yaml`, the openapi-core validator built from it,
and one `Operation` per path and method, which the app factory turns into routes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml
from openapi_core import Config, OpenAPI
from openapi_core.contrib.flask import FlaskOpenAPIRequest
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIResponse
from openapi_core.testing import MockRequest
from openapi_core.unmarshalling.schemas import oas30_unmarshallers_dict
from openapi_core.unmarshalling.schemas.factories import SchemaUnmarshallersFactory
from openapi_core.unmarshalling.schemas.unmarshallers import PrimitiveUnmarshaller, TypesUnmarshaller
from openapi_core.validation.schemas import oas30_write_schema_validators_factory

from .json_body import strict_json_loads

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

    @property
    def flask_rule(self) -> str:
        return re.sub(r"{(\w+)}", r"<\1>", self.path)


class Contract:
    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.document = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise SpecError(f"{path}: cannot read the spec: {exc}") from exc
        version = self.document.get("openapi") if isinstance(self.document, dict) else None
        if version is not None and not str(version).startswith("3.0."):
            # Request unmarshalling below is set up for OpenAPI 3.0 schemas.
            raise SpecError(f"{path}: the mock serves OpenAPI 3.0 documents, not {version!r}")
        try:
            self.openapi = OpenAPI.from_dict(
                self.document,
                config=Config(
                    extra_media_type_deserializers={"application/json": strict_json_loads},
                    security_provider_factory=_AuthenticatedAlready(),
                    schema_unmarshallers_factory=_VALIDATED_AS_IS,
                ),
            )
        except Exception as exc:  # openapi-core raises several validator-specific types
            raise SpecError(f"{path}: not a valid OpenAPI document: {exc}") from exc
        self.security_schemes: dict[str, dict] = self.document.get("components", {}).get("securitySchemes", {})
        self.operations = tuple(self._index())
        self.server_url = _default_server_url(self.document)

    def _index(self):
        global_security = self.document.get("security", [])
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


# Requests are validated, then handed on as the JSON (and cast parameters) they are.
# openapi-core's own unmarshalling revalidates every nested value and costs ~100 µs a
# value (50 ms per KB of small values); this way a body costs ~1 µs a value. What is
# lost: defaults and format conversions (date-time strings stay strings).
_VALIDATED_AS_IS = SchemaUnmarshallersFactory(
    oas30_write_schema_validators_factory,
    TypesUnmarshaller(dict.fromkeys(oas30_unmarshallers_dict, PrimitiveUnmarshaller), PrimitiveUnmarshaller),
)


class _AuthenticatedAlready:
    """openapi-core's security check, which only looks for a header, left to auth.py:
    it runs before validation and verifies the token itself."""

    def create(self, scheme):
        return lambda parameters: None


def _default_server_url(document: dict) -> str:
    servers = document.get("servers") or [{"url": "/"}]
    server = servers[0]
    url = server["url"]
    for name, variable in server.get("variables", {}).items():
        url = url.replace("{" + name + "}", str(variable["default"]))
    return url if "://" in url else "http://127.0.0.1" + url
