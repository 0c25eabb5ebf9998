"""Fixtures and contract read again while the mock runs: POST /__mock/reset re-reads the
fixture files, and `serve --watch` reloads them and the contract when they change. An
edit that does not load changes nothing, and every error it has is reported."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import requests
import yaml
from support import CHAT, FIXTURES, MORGAN, SAM, SECRET, SPEC, ContractClient, ServeProcess, bearer, make_token

from mockserver import create_app

RESET = {"path": "/__mock/reset", "json": {}}
MORGAN_LOGIN = {"email": "morgan.chen@northwind.dev", "password": "morgan-demo-password"}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A copy of the contract and the fixtures, free to edit."""
    shutil.copytree(FIXTURES, tmp_path / "fixtures")
    shutil.copy(SPEC, tmp_path / "openapi.yaml")
    return tmp_path


def edit_yaml(file: Path, edit: Callable[[dict], None]) -> None:
    document = yaml.safe_load(file.read_text())
    edit(document)
    # Written beside and renamed over, as editors save: a watcher never sees half a file.
    partial = file.with_suffix(".partial")
    partial.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True))
    partial.replace(file)


def rename_chat(name: str) -> Callable[[dict], None]:
    def edit(document: dict) -> None:
        document["projects"][0]["chats"][0]["name"] = name

    return edit


def break_roles(document: dict) -> None:
    for participant in document["projects"][0]["chats"][0]["participants"]:
        participant["role"] = "owner"


def chat_name(state: dict) -> str:
    return next(chat["name"] for chat in state["chats"] if chat["_id"] == CHAT)


def participants(state: dict) -> set[str]:
    chat = next(chat for chat in state["chats"] if chat["_id"] == CHAT)
    return {participant["userId"] for participant in chat["participants"]}


def remove_sam(base: Callable, **kwargs) -> None:
    path = f"/api/chat/projects/proj_CE5hbCg5EPjP/chats/{CHAT}/participants"
    assert base(path, json={"userId": SAM}, **kwargs).status_code == 200


# --- POST /__mock/reset ---------------------------------------------------------------


def test_reset_rereads_the_fixture_files(folder):
    app = create_app(folder / "openapi.yaml", folder / "fixtures", jwt_secret=SECRET)
    app.test_client_class = ContractClient
    client = app.test_client()
    remove_sam(client.delete, headers=bearer(MORGAN))
    edit_yaml(folder / "fixtures" / "projects.yaml", rename_chat("Launch planning, edited"))

    assert chat_name(client.get("/__mock/state").get_json()) == "Launch planning"
    response = client.post(**RESET)

    assert response.status_code == 200
    state = client.get("/__mock/state").get_json()
    assert chat_name(state) == "Launch planning, edited"
    assert SAM in participants(state)


def test_reset_with_broken_files_answers_400_with_every_error_and_changes_nothing(folder):
    app = create_app(folder / "openapi.yaml", folder / "fixtures", jwt_secret=SECRET)
    client = app.test_client()
    remove_sam(client.delete, headers=bearer(MORGAN))
    edit_yaml(folder / "fixtures" / "projects.yaml", break_roles)
    (folder / "fixtures" / "users.yaml").write_text("org: [unclosed\n")

    response = client.post(**RESET)

    assert response.status_code == 400
    body = response.get_json()
    assert set(body) == {"error", "code", "details", "timestamp", "path", "requestId"}
    assert body["code"] == "INVALID_FIXTURES"
    assert body["requestId"] == response.headers["X-Request-Id"]
    projects = str(folder / "fixtures" / "projects.yaml")
    errors = body["details"].splitlines()
    assert errors[0].startswith(str(folder / "fixtures" / "users.yaml") + ":2:1: not valid YAML: ")
    assert [error.split(": ")[1] for error in errors[1:4]] == [
        f"projects[0].chats[0].participants[{i}].role" for i in range(3)
    ]
    assert all(error.startswith(projects + ":") for error in errors[1:4])
    assert errors[4] == "The state and the fixtures in use are as they were."
    # The state is as it was, and a reset after a fix works.
    assert SAM not in participants(client.get("/__mock/state").get_json())
    shutil.copy(FIXTURES / "users.yaml", folder / "fixtures" / "users.yaml")
    shutil.copy(FIXTURES / "projects.yaml", folder / "fixtures" / "projects.yaml")
    assert client.post(**RESET).status_code == 200
    assert SAM in participants(client.get("/__mock/state").get_json())


