"""Choosing what to answer: the status, content type, headers and body of a response.

For an operation without a behaviour, the answer is its declared success (the lowest
2xx), with its preferred content type (JSON first): the declared example, else the first
named example, else the schema's example, else a value generated from the schema
(generate.py). Every candidate is validated against the document when the server
starts; one that breaks its schema is reported with its pointer and line and never sent.
Answers are built once, at start-up: each request gets the same, checked bytes. The one
thing remembered is what was deleted: after a successful DELETE of a path, that path
(and what lies below it) is a 404 until the state is reset.

Errors go through here too: a failure (400, 401, ...) is sent with the status the
operation declares for it (a 401 where it declares 401, else 403, `4XX` or `default`),
in the `Error` envelope when that fits the declared schema, else with the declared
example or a generated body for that status, its most fitting string field (`detail`,
`message`, ...) telling the failure's reasons where it has one (reasons.py). The reasons
are in the `X-Mock-Validation` header of every failure too.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from flask import Response, g, request
from jsonschema.exceptions import best_match
from openapi_schema_validator import (
    OAS30ReadValidator,
    OAS31Validator,
    oas30_format_checker,
    oas31_format_checker,
)
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4, DRAFT202012
from werkzeug.http import is_hop_by_hop_header

from mockserver.contract.loading import Document, Problem, escape
from mockserver.contract.pointers import follow
from mockserver.contract.statuses import error_key, success_key
from mockserver.errors import ApiError, envelope, render
from mockserver.pipeline.respond.encode import dump_json
from mockserver.pipeline.respond.generate import Generator
from mockserver.pipeline.respond.reasons import REASONS_HEADER, header_value, reasons, told
from mockserver.pipeline.validate.schemas import fast_check

NO_BODY_STATUSES = (204, 205, 304)
DOCUMENT_URI = "urn:mockserver:document"
MAX_DELETED_PATHS = 4096  # past it the oldest deletion is forgotten (each request looks through them)


@dataclass(frozen=True)
class Answer:
    status: int
    content_type: str | None
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)

    def response(self) -> Response:
        response = Response(self.body, status=self.status, headers=self.headers)
        if self.content_type:
            response.headers["Content-Type"] = self.content_type
        else:
            response.headers.pop("Content-Type", None)
        return response


class SchemaChecker:
    """Validation of values against the document's schemas, as a response reads them."""

    def __init__(self, data: dict[str, Any], version: str) -> None:
        self.version = version
        self.data = data
        self._compiled: dict[int, Callable[[Any], bool]] = {}  # id(schema) -> its compiled check; schemas live as long
        specification = DRAFT4 if version == "3.0" else DRAFT202012
        resource = Resource.from_contents(data, default_specification=specification)
        registry = Registry().with_resource(DOCUMENT_URI, resource)
        # Each schema checked is a part of the document: its `#/...` refs are the document's.
        self.resolver = registry.resolver(base_uri=DOCUMENT_URI)
        self.cls, self.formats = (
            (OAS30ReadValidator, oas30_format_checker) if version == "3.0" else (OAS31Validator, oas31_format_checker)
        )

    def validator(self, schema: Any):
        """The jsonschema validator of `schema`, a part of the document, as a response reads it."""
        return self.cls(schema, format_checker=self.formats, _resolver=self.resolver)

    def error(self, schema: Any, value: Any) -> str | None:
        """Why `value` breaks `schema` (the most relevant error, with where), or None."""
        error = best_match(self.validator(schema).iter_errors(value))
        if error is None:
            return None
        where = "/" + "/".join(escape(part) for part in error.absolute_path)
        return f"{error.message[:200]} (at {where})"

    def is_valid(self, schema: Any, value: Any) -> bool:
        return self.validator(schema).is_valid(value)  # stops at the first error, unlike `error`

    def is_valid_often(self, schema: Any, value: Any) -> bool:
        """`is_valid` for a schema checked on many requests (an error response's): on a 3.0
        document, first with a check compiled once (never more lenient than the reference),
        which is about ten times faster than the reference."""
        fast = self._compiled.get(id(schema))
        if fast is None:
            fast = _never_sure
            if self.version == "3.0":
                fast = fast_check(self.formats, self.data, schema, reading=True)
            self._compiled[id(schema)] = fast
        return fast(value) or self.is_valid(schema, value)


