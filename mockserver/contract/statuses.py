"""Which declared response a status is sent as: the success of a valid request, and the
declared key a failure (400, 401, 404, ...) maps to."""

from __future__ import annotations

# The statuses a failure may be sent as, in order, when the operation does not declare its own.
SUBSTITUTES = {400: ["422"], 401: ["403"], 403: ["401"], 422: ["400"]}
# A request the document forbids may be refused with any of these it declares (what HTTP
# and schemathesis accept as a refusal); a failed authentication only with 401 or 403.
REFUSALS = ("400", "422", "404", "409", "415", "406", "405", "428")
KEPT = (401, 403, 404)  # never sent as another 4xx: clients and checks read these as they are


def success_key(statuses: list[str]) -> str | None:
    """The lowest declared 2xx, else 2XX, default or a 3xx; None when the document declares
    only failures (a valid request then gets a 204: a failure would be a lie)."""
    codes = sorted(key for key in statuses if key.isdigit() and key.startswith("2"))
    redirects = sorted(key for key in statuses if key.isdigit() and key.startswith("3"))
    for candidates in (codes, [key for key in statuses if key.upper() == "2XX"], ["default"], redirects):
        for key in candidates:
            if key in statuses:
                return key
    return None


def error_key(status: int, statuses: list[str]) -> str | None:
    family = f"{status // 100}XX"
    candidates = [str(status), *SUBSTITUTES.get(status, []), family, family.lower(), "default"]
    if 400 <= status < 500 and status not in KEPT:
        candidates += REFUSALS
    return next((key for key in candidates if key in statuses), None)
