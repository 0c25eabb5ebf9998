"""The session round: a login opens a session, refresh tokens rotate once each, reuse
of a spent one or a logout ends the session, and getCurrentSession shows its user."""

from __future__ import annotations

import time
from datetime import datetime
from types import SimpleNamespace

import jwt
import pytest
from support import ALEX, CHAT, MORGAN, PROJECT, SAM, SECRET, bearer, make_token

from mockserver.store import sessions

pytestmark = pytest.mark.both_stores  # the memory and the Redis store keep the same rules

LOGIN = "/api/auth/login"
REFRESH = "/api/auth/refresh"
LOGOUT = "/api/auth/logout"
SESSION = "/api/auth/session"
CHAT_PATH = f"/api/chat/projects/{PROJECT}/chats/{CHAT}"
CREDENTIALS = {
    MORGAN: {"email": "morgan.chen@northwind.dev", "password": "morgan-demo-password"},
    ALEX: {"email": "alex.rivera@northwind.dev", "password": "alex-demo-password"},
}


def login(client, user: str = MORGAN) -> dict:
    response = client.post(LOGIN, json=CREDENTIALS[user])
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def refresh(client, refresh_token: str):
    return client.post(REFRESH, json={"refreshToken": refresh_token})


def session_status(client, token: str) -> int:
    return client.get(SESSION, headers=auth(token)).status_code


def chat_status(client, token: str) -> int:
    return client.get(CHAT_PATH, headers=auth(token)).status_code


def assert_invalid_refresh_token(response, details: str) -> None:
    assert response.status_code == 401
    body = response.get_json()
    assert body["code"] == "INVALID_REFRESH_TOKEN"
    assert body["error"] == "Invalid or expired refresh token"
    assert body["details"] == details


def assert_session_ended(response) -> None:
    assert response.status_code == 401
    body = response.get_json()
    assert body["code"] == "UNAUTHORIZED"
    assert body["details"] == "The session of this token has ended (logged out)"
    assert response.headers["WWW-Authenticate"].startswith('Bearer realm="mudbase", error="invalid_token"')


# loginUser


def test_login_returns_a_refresh_token_and_a_token_of_a_session(client):
    body = login(client)

    assert body["refreshToken"].startswith("rt_")
    claims = jwt.decode(body["token"], SECRET, algorithms=["HS256"])
    assert claims["sub"] == MORGAN
    assert claims["email"] == "morgan.chen@northwind.dev"
    assert claims["sid"].startswith("ses_")


def test_each_login_opens_its_own_session(client):
    first, second = login(client), login(client)
    assert first["refreshToken"] != second["refreshToken"]
    sids = {jwt.decode(b["token"], SECRET, algorithms=["HS256"])["sid"] for b in (first, second)}
    assert len(sids) == 2


# refreshToken


def test_a_refresh_rotates_the_pair_and_the_new_pair_works(client):
    session = login(client)

    response = refresh(client, session["refreshToken"])

    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"message", "token", "refreshToken", "expiresIn"}
    assert body["message"] == "Token refreshed successfully"
    assert body["expiresIn"] == 1800
    assert body["refreshToken"].startswith("rt_") and body["refreshToken"] != session["refreshToken"]
    old_claims = jwt.decode(session["token"], SECRET, algorithms=["HS256"])
    new_claims = jwt.decode(body["token"], SECRET, algorithms=["HS256"])
    assert (new_claims["sub"], new_claims["sid"]) == (MORGAN, old_claims["sid"])  # the same session
    assert new_claims["exp"] - new_claims["iat"] == 1800

    assert session_status(client, body["token"]) == 200
    assert chat_status(client, body["token"]) == 200
    assert session_status(client, session["token"]) == 200  # still valid until it expires
    # The new refresh token rotates in turn.
    again = refresh(client, body["refreshToken"])
    assert again.status_code == 200
    assert session_status(client, again.get_json()["token"]) == 200