class DeletedPaths:
    """The request paths of successful DELETEs (of operations without a behaviour), the
    newest MAX_DELETED_PATHS; shared by every request thread (and, in the state process,
    by every worker: server/sharing.py). `count` (a shared number, or None) is kept at
    their number, so that a worker asks only when there are any."""

    def __init__(self, count: Any = None) -> None:
        self.paths: dict[str, None] = {}  # in the order deleted
        self.lock = threading.Lock()
        self.count = count

    def gone(self, path: str) -> bool:
        """Whether `path`, or a path it lies below, was deleted."""
        with self.lock:
            return any(_within(path, deleted) for deleted in self.paths)

    def deleted(self, path: str) -> None:
        with self.lock:
            self.paths.pop(path, None)
            self.paths[path] = None
            while len(self.paths) > MAX_DELETED_PATHS:
                del self.paths[next(iter(self.paths))]
            self._count()

    def created(self, path: str) -> None:
        """`path` is back, and what lies below it may be (every successful POST and PUT
        asks: nothing to do, and no lock, while nothing was deleted)."""
        if not self.paths:
            return
        with self.lock:
            self.paths = {gone: None for gone in self.paths if not _within(gone, path)}
            self._count()

    def clear(self) -> None:
        with self.lock:
            self.paths = {}
            self._count()

    def _count(self) -> None:
        if self.count is not None:
            self.count.value = len(self.paths)


