"""What `mockserver serve` prints of the document it serves: its title and servers, and
for each of its security schemes how to get a credential the mock accepts.

The Mudbase login hint (POST /api/auth/login and the fixture users with their
passwords) is printed only where the document has that login operation (`loginUser`,
served by its hand-written behaviour); a document of no such operation gets the schemes
it declares, each with what to send, and the fixture users where a scheme needs one.
Everything taken from the document is made printable (control and other non-printing
characters escaped) and cut to a bounded length: a title cannot forge a line of its own.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mockserver import settings
from mockserver.behaviours import hand_written
from mockserver.contract.additions import ADDED
from mockserver.contract.index import Contract
from mockserver.contract.statuses import error_key
from mockserver.pipeline.security.schemes import API_KEY_ENV, DEFAULT_API_KEY

MAX_TITLE_CHARS = 80
MAX_TEXT_CHARS = 100  # a version, a server URL, a scheme's or a key's name
MAX_SERVERS = 3
MAX_SCHEMES = 10
BEARER_KINDS = ("oauth2", "openIdConnect")


def printable(value: Any, limit: int = MAX_TEXT_CHARS) -> str:
    """`value` as text on one line: each non-printing character escaped (`\\n`, `\\x1b`,
    `\\u202e`), cut to `limit` characters with "..."."""
    text = value if isinstance(value, str) else str(value)
    text = "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text[: limit * 2])
    return text if len(text) <= limit else text[: limit - 3] + "..."


def is_mudbase(contract: Contract) -> bool:
    """The document is (a part of) the Mudbase API: a hand-written behaviour serves it."""
    return bool(hand_written(contract))


def first_line(contract: Contract, spec: Path, url: str, shared: bool) -> str:
    """`Mudbase mock serving SPEC at URL` (`Mock serving ...` for any other document):
    what scripts read the address from, so the document's own text stays off it."""
    name = "Mudbase mock" if is_mudbase(contract) else "Mock"
    return f"{name} serving {spec} at {url}{contract.base_path}" + (" (shared)" if shared else "")


def refusal_line(contract: Contract) -> str:
    """How refusals are answered, by kind, with the operations of each way: the status an
    operation declares, or one the mock adds to the served document (a warning each)."""
    kinds = ((400, "bad data"), (401, "a missing or bad credential"), (404, "an unknown ID"))
    parts = []
    for status, what in kinds:
        declared = added = 0
        for operation in contract.operations:
            responses = contract.document["paths"][operation.path][operation.method.lower()].get("responses") or {}
            # The response the mock answers with, as the negotiator picks it from the served statuses.
            key = error_key(status, [str(key) for key in responses])
            if key is None:
                continue
            response = responses.get(key)
            if isinstance(response, dict) and response.get(ADDED):
                added += 1
            else:
                declared += 1
        if declared or added:
            parts.append(
                f"{what}: the operation's declared status ({declared}), else the {status} the mock adds ({added})"
            )
    return "Refusals: " + "; ".join(parts) if parts else "Refusals: none to answer"


def document_line(contract: Contract) -> str:
    """`Document "TITLE" VERSION (OpenAPI 3.x); servers: ...`."""
    info = contract.document.get("info")
    info = info if isinstance(info, dict) else {}
    title = f'"{printable(info["title"], MAX_TITLE_CHARS)}"' if isinstance(info.get("title"), str) else "(no title)"
    version = f" {printable(info['version'], 20)}" if info.get("version") not in (None, "") else ""
    servers = contract.document.get("servers")
    listed = servers if isinstance(servers, list) else []
    urls = [_server_url(server) for server in listed if isinstance(server, dict)]
    where = ", ".join(urls[:MAX_SERVERS]) or "none"
    if len(urls) > MAX_SERVERS:
        where += f" and {len(urls) - MAX_SERVERS} more"
    base = f"; served under the first one's base path {printable(contract.base_path)}" if contract.base_path else ""
    openapi = printable(contract.document.get("openapi"), 20)
    return f"Document {title}{version} (OpenAPI {openapi}); servers: {where}{base}"


def _server_url(server: Mapping[str, Any]) -> str:
    """A server's URL with each variable at its default, as the mock reads the first one."""
    url = str(server.get("url", ""))
    variables = server.get("variables")
    for name, variable in (variables if isinstance(variables, dict) else {}).items():
        if isinstance(variable, dict) and "default" in variable:
            url = url.replace("{" + str(name) + "}", str(variable["default"]))
    return printable(url)


