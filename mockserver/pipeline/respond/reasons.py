"""Why a request was refused, told to the client that sent it.

The reasons of a refusal (an ApiError's `details`: `title: '' should be non-empty`, a
parameter's `done: 'maybe' is not a boolean`, a missing token) are

- always in the `X-Mock-Validation` header (`header_value`: printable ASCII, every other
  character escaped, at most HEADER_LIMIT characters), whatever the body;
- in the body: the mock's `Error` envelope where that fits the declared schema (the
  negotiator's choice), else the declared error body with the reasons in its most fitting
  string field (`told`: `detail`, `message`, `error`, `description`, `reason`, `title`,
  ..., one level down too, as in `{"error": {"message": ...}}`), and its `title`, `status`
  and `code` saying what failed, each only where the body stays valid against its schema.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from mockserver.errors import ApiError

REASONS_HEADER = "X-Mock-Validation"
HEADER_LIMIT = 1000
ELLIPSIS = "..."
# The string fields a reason goes into, the most fitting first (RFC 9457's `detail` before
# its `title`, a short summary): by name, then any whose name contains one of NAME_PARTS.
REASON_FIELDS = (
    "detail",
    "details",
    "message",
    "error_description",
    "errormessage",
    "error_message",
    "description",
    "reason",
    "error",
    "msg",
    "title",
)
NAME_PARTS = ("message", "detail", "reason", "description", "error")
MAX_DEPTH = 2  # the body's own fields, and those of an object in one of them

Properties = Callable[[Any], dict[str, Any]]  # a schema -> its properties, each resolved
Checks = Callable[[Any, Any], bool]  # (schema, value) -> the value is valid


def reasons(exc: ApiError) -> str:
    """The reasons of `exc` as one line: `field: message; ...`, or its sentence."""
    details = exc.details
    if isinstance(details, dict):
        text = "; ".join(f"{field}: {message}" for field, message in details.items())
    else:
        text = str(details)
    return text or exc.error


def header_value(text: str, limit: int = HEADER_LIMIT) -> str:
    """`text` as a header value: printable ASCII, every other character escaped as Python
    writes it (`\\n`, `\\xe9`, `\\u2019`), cut with "..." to at most `limit` characters."""
    pieces: list[str] = []
    length = 0
    for char in text.strip():
        piece = char if " " <= char <= "~" else char.encode("unicode_escape").decode("ascii")
        if length + len(piece) > limit:
            while pieces and length + len(ELLIPSIS) > limit:
                length -= len(pieces.pop())
            return "".join(pieces).rstrip() + ELLIPSIS
        pieces.append(piece)
        length += len(piece)
    return "".join(pieces)


def told(body: Any, schema: Any, exc: ApiError, status: int, properties: Properties, is_valid: Checks) -> Any:
    """`body`, a declared error answer, with the reasons of `exc` in its most fitting string
    field, valid against `schema`; None where no field takes them."""
    if not isinstance(body, dict):
        return None
    text = reasons(exc)
    for path, field_schema in _reason_fields(schema, properties, (), 1):
        candidate = _with(body, path, _cut(text, field_schema))
        if is_valid(schema, candidate):
            break
    else:
        return None
    # What failed, around the reason: RFC 9457's title and status, an `error` beside a
    # `message` (`{"error": "Not found", "message": ...}`), a code.
    names = {name.lower(): name for name in properties(schema)}
    around = {"title": [exc.error], "error": [exc.error], "status": [status], "statuscode": [status]}
    around["status_code"] = [status]
    around["code"] = [status, exc.code]
    for lowered, values in around.items():
        name = names.get(lowered)
        if name is None or (name,) == path:
            continue
        for value in values:
            changed = _with(candidate, (name,), value)
            if is_valid(schema, changed):
                candidate = changed
                break
    return candidate


def _reason_fields(schema: Any, properties: Properties, prefix: tuple[str, ...], depth: int) -> Iterator:
    """(path, schema) of each field a reason may go into, the most fitting first."""
    fields = properties(schema)
    by_name = {name.lower(): name for name in fields}
    names = [by_name[wanted] for wanted in REASON_FIELDS if wanted in by_name]
    names += [name for part in NAME_PARTS for name in fields if part in name.lower() and name not in names]
    names = list(dict.fromkeys(names))
    for name in names:
        if _may_be_string(fields[name]):
            yield (*prefix, name), fields[name]
    if depth < MAX_DEPTH:
        for name in names:
            if _may_be_object(fields[name]):
                yield from _reason_fields(fields[name], properties, (*prefix, name), depth + 1)


def _may_be_string(schema: Any) -> bool:
    if not isinstance(schema, dict):
        return schema is True
    kind = schema.get("type")
    return kind is None or kind == "string" or (isinstance(kind, list) and "string" in kind)


def _may_be_object(schema: Any) -> bool:
    if not isinstance(schema, dict):
        return False
    kind = schema.get("type")
    return (
        kind == "object" or (isinstance(kind, list) and "object" in kind) or (kind is None and "properties" in schema)
    )


def _cut(text: str, schema: Any) -> str:
    """`text` within the field's maxLength, if it has one."""
    limit = schema.get("maxLength") if isinstance(schema, dict) else None
    if isinstance(limit, int) and not isinstance(limit, bool) and len(text) > limit:
        return text[: limit - len(ELLIPSIS)] + ELLIPSIS if limit > len(ELLIPSIS) else text[:limit]
    return text


def _with(body: dict, path: tuple[str, ...], value: Any) -> dict:
    """A copy of `body` with `value` at `path` (objects on the way made where missing)."""
    head, *rest = path
    out = dict(body)
    inner = out.get(head)
    out[head] = _with(inner if isinstance(inner, dict) else {}, tuple(rest), value) if rest else value
    return out