def test_reset_reloads_users_for_login_and_tokens(folder):
    app = create_app(folder / "openapi.yaml", folder / "fixtures", jwt_secret=SECRET)
    client = app.test_client()

    def new_password(document: dict) -> None:
        document["users"][0]["password"] = "a-new-password"

    edit_yaml(folder / "fixtures" / "users.yaml", new_password)
    assert client.post("/api/auth/login", json=MORGAN_LOGIN).status_code == 200
    assert client.post(**RESET).status_code == 200
    assert client.post("/api/auth/login", json=MORGAN_LOGIN).status_code == 401
    login = client.post("/api/auth/login", json={**MORGAN_LOGIN, "password": "a-new-password"})
    assert login.status_code == 200

    for file in ("users.yaml", "projects.yaml"):  # Priya gets a new ID
        path = folder / "fixtures" / file
        path.write_text(path.read_text().replace("usr_Q8mT2vLx9RkP1a", "usr_priya_renamed"))
    priya = {"Authorization": f"Bearer {make_token('usr_Q8mT2vLx9RkP1a')}"}
    assert client.get("/api/auth/session", headers=priya).status_code == 200
    assert client.post(**RESET).status_code == 200
    # A token of a user who left the fixtures is refused: the authenticator sees the new users.
    assert client.get("/api/auth/session", headers=priya).status_code == 401


# --- serve --watch --------------------------------------------------------------------


