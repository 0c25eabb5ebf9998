"""addParticipant: a chat admin adds a project member; the change is visible at once."""

from __future__ import annotations

from datetime import datetime

import pytest
from support import ALEX, BILLING, CHAT, MORGAN, OTHER_CHAT, PARTICIPANTS, PRIYA, SAM, bearer, participants_path

pytestmark = pytest.mark.both_stores  # the memory and the Redis store keep the same rules


def add(client, user: str, caller: str = MORGAN, path: str = PARTICIPANTS, **body):
    return client.post(path, json={"userId": user, **body}, headers=bearer(caller))


def test_an_admin_adds_a_project_member_as_member_by_default(client):
    response = add(client, PRIYA)

    assert response.status_code == 200
    body = response.get_json()
    assert body["success"] is True
    participants = {p["userId"]: p for p in body["data"]["participants"]}
    assert list(participants) == [MORGAN, ALEX, SAM, PRIYA]
    assert participants[PRIYA]["role"] == "member"
    assert datetime.fromisoformat(participants[PRIYA]["addedAt"]).tzinfo is not None


def test_the_role_can_be_admin_and_then_counts(client):
    assert add(client, PRIYA, role="admin").status_code == 200
    # Priya, now a chat admin, may remove others.
    response = client.delete(PARTICIPANTS, json={"userId": SAM}, headers=bearer(PRIYA))
    assert response.status_code == 200


def test_admin_rights_are_per_chat(client):
    # Alex is a member of the first chat but admin of Escalations.
    assert add(client, PRIYA, ALEX).status_code == 400
    assert add(client, PRIYA, ALEX, participants_path(chat=OTHER_CHAT)).status_code == 200


def test_a_removed_participant_can_be_added_back(client):
    assert client.delete(PARTICIPANTS, json={"userId": SAM}, headers=bearer(MORGAN)).status_code == 200
    assert add(client, SAM).status_code == 200
    assert client.delete(PARTICIPANTS, json={"userId": SAM}, headers=bearer(MORGAN)).status_code == 200


@pytest.mark.parametrize(
    "user, caller, path, code",
    [
        (SAM, MORGAN, PARTICIPANTS, "ALREADY_A_PARTICIPANT"),
        (PRIYA, ALEX, PARTICIPANTS, "FORBIDDEN"),  # a member may not add
        ("usr_nobody", MORGAN, PARTICIPANTS, "NOT_A_PROJECT_MEMBER"),
        (PRIYA, MORGAN, participants_path(project=BILLING, chat=CHAT), "CHAT_NOT_FOUND"),
        (PRIYA, MORGAN, participants_path(project="proj_unknown"), "PROJECT_NOT_FOUND"),
    ],
)
def test_rule_failures_are_400s_with_their_own_code(client, user, caller, path, code):
    before = client.get("/__mock/state").get_json()
    response = add(client, user, caller, path)
    assert response.status_code == 400
    assert response.get_json()["code"] == code
    assert client.get("/__mock/state").get_json() == before


def test_an_unknown_role_is_a_validation_error(client):
    response = add(client, PRIYA, role="owner")
    assert response.status_code == 400
    assert response.get_json()["code"] == "VALIDATION_ERROR"
    assert "role" in response.get_json()["details"]


def test_adding_needs_a_token(client):
    response = client.post(PARTICIPANTS, json={"userId": PRIYA})
    assert response.status_code == 401