def credential_lines(contract: Contract, users: Mapping[str, Any], fixtures: Path, shared: bool) -> list[str]:
    """How to get each credential the document's schemes ask for, then the fixture users
    to get them as. The Mudbase login hint where the document has its login operation."""
    login = "loginUser" in hand_written(contract)
    schemes = [(name, scheme) for name, scheme in contract.security_schemes.items() if isinstance(scheme, dict)]
    needs_user = needs_password = False
    described = []
    for name, scheme in schemes:
        kind = _kind(scheme)
        needs_user |= kind in ("bearer", "basic")
        needs_password |= kind == "basic"
        if kind == "bearer" and login:
            continue  # the login hint below says how to get a token
        described.append(f"  {printable(name)} ({_type(scheme)}): {_how(kind, scheme, users, fixtures, shared)}")
    lines = []
    if described:
        lines.append("Credentials, by security scheme:")
        lines += described[:MAX_SCHEMES]
        if len(described) > MAX_SCHEMES:
            lines.append(f"  ... and {len(described) - MAX_SCHEMES} more (GET /__mock/served-openapi.json)")
    elif not schemes:
        lines.append("No security schemes: no operation asks for a credential")
    if login:
        lines += _login_hint(users, fixtures, shared)
    elif needs_user:
        lines += _users(users, fixtures, shared, needs_password)
    return lines


def _kind(scheme: Mapping[str, Any]) -> str:
    """bearer (a JWT of the mock's), basic, apiKey, or unsupported, as schemes.handler_for decides."""
    kind = scheme.get("type")
    if kind in BEARER_KINDS:
        return "bearer"
    if kind == "http":
        name = str(scheme.get("scheme", "")).lower()
        return name if name in ("bearer", "basic") else "unsupported"
    if kind == "apiKey" and scheme.get("in") in ("header", "query", "cookie") and scheme.get("name"):
        return "apiKey"
    return "unsupported"


def _type(scheme: Mapping[str, Any]) -> str:
    kind = printable(scheme.get("type", "no type"), 20)
    if kind == "http":
        return f"http {printable(scheme.get('scheme', ''), 20)}".rstrip()
    if kind == "apiKey":
        return f"apiKey in {printable(scheme.get('in', ''), 20)}"
    return kind


def _how(kind: str, scheme: Mapping[str, Any], users: Mapping[str, Any], fixtures: Path, shared: bool) -> str:
    if kind == "bearer":
        how = "Authorization: Bearer TOKEN, TOKEN from `mockserver token --user ID`"
        if shared:
            how += f" with the same {settings.JWT_SECRET_ENV}"
        return how + (" (no flow is run, no scope checked)" if scheme.get("type") in BEARER_KINDS else "")
    if kind == "basic":
        example = next(iter(users.values()), None)
        if shared or example is None:
            return f"Authorization: Basic of a fixture user's EMAIL:PASSWORD ({fixtures}/users.yaml)"
        return f"Authorization: Basic of a fixture user's EMAIL:PASSWORD, e.g. {example.email}:{example.password}"
    if kind == "apiKey":
        name, where = printable(scheme["name"]), scheme["in"]
        # A key of the team's own is a secret: the banner names its variable, never its value.
        key = f"${API_KEY_ENV}" if os.environ.get(API_KEY_ENV) else DEFAULT_API_KEY
        return f"header {name}: {key}" if where == "header" else f"{where} {name}={key}"
    return "the mock cannot check it: a request that needs it is a 401"


def _login_hint(users: Mapping[str, Any], fixtures: Path, shared: bool) -> list[str]:
    if shared:
        # Stdout ends up in the deployment's logs: no passwords there.
        lines = [
            f"Log in (POST /api/auth/login) with a user of {fixtures}/users.yaml, or get a token with",
            f"`mockserver token --user ID` and the same {settings.JWT_SECRET_ENV}. Users:",
        ]
        return lines + [f"  {user.id:<20} {user.email}" for user in users.values()]
    lines = ["Log in (POST /api/auth/login) as, or `mockserver token --user ID`:"]
    return lines + [f"  {user.id:<20} {user.email:<30} {user.password}" for user in users.values()]


def _users(users: Mapping[str, Any], fixtures: Path, shared: bool, passwords: bool) -> list[str]:
    head = f"Fixture users ({fixtures}/users.yaml), for `mockserver token --user ID`"
    if shared:
        # As the login hint: no passwords in a deployment's logs.
        head += f" with the same {settings.JWT_SECRET_ENV}"
        head += " and Basic (passwords in the file)" if passwords else ""
        return [head + ":"] + [f"  {user.id:<20} {user.email}" for user in users.values()]
    if not passwords:
        return [head + ":"] + [f"  {user.id:<20} {user.email}" for user in users.values()]
    head += " and Basic EMAIL:PASSWORD:"
    return [head] + [f"  {user.id:<20} {user.email:<30} {user.password}" for user in users.values()]
