"""The contract, loaded and indexed once at start-up.

`Contract` holds the document (any OpenAPI 3.0/3.1, read by loading.py and repaired by
repairs.py, with a warning for each repair), the openapi-core validator built from it
(without openapi-core's own full-document validation: repairs.py is the tolerant check),
one `Operation` per path and method, which the app factory turns into routes, and the
request validators compiled for each operation on its first request (request_validators.py).
"""

from __future__ import annotations

import base64
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from flask import request
from openapi_core import Config, OpenAPI
from openapi_core.contrib.flask import FlaskOpenAPIRequest
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIResponse
from openapi_core.schema.schemas import get_properties
from openapi_core.testing import MockRequest
from openapi_core.unmarshalling.request.unmarshallers import V30RequestUnmarshaller, V31RequestUnmarshaller
from openapi_schema_validator import oas30_format_checker, oas31_format_checker
from werkzeug.routing import BaseConverter

from .effective import add_error_responses
from .json_body import strict_json_loads
from .loading import Problem, SpecError, escape, load_document
from .repairs import openapi_version, repair
from .request_validators import Compiler, OperationValidator, Unsupported

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

__all__ = ["Contract", "ExceptConverter", "Operation", "SpecError"]


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
    base_path: str = ""  # the path of the document's first server, e.g. /v1

    @property
    def flask_rule(self) -> str:
        claimed = dict(self.claimed)

        def rule_part(match: re.Match) -> str:
            name = match.group(1)
            variable = flask_variable(name)
            if name in claimed:
                literals = ", ".join(repr(literal) for literal in claimed[name])
                return f"<except({literals}):{variable}>"
            return f"<{variable}>"

        return self.base_path + re.sub(r"{([^{}/]+)}", rule_part, self.path)

    def path_values(self, routed: dict[str, str]) -> dict[str, str]:
        """Flask's routed values under the document's parameter names (`pet-id`, not `p_pet_id`)."""
        names = {flask_variable(name): name for name in re.findall(r"{([^{}/]+)}", self.path)}
        return {names.get(variable, variable): value for variable, value in routed.items()}


