"""`serve --auth jwks:FILE`, `pem:FILE` and `any` through the app: a token from the team's
identity provider is accepted, a forged one refused with the check that failed in the 401's
body, and a provider's user the fixtures lack is a stranger the chat rules refuse (no 500)."""

from __future__ import annotations

import jwt
import pytest
from flask import Flask
from identity_provider import (
    AUDIENCE,
    EC_KEY,
    ISSUER,
    OTHER_EC_KEY,
    OTHER_RSA_KEY,
    RSA_KEY,
    Token,
    public_jwk,
    write_jwks,
    write_pem,
)
from support import CHAT, FIXTURES, MORGAN, PARTICIPANTS, PROJECT, SAM, SECRET, SPEC, ContractClient, make_token

from mockserver import create_app
from mockserver.pipeline.security.verification import ANY_TOKEN, TokenVerification, token_verification
from mockserver.server.deployment import Safeguards
from mockserver.settings import SettingsError

CHATS = f"/api/chat/projects/{PROJECT}/chats"
MESSAGES = f"{CHATS}/{CHAT}/messages"
MESSAGE = f"{MESSAGES}/msg_7Hc2LqW9xT4bNp3R"
SESSION = "/api/auth/session"


def app_with(auth: TokenVerification, spec=SPEC) -> Flask:
    app = create_app(spec, FIXTURES, jwt_secret=SECRET, auth=auth)
    app.test_client_class = ContractClient  # every answer checked against the contract
    return app


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def jwks_client(tmp_path):
    path = write_jwks(tmp_path / "jwks.json", public_jwk(RSA_KEY, "rsa-1"), public_jwk(OTHER_EC_KEY, "ec-1"))
    return app_with(token_verification(f"jwks:{path}", ISSUER, AUDIENCE)).test_client()


def assert_refused(response, details: str) -> None:
    assert response.status_code == 401
    body = response.get_json()
    assert (body["code"], body["details"]) == ("UNAUTHORIZED", details)
    assert response.headers["WWW-Authenticate"] == (
        f'Bearer realm="mudbase", error="invalid_token", error_description="{details}"'
    )


def test_an_rs256_token_verified_with_the_jwks_acts_as_the_fixture_user_it_names(jwks_client):
    token = Token(sub=MORGAN).signed(RSA_KEY, "rsa-1")
    response = jwks_client.delete(PARTICIPANTS, json={"userId": SAM}, headers=auth(token))
    assert response.status_code == 200, response.get_json()
    assert jwks_client.get(SESSION, headers=auth(token)).get_json()["user"]["_id"] == MORGAN


def test_a_forged_token_is_refused_with_the_failed_check_in_the_body(jwks_client):
    forged = Token(sub=MORGAN).signed(OTHER_RSA_KEY, "rsa-1")  # another key, the JWKS's kid
    assert_refused(jwks_client.get(CHATS, headers=auth(forged)), "Token signature is invalid")
    unknown_kid = Token(sub=MORGAN).signed(OTHER_RSA_KEY, "rsa-9")
    assert_refused(jwks_client.get(CHATS, headers=auth(unknown_kid)), "Token key ID (kid) is not one of the JWKS")


@pytest.mark.parametrize(
    "token, details",
    [
        (Token(sub=MORGAN, iss="https://other.example.dev/"), f"Token issuer (iss) is not {ISSUER}"),
        (Token(sub=MORGAN, aud="another-app"), f"Token audience (aud) is not {AUDIENCE}"),
        (Token(sub=MORGAN, aud=["another-app", "a-third"]), f"Token audience (aud) is not {AUDIENCE}"),
        (Token(sub=MORGAN, expires_in=-5), "Token has expired"),
    ],
    ids=["issuer", "audience", "audiences", "expired"],
)
def test_issuer_audience_and_expiry_are_checked(jwks_client, token, details):
    assert_refused(jwks_client.get(CHATS, headers=auth(token.signed())), details)


def test_an_audience_among_several_passes(jwks_client):
    token = Token(sub=MORGAN, aud=["another-app", AUDIENCE]).signed()
    assert jwks_client.get(CHATS, headers=auth(token)).status_code == 200


def test_es256_with_a_pem_key(tmp_path):
    client = app_with(token_verification(f"pem:{write_pem(tmp_path / 'idp.pem', EC_KEY)}")).test_client()
    good = Token(sub=MORGAN, iss=None, aud=None).signed(EC_KEY, kid=None)
    assert client.get(CHATS, headers=auth(good)).status_code == 200
    forged = Token(sub=MORGAN).signed(OTHER_EC_KEY)
    assert_refused(client.get(CHATS, headers=auth(forged)), "Token signature is invalid")
    rs256 = Token(sub=MORGAN).signed(RSA_KEY)
    assert_refused(
        client.get(CHATS, headers=auth(rs256)), "Token algorithm is not allowed; only HS256, ES256 are accepted"
    )


