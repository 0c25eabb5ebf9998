"""The validating proxy (`mockserver proxy`) in front of real servers on 127.0.0.1: a
plain WSGI server whose every byte the tests choose, the mock, and the mutants."""

from __future__ import annotations

import gc
import gzip
import http.client
import json
import os
import socket
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from mutants import MUTANTS
from suite_runs import WITH_SECRET
from support import (
    CHAT,
    MOCKSERVER,
    PARTICIPANTS,
    PROJECT,
    ROOT,
    SAM,
    SECRET,
    SPEC,
    bearer,
    check_admin_response,
    read_line,
)

from mockserver import settings as mock_settings
from mockserver.controls.steering import admin_document
from mockserver.proxy.forward import ProxySettings
from mockserver.proxy.responses import Document
from mockserver.server.app import create_proxy_app
from mockserver.server.serving import serve_in_background
from mockserver.settings import MAX_BODY_BYTES as MOCK_MAX_BODY_BYTES
from mockserver.settings import PROXY_MAX_BODY_BYTES

DETAILS = f"/api/chat/projects/{PROJECT}/chats/{CHAT}"
JSON = {"Content-Type": "application/json"}


@contextmanager
def proxy_to(upstream: str, tmp_path: Path, spec: Path = SPEC, **options) -> Iterator[tuple[str, object]]:
    """The proxy in front of `upstream`, served by waitress; yields its URL and its app."""
    settings = ProxySettings(upstream, report_dir=tmp_path / "reports", **options)
    app = create_proxy_app(spec, settings)
    try:
        with serve_in_background(app, max_body_bytes=PROXY_MAX_BODY_BYTES, waits=True) as url:
            yield url, app
    finally:
        # Closed first, the upstream finishes each connection itself (waitress leaves the
        # spooled buffers of connections it is stopped with to the garbage collector).
        app.extensions["mockserver.upstream"].close()


def own_route(method: str, url: str, **kwargs) -> requests.Response:
    """A request to one of the proxy's /__mock/violations routes; its answer conforms to
    their description in mockserver/admin_openapi.yaml."""
    answer = requests.request(method, url, timeout=10, **kwargs)
    check_admin_response(answer)
    return answer


def violations(proxy_url: str, **filters) -> list[dict]:
    answer = own_route("GET", f"{proxy_url}/__mock/violations", params=filters)
    assert answer.status_code == 200, answer.text
    found = answer.json()["violations"]
    document = Document(json.loads(json.dumps(_document())))
    for violation in found:
        if violation["pointer"]:  # a pointer names a place that exists in the document
            document.lookup(violation["pointer"])
    return found


_DOCUMENT: dict = {}


def _document() -> dict:
    if not _DOCUMENT:
        from mockserver.contract.index import Contract

        _DOCUMENT.update(Contract(SPEC).document)
    return _DOCUMENT


# --- a server whose answers the tests write byte for byte ------------------------------


class Scripted:
    """A WSGI app: each path answers as the test set it; it records what it received."""

    def __init__(self) -> None:
        self.answers: dict[str, tuple[str, list[tuple[str, str]], object]] = {}
        self.received: list[dict] = []

    def __call__(self, environ, start_response):
        body = environ["wsgi.input"].read()
        self.received.append(
            {
                "method": environ["REQUEST_METHOD"],
                "target": environ["REQUEST_URI"],
                "headers": {k: v for k, v in environ.items() if k.startswith("HTTP_") or k.startswith("CONTENT_")},
                "body": body,
            }
        )
        status, headers, payload = self.answers.get(environ["PATH_INFO"], ("404 Not Found", [], [b""]))
        start_response(status, headers)
        return payload() if callable(payload) else payload


@pytest.fixture
def scripted() -> Iterator[tuple[Scripted, str]]:
    app = Scripted()
    with serve_in_background(app, max_body_bytes=PROXY_MAX_BODY_BYTES, waits=True) as url:
        yield app, url


@pytest.fixture
def through(scripted, tmp_path) -> Iterator[tuple[Scripted, str]]:
    app, upstream = scripted
    with proxy_to(upstream, tmp_path) as (url, _):
        yield app, url


# Bodies past 1 MiB are spooled by waitress to temporary files. serve_in_background closes
# those of connections still open when it stops; one left to the garbage collector would
# warn (an error here) at the gc.collect() ending these tests.
def test_headers_and_binary_bodies_pass_unchanged_both_ways(through):
    upstream, proxy = through
    body = os.urandom(300_000)
    upstream.answers["/files/blob"] = (
        "201 Created",
        [
            ("Content-Type", "application/octet-stream"),
            ("Content-Length", str(len(body))),
            ("Set-Cookie", "a=1; Path=/"),
            ("Set-Cookie", "b=2; HttpOnly"),
            ("X-Odd", '  spaced,  "quoted" ; value'),
            ("ETag", 'W/"abc"'),
        ],
        [body],
    )
    sent = os.urandom(2 * MOCK_MAX_BODY_BYTES)  # past the validation limit: streamed on
    answer = requests.post(
        f"{proxy}/files/blob?a=1&a=2&b=%2F%20",
        data=sent,
        headers={"Content-Type": "application/octet-stream", "X-Client": "kept as is", "Connection": "close"},
        timeout=30,
    )
    assert answer.status_code == 201
    assert answer.content == body
    assert answer.raw.headers.getlist("Set-Cookie") == ["a=1; Path=/", "b=2; HttpOnly"]
    assert answer.headers["X-Odd"] == '  spaced,  "quoted" ; value'.strip()  # HTTP drops the outer spaces
    assert answer.headers["ETag"] == 'W/"abc"'
    assert answer.headers["X-Contract-Violations"] == "1"  # the path is not in the contract
    received = upstream.received[-1]
    assert received["body"] == sent
    assert received["target"] == "/files/blob?a=1&a=2&b=%2F%20"
    assert received["headers"]["HTTP_X_CLIENT"] == "kept as is"
    gc.collect()