class Negotiator:
    def __init__(self, document: Document, version: str, deleted: DeletedPaths | None = None) -> None:
        self.document = document
        self.data = document.data
        self.checker = SchemaChecker(self.data, version)
        self.generator = Generator(self.data, version, self.checker.is_valid)
        self.problems: list[Problem] = []
        self.reported: set[Problem] = set()
        self.deleted = DeletedPaths() if deleted is None else deleted
        self.lock = threading.Lock()
        self.answers: dict[tuple[str, str], Answer] = {}  # (operationId, status key) -> answer
        self.statuses: dict[str, list[str]] = {}  # operationId -> declared status keys
        self.json_schemas: dict[tuple[str, str], Any] = {}  # (operationId, status key) -> its JSON body's schema
        # For answers forced by a client (prefer.py): (operationId, status key) -> the media
        # type, its declaration and pointer; and the variants built on first use.
        self.media: dict[tuple[str, str], tuple[str, dict, str]] = {}
        self.variants: dict[tuple[str, str, str], Answer] = {}

    # --- start-up ---------------------------------------------------------------------

    def prepare(self, operation_id: str, path: str, method: str) -> None:
        """Build (and check) every declared response of one operation."""
        pointer = f"/paths/{escape(path)}/{method.lower()}"
        responses = self.data["paths"][path][method.lower()].get("responses") or {}
        self.statuses[operation_id] = [str(key) for key in responses]
        for key, response in responses.items():
            self.answers[operation_id, str(key)] = self._answer(
                operation_id, str(key), self._resolve(response), f"{pointer}/responses/{escape(key)}"
            )

    def _answer(self, operation_id: str, key: str, response: Any, pointer: str) -> Answer:
        status = _status_of(key)
        if not isinstance(response, dict):
            return Answer(status, None, b"")
        headers = self._headers(response.get("headers") or {}, f"{pointer}/headers")
        content = response.get("content") or {}
        if not content or status in NO_BODY_STATUSES:
            return Answer(status, None, b"", headers)
        media_type = _preferred(list(content))
        media = self._resolve(content[media_type]) or {}
        if "json" in media_type:
            self.json_schemas[operation_id, key] = media.get("schema", {})
        self.media[operation_id, key] = (media_type, media, f"{pointer}/content/{escape(media_type)}")
        body = self._body(media, f"{pointer}/content/{escape(media_type)}")
        return Answer(status, _concrete(media_type), _serialise(body, media_type), headers)

    def _body(self, media: dict, pointer: str) -> Any:
        schema = media.get("schema", {})
        for where, value in self._examples(media, pointer):
            error = self.checker.error(schema, value)
            if error is None:
                return value
            self._report(where, f"example breaks its schema, not sent: {error}")
        value = self.generator.value(schema, pointer)
        error = self.checker.error(schema, value)
        if error is not None:
            self._report(f"{pointer}/schema", f"no valid value generated: {error}")
        return value

    def _examples(self, media: dict, pointer: str):
        """(pointer, value) of each declared example, in the order they are preferred."""
        if "example" in media:
            yield f"{pointer}/example", media["example"]
        for name, example in (media.get("examples") or {}).items():
            example = self._resolve(example)
            if isinstance(example, dict) and "value" in example:
                yield f"{pointer}/examples/{escape(name)}", example["value"]
        schema, where = self._follow(media.get("schema"), f"{pointer}/schema")
        if isinstance(schema, dict) and "example" in schema:
            yield f"{where}/example", schema["example"]
        if isinstance(schema, dict) and isinstance(schema.get("examples"), list):
            for index, value in enumerate(schema["examples"]):
                yield f"{where}/examples/{index}", value

    def _follow(self, node: Any, pointer: str) -> tuple[Any, str]:
        """`node` with its local $refs followed, and the pointer of what it ends at."""
        return follow(self.generator.document, node, pointer, default={})

    def _report(self, pointer: str, message: str) -> None:
        problem = self.document.problem(pointer, message)
        if problem not in self.reported:
            self.reported.add(problem)
            self.problems.append(problem)

    def _headers(self, headers: dict, pointer: str) -> dict[str, str]:
        out = {}
        for name, header in headers.items():
            header = self._resolve(header)
            # Content-Type is the media type's; a hop-by-hop header (Transfer-Encoding, ...) and
            # Content-Length are the server's to set: WSGI forbids the one (a 500), and the other
            # would lie about the body.
            if name.lower() in ("content-type", "content-length") or is_hop_by_hop_header(name):
                continue
            if not isinstance(header, dict):
                continue
            schema = header.get("schema", {})
            value = header.get("example")
            if value is None or self.checker.error(schema, value):
                value = self.generator.value(schema, f"{pointer}/{escape(name)}", name)
            out[name] = _header_text(value)
        return out

    def _resolve(self, node: Any) -> Any:
        return self.generator.resolve(node)

    # --- per request ----------------------------------------------------------------------

    def success(self, operation_id: str, method: str, path: str) -> Response:
        """The declared success; after a DELETE of `path`, a 404 for it and below it (a
        client that deleted something must not read it back), where the operation declares one."""
        statuses = self.statuses.get(operation_id, [])
        if error_key(404, statuses) and self.deleted.gone(path):
            raise ApiError(404, "NOT_FOUND", "Not found", f"{path} was deleted")
        key = success_key(statuses)
        response = self.answers[operation_id, key].response() if key else Response(status=204)
        if response.status_code < 300 and method in ("DELETE", "POST", "PUT"):
            if method == "DELETE":
                self.deleted.deleted(path)
            else:  # created (again): what was deleted here, or below, may be back
                self.deleted.created(path)
        return response

    def declared_key(self, operation_id: str, status: int) -> str | None:
        """The response key of `operation_id` that declares `status` (exact, its range, or
        default, as Prism looks them up), or None."""
        statuses = self.statuses.get(operation_id, [])
        return next((key for key in (str(status), f"{status // 100}XX", "default") if key in statuses), None)

    def success_key(self, operation_id: str) -> str | None:
        return success_key(self.statuses.get(operation_id, []))

    def example_names(self, operation_id: str, key: str) -> list[str]:
        media = self.media.get((operation_id, key), ("", {}, ""))[1]
        return list(media.get("examples") or {})

    def variant(self, operation_id: str, key: str, status: int, example: str | None, dynamic: bool) -> Answer:
        """The declared response `key` sent as `status`: its named `example`, a body
        generated from its schema (`dynamic`), or the usual answer. KeyError for an
        example the response does not name, ValueError for one that breaks its schema."""
        answer = self.answers[operation_id, key]
        if example is not None or (dynamic and (operation_id, key) in self.media):
            cache_key = (operation_id, key, "" if example is None else f"example:{example}")
            with self.lock:  # built once per key, and the generator is not shared across threads
                if cache_key not in self.variants:
                    self.variants[cache_key] = self._variant(answer, operation_id, key, example)
                answer = self.variants[cache_key]
        return replace(answer, status=status)

    def _variant(self, answer: Answer, operation_id: str, key: str, example: str | None) -> Answer:
        if (operation_id, key) not in self.media:
            raise KeyError(example)  # a response without a body names no example
        media_type, media, pointer = self.media[operation_id, key]
        if example is not None:
            body = self._named_example(media, example)
        else:  # the generator's value, which the start-up checks did not see when an example won
            body = self.generator.value(media.get("schema", {}), f"{pointer}/schema")
            if self.checker.error(media.get("schema", {}), body) is not None:
                return answer
        return replace(answer, body=_serialise(body, media_type))

    def _named_example(self, media: dict, name: str) -> Any:
        example = self._resolve((media.get("examples") or {})[name])
        if not isinstance(example, dict) or "value" not in example:
            raise KeyError(name)
        error = self.checker.error(media.get("schema", {}), example["value"])
        if error is not None:
            raise ValueError(f"example {name!r} breaks its schema: {error}")
        return example["value"]

    def forget_deletions(self) -> None:
        self.deleted.clear()

    def error(self, operation_id: str | None, exc: ApiError) -> Response:
        """`exc` as the operation declares such a failure, its reasons in X-Mock-Validation."""
        response = self._error(operation_id, exc)
        response.headers[REASONS_HEADER] = header_value(reasons(exc))
        return response

    def _error(self, operation_id: str | None, exc: ApiError) -> Response:
        statuses = self.statuses.get(operation_id or "")
        if not statuses:
            return render(exc)
        key = error_key(exc.status, statuses)
        if key is None:
            return render(exc)
        answer = self.answers[operation_id, key]
        status = int(key) if key.isdigit() else exc.status  # `4XX` and `default` keep the failure's own
        document = envelope(exc, request.path, g.request_id)
        if answer.content_type is not None and not self._envelope_fits(operation_id, key, document):
            response = self._told(operation_id, key, answer, exc, status).response()
            response.headers.update(exc.headers)
        else:
            response = render(exc, document)
            declared = (answer.content_type or "").split(";")[0].strip().lower()
            if declared.endswith(("/json", "+json")):  # the envelope fits: in the declared type (problem+json)
                response.headers["Content-Type"] = answer.content_type
        response.status_code = status
        for name, value in answer.headers.items():
            response.headers.setdefault(name, value)
        return response

    def _told(self, operation_id: str, key: str, answer: Answer, exc: ApiError, status: int) -> Answer:
        """The declared answer with the reasons of `exc` in its body, where a field of its
        schema takes them and the body stays valid; else the declared answer as it is."""
        schema = self.json_schemas.get((operation_id, key))
        if schema is None or answer.content_type is None:
            return answer
        try:
            body = json.loads(answer.body)
        except ValueError:
            return answer
        body = told(body, schema, exc, status, self._properties, self.checker.is_valid_often)
        return answer if body is None else replace(answer, body=_serialise(body, answer.content_type))

    def _properties(self, schema: Any) -> dict[str, Any]:
        """The properties of `schema` (its $refs followed, allOf merged), each resolved."""
        schema = self._resolve(schema)
        if not isinstance(schema, dict):
            return {}
        if "allOf" in schema:
            schema = self.generator.merged(schema)
        properties = schema.get("properties")
        if not isinstance(properties, dict):
            return {}
        return {str(name): self._resolve(value) for name, value in properties.items()}

    def _envelope_fits(self, operation_id: str, key: str, envelope: Any) -> bool:
        schema = self.json_schemas.get((operation_id, key))
        return schema is not None and self.checker.is_valid_often(schema, envelope)