def flask_variable(name: str) -> str:
    """A Flask rule variable for a path parameter: the name itself when it is an identifier."""
    if name.isidentifier():
        return name
    return "p_" + re.sub(r"\W", "_", name) + "_" + format(sum(map(ord, name)), "x")


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
        document = load_document(path)
        self.problems: list[Problem] = repair(document)
        self.document = document.data
        self.source = document
        self.version = openapi_version(document)
        self.security_schemes: dict[str, dict] = (self.document.get("components") or {}).get("securitySchemes") or {}
        self.api_key_headers = [
            str(scheme["name"])
            for scheme in self.security_schemes.values()
            if isinstance(scheme, dict) and scheme.get("type") == "apiKey" and scheme.get("in") == "header"
        ]
        self.server_url = _default_server_url(self.document)
        self.base_path = urlsplit(self.server_url).path.rstrip("/")
        self.operations = tuple(self._index())
        self._warn_dropped_headers()
        # What the mock sends undeclared, declared: the document served and validated against.
        self.problems += add_error_responses(document, self.operations)
        try:
            self.openapi = OpenAPI.from_dict(
                self.document,
                config=Config(
                    spec_validator_cls=None,  # repairs.py checked it, tolerantly
                    extra_media_type_deserializers={"application/json": strict_json_loads},
                    extra_format_validators={**_unknown_formats(self.document, self.version), "byte": _is_base64},
                    security_provider_factory=_AuthenticatedAlready(),
                    request_unmarshaller_cls=REQUEST_UNMARSHALLERS[self.version],
                ),
            )
        except Exception as exc:  # openapi-core raises several validator-specific types
            raise SpecError(f"{path}: cannot be served: {exc}") from exc
        self.request_validators = RequestValidators(self)

    def _warn(self, pointer: str, message: str) -> None:
        self.problems.append(self.source.problem(pointer, message))

    def _warn_dropped_headers(self) -> None:
        """waitress (`mockserver serve`) drops every request header whose name has an
        underscore, so that `X_Api_Key` cannot pass for `X-Api-Key` (both are X_API_KEY to
        WSGI): a header parameter or API key so named never reaches the mock."""
        note = "has an underscore: `mockserver serve` (waitress) drops such request headers, so it never arrives"
        for name, scheme in self.security_schemes.items():
            if isinstance(scheme, dict) and scheme.get("in") == "header" and "_" in str(scheme.get("name")):
                self._warn(f"/components/securitySchemes/{escape(name)}/name", f"header {scheme['name']} {note}")
        places = [("/components/parameters", (self.document.get("components") or {}).get("parameters") or {})]
        for path, item in self.document["paths"].items():
            if isinstance(item, dict):
                places.append((f"/paths/{escape(path)}/parameters", dict(enumerate(item.get("parameters") or []))))
                for method in HTTP_METHODS:
                    op = item.get(method)
                    parameters = op.get("parameters") if isinstance(op, dict) else None
                    places.append((f"/paths/{escape(path)}/{method}/parameters", dict(enumerate(parameters or []))))
        for pointer, parameters in places:  # a $ref leads to /components/parameters, seen there
            for key, parameter in parameters.items():
                header = isinstance(parameter, dict) and parameter.get("in") == "header"
                if header and "_" in str(parameter.get("name")):
                    self._warn(f"{pointer}/{escape(str(key))}/name", f"header {parameter['name']} {note}")

    def _index(self):
        global_security = self.document.get("security") or []
        paths = self.document["paths"]
        templates = [path for path in paths if isinstance(path, str)]
        if self.base_path:
            self._warn("/servers/0/url", f"the first server has the base path {self.base_path}: served under it")
        seen: set[str] = set()
        for path, item in paths.items():
            if not isinstance(item, dict) or not isinstance(path, str) or not path.startswith("/"):
                self._warn(f"/paths/{escape(path)}", "not a path item: not served")
                continue
            for method in HTTP_METHODS:
                op = item.get(method)
                if not isinstance(op, dict):
                    continue
                pointer = f"/paths/{escape(path)}/{method}"
                operation_id = op.get("operationId") or f"{method.upper()} {path}"
                if operation_id in seen:
                    self._warn(
                        f"{pointer}/operationId",
                        f"operationId {operation_id} is used already: served as {method.upper()} {path}",
                    )
                    operation_id = f"{method.upper()} {path}"
                seen.add(operation_id)
                security = op.get("security", global_security) or []
                for index, requirement in enumerate(security):
                    for name in requirement:
                        if name not in self.security_schemes:
                            self._warn(
                                f"{pointer}/security/{index}",
                                f"security scheme {name} is not defined: this alternative never admits a request",
                            )
                yield Operation(
                    operation_id=operation_id,
                    method=method.upper(),
                    path=path,
                    security=tuple(tuple(requirement) for requirement in security),
                    claimed=claimed_literals(path, templates),
                    base_path=self.base_path,
                )

    def openapi_request(self, request) -> FlaskOpenAPIRequest:
        """Wrap a routed Flask request for openapi-core."""
        operation = self.request_validators.operations.get(request.endpoint)
        template = self.base_path + operation.path if operation else None
        return _ContractRequest(request, self.server_url, template)

    def response_errors(self, method: str, path: str, response) -> list[Exception]:
        """Where a Werkzeug response to `method path` breaks the contract (empty: it conforms)."""
        request = MockRequest(self.server_url, method.lower(), path)
        return list(self.openapi.iter_response_errors(request, WerkzeugOpenAPIResponse(response)))


class _ContractRequest(FlaskOpenAPIRequest):
    """A Flask request as openapi-core sees it: path parameters are the values Flask
    routed on (openapi-core's own URL parsing drops characters such as a newline)."""

    def __init__(self, request, server_url: str, template: str | None) -> None:
        super().__init__(request)
        self._server_url = server_url
        self._template = template

    @property
    def path_pattern(self) -> str:
        # The document's own template: Flask's rule has converters and renamed variables.
        return self._template or super().path_pattern

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
        # parameters such as `application/json; charset` (no value). Multipart keeps its
        # boundary, which openapi-core needs to split the parts.
        mimetype = self.request.mimetype or "application/octet-stream"
        boundary = self.request.mimetype_params.get("boundary")
        if mimetype.startswith("multipart/") and boundary:
            return f'{mimetype}; boundary="{boundary}"'
        return mimetype


class _WhatTheWireSays:
    """openapi-core's request reading, where it refuses what the document allows:

    - query parameters as OpenAPI 3.0.4/3.1.1 read `allowEmptyValue`: when true, `?q=`
      stands for a parameter not given; else "" is a value like any other, which the
      schema accepts or not (openapi-core refuses every empty value unless it is true);
    - in a form or multipart body, an array property with no field is an empty array:
      the encoding sends nothing for one, so the two are the same bytes."""

    def _deserialise_media_type(self, media_type, mimetype, parameters, value):
        body = super()._deserialise_media_type(media_type, mimetype, parameters, value)
        form = mimetype == "application/x-www-form-urlencoded" or mimetype.startswith("multipart/")
        if form and isinstance(body, dict) and "schema" in media_type:
            for name, schema in get_properties(media_type / "schema").items():
                if name not in body and (schema / "type").read_str("") == "array":
                    body[name] = []
        return body

    def _get_simple_param_or_header(self, param_or_header, location, name=None):
        if (param_or_header / "in").read_str("header") != "query":
            return super()._get_simple_param_or_header(param_or_header, location, name)
        name = name or (param_or_header / "name").read_str()
        schema = param_or_header / "schema"
        try:
            if location.get(name) == "" and (param_or_header / "allowEmptyValue").read_bool(default=False):
                raise KeyError(name)
            return self._deserialise_style(param_or_header, location, name=name), schema
        except KeyError:  # not given: openapi-core's own handling of an absent parameter
            if "default" not in schema:
                raise
            return (schema / "default").read_value(), schema


