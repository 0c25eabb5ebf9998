"""The mock from a real browser: Debian's headless Chromium, driven by Playwright, loads
a page (tests/browser/page.html) from another origin, which calls the mock as a
frontend does, with credentials.

The mock runs as `mockserver serve` on 127.0.0.1; a second small HTTP server serves the
page on another port, reached as http://localhost:PORT (an origin allowed by default)
or as http://NAME.test:PORT (Chromium maps *.test to 127.0.0.1), with app.test on the
mock's --cors-origin list and other.test not. A new case is a test that opens a page
with `open_page` and awaits one of the page's `mockClient` calls through `run`.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from support import CHAT, PROJECT, ServeProcess

CHROMIUM = Path("/usr/bin/chromium")
INSTALL = "apt-get install -y --no-install-recommends chromium"
PAGE_FOLDER = Path(__file__).with_name("browser")
MORGAN_LOGIN = ("morgan.chen@northwind.dev", "morgan-demo-password")
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
    env = {"MOCKSERVER_JWT_SECRET": "", "MOCKSERVER_ADMIN_TOKEN": ""}
    with ServeProcess("--cors-origin", f"http://app.test:{page_port}", env=env) as server:
        yield server.base_url


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
    """open_page(host) -> the test page loaded from http://HOST:PAGE_PORT/page.html."""
    pages = []

    def open_(host: str = "localhost"):
        page = browser.new_page()
        pages.append(page)
        page.goto(f"http://{host}:{page_port}/page.html")
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


def test_without_chromium_the_tests_skip_with_the_install_command_and_fail_in_ci(monkeypatch, tmp_path):
    missing = tmp_path / "chromium"
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match=f"install it with: {INSTALL}"):
        require(missing)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=f"{missing} is missing; install it with: {INSTALL}"):
        require(missing)
