"""Scenarios generation cannot reach: state across calls, forged tokens, exact texts,
authorization, and hostile bodies.

The tests run in file order against one target, before the generated ones (see
conftest.py). Each test that changes the target's state, or would on a server that
breaks a rule, puts it back when it ends, whatever the target answered (`undo`).
"""

from __future__ import annotations

import base64
import json
import secrets
import time

import jwt
import pytest
import requests

from contract_tests.api import Undo, call
from contract_tests.exchange import Exchange
from contract_tests.target import Target, spec_path

REMOVED_MESSAGE = "Participant removed successfully"
NEVER_A_PARTICIPANT = "usr_contract_never_a_participant"
UNKNOWN_PROJECT = "proj_contract_unknown"
UNKNOWN_CHAT = "chat_contract_unknown"


def remove(
    target: Target,
    user_id: str,
    headers: dict[str, str] | None = None,
    path: str | None = None,
    **request,
) -> Exchange:
    """DELETE on the participants path; `request` replaces the JSON body (data=..., json=...)."""
    headers = target.auth() if headers is None else headers
    if not request:
        request = {"json": {"userId": user_id}}
    url = target.base_url + (path or target.ids.participants_path())
    response = requests.delete(url, headers=headers, timeout=30, **request)
    return Exchange(response).conforms("removeParticipant")


