"""The `mockserver` command: `token` and `serve`."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import jwt
import pytest
import requests
from click.testing import CliRunner
from support import FIXTURES, MORGAN, PARTICIPANTS, ROOT, SAM, SECRET, ServeProcess, read_line

from mockserver.cli import main
from mockserver.settings import DEFAULT_JWT_SECRET
from mockserver.store import StateLimits
from mockserver.store.fixtures import load_fixtures

MOCKSERVER = Path(sys.executable).with_name("mockserver")


def test_token_prints_only_a_signed_jwt():
    result = CliRunner().invoke(
        main, ["token", "--user", MORGAN, "--fixtures", str(FIXTURES)], env={"MOCKSERVER_JWT_SECRET": ""}
    )

    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert len(lines) == 1
    claims = jwt.decode(lines[0], DEFAULT_JWT_SECRET, algorithms=["HS256"])
    assert claims["sub"] == MORGAN
    assert claims["exp"] - claims["iat"] == 1800


def test_token_uses_the_secret_from_the_environment_and_the_lifetime_asked():
    secret = "a-secret-from-the-environment-0123456789abcdef"
    result = CliRunner().invoke(
        main,
        ["token", "--user", SAM, "--expires-in", "60", "--fixtures", str(FIXTURES)],
        env={"MOCKSERVER_JWT_SECRET": secret},
    )
    claims = jwt.decode(result.stdout.strip(), secret, algorithms=["HS256"])
    assert claims["exp"] - claims["iat"] == 60


def test_a_negative_lifetime_gives_a_token_the_mock_refuses_as_expired(client, monkeypatch):
    monkeypatch.setenv("MOCKSERVER_JWT_SECRET", SECRET)  # the secret of the `client` app
    result = CliRunner().invoke(main, ["token", "--user", MORGAN, "--expires-in", "-60", "--fixtures", str(FIXTURES)])

    expired = result.stdout.strip()
    with pytest.raises(jwt.ExpiredSignatureError):
        jwt.decode(expired, SECRET, algorithms=["HS256"])
    response = client.delete(PARTICIPANTS, json={"userId": SAM}, headers={"Authorization": f"Bearer {expired}"})
    assert response.status_code == 401
    assert "expired" in response.get_json()["details"].lower()


def test_serve_defaults_to_127_0_0_1_port_4010_and_500_connections(monkeypatch, tmp_path):
    # As README documents; the server is not started (4010 may be taken here).
    asked = {}

    def create_server(app, host, port, limits):
        connections = limits.max_connections
        asked.update(host=host, port=port, connections=connections, spec=app.extensions["mockserver.contract"].path)
        raise OSError(98, "not started by the test")

    monkeypatch.setattr("mockserver.cli.create_server", create_server)
    monkeypatch.chdir(tmp_path)  # the defaults do not depend on the current folder
    result = CliRunner().invoke(main, ["serve"])

    assert asked == {"host": "127.0.0.1", "port": 4010, "connections": 500, "spec": ROOT / "openapi.yaml"}
    assert "cannot listen on 127.0.0.1:4010" in result.stderr


def test_serve_from_another_folder_serves_the_shipped_contract_and_fixtures(tmp_path):
    assert (ROOT / "mockserver" / "data" / "openapi.yaml").resolve() == ROOT / "openapi.yaml"
    with ServeProcess(cwd=tmp_path, env={"MOCKSERVER_JWT_SECRET": ""}) as server:
        assert server.banner[0].startswith(f"Mudbase mock serving {ROOT / 'openapi.yaml'} at "), server.banner
        login = requests.post(
            server.base_url + "/api/auth/login",
            json={"email": "morgan.chen@northwind.dev", "password": "morgan-demo-password"},
            timeout=10,
        )
        assert login.status_code == 200


def without_timing(lines: list[str]) -> list[str]:
    return [re.sub(r"loaded in [0-9.]+ s", "loaded in T s", line.rstrip("\n")) for line in lines]


def test_the_mudbase_banner_is_as_before_with_the_document_named():
    users = load_fixtures(FIXTURES).users.values()
    with ServeProcess(env={"MOCKSERVER_JWT_SECRET": ""}) as server:
        url = server.base_url
        banner = without_timing(server.banner)
    assert banner == [
        f"Mudbase mock serving {ROOT / 'openapi.yaml'} at {url}",
        'Document "Mudbase API (chat and session)" 1.3.17 (OpenAPI 3.0.3); servers: http://127.0.0.1:4010',
        "18 operations, 0 warnings (on stderr); loaded in T s",
        "State in memory; 1 process with an event loop (at most 500 connections)",
        "Log in (POST /api/auth/login) as, or `mockserver token --user ID`:",
        *(f"  {user.id:<20} {user.email:<30} {user.password}" for user in users),
        f"Reset the state with: curl -X POST -H 'Content-Type: application/json' {url}/__mock/reset",
    ]


def test_another_documents_banner_and_challenge_speak_of_that_document():
    spec = ROOT / "tests" / "specs" / "bookings.yaml"
    with ServeProcess("--spec", str(spec), env={"MOCKSERVER_JWT_SECRET": ""}) as server:
        banner = without_timing(server.banner)
        refused = requests.get(server.base_url + "/bookings", timeout=10)
        login = requests.post(server.base_url.removesuffix("/v1") + "/api/auth/login", json={}, timeout=10)
    assert banner[0] == f"Mock serving {spec} at {server.base_url}"
    assert (
        banner[1]
        == 'Document "Bookings" 1.0 (OpenAPI 3.0.3); servers: /v1; served under the first one\'s base path /v1'
    )
    assert banner[3] == (
        "Refusals: bad data: the operation's declared status (6), else the 400 the mock adds (5); "
        "a missing or bad credential: the operation's declared status (0), else the 401 the mock adds (11); "
        "an unknown ID: the operation's declared status (6), else the 404 the mock adds (2)"
    )
    assert banner[4].startswith("State kept for 3 inferred resources (11 operations: bookings, notes, tags)")
    assert banner[6:8] == [
        "Credentials, by security scheme:",
        "  bearer (http bearer): Authorization: Bearer TOKEN, TOKEN from `mockserver token --user ID`",
    ]
    assert f"  {MORGAN:<20} morgan.chen@northwind.dev" in banner
    text = "\n".join(banner)
    assert "Mudbase" not in text and "/api/auth/login" not in text and "demo-password" not in text
    assert login.status_code == 404  # as the banner no longer says otherwise
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"] == 'Bearer realm="bookings"'


@pytest.mark.parametrize(
    "command", [[], ["serve"], ["token"], ["resources"]], ids=["mockserver", "serve", "token", "resources"]
)
@pytest.mark.parametrize("flag", ["-h", "--help"])
def test_short_and_long_help_on_every_command(command, flag):
    result = CliRunner().invoke(main, [*command, flag])

    assert result.exit_code == 0
    assert result.stdout.startswith(f"Usage: mockserver {' '.join(command)}".rstrip() + " [OPTIONS]")
    assert "-h, --help" in result.stdout


@pytest.mark.parametrize(
    "command", [[], ["serve"], ["token"], ["resources"]], ids=["mockserver", "serve", "token", "resources"]
)
def test_version_on_every_command(command):
    result = CliRunner().invoke(main, [*command, "--version"])

    assert result.exit_code == 0
    assert result.stdout == f"mockserver, version {version('mudbase-mock')}\n"


def test_serve_help_shows_what_this_version_adds():
    text = " ".join(CliRunner().invoke(main, ["serve", "-h"]).stdout.split())
    for words in (
        "--watch",
        "Reload the fixtures",
        "the journal and fault rules start empty",
        "Access-Control-Allow-Credentials: true",
        "re-reads the fixture",
        "to force a 500, serve a --spec that declares it",
    ):
        assert words in text


def test_token_for_an_unknown_user_is_a_clear_error_with_exit_code_2():
    result = CliRunner().invoke(main, ["token", "--user", "usr_nobody", "--fixtures", str(FIXTURES)])

    assert result.exit_code == 2
    assert result.stdout == ""
    assert "'usr_nobody' is not a fixture user" in result.stderr
    assert MORGAN in result.stderr


def test_serve_refuses_broken_fixtures(tmp_path):
    (tmp_path / "users.yaml").write_text("users: 5\n")
    result = CliRunner().invoke(main, ["serve", "--fixtures", str(tmp_path), "--spec", str(ROOT / "openapi.yaml")])

    assert result.exit_code == 1
    assert "users.yaml" in result.stderr


def test_serve_runs_the_server_prints_users_and_logs_each_request():
    process = subprocess.Popen(
        [str(MOCKSERVER), "serve", "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        banner = read_line(process)
        assert banner.startswith(f"Mudbase mock serving {ROOT / 'openapi.yaml'} at http://127.0.0.1:"), banner
        base_url = banner.rsplit(" ", 1)[1].strip()
        users = [read_line(process) for _ in range(5)]
        assert "morgan.chen@northwind.dev" in "".join(users)

        response = requests.delete(base_url + PARTICIPANTS, json={"userId": SAM}, timeout=10)
        assert response.status_code == 401
        assert response.headers["Server"] == "mudbase-mock"  # the mock's server, not Flask's dev server
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=10)
    assert f"DELETE {PARTICIPANTS} 401 " in stderr
    assert "ms" in stderr.split(f"DELETE {PARTICIPANTS} 401 ")[1].splitlines()[0]


def test_serve_on_a_port_in_use_is_a_clear_error():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        args = ["serve", "--port", str(port), "--spec", str(ROOT / "openapi.yaml"), "--fixtures", str(FIXTURES)]
        result = CliRunner().invoke(main, args)
    assert result.exit_code == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr


def test_token_refuses_a_short_secret_and_a_lifetime_the_mock_would_refuse():
    short = CliRunner().invoke(
        main, ["token", "--user", MORGAN, "--fixtures", str(FIXTURES)], env={"MOCKSERVER_JWT_SECRET": "short"}
    )
    assert short.exit_code == 1
    assert "MOCKSERVER_JWT_SECRET is 5 bytes long" in short.stderr
    too_long = CliRunner().invoke(
        main, ["token", "--user", MORGAN, "--expires-in", "86401", "--fixtures", str(FIXTURES)]
    )
    assert too_long.exit_code == 2
    assert "longer than 86400 s" in too_long.stderr


def test_effective_spec_prints_the_document_the_mock_serves():
    from mockserver.server.app import create_app

    spec = ROOT / "tests" / "specs" / "undeclared_failures.yaml"
    result = CliRunner().invoke(main, ["effective-spec", str(spec)])

    assert result.exit_code == 0, result.output
    assert "warning: " in result.stderr and "#/paths/~1notes/get/responses" in result.stderr
    served = create_app(spec, FIXTURES, jwt_secret=SECRET).test_client().get("/__mock/served-openapi.json")
    assert json.loads(result.stdout) == served.get_json()
    assert json.loads(result.stdout)["paths"]["/notes"]["get"]["responses"]["401"]["x-mockserver-added"] is True


def test_serve_takes_the_state_limits_from_the_option_or_the_environment(monkeypatch):
    seen = []

    def create_server(app, host, port, limits):
        store = app.extensions["mockserver.store"]
        seen.append((store.limits, app.extensions["mockserver.controls"].journal.max_bytes))
        raise OSError(98, "not started by the test")

    monkeypatch.setattr("mockserver.cli.create_server", create_server)
    CliRunner().invoke(main, ["serve", "--state-limits", "messages_per_chat=50, state-bytes=2MiB,journal_bytes=1KiB"])
    CliRunner().invoke(main, ["serve"], env={"MOCKSERVER_STATE_LIMITS": "sessions=7"})

    (first, first_journal), (second, _) = seen
    assert (first.messages_per_chat, first.state_bytes, first_journal) == (50, 2 * 1024 * 1024, 1024)
    assert first.reactions_per_message == StateLimits().reactions_per_message == 20  # the rest: defaults
    assert second.sessions == 7


@pytest.mark.parametrize("limits", ["messages=5", "sessions=0", "state_bytes=1TB", "sessions"])
def test_serve_refuses_a_malformed_state_limit_naming_the_option(limits):
    result = CliRunner().invoke(main, ["serve", "--state-limits", limits])
    assert result.exit_code == 2
    assert "--state-limits" in result.stderr


def test_resources_prints_each_resource_with_its_reasons_and_the_skipped_by_rule():
    spec = ROOT / "tests" / "specs" / "petstore.yaml"
    result = CliRunner().invoke(main, ["resources", str(spec)])

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == f"{spec}: 1 resource (4 operations), 3 skipped, of 7 operations"
    assert lines[2].split() == ["RESOURCE", "ID", "SCOPE", "ROLES", "ITEM", "PATH"]
    assert lines[3].split() == ["pet", "petId", "->", "id", "-", "create", "list", "read", "delete", "/pet/{petId}"]
    text = " ".join(result.stdout.split())
    assert "item /pet/{petId}: a path ending in a parameter is an item" in text
    assert "id petId -> id: petId names a pet's ID" in text
    assert "filter: status -> status: a query parameter named like a property of the items" in text
    assert "Skipped: no item path (3): " in text
    assert "POST /store/order (placeOrder): /store/order ends in no parameter" in text


def test_resources_json_is_what_the_admin_route_answers():
    from mockserver.server.app import create_app

    spec = ROOT / "tests" / "specs" / "library_31.yaml"
    result = CliRunner().invoke(main, ["resources", "--json", str(spec)])

    assert result.exit_code == 0, result.output
    served = create_app(spec, FIXTURES, jwt_secret=SECRET).test_client().get("/__mock/resources")
    assert json.loads(result.stdout) == served.get_json()


def test_resources_of_a_broken_document_is_a_clear_error(tmp_path):
    spec = tmp_path / "broken.yaml"
    spec.write_text("openapi: 3.0.3\ninfo: {title: x, version: '1'}\n")
    result = CliRunner().invoke(main, ["resources", str(spec)])

    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ")


# --- serve --auth ------------------------------------------------------------------------------


class _NotServing:
    """What create_server returns in tests that want serve's banner, not a server."""

    effective_port = 4010

    def run(self) -> None:
        pass

    def close(self) -> None:
        pass