def test_the_upstream_sees_its_own_host(scripted, tmp_path):
    upstream, upstream_url = scripted
    upstream.answers["/x"] = ("200 OK", [("Content-Length", "0")], [b""])
    with proxy_to(upstream_url, tmp_path) as (proxy, _):
        requests.get(f"{proxy}/x", timeout=10)
    assert upstream.received[-1]["headers"]["HTTP_HOST"] == upstream_url.removeprefix("http://")


def test_a_large_response_is_streamed_on(through):
    upstream, proxy = through
    body = os.urandom(9 * 1024 * 1024)  # past the proxy's buffer
    upstream.answers["/large"] = ("200 OK", [("Content-Length", str(len(body)))], [body])
    answer = requests.get(f"{proxy}/large", headers={"Connection": "close"}, timeout=30)
    assert answer.content == body
    assert answer.headers["Content-Length"] == str(len(body))
    gc.collect()


def test_an_upstream_that_stalls_mid_body_is_cut_off_and_recorded(scripted, tmp_path):
    upstream, upstream_url = scripted
    first = os.urandom(5 * 1024 * 1024)  # past the buffer: the headers are gone when it stalls

    def stalling():
        yield first
        time.sleep(2)
        yield b"late"

    upstream.answers["/stalls"] = ("200 OK", [("Content-Length", str(len(first) + 4))], stalling)
    with proxy_to(upstream_url, tmp_path, timeout=0.5) as (proxy, _):
        started = time.monotonic()
        with pytest.raises(requests.exceptions.RequestException):
            requests.get(f"{proxy}/stalls", headers={"Connection": "close"}, timeout=10).content  # noqa: B018
        assert time.monotonic() - started < 5
        stalled = [v for v in violations(proxy) if v["kind"] == "upstream"]
    assert [v["message"].split(":")[0] for v in stalled] == ["upstream failed mid-body"]
    gc.collect()


def test_a_chunked_response_stays_chunked(through):
    upstream, proxy = through
    parts = [b"first,", os.urandom(70_000), b"last"]
    upstream.answers["/chunked"] = ("200 OK", [("Content-Type", "application/octet-stream")], lambda: iter(parts))
    connection = http.client.HTTPConnection(proxy.removeprefix("http://"), timeout=10)
    connection.request("GET", "/chunked")
    answer = connection.getresponse()
    assert answer.getheader("Transfer-Encoding") == "chunked"
    assert answer.getheader("Content-Length") is None
    assert answer.read() == b"".join(parts)
    connection.close()


def test_redirects_are_not_followed(through):
    upstream, proxy = through
    upstream.answers["/old"] = ("302 Found", [("Location", "/new"), ("Content-Length", "0")], [b""])
    upstream.answers["/new"] = ("200 OK", [("Content-Length", "2")], [b"no"])
    answer = requests.get(f"{proxy}/old", allow_redirects=False, timeout=10)
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/new"
    assert [r["target"] for r in upstream.received] == ["/old"]