def _never_sure(value: Any) -> bool:
    return False


def _within(path: str, other: str) -> bool:
    """`path` is `other` or lies below it."""
    return path == other or path.startswith(other.rstrip("/") + "/")


def _status_of(key: str) -> int:
    if key.isdigit():
        return int(key)
    if len(key) == 3 and key[0].isdigit() and key[1:].upper() == "XX":
        return int(key[0]) * 100
    return 200  # default


def _preferred(media_types: list[str]) -> str:
    for test in (lambda m: m == "application/json", lambda m: m.endswith("+json") or "json" in m):
        for media_type in media_types:
            if test(media_type):
                return media_type
    return media_types[0]


def _concrete(media_type: str) -> str:
    """A content type to send for a declared media range (`*/*`, `image/*`)."""
    if media_type == "*/*":
        return "application/octet-stream"
    if media_type.endswith("/*"):
        return media_type[:-1] + "octet-stream" if media_type != "text/*" else "text/plain"
    return media_type


def _serialise(value: Any, media_type: str) -> bytes:
    if "json" not in media_type and isinstance(value, bytes):
        return value
    if "json" not in media_type and isinstance(value, str):
        return value.encode()
    return dump_json(value)


def _header_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(_header_text(item) for item in value)
    if isinstance(value, dict):
        return ",".join(f"{k},{_header_text(v)}" for k, v in value.items())
    return "" if value is None else str(value)
