"""Strict decoding of JSON request bodies, handed to openapi-core.

openapi-core turns a ValueError raised here into a deserialisation error, so each
way a body can be broken becomes a 400 naming what was wrong, never a 500.
"""

from __future__ import annotations

import json
import re
from typing import Any

from mockserver.settings import MAX_JSON_DEPTH, MAX_JSON_STRING_CHARS, MAX_JSON_VALUES

TOO_MANY_VALUES = f"JSON has too many values (more than {MAX_JSON_VALUES})"
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')
# A body no longer than this, without a backslash, breaks no bound (see strict_json_loads).
_SHORT_BODY_CHARS = min(MAX_JSON_VALUES, MAX_JSON_STRING_CHARS)


def strict_json_loads(value: bytes | str, **_parameters: str) -> Any:
    if isinstance(value, str):  # a parameter with `content`: openapi-core hands its text
        value = value.encode("utf-8", "surrogatepass")
    try:
        text = value.decode("utf-8")  # RFC 8259: JSON between systems is UTF-8
    except UnicodeDecodeError as exc:
        raise ValueError(f"Body is not valid UTF-8 (byte {exc.start})") from exc
    # json.loads builds every array and object before _check_shape counts them, and
    # the garbage collector makes 1 MiB of nested arrays take 0.7 s: count them first.
    brackets = value.count(b"[") + value.count(b"{")
    if brackets > MAX_JSON_VALUES:
        outside_strings = _STRING.sub(b"", value)
        if outside_strings.count(b"[") + outside_strings.count(b"{") > MAX_JSON_VALUES:
            raise ValueError(TOO_MANY_VALUES)
    try:
        document = json.loads(text, parse_constant=_reject_constant)
    except RecursionError as exc:
        raise ValueError("JSON is nested too deeply") from exc
    except json.JSONDecodeError as exc:
        raise ValueError(f"Malformed JSON: {exc}") from exc
    # A short body without a backslash breaks no bound, unwalked: it holds no more values
    # than characters, nests no deeper than its brackets, and has no surrogate escape.
    if len(text) > _SHORT_BODY_CHARS or brackets > MAX_JSON_DEPTH or b"\\" in value:
        _check_shape(document)
    return document


def _reject_constant(name: str) -> Any:
    raise ValueError(f"Malformed JSON: {name} is not a JSON value")


def _check_shape(document: Any) -> None:
    """Refuse what json.loads accepts but later stages should not work on: more than
    MAX_JSON_VALUES values, strings longer than MAX_JSON_STRING_CHARS, nesting deeper than
    MAX_JSON_DEPTH (schema validation recurses), and strings with unpaired surrogates
    (\\ud800 escapes), which are not Unicode text."""
    pending = [(document, 1)]
    count = 1
    while pending:
        value, depth = pending.pop()
        if isinstance(value, dict | list):
            if depth > MAX_JSON_DEPTH:
                raise ValueError(f"JSON is nested too deeply (more than {MAX_JSON_DEPTH} levels)")
            count += len(value)
            if count > MAX_JSON_VALUES:
                raise ValueError(TOO_MANY_VALUES)
            if isinstance(value, dict):
                for key in value:
                    _check_string(key)
                value = value.values()
            pending.extend((child, depth + 1) for child in value)
        elif isinstance(value, str):
            _check_string(value)


def _check_string(value: str) -> None:
    if len(value) > MAX_JSON_STRING_CHARS:
        raise ValueError(f"JSON string is too long (more than {MAX_JSON_STRING_CHARS} characters)")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("JSON string contains an unpaired surrogate escape") from exc
