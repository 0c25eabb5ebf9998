"""Where the mock listens decides what it guards.

Bound to loopback, the mock serves the developer at the machine: the public default
secret, open admin routes, no rate limit. Bound to any other
address (or with `--shared`, e.g. behind a reverse proxy on the same host) it is a
shared service: it needs a secret and an admin token of its own (and an API key, for
a document with an apiKey scheme), and rate-limits failed logins. Either way, browsers
may call the API from localhost origins and the ones listed with --cors-origin, with
credentials.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import dataclass

import limits

from mockserver import settings
from mockserver.pipeline.guards import LOOPBACK_HOSTS
from mockserver.settings import SettingsError

# Failed attempts per client address at operations that declare a 429, when shared.
SHARED_RATE_LIMIT = "10/minute"

# What --cors-origin accepts: scheme, host and port, nothing a pattern could widen.
ORIGIN = re.compile(r"https?://([a-z0-9-]+(\.[a-z0-9-]+)*|\[[0-9a-f:.]+\])(:\d{1,5})?", re.IGNORECASE | re.ASCII)

# Browser origins on the developer's own machine, any port: always allowed. Origin
# patterns match case-sensitively (browsers send origins in lower case), so an echoed
# Origin is exactly an allowed one, whatever case a client tries.
LOCAL_ORIGINS = re.compile(r"https?://(localhost|127\.0\.0\.1|\[::1\])(:\d{1,5})?\Z")


@dataclass(frozen=True)
class Safeguards:
    """What the mock enforces beyond the contract; the defaults suit a developer's machine."""

    admin_token: str | None = None  # required by the /__mock routes when set
    cors_origins: tuple[re.Pattern, ...] = (LOCAL_ORIGINS,)  # browser origins allowed, echoed
    trusted_hosts: tuple[str, ...] | None = None  # host names of the Host header; None: any
    rate_limit: str | None = None  # failed attempts per client address, e.g. "10/minute"
    max_token_lifetime: int = settings.MAX_TOKEN_LIFETIME_SECONDS
    shared: bool = False  # no public default credential is accepted (security.require_own_api_key)


# A developer's machine, as the Flask test client and create_app() see it by default.
LOCAL = Safeguards()


def is_loopback(host: str) -> bool:
    """Whether every address `host` names is a loopback address."""
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        pass
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except OSError:
        return False
    return bool(addresses) and all(ipaddress.ip_address(address).is_loopback for address in addresses)


def safeguards(
    shared: bool,
    host: str,
    admin_token: str | None = None,
    cors_origins: tuple[str, ...] = (),
    rate_limit: str | None = None,
    max_token_lifetime: int = settings.MAX_TOKEN_LIFETIME_SECONDS,
) -> Safeguards:
    """The safeguards for a mock bound to `host`; SettingsError if they cannot be met.

    `rate_limit` None picks the default (off on loopback, SHARED_RATE_LIMIT when shared);
    "off" turns it off. `cors_origins` add to the local origins."""
    if admin_token:
        settings.check_secret("The admin token", admin_token)
    elif shared:
        raise SettingsError(
            f"An admin token is required off loopback (--admin-token or {settings.ADMIN_TOKEN_ENV}), "
            "or anyone could reset the mock"
        )
    if rate_limit is None:
        rate_limit = SHARED_RATE_LIMIT if shared else "off"
    if rate_limit != "off":
        try:
            limits.parse(rate_limit)
        except ValueError:
            raise SettingsError(f"Rate limit {rate_limit!r} is not like 10/minute, 100/hour or off") from None
    origins = (LOCAL_ORIGINS, *(_origin_pattern(origin) for origin in cors_origins))
    trusted_hosts = None if shared else tuple(dict.fromkeys((*LOOPBACK_HOSTS, host.strip("[]").lower())))
    return Safeguards(
        admin_token=admin_token or None,
        cors_origins=origins,
        trusted_hosts=trusted_hosts,
        rate_limit=None if rate_limit == "off" else rate_limit,
        max_token_lifetime=max_token_lifetime,
        shared=shared,
    )


def _origin_pattern(origin: str) -> re.Pattern:
    """An exact match of a browser origin such as https://app.example.dev (in lower case)."""
    if not ORIGIN.fullmatch(origin):
        raise SettingsError(f"CORS origin {origin!r} is not like https://app.example.dev or http://host:8080")
    return re.compile(re.escape(origin.lower()) + r"\Z")