def test_reusing_a_spent_refresh_token_fails_and_ends_the_session(client):
    session = login(client)
    rotated = refresh(client, session["refreshToken"]).get_json()

    reuse = refresh(client, session["refreshToken"])

    assert_invalid_refresh_token(reuse, "The refresh token was used already; its session is now ended")
    assert "WWW-Authenticate" not in reuse.headers  # the refresh token travels in the body
    # The whole session is over: the new refresh token and every access token of it.
    assert_invalid_refresh_token(
        refresh(client, rotated["refreshToken"]), "The session of this refresh token has ended"
    )
    assert_session_ended(client.get(SESSION, headers=auth(rotated["token"])))
    assert_session_ended(client.get(SESSION, headers=auth(session["token"])))
    assert_session_ended(client.get(CHAT_PATH, headers=auth(rotated["token"])))
    # And the spent one keeps failing.
    assert_invalid_refresh_token(
        refresh(client, session["refreshToken"]), "The session of this refresh token has ended"
    )


def test_reuse_ends_only_its_own_session(client):
    stolen, other = login(client), login(client)
    refresh(client, stolen["refreshToken"])
    refresh(client, stolen["refreshToken"])

    assert session_status(client, stolen["token"]) == 401
    assert session_status(client, other["token"]) == 200
    assert refresh(client, other["refreshToken"]).status_code == 200


def test_a_refresh_token_works_for_7_days(client, monkeypatch):
    started = time.time()
    early, late = login(client), login(client)
    seven_days = 7 * 24 * 3600  # as README documents

    monkeypatch.setattr(sessions, "time", SimpleNamespace(time=lambda: started + seven_days - 60))
    assert refresh(client, early["refreshToken"]).status_code == 200
    monkeypatch.setattr(sessions, "time", SimpleNamespace(time=lambda: started + seven_days + 60))
    assert_invalid_refresh_token(refresh(client, late["refreshToken"]), "The refresh token has expired")


@pytest.mark.parametrize("token", ["rt_unknown", "", "x" * 300])
def test_an_unknown_refresh_token_is_401(client, token):
    assert_invalid_refresh_token(refresh(client, token), "The refresh token is unknown")


def test_a_refresh_without_the_token_is_a_validation_error(client):
    response = client.post(REFRESH, json={})
    assert response.status_code == 400
    assert response.get_json()["code"] == "VALIDATION_ERROR"
    assert "refreshToken" in response.get_json()["details"]


def test_refresh_needs_no_access_token_but_ignores_a_bad_one(client):
    session = login(client)
    response = client.post(
        REFRESH, json={"refreshToken": session["refreshToken"]}, headers={"Authorization": "Bearer garbage"}
    )
    assert response.status_code == 200


# logoutUser


def test_logout_ends_the_session(client):
    session = login(client)

    response = client.post(LOGOUT, headers=auth(session["token"]))

    assert response.status_code == 200
    assert response.get_json() == {"message": "Logout successful"}
    assert_session_ended(client.get(SESSION, headers=auth(session["token"])))
    assert_session_ended(client.get(CHAT_PATH, headers=auth(session["token"])))
    assert_session_ended(client.post(LOGOUT, headers=auth(session["token"])))
    assert_invalid_refresh_token(
        refresh(client, session["refreshToken"]), "The session of this refresh token has ended"
    )


def test_logout_ends_the_tokens_issued_by_refreshes_of_the_session(client):
    session = login(client)
    rotated = refresh(client, session["refreshToken"]).get_json()

    assert client.post(LOGOUT, headers=auth(session["token"])).status_code == 200

    assert session_status(client, rotated["token"]) == 401
    assert refresh(client, rotated["refreshToken"]).status_code == 401


def test_another_session_of_the_same_user_keeps_working_after_a_logout(client):
    laptop, phone = login(client), login(client)

    assert client.post(LOGOUT, headers=auth(laptop["token"])).status_code == 200

    assert session_status(client, phone["token"]) == 200
    assert chat_status(client, phone["token"]) == 200
    rotated = refresh(client, phone["refreshToken"])
    assert rotated.status_code == 200
    assert session_status(client, rotated.get_json()["token"]) == 200
    # Other users and tokens signed outside any session are untouched as well.
    assert session_status(client, login(client, ALEX)["token"]) == 200
    assert client.get(SESSION, headers=bearer(SAM)).status_code == 200


