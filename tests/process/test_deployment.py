"""A mock a team deploys: secrets, the banner, the admin routes, CORS and the Host
header, each finding of the security review replayed against `mockserver serve`."""

from __future__ import annotations

import os
import subprocess
import time

import jwt
import pytest
import requests
from click.testing import CliRunner
from support import CHAT, FIXTURES, MOCKSERVER, MORGAN, PARTICIPANTS, ROOT, SAM, ServeProcess

from mockserver.cli import main
from mockserver.pipeline.security.schemes import DEFAULT_API_KEY
from mockserver.settings import DEFAULT_JWT_SECRET

SECRET = "team-deployment-secret-0123456789abcdefghijkl"
ADMIN_TOKEN = "team-admin-token-0123456789abcdefghijklmnopq"
FRONTEND = "https://preview.example.dev"
EVIL = "https://evil.example"
MORGAN_LOGIN = {"email": "morgan.chen@northwind.dev", "password": "morgan-demo-password"}
THIRTY_ONE_YEARS = 31 * 365 * 24 * 3600
SECURITY_SPEC = ROOT / "tests" / "specs" / "security.yaml"  # an apiKey scheme in a header, the query, a cookie
API_KEY = "team-api-key-0123456789abcdefghijklmnopqrstuv"


@pytest.fixture(scope="module")
def shared():
    """The mock as a team runs it: shared, its own secret and admin token, one frontend origin."""
    env = {"MOCKSERVER_JWT_SECRET": SECRET, "MOCKSERVER_ADMIN_TOKEN": ADMIN_TOKEN}
    with ServeProcess("--shared", "--cors-origin", FRONTEND, env=env) as server:
        yield server


@pytest.fixture(scope="module")
def laptop():
    """The mock as a developer runs it: loopback, defaults."""
    with ServeProcess(env={"MOCKSERVER_JWT_SECRET": "", "MOCKSERVER_ADMIN_TOKEN": ""}) as server:
        yield server


@pytest.fixture(autouse=True)
def never_bind(monkeypatch):
    """The CLI cases here must be refused before binding; one that got through fails, not serves."""

    def refuse(*_args, **_kwargs):
        raise AssertionError("serve got as far as binding")

    monkeypatch.setattr("mockserver.cli.create_server", refuse)


def serve_off_loopback(env: dict[str, str], *args: str):
    """`serve --host 0.0.0.0`; each case here is refused before anything is bound."""
    base = {"MOCKSERVER_JWT_SECRET": SECRET, "MOCKSERVER_ADMIN_TOKEN": ADMIN_TOKEN}
    command = ["serve", "--host", "0.0.0.0", "--spec", str(ROOT / "openapi.yaml"), "--fixtures", str(FIXTURES)]
    return CliRunner().invoke(main, [*command, *args], env={**base, **env})


# --- 1. Anyone can mint tokens --------------------------------------------------


@pytest.mark.parametrize("value", [None, ""], ids=["unset", "empty"])
def test_off_loopback_the_public_default_secret_is_refused(value):
    result = serve_off_loopback({"MOCKSERVER_JWT_SECRET": value})
    assert result.exit_code == 1
    assert "MOCKSERVER_JWT_SECRET must be set off loopback" in result.stderr


@pytest.mark.parametrize("host", ["127.0.0.1", "0.0.0.0"])
def test_a_short_secret_is_refused_everywhere(host):
    result = CliRunner().invoke(
        main,
        ["serve", "--host", host, "--fixtures", str(FIXTURES)],
        env={"MOCKSERVER_JWT_SECRET": "x", "MOCKSERVER_ADMIN_TOKEN": ADMIN_TOKEN},
    )
    assert result.exit_code == 1
    assert "MOCKSERVER_JWT_SECRET is 1 bytes long; it must be at least 32" in result.stderr


def test_a_token_signed_with_the_default_secret_is_refused(shared):
    forged = jwt.encode({"sub": MORGAN, "exp": int(time.time()) + THIRTY_ONE_YEARS}, DEFAULT_JWT_SECRET)
    response = requests.delete(
        shared.base_url + PARTICIPANTS, json={"userId": SAM}, headers={"Authorization": f"Bearer {forged}"}, timeout=10
    )
    assert response.status_code == 401
    assert response.json()["details"] == "Token signature is invalid"


