"""The session round: loginUser, refreshToken, logoutUser, getCurrentSession."""

from __future__ import annotations

import hmac
import secrets

from flask import Response, jsonify

from mockserver.behaviours.call import Call, rule_failures
from mockserver.behaviours.documents import user_document
from mockserver.errors import ApiError
from mockserver.pipeline.security.caller import Caller
from mockserver.pipeline.security.tokens import issue_token, unauthorized
from mockserver.store import LIMIT_EXCEEDED, RuleViolation


def login_user(call: Call) -> Response:
    user = call.store.find_user_by_email(call.body["email"])
    # Compare even for an unknown email, so both failures take the same time.
    expected = user.password if user else secrets.token_hex(16)
    if not hmac.compare_digest(expected.encode(), call.body["password"].encode()) or user is None:
        raise unauthorized(
            "The email or password is incorrect",
            error_code=None,
            code="INVALID_CREDENTIALS",
            error="Invalid email or password",
        )
    with rule_failures():  # LIMIT_EXCEEDED: the mock holds as many sessions as it may
        session_id, refresh_token = call.store.open_session(user.id, call.store.now())
    return jsonify(
        message="Login successful",
        token=issue_token(call.jwt_secret, user.id, user.email, call.token_lifetime, session_id),
        refreshToken=refresh_token,
        expiresIn=call.token_lifetime,
        user=user_document(user, call.store),
    )


def refresh_token(call: Call) -> Response:
    try:
        session_id, user_id, next_refresh_token = call.store.rotate_refresh_token(call.body["refreshToken"])
    except RuleViolation as exc:
        # No Bearer challenge: the refresh token travels in the body, not in Authorization.
        raise ApiError(400 if exc.code == LIMIT_EXCEEDED else 401, exc.code, exc.error, exc.details) from None
    user = call.store.users[user_id]
    return jsonify(
        message="Token refreshed successfully",
        token=issue_token(call.jwt_secret, user.id, user.email, call.token_lifetime, session_id),
        refreshToken=next_refresh_token,
        expiresIn=call.token_lifetime,
    )


def logout_user(call: Call) -> Response:
    caller = _signed_in(call)
    try:
        call.store.end_session(caller.session_id, caller.user_id)
    except RuleViolation as exc:
        # A token of no session the store knows, with the sessions' budget full: the session
        # is not ended, and the contract declares no status but 401 for a failed logout.
        raise unauthorized(exc.details, error_code=None, code=exc.code, error=exc.error) from None
    return jsonify(message="Logout successful")


def get_current_session(call: Call) -> Response:
    caller = _signed_in(call)
    user = call.store.users.get(caller.user_id)
    if user is None:
        # An identity provider's token (`serve --auth jwks:FILE`, `any`) of a user the fixtures
        # lack: there is no user document to show. The contract declares no status but 401.
        raise unauthorized(
            "The token's subject is no fixture user, so the mock has no user to show; "
            "give a user of users.yaml that ID to act as one"
        )
    return jsonify(user=user_document(user, call.store), authenticated=True)


def _signed_in(call: Call) -> Caller:
    """The caller, for a contract that would let these operations be called anonymously."""
    if call.caller is None:
        raise unauthorized("There is no session without a token", error_code=None)
    return call.caller


BEHAVIOURS = {
    "loginUser": login_user,
    "refreshToken": refresh_token,
    "logoutUser": logout_user,
    "getCurrentSession": get_current_session,
}
