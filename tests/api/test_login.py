"""loginUser: credentials in, a JWT that the API accepts out."""

from __future__ import annotations

import jwt
import pytest
from support import MORGAN, PARTICIPANTS, SAM, SECRET

LOGIN = "/api/auth/login"
MORGAN_LOGIN = {"email": "morgan.chen@northwind.dev", "password": "morgan-demo-password"}


def test_login_returns_a_working_token_and_the_user(client):
    response = client.post(LOGIN, json=MORGAN_LOGIN)

    assert response.status_code == 200
    body = response.get_json()
    assert body["message"] == "Login successful"
    assert body["expiresIn"] == 1800
    assert body["refreshToken"]
    claims = jwt.decode(body["token"], SECRET, algorithms=["HS256"])
    assert claims["sub"] == MORGAN
    assert claims["exp"] - claims["iat"] == 1800
    user = body["user"]
    assert (user["_id"], user["email"], user["fullName"], user["role"]) == (
        MORGAN,
        "morgan.chen@northwind.dev",
        "Morgan Chen",
        "owner",
    )
    assert user["org"]["slug"] == "northwind"
    assert user["lastLogin"]

    removal = client.delete(PARTICIPANTS, json={"userId": SAM}, headers={"Authorization": f"Bearer {body['token']}"})
    assert removal.status_code == 200


def test_email_is_case_insensitive(client):
    response = client.post(LOGIN, json={**MORGAN_LOGIN, "email": "Morgan.Chen@Northwind.dev"})
    assert response.status_code == 200


@pytest.mark.parametrize(
    "credentials",
    [
        {**MORGAN_LOGIN, "password": "wrong"},
        {**MORGAN_LOGIN, "password": ""},
        {"email": "nobody@northwind.dev", "password": "morgan-demo-password"},
    ],
    ids=["wrong password", "empty password", "unknown email"],
)
def test_wrong_credentials_are_401(client, credentials):
    response = client.post(LOGIN, json=credentials)

    assert response.status_code == 401
    body = response.get_json()
    assert body["code"] == "INVALID_CREDENTIALS"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "body, field",
    [
        ({"email": "morgan.chen@northwind.dev"}, "password"),
        ({"password": "x"}, "email"),
        ({"email": "not-an-email", "password": "x"}, "email"),
        ({"email": 5, "password": "x"}, "email"),
        ('{"email": "morgan.chen@northwind.dev", "password": "\\udc00"}', "body"),
    ],
)
def test_malformed_login_bodies_are_400(client, body, field):
    sent = {"data": body, "content_type": "application/json"} if isinstance(body, str) else {"json": body}
    response = client.post(LOGIN, **sent)

    assert response.status_code == 400
    assert response.get_json()["code"] == "VALIDATION_ERROR"
    assert field in response.get_json()["details"]


def test_login_needs_no_token(client):
    response = client.post(LOGIN, json=MORGAN_LOGIN, headers={"Authorization": "Bearer garbage"})
    assert response.status_code == 200
