"""The admin API's own contract (mockserver/admin_openapi.yaml, served at
/__mock/openapi.json) and the console page at /__mock/. Every admin response the tests'
client sees is checked against the document (support.check_response); here, every
route and its failures are called once, over the test client and over real HTTP."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile

import pytest
import requests
import yaml
from openapi_spec_validator import validate
from support import (
    CHAT,
    FIXTURES,
    MUDBASE_OPENAPI,
    PROJECT,
    ROOT,
    SECRET,
    SPEC,
    ContractClient,
    admin_response_errors,
    bearer,
    check_admin_response,
)

from mockserver import create_app
from mockserver.server.deployment import Safeguards
from mockserver.server.serving import serve_in_background

ADMIN_TOKEN = "console-admin-token-0123456789abcdefghijkl"
CHATS = f"/api/chat/projects/{PROJECT}/chats"
CONSOLE = ROOT / "mockserver" / "controls" / "console"
SPECS = ROOT / "tests" / "specs"


@pytest.fixture
def guarded():
    """A mock whose admin routes need ADMIN_TOKEN."""
    app = create_app(SPEC, FIXTURES, jwt_secret=SECRET, safeguards=Safeguards(admin_token=ADMIN_TOKEN))
    app.test_client_class = ContractClient
    return app.test_client()


def admin_auth() -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def test_the_served_document_is_valid_openapi_31_and_the_packaged_yaml(client):
    served = client.get("/__mock/openapi.json")
    assert served.status_code == 200
    document = served.get_json()
    validate(document)
    assert document["openapi"] == "3.1.0"
    assert document == yaml.safe_load((ROOT / "mockserver" / "controls" / "admin_openapi.yaml").read_text())


def test_every_admin_route_of_the_app_is_in_the_document(app):
    documented = {
        (method.upper(), path)
        for path, item in app.extensions["mockserver.controls"].document["paths"].items()
        for method, operation in item.items()
        if "proxy" not in operation.get("tags", [])  # the proxy's own (test_proxy.py)
    }
    routed = {
        (method, rule.rule.replace("<name>", "{file}").replace("<rule_id>", "{id}"))
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/__mock")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert routed - {("GET", "/__mock")} == documented  # /__mock is /__mock/ without its slash


def test_each_route_and_its_failures_conform(guarded):
    """With an admin token set: each route with it, and the failures without it or without JSON."""
    auth = admin_auth()
    paths = ("/__mock/openapi.json", "/__mock/operations", "/__mock/resources", "/__mock/state", "/__mock/faults")
    for path in (*paths, "/__mock/requests"):
        assert guarded.get(path, headers=auth).status_code == 200, path
        assert guarded.get(path).status_code == 401, path
    rule = guarded.post("/__mock/faults", json={"operationId": "getUserChats", "status": 404}, headers=auth)
    assert rule.status_code == 201
    assert guarded.post("/__mock/faults", json={"operationId": "x"}, headers=auth).status_code == 400
    assert guarded.post("/__mock/faults", data="{}", headers=auth).status_code == 415
    assert guarded.get(CHATS, headers=bearer()).status_code == 404
    assert guarded.get("/__mock/requests", headers=auth).get_json()["requests"][0]["status"] == 404
    assert guarded.get("/__mock/requests", query_string={"status": "x"}, headers=auth).status_code == 400
    assert guarded.delete(f"/__mock/faults/{rule.get_json()['id']}", json={}, headers=auth).status_code == 200
    assert guarded.delete("/__mock/faults/fault_99", json={}, headers=auth).status_code == 404
    assert guarded.delete("/__mock/faults", json={}, headers=auth).status_code == 200
    assert guarded.delete("/__mock/requests", json={}, headers=auth).status_code == 200
    assert guarded.delete("/__mock/requests", json={}).status_code == 401
    assert guarded.post("/__mock/reset", json={}, headers=auth).status_code == 200
    assert guarded.get("/__mock/console/nothing.js").status_code == 404


def test_the_state_names_the_participants_by_the_fixtures_users(client):
    """The console shows participants by name: the summary and a page name each one a
    fixture user has the ID of (ContractClient checks both against the document)."""
    summary = client.get("/__mock/state").get_json()
    chat = next(chat for chat in summary["chats"] if chat["_id"] == CHAT)
    page = client.get("/__mock/state", query_string={"projectId": PROJECT, "chatId": CHAT, "limit": 1}).get_json()

    named = {participant["userId"]: participant["name"] for participant in chat["participants"]}
    assert named == {
        "usr_morgan_de": "Morgan Chen",
        "usr_CuXGNqCoY9JGW0": "Alex Rivera",
        "usr_l6ZF362tQSr4nE": "Sam Okafor",
    }
    assert page["chat"]["participants"] == chat["participants"]


def test_served_operations_list_the_document(client):
    operations = client.get("/__mock/operations").get_json()["operations"]
    assert len(operations) == 18
    assert {
        "operationId": "removeParticipant",
        "method": "DELETE",
        "path": "/api/chat/projects/{projectId}/chats/{chatId}/participants",
        "statuses": ["200", "400", "401"],
    } in operations


@pytest.mark.parametrize(
    "spec",
    [
        SPEC,
        SPECS / "petstore.yaml",
        SPECS / "library_31.yaml",
        pytest.param(
            MUDBASE_OPENAPI,
            marks=pytest.mark.skipif(not MUDBASE_OPENAPI.is_file(), reason=f"{MUDBASE_OPENAPI} is absent"),
        ),
    ],
    ids=lambda p: p.name,
)
def test_the_resources_are_inferred_on_the_first_request_and_conform(spec):
    app = create_app(spec, FIXTURES, jwt_secret=SECRET)
    app.test_client_class = ContractClient  # checks the answer against admin_openapi.yaml
    controls = app.extensions["mockserver.controls"]
    assert controls._resources is None  # not at start-up
    client = app.test_client()
    first = client.get("/__mock/resources")
    assert first.status_code == 200
    assert admin_response_errors("GET", "/__mock/resources", first) == []
    model = first.get_json()
    assert model == client.get("/__mock/resources").get_json()
    assert model["resources"], "a resource in each of these documents"
    contract = app.extensions["mockserver.contract"]
    placed = [(o["method"], o["path"]) for r in model["resources"] for o in r["operations"]]
    skipped = [(s["method"], s["path"]) for s in model["skipped"]]
    assert sorted(placed + skipped) == sorted((op.method, op.path) for op in contract.operations)


def test_the_resources_of_the_chat_api(client):
    resources = {r["name"]: r for r in client.get("/__mock/resources").get_json()["resources"]}
    assert list(resources) == ["chats", "messages"]
    messages = resources["messages"]
    assert messages["itemPath"] == "/api/chat/projects/{projectId}/chats/{chatId}/messages/{messageId}"
    assert (messages["id"]["property"], messages["scope"], messages["parent"]) == (
        "_id",
        ["projectId", "chatId"],
        "chats",
    )
    assert messages["id"]["reason"].startswith("messageId -> _id: ")


@pytest.mark.parametrize(
    "path, content_type",
    [
        ("/__mock/", "text/html; charset=utf-8"),
        ("/__mock", "text/html; charset=utf-8"),
        ("/__mock/console/console.js", "text/javascript; charset=utf-8"),
        ("/__mock/console/console.css", "text/css; charset=utf-8"),
    ],
)
def test_the_console_is_public_with_its_own_files_only(guarded, path, content_type):
    # Loaded by a browser without the admin token: the page holds no data, its requests send the token.
    response = guarded.get(path)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == content_type
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_the_console_loads_nothing_from_elsewhere():
    for file in CONSOLE.iterdir():
        text = file.read_text()
        assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", text, re.IGNORECASE), file.name
        # No HTML built from strings: journal entries hold what clients sent.
        assert not re.search(r"\.(innerHTML|outerHTML)\s*=|insertAdjacentHTML|document\.write", text), file.name
    page = (CONSOLE / "index.html").read_text()
    # Its own two files, and an empty favicon (so the browser asks for no /favicon.ico).
    links = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert links == ["data:,", "/__mock/console/console.css", "/__mock/console/console.js"]


def test_the_console_reads_every_admin_route_it_shows():
    script = (CONSOLE / "console.js").read_text()
    for route in ('"requests"', '"faults"', '"state"', '"operations"', '"reset"'):
        assert route in script
    assert "sessionStorage" in script  # where the admin token is kept


def test_over_http_the_console_and_the_admin_api_conform(app):
    with serve_in_background(app) as base_url:
        page = requests.get(f"{base_url}/__mock/", timeout=10)
        assert page.status_code == 200
        assert "Mudbase mock console" in page.text
        for file in ("console.js", "console.css"):
            assert requests.get(f"{base_url}/__mock/console/{file}", timeout=10).status_code == 200
        requests.get(base_url + CHATS, headers=bearer(), timeout=10)
        for path in ("/__mock/", "/__mock/openapi.json", "/__mock/operations", "/__mock/resources", "/__mock/faults"):
            check_admin_response(requests.get(base_url + path, timeout=10))
        check_admin_response(requests.get(f"{base_url}/__mock/requests", timeout=10))
        journal = requests.get(f"{base_url}/__mock/requests", timeout=10).json()["requests"]
        assert [entry["operationId"] for entry in journal] == ["getUserChats"]


@pytest.mark.process
def test_the_wheel_ships_the_document_and_the_console(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), "."],
        cwd=ROOT,
        check=True,
        timeout=300,
        capture_output=True,
    )
    [wheel] = tmp_path.glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {
        "mockserver/controls/admin_openapi.yaml",
        *(f"mockserver/controls/console/{f.name}" for f in CONSOLE.iterdir()),
    }
    assert expected <= names
    assert "mockserver/behaviours/__init__.py" in names