class _V30RequestUnmarshaller(_WhatTheWireSays, V30RequestUnmarshaller):
    pass


class _V31RequestUnmarshaller(_WhatTheWireSays, V31RequestUnmarshaller):
    pass


REQUEST_UNMARSHALLERS = {"3.0": _V30RequestUnmarshaller, "3.1": _V31RequestUnmarshaller}


class _AuthenticatedAlready:
    """openapi-core's security check, which only looks for a header, left to auth.py:
    it runs before validation and verifies the token itself."""

    def create(self, scheme):
        return lambda parameters: None


def _unknown_formats(document: dict, version: str) -> dict[str, Callable[[object], bool]]:
    """A check that admits any value, for each `format` of the document that openapi-core
    does not know (`objectid`, ...): a format is open-valued in OpenAPI, and JSON Schema
    ignores one it does not know, where openapi-core refuses every value (its issue 515)."""
    known = (oas30_format_checker if version == "3.0" else oas31_format_checker).checkers
    formats: set[str] = set()
    seen: set[int] = set()  # containers shared by YAML aliases are looked into once
    nodes: list = [document]
    while nodes:
        node = nodes.pop()
        if not isinstance(node, dict | list) or id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, dict):
            if isinstance(node.get("format"), str):
                formats.add(node["format"])
            nodes.extend(node.values())
        else:
            nodes.extend(node)
    return {name: _any_value for name in formats - set(known)}


def _any_value(value: object) -> bool:
    return True


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


class RequestValidators:
    """operationId -> its compiled validator (request_validators.py), each compiled on the
    operation's first request, so that start-up does not pay for all of them. None for an
    operation the fast path does not reproduce, and for every OpenAPI 3.1 operation (the
    fast path speaks 3.0's schema dialect): openapi-core validates those."""

    def __init__(self, contract: Contract) -> None:
        self.contract = contract
        self.operations = {operation.operation_id: operation for operation in contract.operations}
        self._compiler: Compiler | None = None
        self._compiled: dict[str, OperationValidator | None] = {}
        self._lock = threading.Lock()

    def get(self, operation_id: str | None) -> OperationValidator | None:
        if operation_id in self._compiled:
            return self._compiled[operation_id]
        operation = self.operations.get(operation_id or "")
        if operation is None or self.contract.version != "3.0":
            return None
        with self._lock:
            if operation_id not in self._compiled:
                self._compiled[operation_id] = self._compile(operation)
        return self._compiled[operation_id]

    def __getitem__(self, operation_id: str) -> OperationValidator:
        validator = self.get(operation_id)
        if validator is None:
            raise KeyError(operation_id)
        return validator

    def _compile(self, operation: Operation) -> OperationValidator | None:
        if self._compiler is None:
            self._compiler = Compiler(self.contract.openapi, self.contract.document, strict_json_loads)
        try:
            return self._compiler.operation(operation.path, operation.method.lower())
        except Unsupported:
            return None


def _default_server_url(document: dict) -> str:
    servers = document.get("servers") or [{"url": "/"}]
    server = servers[0] if isinstance(servers, list) and isinstance(servers[0], dict) else {"url": "/"}
    url = str(server.get("url", "/"))
    for name, variable in (server.get("variables") or {}).items():
        url = url.replace("{" + name + "}", str((variable or {}).get("default", "")))
    if "://" not in url:
        url = "http://127.0.0.1" + ("/" + url.lstrip("/") if url else "/")
    return url


def route_operations(app, contract: Contract, handle: Callable, **options) -> None:
    """A Flask route for each operation of `contract`, its endpoint the operationId:
    `handle(operation)` answers it, with request.view_args as the operation's path values.
    `options`: add_url_rule's own (e.g. provide_automatic_options)."""
    for operation in contract.operations:
        app.add_url_rule(
            operation.flask_rule,
            endpoint=operation.operation_id,
            view_func=_view(operation, handle),
            methods=[operation.method],
            **options,
        )


def _view(operation: Operation, handle: Callable):
    def view(**_path_params: str):
        request.view_args = operation.path_values(request.view_args or {})
        return handle(operation)

    return view
