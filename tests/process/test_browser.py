"""The mock from a real browser: Debian's headless Chromium, driven by Playwright, loads
a page (tests/browser/page.html) from another origin, which calls the mock as a
frontend does, with credentials.

The mock runs as `mockserver serve` on 127.0.0.1; a second small HTTP server serves the
page on another port, reached as http://localhost:PORT (an origin allowed by default)
or as http://NAME.test:PORT (Chromium maps *.test to 127.0.0.1), with app.test on the
mock's --cors-origin list and other.test not. A second mock serves a copy of the
contract that declares a 500, for the forced-500 cases. A new case is a test that opens
a page with `open_page` and awaits one of the page's `mockClient` calls through `run`;
fault rules are added over HTTP, from the test, with `fault_rules`.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import struct
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
import yaml
from support import ALEX, CHAT, MORGAN, PROJECT, ROOT, SPEC, ServeProcess

CHROMIUM = Path("/usr/bin/chromium")
INSTALL = "apt-get install -y --no-install-recommends chromium"
PAGE_FOLDER = Path(__file__).parents[1] / "browser"
MORGAN_LOGIN = ("morgan.chen@northwind.dev", "morgan-demo-password")
CHATS = f"/api/chat/projects/{PROJECT}/chats"
MESSAGES = f"{CHATS}/{CHAT}/messages"
VIEWPORT = {"width": 1280, "height": 800}
# The console's picture in the docs (04-frontend-controls.md): the screenshot test writes
# it only under UPDATE_SCREENSHOTS=1, so that a test run does not change the repository.
SCREENSHOT = ROOT / "docs" / "images" / "console.png"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PANELS = ("#journal-section", "#faults-section", "#state-section", "#operations-section")
SERVE_ENV = {"MOCKSERVER_JWT_SECRET": "", "MOCKSERVER_ADMIN_TOKEN": ""}
# No sandbox (containers, root), no GPU, no QUIC, and no calls home: the browser only
# talks to the two servers of the test.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP *.test 127.0.0.1",
]


def require(chromium: Path) -> None:
    """Skip the test without Chromium, naming the install command; under CI=true, fail it."""
    if not chromium.exists():
        message = f"{chromium} is missing; install it with: {INSTALL}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


class _PageHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args) -> None:
        pass  # the page server's requests are not what a test looks at


@pytest.fixture(scope="module")
def page_port() -> Iterator[int]:
    """A static server of tests/browser/ on a free 127.0.0.1 port."""
    handler = functools.partial(_PageHandler, directory=str(PAGE_FOLDER))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, name="page-server", daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def mock(page_port: int) -> Iterator[str]:
    """`mockserver serve` allowing http://app.test:PAGE_PORT besides localhost origins; its base URL."""
    with ServeProcess("--cors-origin", f"http://app.test:{page_port}", env=SERVE_ENV) as server:
        yield server.base_url