def test_a_token_without_a_session_id_can_be_logged_out(client):
    token = make_token(MORGAN)  # like `mockserver token`, but with no `sid` at all
    assert "sid" not in jwt.decode(token, SECRET, algorithms=["HS256"])
    assert session_status(client, token) == 200

    response = client.post(LOGOUT, headers=auth(token))

    assert response.status_code == 200
    assert_session_ended(client.get(SESSION, headers=auth(token)))
    assert_session_ended(client.get(CHAT_PATH, headers=auth(token)))
    # Another token of the same user (a different expiry makes it a different token) still works.
    assert session_status(client, make_token(MORGAN, expires_in=900)) == 200
    assert session_status(client, login(client)["token"]) == 200


def test_logout_needs_a_token(client):
    response = client.post(LOGOUT)
    assert response.status_code == 401
    assert response.get_json()["code"] == "UNAUTHORIZED"


# getCurrentSession


def test_the_current_session_shows_the_user_with_last_login(client):
    session = login(client)

    response = client.get(SESSION, headers=auth(session["token"]))

    assert response.status_code == 200
    body = response.get_json()
    assert body["authenticated"] is True
    user = body["user"]
    assert user == session["user"]
    assert (user["_id"], user["email"], user["firstName"], user["lastName"], user["fullName"]) == (
        MORGAN,
        "morgan.chen@northwind.dev",
        "Morgan",
        "Chen",
        "Morgan Chen",
    )
    assert (user["role"], user["customRole"], user["isAnonymous"]) == ("owner", None, False)
    assert user["org"] == {"_id": "org_Nw7Kd2PqX4Lm", "name": "Northwind Labs", "slug": "northwind"}
    assert user["createdAt"] == "2025-03-04T09:12:00Z"
    assert datetime.fromisoformat(user["lastLogin"]).tzinfo is not None


def test_last_login_is_the_time_of_the_latest_login(client):
    first = login(client)["user"]["lastLogin"]
    second = login(client)["user"]["lastLogin"]
    assert datetime.fromisoformat(second) > datetime.fromisoformat(first)
    # Every session of the user shows the same, latest, login.
    assert client.get(SESSION, headers=bearer(MORGAN)).get_json()["user"]["lastLogin"] == second


def test_a_user_who_never_logged_in_has_no_last_login(client):
    login(client, MORGAN)
    response = client.get(SESSION, headers=bearer(ALEX))
    assert response.status_code == 200
    body = response.get_json()
    assert body["authenticated"] is True
    assert body["user"]["_id"] == ALEX
    assert body["user"]["fullName"] == "Alex Rivera"
    assert "lastLogin" not in body["user"]


def test_the_current_session_needs_a_token(client):
    response = client.get(SESSION)
    assert response.status_code == 401
    assert response.get_json()["code"] == "UNAUTHORIZED"


# Reset


def test_reset_forgets_sessions_and_logins(client):
    session = login(client)
    rotated = refresh(client, session["refreshToken"]).get_json()

    assert client.post("/__mock/reset", json={}).status_code == 200

    assert_invalid_refresh_token(refresh(client, rotated["refreshToken"]), "The refresh token is unknown")
    assert_invalid_refresh_token(refresh(client, session["refreshToken"]), "The refresh token is unknown")
    assert "lastLogin" not in client.get(SESSION, headers=bearer(MORGAN)).get_json()["user"]
    # Access tokens are signed JWTs: one of a forgotten session still verifies.
    assert session_status(client, rotated["token"]) == 200


def test_reset_forgets_logouts_as_well(client):
    # As at start-up, no session is known to have ended.
    session = login(client)
    client.post(LOGOUT, headers=auth(session["token"]))
    assert session_status(client, session["token"]) == 401

    client.post("/__mock/reset", json={})

    assert session_status(client, session["token"]) == 200
    assert_invalid_refresh_token(refresh(client, session["refreshToken"]), "The refresh token is unknown")
