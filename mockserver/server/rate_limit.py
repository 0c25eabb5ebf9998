"""Failed attempts per client address, at the operations whose contract declares a 429.

A failure is any 4xx answer. Once an address has used up the limit, every request it
sends to such an operation is a 429 in the Error shape with `Retry-After`, the right
password included, until the moving window frees an attempt.
"""

from __future__ import annotations

import math
import time

import limits
from flask import Flask, Response, request
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from mockserver.errors import ApiError


def limit_failures(app: Flask, endpoints: set[str], rate: str) -> None:
    """Register the request hooks that enforce `rate` (e.g. "10/minute") on `endpoints`."""
    item = limits.parse(rate)
    limiter = MovingWindowRateLimiter(MemoryStorage())

    @app.before_request
    def refuse_when_spent() -> None:
        if request.endpoint not in endpoints:
            return
        if not limiter.test(item, request.endpoint, request.remote_addr or ""):
            reset_time, _ = limiter.get_window_stats(item, request.endpoint, request.remote_addr or "")
            retry_after = max(1, math.ceil(reset_time - time.time()))
            raise ApiError(
                429,
                "RATE_LIMITED",
                "Too many requests",
                f"Too many failed attempts from this address; retry in {retry_after} s",
                {"Retry-After": str(retry_after)},
            )

    @app.after_request
    def count_failure(response: Response) -> Response:
        if request.endpoint in endpoints and 400 <= response.status_code < 500 and response.status_code != 429:
            limiter.hit(item, request.endpoint, request.remote_addr or "")
        return response