def test_serve_auth_any_warns_loudly_on_stderr_and_in_the_banner(monkeypatch):
    monkeypatch.setattr("mockserver.cli.create_server", lambda *args: _NotServing())
    result = CliRunner().invoke(main, ["serve", "--auth", "any"])

    assert result.exit_code == 0, result.output
    assert "warning: --auth any: bearer tokens are NOT verified" in result.stderr
    assert "Bearer tokens are NOT verified (--auth any): any token passes" in result.stdout.splitlines()


@pytest.mark.parametrize("where", [["--shared"], ["--host", "0.0.0.0"]], ids=["shared", "off loopback"])
def test_serve_refuses_auth_any_on_a_shared_mock(where):
    result = CliRunner().invoke(main, ["serve", "--auth", "any", *where], env={"MOCKSERVER_AUTH": None})

    assert result.exit_code == 2
    assert "--auth any lets any bearer token through, so a shared mock" in result.stderr
    assert "--auth jwks:FILE or --auth pem:FILE" in result.stderr


def test_serve_with_a_malformed_jwks_fails_to_start_with_one_line(tmp_path):
    jwks = tmp_path / "jwks.json"
    jwks.write_text('{"keys": [{"kty": "RSA", "n": "AQAB"')
    result = CliRunner().invoke(main, ["serve", "--auth", f"jwks:{jwks}"])

    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: {jwks} is not a usable JWKS: not JSON (Expecting ',' delimiter at line 1, column 37)\n"
    )


