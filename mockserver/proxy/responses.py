"""Checking a real server's responses against the contract, for the validating proxy.

For one operation's response: is its status declared, its content type one the status
declares, each declared header present (when required) and of its schema, and its body
valid JSON of the declared schema. Each finding names the place in the document it
breaks (a JSON pointer, with `$ref`s followed to where the rule is written), what that
place expects and what the response had.

Bodies are checked with a fastjsonschema function compiled from the schema (the draft 4
translation of pipeline/validate/schemas.py), which is stricter than the reference, never more
lenient; only a body it rejects is checked again with the jsonschema validator the
negotiator uses for the mock's own answers (openapi-schema-validator's), whose errors
say where and why. Measured on the mock's getChatMessages page (1 KB; one core of the
development machine): openapi-core's iter_response_errors 4.9 ms, the jsonschema
validator 1.1 ms, the compiled function 0.035 ms; all the checks of the response,
JSON parsing included, 0.1 ms.
"""

from __future__ import annotations

import fnmatch
import json
import threading
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from mockserver.contract import pointers
from mockserver.contract.index import Contract, Operation
from mockserver.contract.loading import escape
from mockserver.pipeline.respond.negotiate import SchemaChecker
from mockserver.pipeline.validate.schemas import fast_check

NO_BODY_STATUSES = (204, 304)
# A 401 must carry its challenge (RFC 9110 section 11.6.1): where a 401 declares one, it is
# checked as if required.
CHALLENGE = "WWW-Authenticate"
MAX_SEEN_CHARS = 300
DECODABLE = ("", "identity", "gzip", "x-gzip", "deflate")  # Content-Encodings whose bodies are checked


@dataclass(frozen=True)
class Finding:
    """One way an exchange breaks the contract."""

    pointer: str  # into the document, e.g. /components/schemas/Error/required
    expected: Any
    seen: Any
    message: str


def seen_text(value: Any) -> Any:
    """A value as recorded: JSON values as they are, unless long."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    return value if len(text) <= MAX_SEEN_CHARS else text[:MAX_SEEN_CHARS] + "..."


class Document:
    """The contract's document, walked by JSON pointer with `$ref`s followed."""

    def __init__(self, data: dict) -> None:
        self.data = data

    def lookup(self, pointer: str) -> Any:
        return pointers.lookup(self.data, pointer)

    def follow(self, node: Any, pointer: str) -> tuple[Any, str]:
        """`node` (at `pointer`) with its local $refs followed, and where it ends up."""
        return pointers.follow(self.data, node, pointer)

    def child(self, node: Any, pointer: str, key: str | int) -> tuple[Any, str]:
        return self.follow(node[key], f"{pointer}/{escape(key)}")

    def keyword_pointer(self, schema_pointer: str, schema_path) -> str:
        """Where in the document a jsonschema error's keyword is written: its schema path
        walked from the schema's own place, jumping wherever a $ref points."""
        node, pointer = self.lookup(schema_pointer), schema_pointer
        for part in schema_path:
            # The OpenAPI 3.0 validators leave `$ref` out of the path; the 3.1 ones name it.
            node, pointer = self.follow(node, pointer)
            if part == "$ref":
                continue
            try:
                node = node[part]
            except (KeyError, IndexError, TypeError):
                return f"{pointer}/{escape(part)}"
            pointer = f"{pointer}/{escape(part)}"
        return pointer


class BodySchema:
    """One response body schema: the compiled check first, jsonschema's errors when it fails."""

    def __init__(self, document: Document, pointer: str, checker: SchemaChecker) -> None:
        self.pointer = pointer
        self.document = document
        schema = document.lookup(pointer)
        self.validator = checker.validator(schema)
        self.fast: Callable[[Any], bool] | None = None
        if checker.version == "3.0":
            self.fast = fast_check(checker.formats, document.data, schema, reading=True)

    def findings(self, body: Any) -> list[Finding]:
        if self.fast is not None and self.fast(body):
            return []
        found = []
        for error in self.validator.iter_errors(body):
            where = "/" + "/".join(escape(part) for part in error.absolute_path)
            found.append(
                Finding(
                    self.document.keyword_pointer(self.pointer, error.absolute_schema_path),
                    seen_text(error.validator_value),
                    seen_text(error.instance),
                    f"body at {where}: {error.message[:MAX_SEEN_CHARS]}",
                )
            )
        return found


