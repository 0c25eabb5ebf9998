"""The guards every request passes first: the Host a loopback-bound server answers to,
and for its own routes under /__mock an admin token when one is set, and no state change
from a request that a web page could send without a CORS preflight."""

from __future__ import annotations

import hmac
from urllib.parse import urlsplit

from mockserver.errors import ApiError
from mockserver.settings import MAX_AUTHORIZATION_CHARS

ADMIN_PREFIX = "/__mock"
REALM = "mudbase-mock-admin"
READ_ONLY_METHODS = {"GET", "HEAD", "OPTIONS"}
# Host names a loopback-bound server answers to; any other is a DNS rebinding page, or
# a proxy in front of a mock that should run with --shared.
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")


def host_name(host: str) -> str | None:
    """The lower-case host name of a Host header value (`[::1]:4010` -> `::1`)."""
    try:
        return urlsplit("//" + host).hostname
    except ValueError:
        return None


def check_host(request, trusted_hosts: tuple[str, ...] | None) -> None:
    """An ApiError unless the request's Host is one of `trusted_hosts` (None: any)."""
    if trusted_hosts is not None and host_name(request.host) not in trusted_hosts:
        raise ApiError(
            400,
            "UNTRUSTED_HOST",
            "Host not allowed",
            f"A server bound to loopback answers only to {', '.join(trusted_hosts)}; "
            "behind a proxy, serve it with --shared",
        )


def is_admin_path(path: str) -> bool:
    return path == ADMIN_PREFIX or path.startswith(ADMIN_PREFIX + "/")


def is_public(request) -> bool:
    """The console page and its files: a browser loads them without a token (they hold no
    data); the page then sends the admin token with its own requests."""
    path = request.path
    return request.method in ("GET", "HEAD") and (
        path in (ADMIN_PREFIX, ADMIN_PREFIX + "/") or path.startswith(ADMIN_PREFIX + "/console/")
    )


def check_admin_request(request, admin_token: str | None) -> None:
    """An ApiError unless `request` may use the admin routes."""
    if admin_token and not is_public(request):
        authorization = request.headers.get("Authorization", "")
        if len(authorization) > MAX_AUTHORIZATION_CHARS:
            limit = f"longer than the limit of {MAX_AUTHORIZATION_CHARS} characters"
            raise _unauthorized(f"The Authorization header is {limit}", "invalid_token")
        scheme, _, token = authorization.partition(" ")
        if not token:
            raise _unauthorized("The /__mock routes need an Authorization: Bearer <admin token> header", None)
        if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), admin_token.encode()):
            raise _unauthorized("The admin token is not the one this mock was started with", "invalid_token")
    # A page on any website may POST text/plain, a form or no body at all without a
    # preflight; requiring JSON makes the browser ask first, and CORS leaves /__mock out.
    if request.method not in READ_ONLY_METHODS and request.mimetype != "application/json":
        raise ApiError(
            415,
            "UNSUPPORTED_MEDIA_TYPE",
            "Unsupported media type",
            "State-changing /__mock requests need Content-Type: application/json",
        )


def _unauthorized(details: str, error_code: str | None) -> ApiError:
    challenge = f'Bearer realm="{REALM}"' + (f', error="{error_code}"' if error_code else "")
    return ApiError(401, "UNAUTHORIZED", "Admin token required", details, {"WWW-Authenticate": challenge})