def test_a_31_year_token_is_refused_even_with_the_right_secret(shared):
    token = jwt.encode({"sub": MORGAN, "exp": int(time.time()) + THIRTY_ONE_YEARS}, SECRET)
    response = requests.get(
        shared.base_url + PARTICIPANTS.rsplit("/", 1)[0], headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert response.status_code == 401
    assert response.json()["details"] == "Token expires more than 86400 seconds from now"


def test_a_login_token_works(shared):
    token = requests.post(shared.base_url + "/api/auth/login", json=MORGAN_LOGIN, timeout=10).json()["token"]
    response = requests.get(
        shared.base_url + PARTICIPANTS.rsplit("/", 1)[0], headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert response.status_code == 200


def test_the_shared_banner_has_no_passwords(shared, laptop):
    assert "(shared)" in shared.banner[0]
    assert "morgan.chen@northwind.dev" in "".join(shared.banner)
    assert "password" not in "".join(shared.banner).replace("POST /api/auth/login", "")
    assert not any("demo-password" in line for line in shared.banner)
    # On a developer's machine they stay: that is how one logs in.
    assert any("morgan-demo-password" in line for line in laptop.banner)


# --- 2. Admin routes open to everyone and every website --------------------------


def test_off_loopback_an_admin_token_is_required():
    result = serve_off_loopback({"MOCKSERVER_ADMIN_TOKEN": ""})
    assert result.exit_code == 1
    assert "An admin token is required off loopback" in result.stderr


def test_a_short_admin_token_is_refused():
    result = serve_off_loopback({}, "--admin-token", "letmein")
    assert result.exit_code == 1
    assert "The admin token is 7 bytes long" in result.stderr


def reset(base_url: str, **headers: str) -> requests.Response:
    return requests.post(base_url + "/__mock/reset", data="{}", headers=headers, timeout=10)


def test_the_attack_page_cannot_reset_a_shared_mock(shared):
    # The review's request: simple (no preflight), from another website, without a token.
    response = reset(shared.base_url, Origin=EVIL, **{"Content-Type": "text/plain"})
    assert response.status_code == 401
    assert response.json()["code"] == "UNAUTHORIZED"
    assert "Access-Control-Allow-Origin" not in response.headers


@pytest.mark.parametrize("token", ["wrong-token", ADMIN_TOKEN + "x", ""])
def test_admin_routes_refuse_a_wrong_token(shared, token):
    response = requests.get(shared.base_url + "/__mock/state", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith('Bearer realm="mudbase-mock-admin"')


def test_admin_routes_work_with_the_token_and_json(shared):
    auth = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    assert requests.get(shared.base_url + "/__mock/state", headers=auth, timeout=10).status_code == 200
    assert reset(shared.base_url, **auth, **{"Content-Type": "application/json"}).status_code == 200


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data", None]
)
def test_state_changes_refuse_what_a_page_sends_without_preflight(laptop, content_type):
    headers = {"Origin": EVIL} | ({"Content-Type": content_type} if content_type else {})
    response = requests.post(laptop.base_url + "/__mock/reset", data=b"{}", headers=headers, timeout=10)
    if content_type is None:
        assert "Content-Type" not in response.request.headers
    assert response.status_code == 415
    assert response.json()["code"] == "UNSUPPORTED_MEDIA_TYPE"
    assert "Access-Control-Allow-Origin" not in response.headers


def test_admin_routes_are_left_out_of_cors(laptop):
    preflight = requests.options(
        laptop.base_url + "/__mock/reset",
        headers={"Origin": "http://localhost:3000", "Access-Control-Request-Method": "POST"},
        timeout=10,
    )
    assert "Access-Control-Allow-Origin" not in preflight.headers
    state = requests.get(laptop.base_url + "/__mock/state", headers={"Origin": "http://localhost:3000"}, timeout=10)
    assert state.status_code == 200
    assert "Access-Control-Allow-Origin" not in state.headers


def test_a_dns_rebinding_page_is_refused(laptop):
    # evil.example resolving to 127.0.0.1 makes the page same-origin: only the Host header tells.
    response = requests.post(
        laptop.base_url + "/__mock/reset", json={}, headers={"Host": "evil.example:4010"}, timeout=10
    )
    assert response.status_code == 400
    assert response.json()["code"] == "UNTRUSTED_HOST"
    for host in ("localhost", "127.0.0.1", "[::1]:4010"):
        assert requests.get(laptop.base_url + "/__mock/state", headers={"Host": host}, timeout=10).status_code == 200


# --- CORS --------------------------------------------------------------------------


def allowed_origin(base_url: str, origin: str) -> str | None:
    """The origin the mock allows, echoed; always with credentials, never `*`."""
    response = requests.delete(base_url + PARTICIPANTS, json={"userId": SAM}, headers={"Origin": origin}, timeout=10)
    assert response.status_code == 401
    allowed = response.headers.get("Access-Control-Allow-Origin")
    if allowed is not None:
        assert response.headers["Access-Control-Allow-Credentials"] == "true"
        assert "Origin" in response.headers["Vary"]
    return allowed


@pytest.mark.parametrize(
    "origin, allowed",
    [("http://localhost:3000", "http://localhost:3000"), ("http://127.0.0.1:5173", "http://127.0.0.1:5173")]
    + [(origin, None) for origin in (EVIL, "null", FRONTEND)],
)
def test_on_loopback_localhost_origins_are_echoed_with_credentials(laptop, origin, allowed):
    assert allowed_origin(laptop.base_url, origin) == allowed


def test_the_allow_list_comes_from_the_environment_too():
    other = "http://app.test:8080"
    env = {"MOCKSERVER_JWT_SECRET": "", "MOCKSERVER_ADMIN_TOKEN": "", "MOCKSERVER_CORS_ORIGINS": f"{FRONTEND} {other}"}
    with ServeProcess(env=env) as server:
        assert [allowed_origin(server.base_url, origin) for origin in (FRONTEND, other, EVIL)] == [
            FRONTEND,
            other,
            None,
        ]


@pytest.mark.parametrize(
    "origin, allowed",
    [
        (FRONTEND, FRONTEND),
        ("http://localhost:5173", "http://localhost:5173"),
        ("http://127.0.0.1:3000", "http://127.0.0.1:3000"),
        (EVIL, None),
        ("null", None),
        (FRONTEND + ".evil.example", None),
        ("http://localhost.evil.example", None),
        ("http://localhost:3000\nX-Injected: 1", None),
        # Browsers send origins in lower case; any other spelling would be echoed as sent.
        ("HTTP://LOCALHOST:3000", None),
        ("https://Preview.example.dev", None),
    ],
)
def test_shared_cors_allows_localhost_and_the_listed_origins(shared, origin, allowed):
    if "\n" in origin:
        # requests refuses to send a newline; the server must not echo what it cannot match.
        origin = origin.replace("\n", " ")
    assert allowed_origin(shared.base_url, origin) == allowed


def test_a_malformed_cors_origin_is_refused():
    result = serve_off_loopback({}, "--cors-origin", "https://*.example.dev")
    assert result.exit_code == 1
    assert "is not like https://app.example.dev" in result.stderr


def test_the_chain_of_the_review_fails(shared):
    """Forge a token with the public secret, then remove every participant: nothing changes."""
    forged = jwt.encode({"sub": MORGAN, "exp": int(time.time()) + 600}, DEFAULT_JWT_SECRET)
    auth = {"Authorization": f"Bearer {forged}"}
    for user in (SAM, MORGAN):
        requests.delete(shared.base_url + PARTICIPANTS, json={"userId": user}, headers=auth, timeout=10)
    state = requests.get(
        shared.base_url + "/__mock/state", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=10
    ).json()
    chat = next(chat for chat in state["chats"] if chat["_id"] == CHAT)
    assert {participant["userId"] for participant in chat["participants"]} >= {SAM, MORGAN}


def test_preflights_echo_only_the_allowed_header_names_as_browsers_send_them(laptop):
    response = requests.options(
        laptop.base_url + PARTICIPANTS,
        headers={
            "Origin": "http://localhost:3000",
            "Access-Control-Request-Method": "DELETE",
            "Access-Control-Request-Headers": "authorization, x-evil, AUTHORIZATION, content-type",
        },
        timeout=10,
    )
    assert response.headers["Access-Control-Allow-Headers"] == "authorization, content-type"


# --- 5. A shared mock accepts the public default API key -------------------------


@pytest.mark.parametrize("value", ["", "short-key"], ids=["unset", "short"])
def test_a_shared_mock_of_an_api_key_document_refuses_to_start_without_a_key_of_its_own(value):
    env = {**os.environ, "MOCKSERVER_JWT_SECRET": SECRET, "MOCKSERVER_ADMIN_TOKEN": ADMIN_TOKEN}
    env["MOCKSERVER_API_KEY"] = value
    command = [str(MOCKSERVER), "serve", "--shared", "--port", "0", "--spec", str(SECURITY_SPEC)]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _, stderr = process.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        pytest.fail("the shared mock started, accepting the public default API key")
    assert process.returncode != 0
    expected = "MOCKSERVER_API_KEY must be set on a shared mock" if not value else "MOCKSERVER_API_KEY is 9 bytes long"
    assert expected in stderr, stderr


def test_a_shared_mock_takes_its_own_api_key_and_refuses_the_default():
    env = {"MOCKSERVER_JWT_SECRET": SECRET, "MOCKSERVER_ADMIN_TOKEN": ADMIN_TOKEN, "MOCKSERVER_API_KEY": API_KEY}
    with ServeProcess("--shared", "--spec", str(SECURITY_SPEC), env=env) as server:
        for where in ("header", "query"):
            path = f"{server.base_url}/{where}-key"
            default = (
                {"headers": {"X-API-Key": DEFAULT_API_KEY}}
                if where == "header"
                else {"params": {"api_key": DEFAULT_API_KEY}}
            )
            own = {"headers": {"X-API-Key": API_KEY}} if where == "header" else {"params": {"api_key": API_KEY}}
            assert requests.get(path, timeout=10, **default).status_code == 401
            assert requests.get(path, timeout=10, **own).status_code == 200


def test_on_loopback_the_default_api_key_still_works():
    env = {"MOCKSERVER_JWT_SECRET": "", "MOCKSERVER_ADMIN_TOKEN": "", "MOCKSERVER_API_KEY": ""}
    with ServeProcess("--spec", str(SECURITY_SPEC), env=env) as server:
        response = requests.get(f"{server.base_url}/header-key", headers={"X-API-Key": DEFAULT_API_KEY}, timeout=10)
        assert response.status_code == 200