def test_head_and_204(through):
    upstream, proxy = through
    upstream.answers["/head"] = ("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "1234")], [b""])
    upstream.answers["/empty"] = ("204 No Content", [], [b""])
    connection = http.client.HTTPConnection(proxy.removeprefix("http://"), timeout=10)
    connection.request("HEAD", "/head")
    head = connection.getresponse()
    assert (head.status, head.getheader("Content-Length"), head.read()) == (200, "1234", b"")
    connection.request("DELETE", "/empty")  # the same connection: nothing was left unread
    empty = connection.getresponse()
    assert (empty.status, empty.read()) == (204, b"")
    assert empty.getheader("Content-Type") is None and empty.getheader("Content-Length") is None
    connection.close()
    assert [r["method"] for r in upstream.received] == ["HEAD", "DELETE"]


def test_a_cors_preflight_is_forwarded_and_not_a_violation(through):
    upstream, proxy = through
    upstream.answers[PARTICIPANTS] = ("204 No Content", [("Access-Control-Allow-Origin", "*")], [b""])
    headers = {"Origin": "http://localhost:5173", "Access-Control-Request-Method": "DELETE"}
    answer = requests.options(f"{proxy}{PARTICIPANTS}", headers=headers, timeout=10)
    assert (answer.status_code, answer.headers["Access-Control-Allow-Origin"]) == (204, "*")
    assert upstream.received[-1]["method"] == "OPTIONS"
    assert violations(proxy) == []


def test_an_unreachable_upstream_is_a_502(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nothing listens there
    with proxy_to(f"http://127.0.0.1:{port}", tmp_path, timeout=2) as (proxy, _):
        started = time.monotonic()
        answer = requests.get(f"{proxy}{DETAILS}", headers=bearer(), timeout=10)
        assert time.monotonic() - started < 5
        assert answer.status_code == 502
        body = answer.json()
        assert body["code"] == "UPSTREAM_UNREACHABLE" and body["path"] == DETAILS
        assert set(body) == {"error", "code", "details", "timestamp", "path", "requestId"}
        [recorded] = violations(proxy)
        assert (recorded["kind"], recorded["status"], recorded["operationId"]) == ("upstream", 502, "getChatDetails")


def test_a_silent_upstream_is_a_504_without_a_hang(tmp_path):
    with socket.socket() as silent:  # the kernel accepts the connection; nobody ever answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        with proxy_to(f"http://127.0.0.1:{silent.getsockname()[1]}", tmp_path, timeout=0.5) as (proxy, _):
            started = time.monotonic()
            answer = requests.get(f"{proxy}/anything", timeout=10)
            assert time.monotonic() - started < 3
            assert answer.status_code == 504
            assert answer.json()["code"] == "UPSTREAM_TIMEOUT"
            assert answer.headers["X-Contract-Violations"] == "2"  # undocumented, and the timeout
            assert {v["kind"] for v in violations(proxy)} == {"undocumented", "upstream"}


# --- checks against the contract ---------------------------------------------------------


def test_a_response_that_breaks_its_schema_is_recorded_with_its_pointer(through):
    upstream, proxy = through
    chat = {"_id": CHAT, "name": "x", "type": "dm", "participants": [], "createdAt": "2025-06-02T10:00:00Z"}
    body = json.dumps({"success": True, "data": chat}).encode()
    upstream.answers[DETAILS] = ("200 OK", [("Content-Type", "application/json")], [body])
    answer = requests.get(f"{proxy}{DETAILS}", headers=bearer(), timeout=10)
    assert answer.content == body  # sent on as it came
    assert answer.headers["X-Contract-Violations"] == "1"
    [violation] = violations(proxy)
    assert violation["kind"] == "response" and violation["operationId"] == "getChatDetails"
    assert violation["pointer"] == "/components/schemas/ChatDetails/properties/type/enum"
    assert violation["expected"] == ["direct", "group", "channel", "broadcast"] and violation["seen"] == "dm"
    assert violation["message"].startswith("body at /data/type: 'dm' is not one of")
    assert violation["exchange"]["request_headers"]["Authorization"] == "[redacted]"
    assert "Bearer" not in violation["curl"] and '"Authorization: $AUTHORIZATION"' in violation["curl"]


def test_undeclared_status_and_content_type(through):
    upstream, proxy = through
    upstream.answers[DETAILS] = ("418 I'm a teapot", [("Content-Type", "text/plain")], [b"tea"])
    upstream.answers["/api/auth/session"] = ("200 OK", [("Content-Type", "text/html")], [b"<p>hi</p>"])
    requests.get(f"{proxy}{DETAILS}", headers=bearer(), timeout=10)
    requests.get(f"{proxy}/api/auth/session", headers=bearer(), timeout=10)
    [teapot] = violations(proxy, status=418)
    assert teapot["message"] == "status 418 is not declared" and teapot["seen"] == 418
    [html] = violations(proxy, operationId="getCurrentSession")
    assert html["seen"] == "text/html" and html["expected"] == ["application/json"]


SESSION_ONLY_200 = """
openapi: 3.0.3
info: {title: Session, version: "1"}
components:
  securitySchemes:
    BearerAuth: {type: http, scheme: bearer}
security: [{BearerAuth: []}]
paths:
  /api/auth/session:
    get:
      operationId: getCurrentSession
      responses:
        "200":
          description: The session
          content:
            application/json:
              schema: {type: object}
"""


def test_an_undeclared_401_from_the_upstream_is_a_violation(scripted, tmp_path):
    """The proxy checks the upstream against the document as written. The mock adds a 401 to
    the document it serves (it enforces the security), but that addition is the mock's own:
    a real server's 401 where the document declares only a 200 is drift to report."""
    app, upstream = scripted
    spec = tmp_path / "session.yaml"
    spec.write_text(SESSION_ONLY_200)
    challenge = ("WWW-Authenticate", 'Bearer realm="api"')
    app.answers["/api/auth/session"] = ("401 Unauthorized", [*JSON.items(), challenge], [b'{"error": "no token"}'])
    with proxy_to(upstream, tmp_path, spec=spec) as (url, _):
        answer = requests.get(f"{url}/api/auth/session", timeout=10)
        found = own_route("GET", f"{url}/__mock/violations").json()["violations"]
    assert answer.status_code == 401
    assert answer.headers["X-Contract-Violations"] == "1"
    (violation,) = found
    assert violation["pointer"] == "/paths/~1api~1auth~1session/get/responses"
    assert violation["message"] == "status 401 is not declared"
    assert violation["expected"] == ["200"]


def test_a_gzipped_body_is_checked_and_passed_on_compressed(through):
    upstream, proxy = through
    compressed = gzip.compress(json.dumps({"user": "not an object"}).encode())
    headers = [("Content-Type", "application/json"), ("Content-Encoding", "gzip")]
    upstream.answers["/api/auth/session"] = (
        "200 OK",
        [*headers, ("Content-Length", str(len(compressed)))],
        [compressed],
    )
    answer = requests.get(f"{proxy}/api/auth/session", headers=bearer(), stream=True, timeout=10)
    assert answer.raw.read(decode_content=False) == compressed
    [violation] = violations(proxy)
    assert violation["message"].startswith("body at /user: 'not an object' is not of type 'object'")


def test_reject_invalid_requests_answers_like_the_mock(scripted, tmp_path):
    upstream, upstream_url = scripted
    with proxy_to(upstream_url, tmp_path, reject_invalid_requests=True) as (proxy, _):
        answer = requests.delete(f"{proxy}{PARTICIPANTS}", json={}, headers=bearer(), timeout=10)
        assert answer.status_code == 400
        assert answer.json()["code"] == "VALIDATION_ERROR"
        assert answer.json()["details"] == {"userId": "'userId' is a required property"}
        assert upstream.received == []  # refused, never forwarded
        [violation] = violations(proxy)
        assert violation["kind"] == "request"
        assert violation["pointer"] == "/components/schemas/RemoveParticipantRequest/required"


def test_filters_reports_and_reset(through, tmp_path):
    upstream, proxy = through
    upstream.answers[PARTICIPANTS] = ("200 OK", [("Content-Type", "application/json")], [b'{"message": 1}'])
    requests.delete(f"{proxy}{PARTICIPANTS}", json={"userId": 7}, headers=bearer(), timeout=10)
    requests.get(f"{proxy}/not/documented", timeout=10)
    requests.get(f"{proxy}/api/auth/session", headers=bearer(), timeout=10)  # 404 from upstream: undeclared
    assert {v["kind"] for v in violations(proxy, operationId="removeParticipant")} == {"request", "response"}
    assert [v["path"] for v in violations(proxy, method="get", path="/not/*")] == ["/not/documented"]
    assert [v["operationId"] for v in violations(proxy, status=404)] == [None, "getCurrentSession"]
    bad = own_route("GET", f"{proxy}/__mock/violations", params={"status": "abc", "operationid": "x"})
    assert bad.status_code == 400 and set(bad.json()["details"]) == {"status", "operationid"}
    refused = own_route("POST", f"{proxy}/__mock/violations/report")  # admin writes need JSON
    assert refused.status_code == 415
    report = own_route("POST", f"{proxy}/__mock/violations/report", json={}).json()
    assert report["exchanges"] == 3 and report["violationCount"] == 5
    saved = json.loads(Path(report["written"]["json"]).read_text())
    assert len(saved["violations"]) == 5
    suite = ET.parse(report["written"]["junit"]).getroot().find("testsuite")
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    assert set(cases) == {"removeParticipant", "getCurrentSession", "undocumented GET /not/documented"}
    assert all(case.find("failure") is not None for case in cases.values())
    assert own_route("POST", f"{proxy}/__mock/violations/reset", json={}).status_code == 200
    assert violations(proxy) == []
    requests.get(f"{proxy}/api/auth/session", headers=bearer(), timeout=10)
    junit = ET.fromstring(own_route("GET", f"{proxy}/__mock/violations/junit").content)
    assert [case.get("name") for case in junit.iter("testcase")] == ["getCurrentSession"]


def test_a_proxy_on_loopback_answers_only_to_loopback_host_names(through):
    """A DNS-rebinding page (its own name resolving to 127.0.0.1) can neither read the
    violations nor reach the upstream through a developer's proxy."""
    upstream, proxy = through
    upstream.answers["/x"] = ("200 OK", [("Content-Length", "0")], [b""])
    rebound = {"Host": "attacker.example:4011"}
    refused = own_route("GET", f"{proxy}/__mock/violations", headers=rebound)
    assert (refused.status_code, refused.json()["code"]) == (400, "UNTRUSTED_HOST")
    forwarded = requests.get(f"{proxy}/x", headers=rebound, timeout=10)
    assert (forwarded.status_code, forwarded.json()["code"]) == (400, "UNTRUSTED_HOST")
    assert upstream.received == []  # nothing reached the upstream
    assert requests.get(f"{proxy}/x", timeout=10).status_code == 200


def test_the_proxys_own_routes_are_described_in_the_admin_document(scripted, tmp_path):
    """The /__mock/violations routes are in mockserver/admin_openapi.yaml, tagged proxy (the
    mock serves the others); without the admin token each is a 401 that conforms too."""
    documented = {
        (method.upper(), path)
        for path, item in admin_document()["paths"].items()
        for method, operation in item.items()
        if "proxy" in operation.get("tags", [])
    }
    _, upstream = scripted
    with proxy_to(upstream, tmp_path, admin_token="t" * 32) as (proxy, app):
        routed = {
            (method, rule.rule)
            for rule in app.url_map.iter_rules()
            if rule.rule.startswith("/__mock")
            for method in rule.methods - {"HEAD", "OPTIONS"}
        }
        assert routed == documented
        for method, path in sorted(routed):
            answer = own_route(method, proxy + path, json={})
            assert (answer.status_code, answer.json()["code"]) == (401, "UNAUTHORIZED"), path


# --- in front of the mock ---------------------------------------------------------------


@pytest.fixture
def mock_behind_proxy(live_server, tmp_path) -> Iterator[str]:
    with proxy_to(live_server, tmp_path) as (proxy, _):
        yield proxy


def test_the_mock_through_the_proxy_is_unchanged(live_server, mock_behind_proxy):
    # Asked as a page of a frontend dev server: the mock echoes an allowed origin, with
    # credentials, and the proxy passes those headers on unchanged.
    headers = {**bearer(), "Origin": "http://localhost:3000"}
    direct = requests.get(f"{live_server}{DETAILS}", headers=headers, timeout=10)
    proxied = requests.get(f"{mock_behind_proxy}{DETAILS}", headers=headers, timeout=10)
    assert proxied.content == direct.content
    assert proxied.headers["X-Contract-Violations"] == "0"
    assert direct.headers["Access-Control-Allow-Origin"] == "http://localhost:3000"
    same = {"Content-Type", "Content-Length", "Access-Control-Allow-Origin", "Access-Control-Allow-Credentials", "Vary"}
    assert {k: proxied.headers[k] for k in same} == {k: direct.headers[k] for k in same}
    assert violations(mock_behind_proxy) == []


def test_the_contract_suite_through_the_proxy_finds_the_mock_conforming(mock_behind_proxy):
    """The whole contract suite, sent through the proxy to the mock: the suite passes and the
    mock's side has no violation. The suite's own invalid requests (no body, malformed JSON,
    wrong types, undocumented methods) are recorded as the client's, each refused.
    Takes a minute or two: the suite runs its generated cases too."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONTRACT_")}
    env.update({**WITH_SECRET.env, "CONTRACT_JWT_SECRET": SECRET, "MOCKSERVER_JWT_SECRET": SECRET})
    suite = subprocess.run(
        [sys.executable, "-m", "pytest", "contract_tests", "-q", "-p", "no:cacheprovider"]
        + [f"--base-url={mock_behind_proxy}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert suite.returncode == 0, suite.stdout[-5000:]
    found = violations(mock_behind_proxy)
    assert [v for v in found if v["kind"] in ("response", "upstream")] == []
    # The suite's invalid requests are refused, and its probes of undocumented methods get
    # 405s (an OPTIONS without a preflight's headers the mock answers with its Allow list).
    assert {v["kind"] for v in found} <= {"request", "undocumented"}
    assert all(v["status"] >= 400 or v["method"] == "OPTIONS" for v in found), [v for v in found if v["status"] < 400]


# --- in front of the mutants --------------------------------------------------------------


def no_token():
    return requests.delete, PARTICIPANTS, {"json": {"userId": SAM}}


def with_token(**kwargs):
    return requests.delete, PARTICIPANTS, {"headers": {**bearer(), **kwargs.pop("headers", {})}, **kwargs}


# Mutants whose bug one exchange shows as a break of the contract: the request that shows
# it, and what the recorded violation says (kind, a part of its message).
SHOWN = {
    "error-shape": (no_token, "response", "body at /error: {'message': 'Authentication required'} is not of type"),
    "html-errors": (no_token, "response", "Content-Type text/html is not declared for 401"),
    "status-422": (lambda: with_token(json={}), "response", "status 422 is not declared"),
    "no-challenge": (no_token, "response", "WWW-Authenticate header is missing"),
    "500-on-malformed-json": (
        lambda: with_token(data=b'{"userId": ', headers=JSON),
        "response",
        "status 500 is not declared",
    ),
    # Without a body the mutant goes on with an empty userId, and fails.
    "missing-body": (with_token, "response", "status 500 is not declared"),
    "over-strict": (
        lambda: with_token(json={"userId": "someone"}),
        "response",
        "a request the contract accepts was refused as VALIDATION_ERROR",
    ),
}
# Bugs of state, rules or authentication: every single exchange of theirs is one the
# contract allows (a declared status with a body of its schema); only a scenario that
# knows the rules (contract_tests/test_*scenarios.py) tells them apart.
NOT_SHOWN = {
    "any-token": "a 200 for a forged token: the proxy holds no secret, and a 200 is declared",
    "alg-none": "a 200 for an unsigned token: as any-token",
    "ignores-exp": "a 200 for an expired token: which tokens have expired is the server's knowledge",
    "non-participant-200": "a 200 instead of a rule's 400: both declared",
    "forgets-removals": "state: the removal is answered as it should be, then forgotten",
    "no-authorization": "a rule (only admins remove others): the 200 is declared",
    "ignores-path": "acts on another chat; the answer has the declared shape",
    "add-without-admin": "a rule: the 200 is declared",
    "adds-strangers": "a rule (project members only): the 200 is declared",
    "duplicate-add-200": "a rule (no duplicates): the 200 is declared",
    "chat-visible-to-all": "visibility: the 200 with the chat is declared",
    "unlisted-messages": "state: the send is answered, the listing later lacks it",
    "no-pagination": "a longer page than asked for: the schema bounds no page size",
    "no-time-filters": "messages outside before/after: their times are valid values",
    "total-of-the-page": "a total that is a valid integer; only the scenario knows how many match",
    "sender-is-caller": "a sender that is a valid user ID; only the scenario knows who sent it",
    "reads-not-recorded": "state: counted, then forgotten",
    "read-count-0-or-1": "a modifiedCount that is a valid integer; only the scenario knows how many were unread",
    "reactions-for-all": "state: the reactions left are a valid list",
    "reaction-count-1": "a count that is a valid integer; the schema ties it to no list's length",
    "anyone-edits": "a rule (authors edit): the 200 is declared",
    "members-delete-all": "a rule (authors or admins delete): the 200 is declared",
    "outsiders-see-chats": "visibility: the 200 is declared",
    "removed-can-send": "a rule: the 201 is declared",
    "creator-not-admin": "the creator's role is a valid enum value; only the scenario knows it must be admin",
    "reusable-refresh": "a rule (one use per refresh token): the 200 is declared",
    "first-user-session": "another user in a valid User: which user a token is of is the server's knowledge",
    "logout-noop": "state: the logout's 200 is declared; the next request tells",
    "keys-not-stored": "state: the 200 is declared; the next read tells",
}


def test_every_mutant_is_in_one_table():
    assert set(SHOWN) | set(NOT_SHOWN) == set(MUTANTS)
    assert not set(SHOWN) & set(NOT_SHOWN)


@contextmanager
def serve_mutant(name: str) -> Iterator[str]:
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "mutants.py"), name],
        env={**os.environ, "MOCKSERVER_JWT_SECRET": SECRET},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        url = read_line(server).strip()
        assert url.startswith("http://"), f"mutant {name} did not start"
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)
        server.stdout.close()


@pytest.mark.parametrize("mutant", sorted(SHOWN))
def test_the_proxy_records_what_the_mutant_breaks(mutant, tmp_path):
    make_request, kind, message = SHOWN[mutant]
    send, path, options = make_request()
    with serve_mutant(mutant) as upstream, proxy_to(upstream, tmp_path) as (proxy, _):
        answer = send(f"{proxy}{path}", timeout=10, **options)
        found = violations(proxy)
    assert int(answer.headers["X-Contract-Violations"]) == len(found)
    assert any(v["kind"] == kind and message in v["message"] for v in found), found
    assert all(v["operationId"] == "removeParticipant" for v in found)


# --- the command ----------------------------------------------------------------------------


def test_the_command_writes_its_reports_on_exit(live_server, tmp_path):
    reports = tmp_path / "out"
    process = subprocess.Popen(
        [str(MOCKSERVER), "proxy", "--upstream", live_server, "--port", "0", "--report-dir", str(reports)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        banner = read_line(process, timeout=15)
        proxy = banner.split(" at ", 1)[1].split()[0]
        requests.get(f"{proxy}{DETAILS}", headers=bearer(), timeout=10)
        requests.get(f"{proxy}/nowhere", timeout=10)
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=15)
    assert "2 exchanges over 2 operations, 1 contract violations in undocumented GET /nowhere" in stderr
    report = json.loads((reports / "violations.json").read_text())
    assert report["violationCount"] == 1
    cases = ET.parse(reports / "violations-junit.xml").getroot().iter("testcase")
    assert {case.get("name"): case.find("failure") is not None for case in cases} == {
        "getChatDetails": False,
        "undocumented GET /nowhere": True,
    }


@pytest.mark.parametrize(
    "arguments, error",
    [
        (["--upstream", "ftp://example.com"], "--upstream must be an http:// or https:// URL"),
        (
            ["--upstream", "http://127.0.0.1:9", "--host", "0.0.0.0"],
            "--admin-token (or MOCKSERVER_ADMIN_TOKEN) is required",
        ),
        (["--upstream", "http://127.0.0.1:9", "--shared"], "--admin-token (or MOCKSERVER_ADMIN_TOKEN) is required"),
    ],
)
def test_the_command_refuses_what_it_cannot_run_with(arguments, error):
    env = {k: v for k, v in os.environ.items() if k != "MOCKSERVER_ADMIN_TOKEN"}
    result = subprocess.run(
        [str(MOCKSERVER), "proxy", *arguments, "--port", "0"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode != 0 and error in result.stderr


WRITE_ONLY_SPEC = """
openapi: 3.0.3
info: {title: accounts, version: "1"}
paths:
  /accounts/{id}:
    get:
      operationId: getAccount
      parameters:
        - {name: id, in: path, required: true, schema: {type: string}}
      responses:
        "200":
          description: The account, never its password.
          content:
            application/json:
              schema:
                type: object
                properties:
                  name: {type: string}
                  password: {type: string, writeOnly: true}
"""


@pytest.mark.parametrize(
    "body, broken",
    [(b'{"name": "Ada"}', False), (b'{"name": "Ada", "password": "hunter2"}', True)],
)
def test_a_write_only_property_in_a_response_is_a_violation(tmp_path, body, broken):
    # The compiled check cannot express writeOnly, so it must leave such a schema to the
    # reference, which refuses a write-only property in a response.
    from mockserver.contract.index import Contract
    from mockserver.proxy.responses import ResponseValidator

    spec = tmp_path / "accounts.yaml"
    spec.write_text(WRITE_ONLY_SPEC)
    contract = Contract(spec)
    found = ResponseValidator(contract).findings(
        contract.operations[0], "GET", 200, {"Content-Type": "application/json"}, body
    )
    assert bool(found) is broken
    if broken:
        assert found[0].pointer.endswith("/properties/password/writeOnly"), found


def raw_exchange(url: str, request_line: bytes) -> bytes:
    """The bytes a server answers to one request line (Connection: close)."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(request_line + b"\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    return answer


def test_options_asterisk_is_answered_and_no_request_line_is_a_500(live_server, tmp_path, caplog):
    """`OPTIONS *` asks the server itself what it serves (RFC 9110 9.3.7): the mock and the proxy
    answer 200 with Allow; `*` with another method is a 400, never a 500 with a traceback."""
    with proxy_to(live_server, tmp_path) as (proxy, _):
        for url in (live_server, proxy):
            answer = raw_exchange(url, b"OPTIONS * HTTP/1.1")
            status_line, _, rest = answer.partition(b"\r\n")
            assert status_line == b"HTTP/1.1 200 OK", answer
            assert b"\r\nAllow: " in b"\r\n" + rest and b"OPTIONS" in rest, answer
            refused = raw_exchange(url, b"GET * HTTP/1.1")
            assert refused.startswith(b"HTTP/1.1 400 "), refused
            assert json.loads(refused.partition(b"\r\n\r\n")[2])["code"] == "BAD_REQUEST"
    assert "unhandled error" not in caplog.text


# --- what anyone who reaches the proxy can make it record ---------------------------------

REDACTED = "[redacted]"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c3JfbW9yZ2FuIn0.c2lnbmF0dXJlLWJ5dGVz"
REFRESH = "rt_Q3Zs8pX0aB1cD2eF3gH4iJ5kL6mN7oP8qR9sT0uV1w"


def everything_recorded(proxy: str) -> dict[str, str]:
    """The violations as served, the JSON and JUnit reports as written, the JUnit as served."""
    listing = own_route("GET", f"{proxy}/__mock/violations")
    report = own_route("POST", f"{proxy}/__mock/violations/report", json={}).json()
    return {
        "GET /__mock/violations": listing.text,
        "violations.json": Path(report["written"]["json"]).read_text(),
        "violations-junit.xml": Path(report["written"]["junit"]).read_text(),
        "GET /__mock/violations/junit": own_route("GET", f"{proxy}/__mock/violations/junit").text,
    }


def test_no_secret_of_an_exchange_reaches_the_violations_or_the_reports(through):
    upstream, proxy = through
    # A login answer that breaks its schema, with a cookie and a token under an innocent name.
    answer = json.dumps({"message": "ok", "token": 4242424242, "expiresIn": 1800, "note": REFRESH}).encode()
    cookie = ("Set-Cookie", "sid=cookie-7f0a; HttpOnly")
    upstream.answers["/api/auth/login"] = ("200 OK", [("Content-Type", "application/json"), cookie], [answer])
    secrets = {
        "query": "query-a7c21e",
        "x-auth-token": "header-5e0b9d",
        "x-refresh-token": "header-83d4f1",
        "x-api-key": "header-c64e2a",
        "form": "form-9b1f7c",
        "array": "array-2d8e60",
        "number": "9876543210777",
        "text/plain": "plain-4c7a13",
        "jwt": JWT,
        "refresh": REFRESH,
        "response token": "4242424242",
        "cookie": "cookie-7f0a",
    }
    headers = {
        "X-Auth-Token": secrets["x-auth-token"],
        "X-Refresh-Token": secrets["x-refresh-token"],
        "X-Api-Key": secrets["x-api-key"],
    }
    login = f"{proxy}/api/auth/login"
    requests.get(f"{proxy}/api/auth/session?access_token={secrets['query']}&page=2", headers=headers, timeout=10)
    requests.post(login, data={"email": "a@b.c", "password": secrets["form"]}, timeout=10)
    requests.post(login, json={"email": "a@b.c", "password": [secrets["array"]]}, timeout=10)
    requests.post(f"{proxy}/api/auth/refresh", json={"refreshToken": int(secrets["number"])}, timeout=10)
    text_login = json.dumps({"email": "a@b.c", "password": secrets["text/plain"]})
    requests.post(login, data=text_login, headers={"Content-Type": "text/plain"}, timeout=10)
    requests.post(login, json={"email": "a@b.c", "password": "x", "note": JWT}, timeout=10)
    recorded = everything_recorded(proxy)
    found = violations(proxy)
    assert len(found) >= 6
    for where, text in recorded.items():
        leaked = [name for name, secret in secrets.items() if secret in text]
        assert leaked == [], f"{where} shows {leaked}"
    # The names stay, so the record says what was sent.
    [session] = [v for v in found if v["operationId"] == "getCurrentSession"]
    assert session["exchange"]["url"].endswith(f"/api/auth/session?access_token={REDACTED}&page=2")
    assert session["exchange"]["request_headers"]["X-Refresh-Token"] == REDACTED
    assert '"X-Auth-Token: $X_AUTH_TOKEN"' in session["curl"] and f"access_token={REDACTED}" in session["curl"]
    [number] = [v for v in found if v["operationId"] == "refreshToken" and v["kind"] == "request"]
    assert (number["seen"], number["message"]) == (REDACTED, f"{REDACTED} is not of type 'string'")


def test_the_contracts_own_api_key_names_are_redacted_by_the_proxy(scripted, tmp_path):
    upstream, upstream_url = scripted
    upstream.answers["/things"] = ("200 OK", [("Content-Type", "application/json")], [b'{"count": "many"}'])
    with proxy_to(upstream_url, tmp_path, spec=ROOT / "tests" / "specs" / "partner_key.yaml") as (proxy, _):
        requests.get(f"{proxy}/things?partner=partner-key-1b9e", headers={"X-Partner": "partner-key-2c4f"}, timeout=10)
        recorded = everything_recorded(proxy)
    [violation] = json.loads(recorded["GET /__mock/violations"])["violations"]
    assert all("partner-key" not in text for text in recorded.values())
    assert violation["exchange"]["request_headers"]["X-Partner"] == REDACTED
    assert violation["exchange"]["url"].endswith(f"/things?partner={REDACTED}")


def test_past_a_hundred_undocumented_paths_the_others_are_one_test_case(through):
    """2,000 distinct undocumented paths: the counters and the JUnit report hold the first
    100 and one case for the others, and every exchange is still counted."""
    _, proxy = through
    count = 2000

    def send(indexes: range) -> None:
        with requests.Session() as session:
            for index in indexes:
                session.get(f"{proxy}/nowhere/{index}/{'p' * 500}", timeout=10)

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(send, [range(start, count, 4) for start in range(4)]))
    junit = ET.fromstring(own_route("GET", f"{proxy}/__mock/violations/junit").content)
    cases = [case.get("name") for case in junit.iter("testcase")]
    assert len(cases) == mock_settings.UNDOCUMENTED_CASES + 1
    report = own_route("POST", f"{proxy}/__mock/violations/report", json={}).json()
    assert len(report["operations"]) == mock_settings.UNDOCUMENTED_CASES + 1
    assert report["exchanges"] == report["violationCount"] == count
    other = report["operations"]["undocumented (other paths)"]
    assert other == {"exchanges": count - mock_settings.UNDOCUMENTED_CASES, "violations": other["exchanges"]}
    folded = violations(proxy, path="/nowhere/1999/*")
    assert [v["case"] for v in folded] == ["undocumented (other paths)"]


def test_every_string_of_a_violation_is_cut(through):
    """Paths of 200 KB and a header of 50 KB: each string of a violation is cut, and so is
    the answer of /__mock/violations (before: about 1.2 MB a violation)."""
    _, proxy = through
    count, long_path = 20, "/" + "p" * 200_000
    for index in range(count):
        requests.get(f"{proxy}/{index}{long_path}?q={'v' * 1000}", headers={"X-Long": "h" * 50_000}, timeout=30)
    listing = own_route("GET", f"{proxy}/__mock/violations")
    text_limit, header_limit = mock_settings.VIOLATION_TEXT_CHARS + 3, mock_settings.VIOLATION_HEADER_CHARS + 3
    assert len(listing.content) <= count * 64 * 1024
    found = listing.json()["violations"]
    assert len(found) == count
    for violation in found:
        for name in ("path", "pointer", "message", "case"):
            assert len(violation[name]) <= text_limit, name
        assert len(json.dumps(violation["seen"])) <= text_limit + 2
        assert len(violation["exchange"]["url"]) <= text_limit
        assert all(len(value) <= header_limit for value in violation["exchange"]["request_headers"].values())
        assert len(violation["curl"]) <= text_limit + mock_settings.VIOLATION_BODY_CHARS + 16 * header_limit


def test_the_violations_kept_stay_within_their_byte_budget(scripted, tmp_path, monkeypatch):
    monkeypatch.setattr(mock_settings, "VIOLATIONS_MAX_BYTES", 256 * 1024)
    _, upstream_url = scripted
    count = 100
    with proxy_to(upstream_url, tmp_path) as (proxy, app):
        with requests.Session() as session:
            for index in range(count):
                session.get(f"{proxy}/api/{index}/{'p' * 10_000}", timeout=10)
        listing = own_route("GET", f"{proxy}/__mock/violations")
        report = own_route("POST", f"{proxy}/__mock/violations/report", json={}).json()
    kept = listing.json()["violations"]
    assert len(listing.content) <= 2 * mock_settings.VIOLATIONS_MAX_BYTES
    assert 0 < len(kept) < count
    assert [v["id"] for v in kept] == list(range(count - len(kept) + 1, count + 1))  # the newest, oldest first
    assert app.extensions["mockserver.violations"].bytes <= mock_settings.VIOLATIONS_MAX_BYTES
    assert report["violationCount"] == report["exchanges"] == count  # counted all the same