@pytest.fixture(scope="module")
def mock_declaring_500(tmp_path_factory) -> Iterator[str]:
    """`mockserver serve --spec` of a copy of openapi.yaml whose getUserChats declares a 500,
    as a team's contract that declares server errors does; its base URL."""
    document = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    document["paths"]["/api/chat/projects/{projectId}/chats"]["get"]["responses"]["500"] = {
        "description": "The server failed.",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    spec = tmp_path_factory.mktemp("spec") / "openapi.yaml"
    spec.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    with ServeProcess("--spec", str(spec), env=SERVE_ENV) as server:
        yield server.base_url


@pytest.fixture
def fault_rules():
    """add(base, rule) -> the rule added with POST /__mock/faults; the rules of every mock
    used are cleared afterwards (the mocks are shared by the module's tests)."""
    used = set()

    def add(base: str, rule: dict) -> dict:
        used.add(base)
        response = requests.post(f"{base}/__mock/faults", json=rule, timeout=10)
        assert response.status_code == 201, response.text
        return response.json()

    yield add
    for base in used:
        assert requests.delete(f"{base}/__mock/faults", json={}, timeout=10).status_code == 200


def token(base: str) -> str:
    """Morgan's token, logged in from the test (the page's login has a test of its own)."""
    email, password = MORGAN_LOGIN
    response = requests.post(f"{base}/api/auth/login", json={"email": email, "password": password}, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()["token"]


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """Headless Chromium with a new empty profile."""
    require(CHROMIUM)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
        )
        context.set_default_timeout(15_000)
        try:
            yield context
        finally:
            context.close()


@pytest.fixture
def open_page(browser, page_port):
    """open_page(host) -> the test page loaded from http://HOST:PAGE_PORT/page.html;
    open_page(url=URL) -> the page at URL."""
    pages = []

    def open_(host: str = "localhost", url: str | None = None):
        """The test page from HOST, or the page at `url` (the mock's console)."""
        page = browser.new_page()
        pages.append(page)
        page.goto(url or f"http://{host}:{page_port}/page.html")
        return page

    yield open_
    for page in pages:
        page.close()


def run(page, method: str, *args):
    """Await `mockClient[method](...args)` in the page; its result, as JSON values."""
    return page.evaluate("([method, args]) => window.mockClient[method](...args)", [method, list(args)])


def test_a_page_on_another_origin_logs_in_and_calls_the_api_with_credentials(open_page, mock):
    page = open_page("localhost")
    assert page.evaluate("location.origin") != mock  # another origin than the mock's

    login = run(page, "login", mock, *MORGAN_LOGIN)
    assert login["status"] == 200, login
    chats = run(page, "call", mock, f"/api/chat/projects/{PROJECT}/chats", login["body"]["token"])

    assert chats["status"] == 200, chats
    assert CHAT in {chat["_id"] for chat in chats["body"]["data"]["chats"]}


def test_a_page_reads_the_challenge_and_the_request_id_of_a_401(open_page, mock):
    page = open_page("localhost")

    answer = run(page, "call", mock, f"/api/chat/projects/{PROJECT}/chats", None)

    assert answer["status"] == 401, answer
    assert answer["headers"]["www-authenticate"] == 'Bearer realm="mudbase"'
    assert answer["headers"]["x-request-id"] == answer["body"]["requestId"]
    assert answer["body"]["code"] == "UNAUTHORIZED"


def test_only_origins_on_the_allow_list_may_call_the_mock(open_page, mock):
    listed = run(open_page("app.test"), "login", mock, *MORGAN_LOGIN)
    unlisted = run(open_page("other.test"), "login", mock, *MORGAN_LOGIN)

    assert listed["status"] == 200, listed
    assert unlisted == {"blocked": "TypeError: Failed to fetch"}


def test_a_page_sees_a_forced_status_the_contract_declares_and_a_400_for_a_500_it_does_not(open_page, mock):
    page = open_page("localhost")
    morgan = token(mock)

    not_found = run(page, "call", mock, CHATS, morgan, {"headers": {"Prefer": "code=404"}})
    server_error = run(page, "call", mock, CHATS, morgan, {"headers": {"Prefer": "code=500"}})

    assert not_found["status"] == 404, not_found
    assert (not_found["body"]["code"], not_found["body"]["details"]) == ("NOT_FOUND", "Forced by Prefer: code=404")
    assert not_found["headers"]["x-request-id"] == not_found["body"]["requestId"]
    # openapi.yaml declares no 5xx, as the real description: forcing one is the caller's mistake.
    assert server_error["status"] == 400, server_error
    assert server_error["body"]["code"] == "INVALID_PREFER_HEADER"
    assert "getUserChats does not declare status 500" in server_error["body"]["details"]["Prefer"]


def test_a_page_sees_a_forced_500_from_a_contract_that_declares_one(open_page, mock_declaring_500, fault_rules):
    page = open_page("localhost")
    morgan = token(mock_declaring_500)

    preferred = run(page, "call", mock_declaring_500, CHATS, morgan, {"headers": {"Prefer": "code=500"}})
    rule = fault_rules(mock_declaring_500, {"operationId": "getUserChats", "status": 500, "times": 1})
    by_rule = run(page, "call", mock_declaring_500, CHATS, morgan)
    after_rule = run(page, "call", mock_declaring_500, CHATS, morgan)

    assert preferred["status"] == 500, preferred
    assert (preferred["body"]["code"], preferred["body"]["details"]) == (
        "INTERNAL_SERVER_ERROR",
        "Forced by Prefer: code=500",
    )
    assert by_rule["status"] == 500, by_rule
    assert by_rule["body"]["code"] == "INTERNAL_SERVER_ERROR"
    assert rule["id"] in by_rule["body"]["details"]
    assert by_rule["headers"]["x-request-id"] == by_rule["body"]["requestId"]
    assert after_rule["status"] == 200, after_rule  # times: 1, then the rule is gone


def test_a_page_measures_a_delayed_response(open_page, mock, fault_rules):
    page = open_page("localhost")
    morgan = token(mock)
    delay_ms = 800

    fault_rules(mock, {"operationId": "getUserChats", "delayMs": delay_ms, "times": 1})
    delayed = run(page, "timed", "call", mock, CHATS, morgan)
    undelayed = run(page, "timed", "call", mock, CHATS, morgan)

    assert delayed["status"] == 200, delayed
    assert delayed["ms"] >= delay_ms
    assert undelayed["status"] == 200, undelayed
    assert undelayed["ms"] < delay_ms  # the rule applied once


def test_the_console_shows_the_request_just_made_the_operations_and_clears_fault_rules(open_page, mock, fault_rules):
    from playwright.sync_api import expect

    content = f"sent from the browser {uuid.uuid4().hex}"
    body = json.dumps({"content": content, "type": "text"})
    options = {"method": "POST", "headers": {"Content-Type": "application/json"}, "body": body}
    sent = run(open_page("localhost"), "call", mock, MESSAGES, token(mock), options)
    assert sent["status"] == 201, sent
    rule = fault_rules(mock, {"operationId": "getChatDetails", "delayMs": 5})

    console = open_page(url=f"{mock}/__mock/")

    # The journal row of that request (the console polls every second), then its bodies.
    entry = console.locator("#journal tbody tr").filter(has_text=MESSAGES).first
    expect(entry).to_contain_text("sendMessage", timeout=10_000)
    cells = entry.locator("td")
    assert [cells.nth(i).inner_text() for i in (2, 3, 4, 5, 6)] == ["POST", MESSAGES, "sendMessage", MORGAN, "201"]
    entry.click()
    expect(console.locator("#entry-detail")).to_contain_text(content)
    expect(console.locator("#chats")).to_contain_text(content)  # the state, with the new message
    # Participants by the names of the fixtures' users, their IDs as tooltips.
    alex = console.locator("#chats li").filter(has_text="Alex Rivera (member)").first
    expect(alex).to_have_attribute("title", ALEX)
    expect(console.locator("#chats")).to_contain_text("Morgan Chen (admin)")
    expect(console.locator("#chats")).not_to_contain_text(ALEX)
    expect(console.locator("#operations tbody tr")).to_have_count(18)
    expect(console.locator("#operations tbody")).to_contain_text("removeParticipant")

    faults = console.locator("#faults")
    expect(faults).to_contain_text(f"{rule['id']}: getChatDetails: delay 5 ms")
    console.locator("#clear-faults").click()
    expect(faults).to_have_text("No active fault rules")
    assert requests.get(f"{mock}/__mock/faults", timeout=10).json() == {"faults": []}


def test_the_console_shows_another_documents_inferred_resources_not_the_fixtures_chats(open_page):
    from playwright.sync_api import expect

    spec = SPEC.parent / "tests" / "specs" / "bookings.yaml"
    with ServeProcess("--spec", str(spec), env=SERVE_ENV) as server:
        console = open_page(url=f"{server.base_url.removesuffix('/v1')}/__mock/")
        state = console.locator("#chats")
        expect(state).to_contain_text("bookings: /bookings (items at /bookings/{bookingId})")
        expect(state).to_contain_text("notes: /bookings/{bookingId}/notes (items at")
        expect(state).to_contain_text("scoped by bookingId")
        expect(state).to_contain_text("tags: /tags (items at /tags/{name})")
        expect(state).to_contain_text("0 items added past the document's examples")
        expect(state).not_to_contain_text("Launch planning")
        expect(state).not_to_contain_text("sessions of")


def test_the_console_gives_the_served_operations_a_full_width_row_without_a_scrollbar(browser, mock):
    from playwright.sync_api import expect

    page = browser.new_page()
    try:
        page.set_viewport_size(VIEWPORT)
        page.goto(f"{mock}/__mock/")
        expect(page.locator("#operations tbody tr")).to_have_count(18)
        expect(page.locator("#chats")).to_contain_text("Launch planning")  # the state at its height

        table = page.locator("#operations").bounding_box()
        state = page.locator("#state-section").bounding_box()
        assert table["width"] >= 0.9 * VIEWPORT["width"], table  # not half of it
        assert table["y"] >= state["y"] + state["height"]  # a row of its own, below the state
        for panel in ("#operations-section", "#journal-section"):  # long paths wrap
            overflow = page.locator(panel).evaluate("(node) => node.scrollWidth - node.clientWidth")
            assert overflow <= 0, f"{panel} scrolls sideways by {overflow} px"
        longest = page.locator("#operations td.path").filter(has_text="/reactions").first
        expect(longest).to_be_visible()
    finally:
        page.close()


# Holds every request of the console until the test calls releaseFetches().
HOLD_FETCHES = """
window.heldFetches = [];
window.releaseFetches = () => {
  window.fetchesHeld = false;
  for (const release of window.heldFetches.splice(0)) release();
};
window.fetchesHeld = true;
const heldFetch = window.fetch.bind(window);
window.fetch = async (...args) => {
  if (window.fetchesHeld) await new Promise((release) => window.heldFetches.push(release));
  return heldFetch(...args);
};
"""


def test_each_console_panel_says_loading_until_its_first_read_answers(browser, mock):
    from playwright.sync_api import expect

    page = browser.new_page()
    try:
        page.add_init_script(HOLD_FETCHES)
        page.goto(f"{mock}/__mock/")
        deadline = time.monotonic() + 10
        while page.evaluate("window.heldFetches.length") == 0:  # until the console has asked
            assert time.monotonic() < deadline, "the console made no request"
            page.wait_for_timeout(50)
        for panel in PANELS:
            expect(page.locator(f"{panel} .loading")).to_have_text("Loading…")
            expect(page.locator(f"{panel} .panel-error")).to_be_hidden()

        page.evaluate("window.releaseFetches()")
        for panel in PANELS:
            expect(page.locator(f"{panel} .loading")).to_have_count(0)
        expect(page.locator("#operations tbody tr")).to_have_count(18)
        expect(page.locator("#faults")).to_have_text("No active fault rules")
        expect(page.locator("#chats")).to_contain_text("Launch planning")
    finally:
        page.close()


def test_a_console_panel_whose_read_fails_shows_an_error_line_and_the_others_load(browser, mock):
    from playwright.sync_api import expect

    page = browser.new_page()
    try:
        failure = {"error": "Internal server error", "details": "refused by the test"}
        page.route("**/__mock/faults", lambda route: route.fulfill(status=500, json=failure))
        page.goto(f"{mock}/__mock/")

        error = page.locator("#faults-section .panel-error")
        expect(error).to_have_text("Could not read /__mock/faults: 500 refused by the test")
        expect(page.locator("#faults-section .loading")).to_have_count(0)
        expect(page.locator("#status")).to_have_text("500 refused by the test")
        expect(page.locator("#chats")).to_contain_text("Launch planning")  # the other panels load
        for panel in ("#journal-section", "#state-section", "#operations-section"):
            expect(page.locator(f"{panel} .panel-error")).to_be_hidden()

        page.unroute("**/__mock/faults")
        expect(error).to_be_hidden()  # the next poll reads them
        expect(page.locator("#faults")).to_have_text("No active fault rules")
    finally:
        page.close()


def save_screenshot(shot: Path) -> None:
    """The screenshot as the docs' picture: through pngquant where it is installed (a
    third of the size, the same to the eye), else as Chromium took it."""
    SCREENSHOT.parent.mkdir(exist_ok=True)
    pngquant = shutil.which("pngquant")
    if pngquant:
        command = [
            pngquant,
            "--quality=70-95",
            "--speed=1",
            "--strip",
            "--force",
            "--output",
            str(SCREENSHOT),
            str(shot),
        ]
        if subprocess.run(command, check=False).returncode == 0:
            return
    shutil.copyfile(shot, SCREENSHOT)


def test_the_console_screenshot_of_the_docs(browser, tmp_path):
    """The console on the default document after a few calls, at 1280x800: always taken
    and checked; written to docs/images/console.png under UPDATE_SCREENSHOTS=1."""
    from playwright.sync_api import expect

    with ServeProcess(env=SERVE_ENV) as server:
        base = server.base_url
        morgan = token(base)
        auth = {"Authorization": f"Bearer {morgan}"}
        assert requests.get(f"{base}{CHATS}", headers=auth, timeout=10).status_code == 200
        message = {"content": "Shipping the beta on Friday?", "type": "text"}
        assert requests.post(f"{base}{MESSAGES}", json=message, headers=auth, timeout=10).status_code == 201
        assert requests.get(f"{base}{MESSAGES}", headers=auth, timeout=10).status_code == 200
        assert requests.get(f"{base}{CHATS}", timeout=10).status_code == 401
        forced = {**auth, "Prefer": "code=404"}
        assert requests.get(f"{base}{CHATS}/{CHAT}", headers=forced, timeout=10).status_code == 404
        rule = {"operationId": "sendMessage", "delayMs": 1500, "times": 3}
        assert requests.post(f"{base}/__mock/faults", json=rule, timeout=10).status_code == 201

        page = browser.new_page()
        try:
            page.set_viewport_size(VIEWPORT)
            page.goto(f"{base}/__mock/")
            for panel in PANELS:
                expect(page.locator(f"{panel} .loading")).to_have_count(0)
            expect(page.locator("#journal tbody tr")).to_have_count(6)
            expect(page.locator("#chats")).to_contain_text(message["content"])
            expect(page.locator("#faults")).to_contain_text("sendMessage: delay 1500 ms")
            expect(page.locator("#status")).to_contain_text("Updated")
            shot = tmp_path / "console.png"
            page.screenshot(path=str(shot))
        finally:
            page.close()

    data = shot.read_bytes()
    assert data.startswith(PNG_SIGNATURE) and len(data) > 1000
    width, height = struct.unpack(">II", data[16:24])  # IHDR
    assert (width, height) == (VIEWPORT["width"], VIEWPORT["height"])
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        save_screenshot(shot)


# Counts the console's requests, each held 300 ms, before its own script runs.
COUNT_FETCHES = """
window.consoleFetches = { started: 0, inFlight: 0, most: 0, urls: [] };
const realFetch = window.fetch.bind(window);
window.fetch = async (...args) => {
  const seen = window.consoleFetches;
  seen.started += 1;
  seen.inFlight += 1;
  seen.most = Math.max(seen.most, seen.inFlight);
  seen.urls.push(String(args[0]));
  try {
    await new Promise((done) => setTimeout(done, 300));
    return await realFetch(...args);
  } finally {
    seen.inFlight -= 1;
  }
};
"""
SET_VISIBILITY = """(state) => {
  Object.defineProperty(document, "visibilityState", { value: state, configurable: true });
  document.dispatchEvent(new Event("visibilitychange"));
}"""


def fetches_reach(page, count: int, timeout: float) -> None:
    """Wait until the console has started `count` requests (the console's CSP forbids the
    eval that Playwright's wait_for_function needs)."""
    deadline = time.monotonic() + timeout
    while page.evaluate("window.consoleFetches.started") < count:
        assert time.monotonic() < deadline, f"the console started fewer than {count} requests in {timeout} s"
        page.wait_for_timeout(100)


def test_the_console_polls_one_request_at_a_time_for_summaries_and_not_while_hidden(browser, mock):
    page = browser.new_page()
    try:
        page.add_init_script(COUNT_FETCHES)
        page.goto(f"{mock}/__mock/")
        fetches_reach(page, 10, timeout=20)
        assert page.evaluate("window.consoleFetches.most") == 1  # never two requests at once
        state_reads = [url for url in page.evaluate("window.consoleFetches.urls") if "/__mock/state" in url]
        assert state_reads and all(url.endswith("/state") or "limit=20" in url for url in state_reads), state_reads

        page.evaluate(SET_VISIBILITY, "hidden")
        page.wait_for_timeout(2_000)  # the refresh under way, if any, ends
        hidden = page.evaluate("window.consoleFetches.started")
        page.wait_for_timeout(3_000)
        assert page.evaluate("window.consoleFetches.started") == hidden  # no poll while hidden

        page.evaluate(SET_VISIBILITY, "visible")
        fetches_reach(page, hidden + 1, timeout=5)
        assert page.evaluate("window.consoleFetches.most") == 1
    finally:
        page.close()


def test_a_page_on_an_allowed_origin_can_neither_read_nor_change_the_admin_routes(open_page, mock, fault_rules):
    """CORS leaves /__mock out: the journal is not the page's to read, and a state change
    needs JSON, so the browser asks first, and the preflight gets no CORS answer."""
    page = open_page("localhost")
    rule = fault_rules(mock, {"operationId": "getChatDetails", "delayMs": 5})
    clear = {"method": "DELETE", "headers": {"Content-Type": "application/json"}, "body": "{}"}

    read = run(page, "request", f"{mock}/__mock/requests")
    cleared = run(page, "request", f"{mock}/__mock/faults", clear)

    assert read == cleared == {"blocked": "TypeError: Failed to fetch"}
    faults = requests.get(f"{mock}/__mock/faults", timeout=10).json()["faults"]
    assert [fault["id"] for fault in faults] == [rule["id"]]


def test_without_chromium_the_tests_skip_with_the_install_command_and_fail_in_ci(monkeypatch, tmp_path):
    missing = tmp_path / "chromium"
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match=f"install it with: {INSTALL}"):
        require(missing)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=f"{missing} is missing; install it with: {INSTALL}"):
        require(missing)