@pytest.mark.parametrize(
    "args, message",
    [
        (["--auth", "jwt"], "--auth 'jwt' is not one of mock, any, jwks:FILE or pem:FILE"),
        (["--auth", "pem:/nonexistent/idp.pem"], "cannot read the key file /nonexistent/idp.pem: No such file"),
        (["--jwt-issuer", "https://login.example.dev/"], "--jwt-issuer and --jwt-audience check the tokens of"),
    ],
    ids=["unknown mode", "unreadable", "issuer without keys"],
)
def test_serve_refuses_an_auth_it_cannot_use_with_one_line(args, message):
    result = CliRunner().invoke(main, ["serve", *args])

    assert result.exit_code == 1
    assert message in result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_serve_auth_jwks_accepts_the_providers_tokens_and_names_the_check_a_forged_one_failed(tmp_path):
    from identity_provider import AUDIENCE, ISSUER, OTHER_RSA_KEY, RSA_KEY, Token, public_jwk, write_jwks

    jwks = write_jwks(tmp_path / "jwks.json", public_jwk(RSA_KEY, "rsa-1"))
    args = ["--auth", f"jwks:{jwks}", "--jwt-issuer", ISSUER, "--jwt-audience", AUDIENCE]
    with ServeProcess(*args, env={"MOCKSERVER_JWT_SECRET": ""}) as server:
        assert f"Bearer tokens: the mock's own, and those of {jwks} (rsa-1 RS256), issuer {ISSUER}, " in "\n".join(
            server.banner
        )

        def delete(token: str) -> requests.Response:
            headers = {"Authorization": f"Bearer {token}"}
            return requests.delete(server.base_url + PARTICIPANTS, json={"userId": SAM}, headers=headers, timeout=10)

        assert delete(Token(sub=MORGAN).signed(RSA_KEY, "rsa-1")).status_code == 200
        forged = delete(Token(sub=MORGAN).signed(OTHER_RSA_KEY, "rsa-1"))
        assert forged.status_code == 401
        assert forged.json()["details"] == "Token signature is invalid"


def test_a_multi_file_documents_banner_says_how_many_files_were_bundled_and_warns_of_none():
    spec = ROOT / "tests" / "specs" / "split" / "main.yaml"
    with ServeProcess("--spec", str(spec)) as server:
        banner = without_timing(server.banner)
    assert banner[2] == "2 operations, 0 warnings (on stderr); 2 files bundled into one; loaded in T s"