def poll(check: Callable[[], bool], what: str, timeout: float = 15) -> None:
    """Until `check()` holds; fails naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"not within {timeout} s: {what}")
        time.sleep(0.05)


@pytest.fixture
def watched(folder):
    args = ("--watch", "--spec", str(folder / "openapi.yaml"), "--fixtures", str(folder / "fixtures"))
    with ServeProcess(*args, env={"MOCKSERVER_JWT_SECRET": SECRET}) as server:
        assert f"Watching {folder / 'openapi.yaml'} and {folder / 'fixtures'} for changes\n" in server.banner
        yield server


def state(server: ServeProcess) -> dict:
    return requests.get(server.base_url + "/__mock/state", timeout=10).json()


def test_watch_reloads_edited_fixtures_and_the_state_starts_over(watched, folder):
    remove_sam(lambda path, **kw: requests.delete(watched.base_url + path, timeout=10, **kw), headers=bearer(MORGAN))
    assert SAM not in participants(state(watched))

    edit_yaml(folder / "fixtures" / "projects.yaml", rename_chat("Renamed while served"))
    poll(lambda: chat_name(state(watched)) == "Renamed while served", "the renamed chat is served")

    assert SAM in participants(state(watched))  # the state started over from the files
    stderr = watched.stop()
    assert f"mockserver.reload fixtures reloaded from {folder / 'fixtures'}" in stderr


def test_watch_keeps_the_last_good_version_and_logs_every_error(watched, folder):
    edit_yaml(folder / "fixtures" / "projects.yaml", rename_chat("Last good"))
    poll(lambda: chat_name(state(watched)) == "Last good", "the first edit is served")

    edit_yaml(folder / "fixtures" / "projects.yaml", break_roles)
    (folder / "openapi.yaml").write_text("openapi: [unclosed\n")
    # Then a good edit of the contract: once it is served, the broken edits were seen too.
    spec = SPEC.read_text().replace("  /api/auth/session:", "  /api/auth/current-session:", 1)
    (folder / "openapi.partial").write_text(spec)
    (folder / "openapi.partial").replace(folder / "openapi.yaml")
    token = {"Authorization": f"Bearer {make_token(MORGAN)}"}
    poll(
        lambda: (
            requests.get(watched.base_url + "/api/auth/current-session", headers=token, timeout=10).status_code == 200
        ),
        "the edited contract is served",
    )

    assert chat_name(state(watched)) == "Last good"
    stderr = watched.stop()
    errors = [line for line in stderr.splitlines() if "mockserver.reload fixtures not reloaded: " in line]
    assert [line.split(": ")[2] for line in errors] == [
        f"projects[0].chats[0].participants[{i}].role" for i in range(3)
    ]


def test_watch_keeps_the_state_across_a_contract_reload(watched, folder):
    login = requests.post(watched.base_url + "/api/auth/login", json=MORGAN_LOGIN, timeout=10).json()
    session = {"Authorization": f"Bearer {login['token']}"}
    remove_sam(lambda path, **kw: requests.delete(watched.base_url + path, timeout=10, **kw), headers=session)

    spec = SPEC.read_text().replace("  /api/auth/session:", "  /api/auth/current-session:", 1)
    (folder / "openapi.partial").write_text(spec)
    (folder / "openapi.partial").replace(folder / "openapi.yaml")
    poll(
        lambda: (
            requests.get(watched.base_url + "/api/auth/current-session", headers=session, timeout=10).status_code == 200
        ),
        "the edited contract is served, the login's session still valid",
    )

    assert requests.get(watched.base_url + "/api/auth/session", headers=session, timeout=10).status_code == 404
    assert SAM not in participants(state(watched))
    stderr = watched.stop()
    assert f"mockserver.reload contract reloaded from {folder / 'openapi.yaml'}: 18 operations" in stderr


def test_watch_keeps_fault_rules_and_journal_over_a_fixture_reload_and_starts_them_empty_on_a_contract_reload(
    folder,
):
    """The serve options (--latency, --journal-size) hold for the reloaded app too; the rules
    and the journal belong to the app a contract reload replaces (rules name its operations)."""
    args = ("--watch", "--spec", str(folder / "openapi.yaml"), "--fixtures", str(folder / "fixtures"))
    options = ("--latency", "200", "--journal-size", "3")
    with ServeProcess(*args, *options, env={"MOCKSERVER_JWT_SECRET": SECRET}) as server:
        base, morgan = server.base_url, bearer(MORGAN)
        chats = f"{base}/api/chat/projects/proj_CE5hbCg5EPjP/chats"
        rule = {"operationId": "getUserChats", "status": 404}
        assert requests.post(f"{base}/__mock/faults", json=rule, timeout=10).status_code == 201
        assert requests.get(chats, headers=morgan, timeout=10).status_code == 404

        edit_yaml(folder / "fixtures" / "projects.yaml", rename_chat("Renamed while served"))
        poll(lambda: chat_name(state(server)) == "Renamed while served", "the renamed chat is served")
        assert [r["operationId"] for r in requests.get(f"{base}/__mock/faults", timeout=10).json()["faults"]] == [
            "getUserChats"
        ]
        assert requests.get(f"{base}/__mock/requests", timeout=10).json()["requests"][0]["status"] == 404

        spec = SPEC.read_text().replace("  /api/auth/session:", "  /api/auth/current-session:", 1)
        (folder / "openapi.partial").write_text(spec)
        (folder / "openapi.partial").replace(folder / "openapi.yaml")
        current = f"{base}/api/auth/current-session"
        poll(lambda: requests.get(current, headers=morgan, timeout=10).status_code == 200, "the new contract")

        assert requests.get(f"{base}/__mock/faults", timeout=10).json() == {"faults": []}
        journal = requests.get(f"{base}/__mock/requests", timeout=10).json()
        # Only what the new app answered: the poll's one request to it.
        assert [(entry["path"], entry["status"]) for entry in journal["requests"]] == [
            ("/api/auth/current-session", 200)
        ]
        assert journal["capacity"] == 3
        started = time.monotonic()
        assert requests.get(chats, headers=morgan, timeout=10).status_code == 200
        assert time.monotonic() - started >= 0.2  # --latency 200 still applies


def test_watch_follows_the_files_the_contract_refers_to(tmp_path):
    (tmp_path / "api").mkdir()
    (tmp_path / "shared").mkdir()
    main = (SPEC.parent / "tests" / "specs" / "split" / "main.yaml").read_text()
    (tmp_path / "api" / "main.yaml").write_text(main.replace('"components.yaml#', '"../shared/components.yaml#'))
    components = tmp_path / "shared" / "components.yaml"
    shutil.copy(SPEC.parent / "tests" / "specs" / "split" / "components.yaml", components)
    args = ("--watch", "--spec", str(tmp_path / "api" / "main.yaml"), "--fixtures", str(FIXTURES))
    with ServeProcess(*args, env={"MOCKSERVER_JWT_SECRET": SECRET}) as server:
        # `teams` is an inferred resource: its seeds (the document's answers) read back, an unknown ID is its 404.
        seeded = requests.get(server.base_url + "/teams", timeout=10).json()[0]["id"]
        assert requests.get(server.base_url + f"/teams/{seeded}", timeout=10).status_code == 200
        assert requests.get(server.base_url + "/teams/x", timeout=10).json().get("code") == "NOT_FOUND"

        partial = components.with_suffix(".partial")
        partial.write_text(
            components.read_text().replace("{type: string, minLength: 1}", "{type: string, minLength: 3}")
        )
        partial.replace(components)

        # A validation failure, with the one error status the operation declares (404).
        poll(
            lambda: requests.get(server.base_url + "/teams/x", timeout=10).json().get("code") == "VALIDATION_ERROR",
            "the path parameter is checked against the edited components.yaml",
        )
        assert requests.get(server.base_url + f"/teams/{seeded}", timeout=10).status_code == 200  # a UUID: long enough
