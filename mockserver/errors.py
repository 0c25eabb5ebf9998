"""The API's `Error` envelope: every error the mock sends is rendered here."""

from __future__ import annotations

import os
import random
from datetime import UTC, datetime

from flask import Response, current_app, g, jsonify, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound, RequestEntityTooLarge

from mockserver.settings import MAX_BODY_BYTES


class ApiError(Exception):
    """An error response: raised anywhere while handling a request."""

    def __init__(
        self,
        status: int,
        code: str,
        error: str,
        details: str | dict[str, str],
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {details}")
        self.status = status
        self.code = code
        self.error = error
        self.details = details
        self.headers = headers or {}


def rfc3339_now() -> str:
    """The current UTC time, RFC 3339 with milliseconds, e.g. 2026-11-28T09:30:00.000Z."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# Request IDs need to be distinct, not secret: drawn without a system call (os.urandom's
# getrandom releases the GIL, one more hand-off a request), and drawn anew in each worker.
_ids = random.Random()
os.register_at_fork(after_in_child=_ids.seed)


def new_request_id() -> str:
    return f"req_{_ids.getrandbits(64):016x}"


def envelope(exc: ApiError, path: str, request_id: str) -> dict:
    """The Error document of `exc`."""
    return {
        "error": exc.error,
        "code": exc.code,
        "details": exc.details,
        "timestamp": rfc3339_now(),
        "path": path,
        "requestId": request_id,
    }


def render(exc: ApiError, document: dict | None = None) -> Response:
    """`exc` as a response; `document`: its envelope, when made already."""
    response = jsonify(document or envelope(exc, request.path, g.get("request_id") or new_request_id()))
    response.status_code = exc.status
    response.headers.update(exc.headers)
    return response


def from_http_exception(exc: HTTPException) -> ApiError:
    """Werkzeug's own errors (routing, body size) in the API's shape."""
    if isinstance(exc, NotFound):
        details = f"No route matches {request.method} {request.path}"
        return ApiError(404, "NOT_FOUND", "Not found", details + _under_base_path())
    if isinstance(exc, MethodNotAllowed):
        allowed = sorted(exc.valid_methods or [])
        return ApiError(
            405,
            "METHOD_NOT_ALLOWED",
            "Method not allowed",
            f"{request.method} is not allowed here; allowed: {', '.join(allowed)}",
            headers={"Allow": ", ".join(allowed)},
        )
    if isinstance(exc, RequestEntityTooLarge):
        return payload_too_large()
    status = exc.code or 500
    name = (exc.name or "Error").upper().replace(" ", "_")
    return ApiError(status, name, exc.name or "Error", exc.description or exc.name or "")


def _under_base_path() -> str:
    """The hint "; did you mean /v1/todos?" where the path is served under the base path."""
    base = current_app.config.get("MOCKSERVER_BASE_PATH") or ""
    if not base or request.path.startswith(base + "/"):
        return ""
    try:
        current_app.url_map.bind("localhost").match(base + request.path, method=request.method)
    except HTTPException:  # no such route under the base path either (or another method)
        return ""
    return f"; did you mean {base}{request.path}? (the document's servers put its paths under {base})"


def payload_too_large() -> ApiError:
    # The operations document only 200/400/401, so an oversized body is a 400.
    return ApiError(
        400,
        "PAYLOAD_TOO_LARGE",
        "Validation failed",
        {"body": f"Request body exceeds the limit of {MAX_BODY_BYTES} bytes"},
    )


def internal_error() -> ApiError:
    return ApiError(500, "INTERNAL_ERROR", "Internal server error", "The mock server failed to handle the request")


def untraced(exc: Exception) -> Exception:
    """`exc` without its traceback and the exceptions it was raised from, once handled:
    their frames hold the request context, which holds the error (in `g`, as Flask's
    routing exception, among a request's refusals), a cycle that kept the whole request
    alive until the garbage collector ran (every 14 requests on the Petstore read)."""
    exc.__context__ = exc.__cause__ = None
    return exc.with_traceback(None)
