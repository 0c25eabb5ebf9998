"""The request hooks of an app, in one ordered list, and the ones both apps share.

A hook may act before the view (`before`: return None to go on, a response to answer
instead of the view, or raise an ApiError, which the app's error handler answers) and
after it (`after`: return the response, changed or not). `install` registers the list
once: the befores run in list order and the afters in reverse, so the first hook sees the
request first and the response last. Every after runs, even when an earlier before
refused the request, so an after may rely only on what the hooks before it set.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence

from flask import Flask, Response, g, request

from mockserver.errors import ApiError, new_request_id
from mockserver.pipeline.guards import check_admin_request, check_host

access_log = logging.getLogger("mockserver.access")
LOGGED_PATH_CHARS = 2048


def install(app: Flask, hooks: Sequence[object]) -> None:
    """Register `hooks` (each with a `before`, an `after` or both) on `app`, in their order
    (see the module's docstring)."""
    befores = [hook.before for hook in hooks if callable(getattr(hook, "before", None))]
    afters = [hook.after for hook in reversed(hooks) if callable(getattr(hook, "after", None))]

    def before_request() -> Response | None:
        for before in befores:
            answer = before()
            if answer is not None:
                return answer
        return None

    def after_request(response: Response) -> Response:
        for after in afters:
            response = after(response)
        return response

    app.before_request(before_request)
    app.after_request(after_request)


class RequestStart:
    """First of all: a request ID and the start time; last of all: the access log line
    (and, where `stamp`, the X-Request-Id header; the proxy passes the upstream's headers on)."""

    def __init__(self, stamp: bool = True) -> None:
        self.stamp = stamp

    def before(self) -> None:
        g.request_id = new_request_id()
        g.started = time.perf_counter()

    def after(self, response: Response) -> Response:
        ctx, req = g._get_current_object(), request._get_current_object()  # one look-up each
        if self.stamp:
            response.headers["X-Request-Id"] = ctx.request_id
        # An answer held back (latency, a delay rule: controls/steering.py) is sent later.
        elapsed_ms = (time.perf_counter() - ctx.started) * 1000 + ctx.get("held_ms", 0)
        # Escaped, so that a %0A in the path cannot forge a log line; cut, so that a long
        # path cannot fill the log.
        path = req.path[:LOGGED_PATH_CHARS].encode("unicode_escape").decode("ascii")
        access_log.info("%s %s %s %d %.1fms", req.remote_addr, req.method, path, response.status_code, elapsed_ms)
        return response


class AsteriskTarget:
    """`OPTIONS * HTTP/1.1` asks about the server itself (RFC 9110 section 9.3.7): the
    methods it serves. Any other method with the target `*` is a malformed request."""

    def __init__(self, methods: list[str]) -> None:
        self.allow = ", ".join(sorted({*methods, "OPTIONS"}))

    def before(self) -> Response | None:
        if request.environ.get("REQUEST_URI") != "*":
            return None
        if request.method != "OPTIONS":
            raise ApiError(
                400, "BAD_REQUEST", "Bad request", f"The request target * is for OPTIONS only, not {request.method}"
            )
        return Response(status=200, headers={"Allow": self.allow, "Content-Length": "0"})


class Guards:
    """The Host a loopback-bound server answers to, and the admin token of its own routes."""

    def __init__(
        self, trusted_hosts: tuple[str, ...] | None, admin_token: str | None, own_route: Callable[[str], bool]
    ) -> None:
        self.trusted_hosts = trusted_hosts
        self.admin_token = admin_token
        self.own_route = own_route

    def before(self) -> None:
        check_host(request, self.trusted_hosts)
        if self.own_route(request.path):
            check_admin_request(request, self.admin_token)
