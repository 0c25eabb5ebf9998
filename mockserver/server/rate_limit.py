"""Failed attempts per client address, at the operations whose contract declares a 429.

A failure is any 4xx answer. Once an address has used up the limit, every request it
sends to such an operation is a 429 in the Error shape with `Retry-After`, the right
password included, until the moving window frees an attempt.
"""

from __future__ import annotations

import math
import time
from typing import Any

import limits
from flask import Response, request
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from mockserver.errors import ApiError


def new_limiter() -> MovingWindowRateLimiter:
    return MovingWindowRateLimiter(MemoryStorage())


class RateLimit:
    """The hook that enforces `rate` (e.g. "10/minute") on `endpoints`."""

    def __init__(self, endpoints: set[str], rate: str, limiter: Any = None) -> None:
        """`limiter`: the workers' shared one (server/sharing.py), else this process's."""
        self.endpoints = endpoints
        self.item = limits.parse(rate)
        self.limiter = limiter if limiter is not None else new_limiter()

    def before(self) -> None:
        if request.endpoint not in self.endpoints:
            return
        if not self.limiter.test(self.item, request.endpoint, request.remote_addr or ""):
            reset_time, _ = self.limiter.get_window_stats(self.item, request.endpoint, request.remote_addr or "")
            retry_after = max(1, math.ceil(reset_time - time.time()))
            raise ApiError(
                429,
                "RATE_LIMITED",
                "Too many requests",
                f"Too many failed attempts from this address; retry in {retry_after} s",
                {"Retry-After": str(retry_after)},
            )

    def after(self, response: Response) -> Response:
        status = response.status_code
        if request.endpoint in self.endpoints and 400 <= status < 500 and status != 429:
            self.limiter.hit(self.item, request.endpoint, request.remote_addr or "")
        return response