def b64url(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def claims_of(target: Target, **changes) -> dict:
    claims = {"sub": target.user_id, "exp": int(time.time()) + 600}
    claims.update(changes)
    return {name: value for name, value in claims.items() if value is not None}


# --- Authentication -------------------------------------------------------------


def forged_tokens(target: Target) -> dict[str, str]:
    """Tokens any client can make, without the target's secret."""
    header, _, signature = target.token.split(".")
    return {
        "alg none": f"{b64url({'alg': 'none', 'typ': 'JWT'})}.{b64url(claims_of(target))}.",
        "other key": jwt.encode(claims_of(target), secrets.token_urlsafe(48), algorithm="HS256"),
        "garbage": "not-a-jwt",
        "tampered payload": f"{header}.{b64url(claims_of(target, sub='usr_contract_admin'))}.{signature}",
    }


@pytest.mark.parametrize("kind", ["missing", "other scheme", "alg none", "other key", "garbage", "tampered payload"])
def test_bad_credentials_are_401(target: Target, kind: str):
    if kind == "missing":
        headers = {}
    elif kind == "other scheme":
        headers = {"Authorization": "Basic " + base64.b64encode(f"{target.email}:password".encode()).decode()}
    else:
        headers = target.auth(forged_tokens(target)[kind])
    remove(target, NEVER_A_PARTICIPANT, headers=headers).expect_error(401)


@pytest.mark.needs_expired_token
def test_an_expired_token_is_401(target: Target, expired_token: str):
    remove(target, NEVER_A_PARTICIPANT, headers=target.auth(expired_token)).expect_error(401)


SIGNED_WITH_THE_SECRET = {
    "no exp": lambda t: claims_of(t, exp=None),
    "unknown user": lambda t: claims_of(t, sub="usr_contract_no_such_user"),
}


@pytest.mark.needs_secret
@pytest.mark.parametrize("kind", list(SIGNED_WITH_THE_SECRET))
def test_correctly_signed_but_invalid_tokens_are_401(target: Target, jwt_secret: str, kind: str):
    token = jwt.encode(SIGNED_WITH_THE_SECRET[kind](target), jwt_secret, algorithm="HS256")
    remove(target, NEVER_A_PARTICIPANT, headers=target.auth(token)).expect_error(401)


@pytest.mark.needs_secret
def test_a_token_signed_with_hs512_is_401(target: Target, jwt_secret: str):
    # The secret is right; the algorithm is not on the server's allow-list.
    token = jwt.encode(claims_of(target), jwt_secret.encode().ljust(64, b"\0"), algorithm="HS512")
    remove(target, NEVER_A_PARTICIPANT, headers=target.auth(token)).expect_error(401)


@pytest.mark.needs_secret
def test_a_token_the_suite_signed_with_the_secret_is_accepted(target: Target, jwt_secret: str):
    # The control for the tests above: only the broken part makes them 401s.
    token = jwt.encode(claims_of(target), jwt_secret, algorithm="HS256")
    remove(target, NEVER_A_PARTICIPANT, headers=target.auth(token)).expect_rule_violation()


def test_login_with_a_wrong_password_is_401(target: Target):
    response = requests.post(
        target.base_url + spec_path("loginUser"),
        json={"email": target.email, "password": "wrong-" + secrets.token_hex(8)},
        timeout=30,
    )
    Exchange(response).conforms("loginUser").expect_error(401)


# --- Validation and hostile bodies ----------------------------------------------

JSON = {"Content-Type": "application/json"}


@pytest.mark.parametrize(
    "data, headers",
    [('{"userId": ', JSON), (b"", JSON), (None, {})],
    ids=["malformed JSON", "empty body", "no body"],
)
def test_a_broken_body_is_a_validation_error(target: Target, data, headers):
    exchange = remove(target, NEVER_A_PARTICIPANT, headers={**target.auth(), **headers}, data=data)
    exchange.expect_error(400, code="VALIDATION_ERROR")


HOSTILE_BODIES = {
    "invalid UTF-8": (b'{"userId": "\xff\xfe"}', JSON),
    "a JSON array": (b'["usr_contract"]', JSON),
    "NaN": (b'{"userId": NaN}', JSON),
    "nested 100,000 levels": (b"[" * 100_000 + b"]" * 100_000, JSON),
    "unknown property nested 500 levels": (b'{"userId": "usr_x", "extra": ' + b"[" * 500 + b"]" * 500 + b"}", JSON),
    "unpaired surrogate": (b'{"userId": "usr_\\ud800"}', JSON),
    "wrong Content-Type": (b'{"userId": "usr_contract"}', {"Content-Type": "text/plain"}),
}


@pytest.mark.parametrize("name", list(HOSTILE_BODIES))
def test_hostile_bodies_are_400s_not_crashes(target: Target, name: str):
    data, headers = HOSTILE_BODIES[name]
    remove(target, NEVER_A_PARTICIPANT, headers={**target.auth(), **headers}, data=data).expect_error(400)


# --- Business rules ---------------------------------------------------------------


def test_removing_a_user_who_is_no_participant_is_a_400(target: Target):
    remove(target, NEVER_A_PARTICIPANT).expect_rule_violation()


@pytest.mark.mutates_state  # only on a server that gets it wrong: it removes the participant
@pytest.mark.parametrize("where", ["unknown project", "unknown chat"])
def test_the_path_names_the_chat(target: Target, undo: Undo, where: str):
    # A real participant of the target's chat, under a project or chat that does not exist.
    if where == "unknown project":
        path = target.ids.participants_path(project_id=UNKNOWN_PROJECT)
    else:
        path = target.ids.participants_path(chat_id=UNKNOWN_CHAT)
    undo.call("addParticipant", json={"userId": target.ids.participant_id, "role": "member"})
    remove(target, target.ids.participant_id, path=path).expect_rule_violation()


@pytest.mark.mutates_state  # the outsider joins the chat for the test
def test_only_an_admin_removes_others(target: Target, undo: Undo, member: str):
    # The admin adds the outsider; the member, a plain participant, tries to remove them.
    outsider = target.ids.outsider_id
    undo.call("removeParticipant", json={"userId": outsider})
    call(target, "addParticipant", json={"userId": outsider, "role": "member"}).expect(200)
    remove(target, outsider, headers=target.auth(member)).expect_rule_violation()
    assert outsider in listed_participants(details(target).expect(200)), "a plain participant removed another"


@pytest.mark.mutates_state  # only on a server that gets it wrong: it adds the outsider
def test_only_an_admin_adds_participants(target: Target, undo: Undo, member: str):
    outsider = target.ids.outsider_id
    undo.call("removeParticipant", json={"userId": outsider})
    add(target, outsider, token=member).expect_rule_violation()


@pytest.mark.mutates_state  # only on a server that gets it wrong: it adds a stranger
def test_only_project_members_can_be_added(target: Target, undo: Undo):
    undo.call("removeParticipant", json={"userId": NEVER_A_PARTICIPANT})
    add(target, NEVER_A_PARTICIPANT).expect_rule_violation()


def test_an_unknown_chat_is_404(target: Target):
    details(target, chat_id=UNKNOWN_CHAT).expect_error(404)


@pytest.mark.mutates_state
def test_remove_a_participant_then_add_them_back(target: Target, undo: Undo):
    """The participant's round trip, as the chat's admin. Whatever the target answers,
    the participant is added back at the end (a correct target refuses that as a
    duplicate). What the removed participant may do: test_chat_scenarios.py."""
    participant = target.ids.participant_id
    undo.call("addParticipant", json={"userId": participant, "role": "member"})
    removed = remove(target, participant)
    removed.expect(
        200,
        hint="CONTRACT_PARTICIPANT_ID must be a participant whom the token's user may remove; "
        "a mock restores its fixtures with POST /__mock/reset",
    )
    if removed.json().get("message") != REMOVED_MESSAGE:
        removed.fail(f"expected the message {REMOVED_MESSAGE!r}")
    remove(target, participant).expect_rule_violation()
    if participant in listed_participants(details(target).expect(200)):
        removed.fail("the chat details still list the removed participant")
    added = add(target, participant).expect(200)
    if participant not in listed_participants(added, with_added_at=True):
        added.fail("the response does not list the added participant with its addedAt")
    shown = details(target).expect(200)
    if {"userId": participant, "role": "member"} not in shown.json()["data"]["participants"]:
        shown.fail("the chat details do not list the added participant as a member")
    add(target, participant).expect_rule_violation()  # already in the chat


def add(target: Target, user_id: str, token: str | None = None) -> Exchange:
    url = target.base_url + target.ids.participants_path()
    response = requests.post(url, json={"userId": user_id, "role": "member"}, headers=target.auth(token), timeout=30)
    return Exchange(response).conforms("addParticipant")


def details(target: Target, chat_id: str | None = None, token: str | None = None) -> Exchange:
    path = spec_path("getChatDetails").format(projectId=target.ids.project_id, chatId=chat_id or target.ids.chat_id)
    response = requests.get(target.base_url + path, headers=target.auth(token), timeout=30)
    return Exchange(response).conforms("getChatDetails")


def listed_participants(exchange: Exchange, with_added_at: bool = False) -> list[str]:
    """The user IDs in a response's `data.participants`; a response without them fails."""
    body = exchange.json()
    try:
        success, participants = body["success"], body["data"]["participants"]
    except (KeyError, TypeError):
        success, participants = None, None
    if success is not True or not isinstance(participants, list):
        exchange.fail("expected {success: true, data: {participants: [...]}}")
    needed = {"userId", "role", "addedAt"} if with_added_at else {"userId", "role"}
    if not all(isinstance(p, dict) and needed <= p.keys() for p in participants):
        exchange.fail(f"every participant needs {', '.join(sorted(needed))}")
    return [p["userId"] for p in participants]
