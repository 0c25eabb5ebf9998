"""The request headers the mock parses itself have a length limit each (settings.py), and
the Prefer parser does work linear in its header: a hostile header is refused at once,
in the API's error shape, and other clients stay answered. The first test counts the
parser's bytecode operations; the others attack a real server (waitress on 127.0.0.1)."""

from __future__ import annotations

import base64
import contextlib
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
import requests
from support import FIXTURES, PROJECT, SECRET, SPEC, bearer

from mockserver import create_app
from mockserver.errors import ApiError
from mockserver.pipeline.respond.prefer import read
from mockserver.pipeline.security.schemes import DEFAULT_API_KEY
from mockserver.server.deployment import Safeguards
from mockserver.server.serving import serve_in_background
from mockserver.settings import MAX_API_KEY_CHARS, MAX_AUTHORIZATION_CHARS, MAX_PREFER_CHARS

CHATS = f"/api/chat/projects/{PROJECT}/chats"
SECURITY = Path(__file__).resolve().parents[1] / "specs" / "security.yaml"
ADMIN_TOKEN = "admin-token-for-the-header-limit-tests-0123456789"

# Headers of `size` characters built to make a backtracking parser work hard: the one of
# the security review (`code`, spaces, `x`: quadratic under the old pattern), and runs of
# each separator, of quotes and of `=`.
HOSTILE: dict[str, Callable[[int], str]] = {
    "code, spaces, x": lambda size: "code" + " " * (size - 5) + "x",
    "code=, spaces, x": lambda size: "code=" + " " * (size - 6) + "x",
    "many preferences": lambda size: ("a=b," * size)[:size],
    "many codes": lambda size: ("code=404;" * size)[:size],
    "separators": lambda size: ";," * (size // 2),
    "spaces and commas": lambda size: " ," * (size // 2),
    "equals signs": lambda size: "example" + "=" * (size - 7),
    "quotes": lambda size: 'example="' + '"' * (size - 9),
    "a long example name": lambda size: "example=" + "a" * (size - 8),
}


def bytecode_operations(function: Callable[[str], object], argument: str) -> int:
    """How many bytecode instructions of Python code run for `function(argument)`, ApiError
    or not (sys.settrace with opcode events): work counted, not timed. A first, untraced
    call fills the caches (compiled patterns, imports), which a later call does not pay for."""
    with contextlib.suppress(ApiError):
        function(argument)
    count = 0

    def trace(frame, event, _arg):
        nonlocal count
        frame.f_trace_opcodes = True
        frame.f_trace_lines = False
        if event == "opcode":
            count += 1
        return trace

    previous = sys.gettrace()
    sys.settrace(trace)
    try:
        function(argument)
    except ApiError:
        pass
    finally:
        sys.settrace(previous)
    return count


@pytest.mark.parametrize("shape", HOSTILE)
def test_the_prefer_parser_works_linearly_in_the_header_up_to_its_limit(shape):
    build = HOSTILE[shape]
    half, full = build(MAX_PREFER_CHARS // 2), build(MAX_PREFER_CHARS)
    assert len(full) <= MAX_PREFER_CHARS
    half_work, full_work = bytecode_operations(read, half), bytecode_operations(read, full)
    # Linear: twice the header, at most about twice the work (quadratic would be four
    # times), and a few dozen instructions a character at most.
    assert full_work <= 2.2 * half_work + 200, (half_work, full_work)
    assert full_work <= 40 * MAX_PREFER_CHARS, full_work


def test_a_prefer_header_over_the_limit_is_refused_before_it_is_read():
    with pytest.raises(ApiError) as refused:
        read("code=404" + " " * (MAX_PREFER_CHARS - 7))
    assert refused.value.status == 400
    assert refused.value.details == {
        "Prefer": f"longer than the limit of {MAX_PREFER_CHARS} characters ({MAX_PREFER_CHARS + 1} sent)"
    }
    # The refusal does not depend on the header's length past the limit: the same work.
    just_over = bytecode_operations(read, HOSTILE["code, spaces, x"](MAX_PREFER_CHARS + 1))
    far_over = bytecode_operations(read, HOSTILE["code, spaces, x"](200 * 1024))
    assert just_over == far_over


@pytest.mark.parametrize(
    "header, details",
    [
        ("code=4 04", "code='4 04' is neither a token nor a quoted string"),
        ('example="kit"ty"', "example='kit\"ty' is neither a token nor a quoted string"),
        ("code=" + " " * (MAX_PREFER_CHARS - 6) + "x", "code='x' is not an HTTP status such as code=404"),
    ],
)
def test_a_malformed_value_is_named(header, details):
    with pytest.raises(ApiError) as refused:
        read(header)
    assert refused.value.details == {"Prefer": details}


@pytest.fixture
def server(app):
    with serve_in_background(app) as base_url:
        yield base_url


def test_a_prefer_header_at_the_limit_is_read_and_one_over_it_is_a_400(server):
    at_limit = "code=404, wait=" + "9" * (MAX_PREFER_CHARS - 15)  # a preference the mock does not act on
    assert len(at_limit) == MAX_PREFER_CHARS
    forced = requests.get(server + CHATS, headers={**bearer(), "Prefer": at_limit}, timeout=10)
    assert forced.status_code == 404
    assert forced.json()["details"] == "Forced by Prefer: code=404"

    over = requests.get(server + CHATS, headers={**bearer(), "Prefer": at_limit + "9"}, timeout=10)
    assert over.status_code == 400
    body = over.json()
    assert body["code"] == "INVALID_PREFER_HEADER"
    assert body["details"] == {
        "Prefer": f"longer than the limit of {MAX_PREFER_CHARS} characters ({MAX_PREFER_CHARS + 1} sent)"
    }
    assert body["requestId"] == over.headers["X-Request-Id"]


def test_hostile_prefer_headers_do_not_hold_up_other_clients(server):
    # 64 KiB headers of the review's shape, from four clients at once and with no token
    # (Prefer is read before authentication). The old pattern took minutes over each,
    # holding the GIL: the health check behind them timed out.
    hostile = HOSTILE["code, spaces, x"](64 * 1024)
    statuses: list[int | str] = []

    def attack() -> None:
        try:
            statuses.append(requests.get(server + CHATS, headers={"Prefer": hostile}, timeout=30).status_code)
        except requests.RequestException as exc:
            statuses.append(type(exc).__name__)

    attackers = [threading.Thread(target=attack) for _ in range(4)]
    for attacker in attackers:
        attacker.start()
    try:
        health = requests.get(server + "/__mock/health", timeout=10)
        assert health.status_code == 200
    finally:
        for attacker in attackers:
            attacker.join(timeout=60)
    assert statuses == [400] * 4


def test_an_authorization_header_over_the_limit_is_a_401_with_the_bearer_challenge(server):
    at_limit = "Bearer " + "a" * (MAX_AUTHORIZATION_CHARS - 7)
    malformed = requests.get(server + CHATS, headers={"Authorization": at_limit}, timeout=10)
    assert malformed.status_code == 401
    assert malformed.json()["details"] == "Token is malformed"  # read and checked as any token

    over = requests.get(server + CHATS, headers={"Authorization": at_limit + "a"}, timeout=10)
    assert over.status_code == 401
    assert (
        over.json()["details"]
        == f"Authorization header is longer than the limit of {MAX_AUTHORIZATION_CHARS} characters"
    )
    assert over.headers["WWW-Authenticate"].startswith('Bearer realm="mudbase", error="invalid_token"')
    # A valid token padded past the limit is refused all the same.
    padded = bearer()["Authorization"].replace(" ", " " * MAX_AUTHORIZATION_CHARS)
    assert requests.get(server + CHATS, headers={"Authorization": padded}, timeout=10).status_code == 401


def test_basic_credentials_and_api_keys_over_their_limits_are_a_401_with_their_challenge():
    app = create_app(SECURITY, FIXTURES, jwt_secret=SECRET)
    credentials = base64.b64encode(b"morgan.chen@northwind.dev:" + b"p" * MAX_AUTHORIZATION_CHARS).decode()
    with serve_in_background(app) as base_url:
        basic = requests.get(base_url + "/basic", headers={"Authorization": "Basic " + credentials}, timeout=10)
        key = requests.get(base_url + "/header-key", headers={"X-API-Key": "k" * (MAX_API_KEY_CHARS + 1)}, timeout=10)
        good_key = requests.get(base_url + "/header-key", headers={"X-API-Key": DEFAULT_API_KEY}, timeout=10)
    assert basic.status_code == 401
    assert (
        basic.json()["details"]
        == f"Authorization header is longer than the limit of {MAX_AUTHORIZATION_CHARS} characters"
    )
    assert basic.headers["WWW-Authenticate"].startswith("Basic ")
    assert key.status_code == 401
    assert (
        key.json()["details"]
        == f"API key X-API-Key (header) is longer than the limit of {MAX_API_KEY_CHARS} characters"
    )
    assert key.headers["WWW-Authenticate"].startswith("ApiKey ")
    assert good_key.status_code == 200


def test_an_admin_authorization_header_over_the_limit_is_a_401():
    app = create_app(SPEC, FIXTURES, jwt_secret=SECRET, safeguards=Safeguards(admin_token=ADMIN_TOKEN))
    with serve_in_background(app) as base_url:
        admitted = requests.get(
            base_url + "/__mock/health", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=10
        )
        padded = "Bearer" + " " * MAX_AUTHORIZATION_CHARS + ADMIN_TOKEN  # admitted, were it not so long
        over = requests.get(base_url + "/__mock/health", headers={"Authorization": padded}, timeout=10)
    assert admitted.status_code == 200
    assert over.status_code == 401
    assert (
        over.json()["details"]
        == f"The Authorization header is longer than the limit of {MAX_AUTHORIZATION_CHARS} characters"
    )
    assert over.headers["WWW-Authenticate"] == 'Bearer realm="mudbase-mock-admin", error="invalid_token"'