class ResponseValidator:
    """The response checks of a contract's operations; body schemas compiled on first use."""

    def __init__(self, contract: Contract) -> None:
        self.contract = contract
        self.version = contract.version
        self.document = Document(contract.document)
        self.checker = SchemaChecker(contract.document, self.version)
        self._schemas: dict[str, BodySchema] = {}
        self._lock = threading.Lock()

    def body_schema(self, pointer: str) -> BodySchema:
        schema = self._schemas.get(pointer)
        if schema is None:
            with self._lock:
                schema = self._schemas.get(pointer) or BodySchema(self.document, pointer, self.checker)
                self._schemas[pointer] = schema
        return schema

    def findings(
        self, operation: Operation, method: str, status: int, headers: Mapping[str, str], body: bytes | None
    ) -> list[Finding]:
        """What the response breaks; `body` None when it was not read (too large to hold)."""
        operation_pointer = f"/paths/{escape(operation.path)}/{operation.method.lower()}"
        responses, responses_pointer = self.document.child(
            self.document.lookup(operation_pointer), operation_pointer, "responses"
        )
        key = declared_status(status, list(responses))
        if key is None:
            return [Finding(responses_pointer, sorted(responses), status, f"status {status} is not declared")]
        response, pointer = self.document.child(responses, responses_pointer, key)
        found = self._header_findings(response, pointer, status, headers)
        content = response.get("content") or {}
        has_body = method != "HEAD" and status not in NO_BODY_STATUSES and (body is None or body != b"")
        if not has_body:
            return found
        mimetype = (headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if not content:
            return [*found, Finding(pointer, "no body", mimetype or "a body", f"{status} declares no body")]
        media_type = match_media_type(mimetype, list(content))
        if media_type is None:
            message = f"Content-Type {mimetype or '(none)'} is not declared for {key}"
            return [*found, Finding(f"{pointer}/content", sorted(content), mimetype or None, message)]
        media, media_pointer = self.document.child(content, f"{pointer}/content", media_type)
        encoding = headers.get("Content-Encoding", "").strip().lower()
        if body is None or "schema" not in media or "json" not in media_type or encoding not in DECODABLE:
            return found
        try:
            document = json.loads(decoded(body, encoding))
        except (ValueError, zlib.error) as exc:
            return [
                *found,
                Finding(
                    media_pointer,
                    "a JSON body",
                    seen_text(body[:200].decode("utf-8", "replace")),
                    f"body is not JSON: {exc}",
                ),
            ]
        _, schema_pointer = self.document.child(media, media_pointer, "schema")
        return [*found, *self.body_schema(schema_pointer).findings(document)]

    def _header_findings(self, response: dict, pointer: str, status: int, headers: Mapping[str, str]) -> list[Finding]:
        found = []
        declared = response.get("headers") or {}
        for name in declared:
            if name.lower() == "content-type":
                continue  # described by `content`, ignored here (OpenAPI 3)
            header, header_pointer = self.document.child(declared, f"{pointer}/headers", name)
            value = headers.get(name)
            if value is None:
                if header.get("required") or (status == 401 and name.lower() == CHALLENGE.lower()):
                    found.append(Finding(header_pointer, f"a {name} header", None, f"{name} header is missing"))
                continue
            if "schema" in header:
                _, schema_pointer = self.document.child(header, header_pointer, "schema")
                schema = self.document.lookup(schema_pointer)
                for finding in self.body_schema(schema_pointer).findings(cast_header(value, schema)):
                    found.append(Finding(finding.pointer, finding.expected, value, f"{name} header: {finding.message}"))
        return found


def declared_status(status: int, keys: list[str]) -> str | None:
    """The `responses` key that covers `status`: itself, its range (4XX), else default."""
    for key in (str(status), f"{status // 100}XX", f"{status // 100}xx", "default"):
        if key in keys:
            return key
    return None


def match_media_type(mimetype: str, declared: list[str]) -> str | None:
    if mimetype in declared:
        return mimetype
    return next((key for key in declared if mimetype and fnmatch.fnmatch(mimetype, key.split(";")[0])), None)


def decoded(body: bytes, encoding: str) -> bytes:
    """The body as sent before its Content-Encoding (gzip and deflate; the proxy forwards it encoded)."""
    if encoding in ("gzip", "x-gzip"):
        return zlib.decompress(body, 16 + zlib.MAX_WBITS)
    if encoding == "deflate":
        return zlib.decompress(body)
    return body


def cast_header(value: str, schema: Any) -> Any:
    """A header's text as the value its schema describes (integers, numbers and booleans)."""
    kind = schema.get("type") if isinstance(schema, dict) else None
    try:
        if kind == "integer":
            return int(value)
        if kind == "number":
            return float(value)
    except ValueError:
        return value
    if kind == "boolean" and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return value
