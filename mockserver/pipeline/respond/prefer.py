"""Forcing a response with the `Prefer` request header, as Prism reads it.

    Prefer: code=404                      the declared 404
    Prefer: code=200, example=withAvatar  the 200's example named withAvatar
    Prefer: dynamic=true                  a body generated from the schema, not the example

Preferences follow RFC 7240 (separated by `,` or `;`, names case-insensitive, values may
be quoted) and those the mock does not know, such as `return=minimal`, are ignored. A
header longer than settings.MAX_PREFER_CHARS is a 400 before it is read; the rest is read
in one pass over the header (str.split and str.partition, no backtracking). A
forced response replaces the behaviour only: authentication (unless the mock runs with
--prefer-skips-auth) and request validation come first, and a forced success changes no
state. A forced failure is sent in the Error envelope, as the mock's own failures are,
unless an example or a generated body is asked for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from http import HTTPStatus

from flask import Response

from mockserver.errors import ApiError
from mockserver.pipeline.respond.negotiate import Negotiator
from mockserver.settings import MAX_PREFER_CHARS

HEADER = "Prefer"
KNOWN = ("code", "example", "dynamic")  # the preferences the mock reads; others are ignored


@dataclass(frozen=True)
class Preference:
    code: int | None = None
    example: str | None = None
    dynamic: bool | None = None

    def describe(self) -> str:
        parts = [f"code={self.code}" if self.code else "", f"example={self.example}" if self.example else ""]
        parts.append("" if self.dynamic is None else f"dynamic={str(self.dynamic).lower()}")
        return ", ".join(part for part in parts if part)


def read(header: str | None) -> Preference | None:
    """The mock's preferences in a Prefer header; None when it has none. A 400 ApiError
    naming the header when it is too long or a value is malformed."""
    if not header:
        return None
    if len(header) > MAX_PREFER_CHARS:
        raise _bad(f"longer than the limit of {MAX_PREFER_CHARS} characters ({len(header)} sent)")
    values = _preferences(header)
    if not values:
        return None
    code = values.get("code")
    if code is not None and not re.fullmatch(r"[1-5]\d\d", code):
        raise _bad(f"code={code!r} is not an HTTP status such as code=404")
    dynamic = values.get("dynamic")
    if dynamic is not None and dynamic.lower() not in ("true", "false"):
        raise _bad(f"dynamic={dynamic!r} is neither true nor false")
    if "example" in values and not values["example"]:
        raise _bad("example= needs the name of an example")
    return Preference(
        code=int(code) if code else None,
        example=values.get("example"),
        dynamic=None if dynamic is None else dynamic.lower() == "true",
    )


def _preferences(header: str) -> dict[str, str]:
    """The value of each preference the mock knows (the first one of each name), unquoted.

    Each step is a str method over one piece of the header, and the pieces do not
    overlap: the work is linear in the header's length."""
    values: dict[str, str] = {}
    for item in header.replace(";", ",").split(","):
        name, _, value = item.partition("=")
        name = name.strip().lower()
        if name not in KNOWN or name in values:
            continue
        value = value.strip()
        quoted = len(value) >= 2 and value[0] == value[-1] == '"'
        if quoted:
            value = value[1:-1]
        if '"' in value or not quoted and len(value.split(None, 1)) > 1:
            raise _bad(f"{name}={value!r} is neither a token nor a quoted string")
        values[name] = value
    return values


def forced_response(negotiator: Negotiator, operation_id: str, preference: Preference, reason: str) -> Response:
    """The answer `preference` forces on `operation_id`; a 400 ApiError when the operation
    does not declare it. `reason` says who forced it (in the details of a forced failure)."""
    status = preference.code
    key = negotiator.declared_key(operation_id, status) if status else negotiator.success_key(operation_id)
    if key is None:
        declared = ", ".join(negotiator.statuses.get(operation_id, [])) or "none"
        if status is None:
            raise _bad(f"{operation_id} declares no success to force; declared: {declared}")
        raise _bad(f"{operation_id} does not declare status {status}; declared: {declared}")
    if status is None:
        status = negotiator.answers[operation_id, key].status
    if status >= 400 and preference.example is None and not preference.dynamic:
        # Sent as the mock's own failures are: the envelope with this request's ID and path.
        try:
            phrase = HTTPStatus(status).phrase
        except ValueError:  # a status HTTP does not name, such as 499
            phrase = "Error"
        raise ApiError(status, phrase.upper().replace(" ", "_").replace("-", "_"), phrase, f"Forced by {reason}")
    try:
        return negotiator.variant(operation_id, key, status, preference.example, bool(preference.dynamic)).response()
    except KeyError:
        names = ", ".join(negotiator.example_names(operation_id, key)) or "none"
        missing = f"The {key} response of {operation_id} has no example {preference.example!r}"
        raise _bad(f"{missing}; named: {names}") from None
    except ValueError as exc:
        raise _bad(str(exc)) from None


def _bad(details: str) -> ApiError:
    return ApiError(400, "INVALID_PREFER_HEADER", "Validation failed", {HEADER: details})
