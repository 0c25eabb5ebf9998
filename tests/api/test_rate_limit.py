"""Failed logins per client address: a 429 with Retry-After once the limit is spent."""

from __future__ import annotations

import http.client
import json

import pytest
from support import FIXTURES, SECRET, SPEC, ContractClient

from mockserver import create_app
from mockserver.server.deployment import SHARED_RATE_LIMIT, Safeguards, safeguards
from mockserver.server.serving import serve_in_background

LOGIN = "/api/auth/login"
RIGHT = {"email": "morgan.chen@northwind.dev", "password": "morgan-demo-password"}
WRONG = {**RIGHT, "password": "guess"}
ADMIN_TOKEN = "rate-limit-admin-token-0123456789abcdefgh"


def limited_app(rate: str | None):
    app = create_app(SPEC, FIXTURES, jwt_secret=SECRET, safeguards=Safeguards(rate_limit=rate))
    app.test_client_class = ContractClient
    return app


def login(port: int, credentials: dict, source: str = "127.0.0.1") -> tuple[int, dict, dict]:
    """POST the login from `source` (any 127.x.y.z is this machine) to 127.0.0.1."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=(source, 0))
    try:
        connection.request("POST", LOGIN, json.dumps(credentials), {"Content-Type": "application/json"})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), json.loads(response.read())
    finally:
        connection.close()


@pytest.fixture
def limited():
    with serve_in_background(limited_app("3/minute")) as base_url:
        yield int(base_url.rsplit(":", 1)[1])


def test_once_spent_even_the_right_password_gets_a_429(limited):
    # The review: 1,000 wrong passwords in 6.5 s, and the right one still worked.
    assert [login(limited, WRONG)[0] for _ in range(3)] == [401, 401, 401]
    status, headers, body = login(limited, RIGHT)
    assert status == 429
    assert body["code"] == "RATE_LIMITED"
    assert 1 <= int(headers["Retry-After"]) <= 60
    assert body["details"] == f"Too many failed attempts from this address; retry in {headers['Retry-After']} s"


def test_the_limit_is_per_client_address(limited):
    for _ in range(3):
        login(limited, WRONG)
    assert login(limited, RIGHT)[0] == 429
    assert login(limited, RIGHT, source="127.0.0.2")[0] == 200


def test_successful_logins_do_not_count(limited):
    assert [login(limited, RIGHT)[0] for _ in range(6)] == [200] * 6


def test_the_429_conforms_to_the_contract():
    client = limited_app("1/minute").test_client()  # checks every response against openapi.yaml
    assert client.post(LOGIN, json=WRONG).status_code == 401
    response = client.post(LOGIN, json=RIGHT)
    assert response.status_code == 429
    assert response.headers["Retry-After"].isdigit()


def test_without_a_limit_failures_are_never_refused():
    client = limited_app(None).test_client()
    assert {client.post(LOGIN, json=WRONG).status_code for _ in range(30)} == {401}


def test_the_limit_is_off_on_loopback_and_on_when_shared():
    assert safeguards(False, "127.0.0.1").rate_limit is None
    assert safeguards(True, "0.0.0.0", ADMIN_TOKEN).rate_limit == SHARED_RATE_LIMIT == "10/minute"
    assert safeguards(True, "0.0.0.0", ADMIN_TOKEN, rate_limit="off").rate_limit is None
    assert safeguards(False, "127.0.0.1", rate_limit="5/hour").rate_limit == "5/hour"
