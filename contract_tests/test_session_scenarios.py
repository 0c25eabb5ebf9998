"""Scenarios of the session round: a refresh token works once and rotates, reuse
ends the session, logout ends it too. Each runs in a session of its own, opened
with the suite's credentials, so the suite's own token keeps working."""

from __future__ import annotations

import pytest

from contract_tests.api import call
from contract_tests.target import Target


@pytest.fixture
def session(target: Target) -> dict:
    """A fresh login: its token and refresh token."""
    session = target.fresh_login()
    if session is None:
        pytest.skip("needs CONTRACT_PASSWORD (with CONTRACT_EMAIL) to open sessions of its own")
    return session


def refresh(target: Target, refresh_token: str):
    return call(target, "refreshToken", json={"refreshToken": refresh_token})


def test_the_current_session_is_the_token_user(target: Target):
    body = call(target, "getCurrentSession").expect(200).json()
    assert body["authenticated"] is True
    assert body["user"]["_id"] == target.user_id


def test_the_session_of_the_members_token_is_the_member(target: Target, member: str):
    user = call(target, "getCurrentSession", member).expect(200).json()["user"]
    expected = target.ids.participant_id
    assert user["_id"] == expected, f"with the member's token: expected the user {expected!r}, saw {user['_id']!r}"


def test_a_refresh_token_works_once_and_rotates(target: Target, session: dict):
    first = refresh(target, session["refreshToken"]).expect(200).json()
    assert first["refreshToken"] != session["refreshToken"], "the refresh token did not rotate"
    assert call(target, "getCurrentSession", first["token"]).expect(200).json()["user"]["_id"] == target.user_id
    refresh(target, session["refreshToken"]).expect_error(401, challenge=False)  # spent
    # Reuse of a spent refresh token ends the session: its newer refresh token fails too.
    refresh(target, first["refreshToken"]).expect_error(401, challenge=False)


def test_logout_ends_the_session(target: Target, session: dict):
    call(target, "logoutUser", session["token"]).expect(200)
    call(target, "getCurrentSession", session["token"]).expect_error(401)
    call(target, "getChatMessages", session["token"]).expect_error(401)
    refresh(target, session["refreshToken"]).expect_error(401, challenge=False)
    call(target, "getCurrentSession").expect(200)  # another session of the same user goes on


def test_an_unknown_refresh_token_is_401(target: Target):
    refresh(target, "rt_contract_never_issued").expect_error(401, challenge=False)
