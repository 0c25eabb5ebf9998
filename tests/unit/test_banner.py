"""What `mockserver serve` says of the document it serves (mockserver/server/banner.py):
its title and servers, each security scheme with how to get its credential, and the
Mudbase login hint only where the document has the Mudbase login."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from support import FIXTURES, ROOT, SPEC

from mockserver.contract.index import Contract
from mockserver.pipeline.security.schemes import API_KEY_ENV, DEFAULT_API_KEY
from mockserver.server import banner
from mockserver.store.fixtures import load_fixtures

SPECS = ROOT / "tests" / "specs"
USERS = load_fixtures(FIXTURES).users
PASSWORDS = [user.password for user in USERS.values()]


@pytest.fixture(autouse=True)
def no_own_api_key(monkeypatch):
    monkeypatch.delenv(API_KEY_ENV, raising=False)


def lines_for(name: str, shared: bool = False) -> list[str]:
    contract = Contract(SPECS / name)
    return [banner.document_line(contract), *banner.credential_lines(contract, USERS, FIXTURES, shared)]


def test_another_document_is_named_by_its_title_servers_and_bearer_scheme_with_no_mudbase_login():
    contract = Contract(SPECS / "bookings.yaml")
    first = banner.first_line(contract, Path("bookings.yaml"), "http://127.0.0.1:5000", shared=False)
    assert first == "Mock serving bookings.yaml at http://127.0.0.1:5000/v1"
    lines = lines_for("bookings.yaml")
    assert (
        lines[0] == 'Document "Bookings" 1.0 (OpenAPI 3.0.3); servers: /v1; served under the first one\'s base path /v1'
    )
    assert lines[1:3] == [
        "Credentials, by security scheme:",
        "  bearer (http bearer): Authorization: Bearer TOKEN, TOKEN from `mockserver token --user ID`",
    ]
    assert lines[3] == f"Fixture users ({FIXTURES}/users.yaml), for `mockserver token --user ID`:"
    assert lines[4:] == [f"  {user.id:<20} {user.email}" for user in USERS.values()]
    text = "\n".join(lines)
    assert "/api/auth/login" not in text and "Mudbase" not in text
    assert not any(password in text for password in PASSWORDS)  # no scheme here takes a password


def test_each_scheme_type_says_what_to_send():
    lines = lines_for("security.yaml")
    assert lines[0] == 'Document "Every security scheme type" 1.0.0 (OpenAPI 3.0.3); servers: none'
    morgan = USERS["usr_morgan_de"]
    assert lines[1:8] == [
        "Credentials, by security scheme:",
        "  oauth (oauth2): Authorization: Bearer TOKEN, TOKEN from `mockserver token --user ID` "
        "(no flow is run, no scope checked)",
        "  oidc (openIdConnect): Authorization: Bearer TOKEN, TOKEN from `mockserver token --user ID` "
        "(no flow is run, no scope checked)",
        f"  headerKey (apiKey in header): header X-API-Key: {DEFAULT_API_KEY}",
        f"  queryKey (apiKey in query): query api_key={DEFAULT_API_KEY}",
        f"  cookieKey (apiKey in cookie): cookie session_key={DEFAULT_API_KEY}",
        "  basicAuth (http basic): Authorization: Basic of a fixture user's EMAIL:PASSWORD, "
        f"e.g. {morgan.email}:{morgan.password}",
    ]
    assert lines[8].endswith("for `mockserver token --user ID` and Basic EMAIL:PASSWORD:")
    assert lines[9] == f"  {morgan.id:<20} {morgan.email:<30} {morgan.password}"


def test_a_shared_mock_prints_no_password_nor_a_key_of_its_own(monkeypatch):
    monkeypatch.setenv(API_KEY_ENV, "a-key-of-the-teams-own-0123456789abcdef")
    text = "\n".join(lines_for("security.yaml", shared=True))
    assert not any(password in text for password in PASSWORDS)
    assert "a-key-of-the-teams-own" not in text and DEFAULT_API_KEY not in text
    assert f"header X-API-Key: ${API_KEY_ENV}" in text
    assert "with the same MOCKSERVER_JWT_SECRET" in text


def test_a_document_without_schemes_says_so():
    assert lines_for("forms.yaml")[1:] == ["No security schemes: no operation asks for a credential"]


def test_the_mudbase_document_keeps_its_login_hint_and_only_it():
    contract = Contract(SPEC)
    first = banner.first_line(contract, SPEC, "http://127.0.0.1:4010", shared=True)
    assert first == f"Mudbase mock serving {SPEC} at http://127.0.0.1:4010 (shared)"
    # Both its schemes are bearer tokens, which the login hint covers.
    assert banner.credential_lines(contract, USERS, FIXTURES, shared=False) == [
        "Log in (POST /api/auth/login) as, or `mockserver token --user ID`:",
        *(f"  {user.id:<20} {user.email:<30} {user.password}" for user in USERS.values()),
    ]


def test_what_the_document_says_is_printed_on_one_bounded_line(tmp_path):
    title = "Evil\n\x1b[2J\u202eWWW" + "x" * 500
    document = {
        "openapi": "3.0.3",
        "info": {"title": title, "version": "1\r\n2"},
        "servers": [{"url": f"/v{i}\n"} for i in range(5)],
        "paths": {"/a": {"get": {"responses": {"204": {"description": "No content"}}}}},
        "components": {"securitySchemes": {"a\nb": {"type": "apiKey", "in": "header", "name": "X\x00Key"}}},
    }
    spec = tmp_path / "evil.yaml"
    spec.write_text(yaml.safe_dump(document), encoding="utf-8")
    contract = Contract(spec)
    lines = [banner.document_line(contract), *banner.credential_lines(contract, USERS, FIXTURES, shared=False)]
    assert all(line.isprintable() for line in lines)
    assert lines[0].startswith('Document "Evil\\n\\x1b[2J\\u202eWWWxxx')
    assert '..." 1\\r\\n2 (OpenAPI 3.0.3); servers: /v0\\n, /v1\\n, /v2\\n and 2 more' in lines[0]
    assert len(lines[0]) < 200
    assert lines[2] == f"  a\\nb (apiKey in header): header X\\x00Key: {DEFAULT_API_KEY}"


def test_the_refusal_line_counts_a_shared_response_the_mock_added_and_a_403_as_no_401(tmp_path):
    # The mock answers bad data with the document's shared BadRequest and a bad token with
    # the 401 it adds (a declared 403 is no answer to it): both added, neither declared.
    spec = tmp_path / "shared_responses.yaml"
    spec.write_text(
        yaml.safe_dump(
            {
                "openapi": "3.0.3",
                "info": {"title": "t", "version": "1"},
                "paths": {
                    "/x/{id}": {
                        "post": {
                            "security": [{"bearer": []}],
                            "parameters": [
                                {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
                            ],
                            "requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}},
                            "responses": {"200": {"description": "ok"}, "403": {"description": "no"}},
                        }
                    }
                },
                "components": {
                    "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
                    "responses": {"BadRequest": {"description": "bad"}},
                },
            }
        )
    )
    from mockserver import create_app

    served = create_app(spec, FIXTURES).extensions["mockserver.contract"]
    assert banner.refusal_line(served) == (
        "Refusals: bad data: the operation's declared status (0), else the 400 the mock adds (1);"
        " a missing or bad credential: the operation's declared status (0), else the 401 the mock adds (1)"
    )