def test_the_mocks_own_login_still_works_beside_the_provider(jwks_client):
    login = jwks_client.post(
        "/api/auth/login", json={"email": "morgan.chen@northwind.dev", "password": "morgan-demo-password"}
    )
    assert jwks_client.get(CHATS, headers=auth(login.get_json()["token"])).status_code == 200


# A valid request to every secured operation of openapi.yaml, as a stranger sends it.
STRANGERS_REQUESTS = {
    "getUserChats": ("GET", CHATS, None, 404),
    "createChat": ("POST", CHATS, {"name": "Mine", "type": "group", "participants": []}, 400),
    "getChatDetails": ("GET", f"{CHATS}/{CHAT}", None, 404),
    "putChatE2eeKey": ("PUT", f"/api/chat/projects/{PROJECT}/me/chat-e2ee-key", {"identityPublicKey": "k"}, 400),
    "getChatE2eeParticipantKeys": ("GET", f"{CHATS}/{CHAT}/e2ee/participant-keys", None, 404),
    "getChatMessages": ("GET", MESSAGES, None, 404),
    "sendMessage": ("POST", MESSAGES, {"type": "text", "content": "hello"}, 404),
    "markMessagesAsRead": ("POST", f"{MESSAGES}/read", {"messageIds": ["msg_7Hc2LqW9xT4bNp3R"]}, 404),
    "deleteMessage": ("DELETE", MESSAGE, None, 404),
    "editMessage": ("PATCH", MESSAGE, {"content": "edited"}, 404),
    "addReaction": ("POST", f"{MESSAGE}/reactions", {"emoji": "👍"}, 404),
    "removeReaction": ("DELETE", f"{MESSAGE}/reactions", {"emoji": "👍"}, 404),
    "addParticipant": ("POST", PARTICIPANTS, {"userId": SAM, "role": "member"}, 400),
    "removeParticipant": ("DELETE", PARTICIPANTS, {"userId": SAM}, 400),
}


@pytest.mark.parametrize("method, path, body, status", STRANGERS_REQUESTS.values(), ids=STRANGERS_REQUESTS)
def test_a_provider_user_the_fixtures_lack_is_a_stranger_the_rules_refuse(jwks_client, method, path, body, status):
    stranger = Token(sub="auth0|65f1c0ffee").signed()
    response = jwks_client.open(path, method=method, json=body, headers=auth(stranger))
    assert response.status_code == status, response.get_json()
    assert response.get_json()["code"] != "UNAUTHORIZED"  # authenticated; refused by the rules


def test_a_strangers_session_has_no_user_to_show_and_logout_ends_it(jwks_client):
    stranger = auth(Token(sub="auth0|65f1c0ffee").signed())
    response = jwks_client.get(SESSION, headers=stranger)
    assert response.status_code == 401
    assert response.get_json()["details"].startswith("The token's subject is no fixture user")
    assert jwks_client.post("/api/auth/logout", headers=stranger).status_code == 200
    assert_refused(jwks_client.get(CHATS, headers=stranger), "The session of this token has ended (logged out)")


def test_the_default_refuses_a_providers_token():
    response = app_with(token_verification("mock")).test_client().get(CHATS, headers=auth(Token(sub=MORGAN).signed()))
    assert_refused(response, "Token algorithm is not allowed; only HS256 is accepted")


# --- --auth any -----------------------------------------------------------------------------


def test_any_accepts_an_unsigned_token_on_a_document_with_bearer_security():
    client = app_with(ANY_TOKEN).test_client()
    unsigned = jwt.encode({"sub": MORGAN}, None, algorithm="none")
    assert client.delete(PARTICIPANTS, json={"userId": SAM}, headers=auth(unsigned)).status_code == 200
    assert client.get(SESSION, headers=auth(unsigned)).get_json()["user"]["_id"] == MORGAN
    expired = make_token(MORGAN, expires_in=-60, key="not-the-mocks-secret-but-long-enough-0123456789")
    assert client.get(CHATS, headers=auth(expired)).status_code == 200
    assert client.get(CHATS, headers=auth("opaque-token")).status_code == 404  # `anonymous`: a stranger
    response = client.get(CHATS)
    assert response.status_code == 401
    assert response.get_json()["details"] == "Authorization header is missing"


def test_any_on_the_oauth2_and_openid_connect_schemes_and_its_warning():
    app = create_app(SPEC.parent / "tests" / "specs" / "security.yaml", FIXTURES, jwt_secret=SECRET, auth=ANY_TOKEN)
    client = app.test_client()
    for path in ("/oauth", "/oidc"):
        assert client.get(path, headers=auth("anything")).status_code == 200
    (warning,) = [str(p) for p in app.extensions["mockserver.startup"]["problems"] if "--auth any" in str(p)]
    assert "NOT verified" in warning


def test_any_is_refused_on_a_shared_mock():
    with pytest.raises(SettingsError, match="--auth any"):
        create_app(
            SPEC, FIXTURES, jwt_secret=SECRET, safeguards=Safeguards(admin_token=SECRET, shared=True), auth=ANY_TOKEN
        )
