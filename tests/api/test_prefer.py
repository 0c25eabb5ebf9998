"""Forcing a response with the Prefer header (Prism's conventions): code=, example=,
dynamic=; on stateful operations too, where a forced success changes nothing; after
authentication unless the mock runs with prefer_skips_auth."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import ALEX, CHAT, FIXTURES, MORGAN, PARTICIPANTS, PROJECT, SAM, SECRET, SPEC, ContractClient, bearer

from mockserver import create_app
from mockserver.controls.steering import ControlOptions
from mockserver.pipeline.respond.prefer import Preference, read
from mockserver.pipeline.security.schemes import DEFAULT_API_KEY

PETSTORE = Path(__file__).resolve().parents[1] / "specs" / "petstore.yaml"
CHATS = f"/api/chat/projects/{PROJECT}/chats"


def participants(client) -> dict[str, str]:
    chats = client.get("/__mock/state").get_json()["chats"]
    chat = next(chat for chat in chats if chat["_id"] == CHAT)
    return {p["userId"]: p["role"] for p in chat["participants"]}


@pytest.mark.parametrize(
    "header, expected",
    [
        ("code=404", Preference(code=404)),
        ("code=200, example=kitty", Preference(code=200, example="kitty")),
        ('Code=201; Dynamic="TRUE"', Preference(code=201, dynamic=True)),
        ("return=minimal, dynamic=false", Preference(dynamic=False)),
        ("respond-async, wait=10", None),  # RFC 7240 preferences the mock does not act on
        ("", None),
    ],
)
def test_the_header_is_read_as_rfc_7240_preferences(header, expected):
    assert read(header) == expected


@pytest.mark.parametrize("header", ["code=abc", "code=4040", "code=99", "dynamic=maybe", "example="])
def test_a_malformed_preference_is_a_400_naming_the_header(client, header):
    response = client.get(CHATS, headers={**bearer(), "Prefer": header})
    assert response.status_code == 400
    body = response.get_json()
    assert body["code"] == "INVALID_PREFER_HEADER"
    assert set(body["details"]) == {"Prefer"}


def test_a_declared_failure_is_forced_in_the_error_envelope(client):
    response = client.get(CHATS, headers={**bearer(), "Prefer": "code=404"})
    assert response.status_code == 404
    body = response.get_json()
    assert (body["code"], body["details"]) == ("NOT_FOUND", "Forced by Prefer: code=404")


def test_a_status_the_operation_does_not_declare_is_a_400_naming_the_declared_ones(client):
    response = client.get(CHATS, headers={**bearer(), "Prefer": "code=503"})
    assert response.status_code == 400
    details = response.get_json()["details"]["Prefer"]
    assert details == "getUserChats does not declare status 503; declared: 200, 400, 401, 404"


def test_a_forced_success_on_a_stateful_operation_skips_it_and_changes_nothing(client):
    before = participants(client)
    assert SAM in before
    response = client.delete(PARTICIPANTS, json={"userId": SAM}, headers={**bearer(MORGAN), "Prefer": "code=200"})
    assert response.status_code == 200
    assert participants(client) == before
    # Without the header the same call removes Sam: the behaviour was skipped, not broken.
    assert client.delete(PARTICIPANTS, json={"userId": SAM}, headers=bearer(MORGAN)).status_code == 200
    assert SAM not in participants(client)


def test_a_forced_failure_on_a_stateful_operation_changes_nothing(client):
    before = participants(client)
    response = client.delete(PARTICIPANTS, json={"userId": ALEX}, headers={**bearer(), "Prefer": "code=400"})
    assert response.status_code == 400
    assert response.get_json()["details"] == "Forced by Prefer: code=400"
    assert participants(client) == before


def test_dynamic_true_generates_a_body_from_the_schema(client):
    example = client.get("/api/auth/session", headers={**bearer(), "Prefer": "code=200, dynamic=false"})
    generated = client.get("/api/auth/session", headers={**bearer(), "Prefer": "dynamic=true"})
    assert example.status_code == generated.status_code == 200
    assert generated.get_json() != example.get_json()
    assert generated.get_json()["user"]["email"] == "alex.rivera@example.com"  # the generator's realistic email


def test_forcing_comes_after_authentication(client):
    response = client.get(CHATS, headers={"Prefer": "code=200"})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_prefer_skips_auth_answers_without_a_token():
    app = create_app(SPEC, FIXTURES, jwt_secret=SECRET, options=ControlOptions(prefer_skips_auth=True))
    app.test_client_class = ContractClient
    client = app.test_client()
    assert client.get(CHATS, headers={"Prefer": "code=200"}).status_code == 200
    assert client.get(CHATS).status_code == 401  # without the header, as ever


def test_request_validation_comes_before_the_forced_answer(client):
    response = client.delete(PARTICIPANTS, json={"userId": 42}, headers={**bearer(), "Prefer": "code=200"})
    assert response.status_code == 400
    assert response.get_json()["code"] == "VALIDATION_ERROR"


@pytest.fixture
def petstore():
    app = create_app(PETSTORE, FIXTURES, jwt_secret=SECRET)
    app.test_client_class = ContractClient
    return app.test_client()


def test_example_picks_a_named_example(petstore):
    headers = {"api-key": DEFAULT_API_KEY}
    assert petstore.get("/api/v3/pet/10", headers=headers).get_json()["name"] == "doggie"
    kitty = petstore.get("/api/v3/pet/10", headers={**headers, "Prefer": "example=kitty"})
    assert kitty.status_code == 200
    assert kitty.get_json() == {"id": 11, "name": "kitty", "photoUrls": [], "status": "sold"}


def test_an_example_the_response_does_not_name_is_a_400_naming_those_it_does(petstore):
    response = petstore.get("/api/v3/pet/10", headers={"api-key": DEFAULT_API_KEY, "Prefer": "example=puppy"})
    assert response.status_code == 400
    assert response.get_json()["details"] == {
        "Prefer": "The 200 response of getPetById has no example 'puppy'; named: doggie, kitty"
    }


def test_a_declared_status_without_a_body_is_forced_as_declared(petstore):
    response = petstore.get("/api/v3/pet/10", headers={"api-key": DEFAULT_API_KEY, "Prefer": "code=404"})
    assert response.status_code == 404


def test_a_page_on_another_origin_may_send_the_header(client):
    preflight = client.options(
        CHATS,
        headers={
            "Origin": "http://localhost:3000",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization, prefer",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Headers"].lower() == "authorization, prefer"


def test_an_example_of_a_response_without_a_body_is_a_400(petstore):
    headers = {"api-key": DEFAULT_API_KEY, "Prefer": "code=404, example=kitty"}
    response = petstore.get("/api/v3/pet/10", headers=headers)
    assert response.status_code == 400
    assert response.get_json()["details"]["Prefer"].endswith("has no example 'kitty'; named: none")
