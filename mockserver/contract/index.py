"""The contract, loaded and indexed once at start-up.

`Contract` holds the document (any OpenAPI 3.0/3.1, read by loading.py and repaired by
repairs.py, with a warning for each repair) and one `Operation` per path and method,
which the routing stage turns into routes. As written, it is what the validating proxy
checks a real server against; with `Additions`, it is the document the mock serves: the
failures the mock sends undeclared, declared (additions.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from mockserver.contract.additions import Additions, add_error_responses
from mockserver.contract.loading import Problem, SpecError, escape, load_document
from mockserver.contract.repairs import openapi_version, repair

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

__all__ = ["Additions", "Contract", "Operation", "SpecError"]


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


def claimed_literals(template: str, templates: list[str]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """For each parameter of `template`, the literals that sibling templates put in its
    place, all else being equal (OpenAPI matches concrete paths before templated ones)."""
    segments = template.split("/")
    if not any(_is_parameter(segment) for segment in segments):
        return ()  # nothing to claim (most paths of a large document: each compared with every other)
    claimed: dict[str, list[str]] = {}
    depth = template.count("/")
    for other in templates:
        if other == template or other.count("/") != depth:
            continue
        others = other.split("/")
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
    """The document at `path`, as written; with `additions`, as the mock serves it."""

    def __init__(self, path: Path, additions: Additions | None = None) -> None:
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
        self.served = False
        if additions is not None:
            self.serve(additions)

    def serve(self, additions: Additions) -> None:
        """Declare, in place, what the mock sends undeclared (`additions`): the document as
        the mock serves it, and validates against. Once; what read the document as written
        before (the resource model) stays as it was."""
        if self.served:
            raise RuntimeError("the contract is served already")
        self.served = True
        self.problems += add_error_responses(self.source, self.operations, additions)

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
            if "?" in path:  # the OpenAI description's /responses?beta=true
                plain = path.split("?")[0]
                served = f"{plain}'s operations answer and check it" if plain in paths else "it finds no route"
                self._warn(
                    f"/paths/{escape(path)}",
                    f"a query in a path is not OpenAPI: whatever its query, a request to {plain} is that path,"
                    f" and {served}",
                )
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


def _default_server_url(document: dict) -> str:
    servers = document.get("servers") or [{"url": "/"}]
    server = servers[0] if isinstance(servers, list) and isinstance(servers[0], dict) else {"url": "/"}
    url = str(server.get("url", "/"))
    for name, variable in (server.get("variables") or {}).items():
        url = url.replace("{" + name + "}", str((variable or {}).get("default", "")))
    if "://" not in url:
        url = "http://127.0.0.1" + ("/" + url.lstrip("/") if url else "/")
    return url
