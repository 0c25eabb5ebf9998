"""Fixture files: the shipped ones load; broken ones list every problem with its file, line and field."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml
from support import ALEX, CHAT, FIXTURES, MORGAN, OTHER_CHAT, PRIYA, PROJECT, SAM

from mockserver.store.fixtures import FixtureError, load_fixtures


def test_shipped_fixtures_hold_what_the_docs_promise():
    fixtures = load_fixtures(FIXTURES)
    project = fixtures.projects[PROJECT]
    assert project.chats[CHAT].participants == {MORGAN: "admin", ALEX: "member", SAM: "member"}
    assert fixtures.users[MORGAN].email == "morgan.chen@northwind.dev"
    assert fixtures.users[MORGAN].password == "morgan-demo-password"
    assert PRIYA in project.members
    assert all(PRIYA not in chat.participants for chat in project.chats.values())
    assert OTHER_CHAT in project.chats


def broken_copy(tmp_path: Path, file: str, edit) -> Path:
    target = tmp_path / "fixtures"
    shutil.copytree(FIXTURES, target)
    document = yaml.safe_load((target / file).read_text())
    edit(document)
    (target / file).write_text(yaml.safe_dump(document))
    return target


def set_role(doc):
    doc["projects"][0]["chats"][0]["participants"][2]["role"] = "owner"


def drop_email(doc):
    del doc["users"][1]["email"]


def unknown_participant(doc):
    doc["projects"][0]["chats"][1]["participants"][0]["userId"] = "usr_ghost"


def duplicate_user(doc):
    doc["users"].append(dict(doc["users"][0], email="other@northwind.dev"))


def bad_date(doc):
    doc["users"][0]["createdAt"] = "yesterday"


@pytest.mark.parametrize(
    "file, edit, message",
    [
        ("projects.yaml", set_role, "projects[0].chats[0].participants[2].role: 'owner' is not one of"),
        ("users.yaml", drop_email, "users[1]: 'email' is a required property"),
        (
            "projects.yaml",
            unknown_participant,
            "projects[0].chats[1].participants[0].userId: 'usr_ghost' is not a member",
        ),
        ("users.yaml", duplicate_user, "users[4].id: duplicate user ID 'usr_morgan_de'"),
        ("users.yaml", bad_date, "users[0].createdAt: 'yesterday' is not a 'date-time'"),
    ],
)
def test_a_broken_file_names_the_file_and_the_field(tmp_path, file, edit, message):
    folder = broken_copy(tmp_path, file, edit)
    with pytest.raises(FixtureError) as caught:
        load_fixtures(folder)
    assert caught.value.errors == [str(caught.value)]
    assert re.match(rf"{re.escape(str(folder / file))}:\d+: ", str(caught.value))
    assert message in str(caught.value)


def test_a_missing_file_and_invalid_yaml_are_reported(tmp_path):
    folder = tmp_path / "fixtures"
    shutil.copytree(FIXTURES, folder)
    (folder / "users.yaml").write_text("users: [unclosed")
    with pytest.raises(FixtureError, match=r"users\.yaml:1:17: not valid YAML: while parsing a flow sequence"):
        load_fixtures(folder)
    (folder / "users.yaml").unlink()
    with pytest.raises(FixtureError, match=r"users\.yaml: cannot read"):
        load_fixtures(folder)


def test_every_problem_of_both_files_is_reported_with_its_line(tmp_path):
    folder = broken_copy(tmp_path, "projects.yaml", lambda doc: (set_role(doc), unknown_participant(doc)))
    users = yaml.safe_load((folder / "users.yaml").read_text())
    duplicate_user(users)
    bad_date(users)
    (folder / "users.yaml").write_text(yaml.safe_dump(users, sort_keys=False))

    with pytest.raises(FixtureError) as caught:
        load_fixtures(folder)

    errors = caught.value.errors
    # The shape of users.yaml is broken, so only the shape of projects.yaml is checked.
    assert [error.split(": ", 2)[1] for error in errors] == [
        "users[0].createdAt",
        "projects[0].chats[0].participants[2].role",
    ]
    line = next(i for i, text in enumerate((folder / "users.yaml").read_text().splitlines(), 1) if "yesterday" in text)
    assert errors[0] == f"{folder / 'users.yaml'}:{line}: users[0].createdAt: 'yesterday' is not a 'date-time'"
    users["users"][0]["createdAt"] = "2025-03-04T09:12:00Z"
    (folder / "users.yaml").write_text(yaml.safe_dump(users, sort_keys=False))

    with pytest.raises(FixtureError) as caught:
        load_fixtures(folder)

    assert [error.split(": ", 2)[1] for error in caught.value.errors] == [
        "projects[0].chats[0].participants[2].role",
        "users[4].id",
    ]
