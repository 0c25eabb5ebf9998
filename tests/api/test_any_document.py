"""Serving any OpenAPI 3.0/3.1 document: tolerant loading (a warning with pointer and line
for each imperfection, a refusal only where nothing can be served), the negotiator's
answers (examples, else generated data, always valid), and every security scheme type.
tests/process/test_served_documents.py runs the schemathesis CLI against the same documents."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from mockserver.contract.loading import SpecError
from mockserver.pipeline.respond.negotiate import SchemaChecker
from mockserver.pipeline.security.schemes import DEFAULT_API_KEY
from mockserver.pipeline.security.tokens import issue_token
from mockserver.server.app import create_app

ROOT = Path(__file__).resolve().parents[2]
SPECS = ROOT / "tests" / "specs"
FIXTURES = ROOT / "fixtures"
REAL = ROOT.parent / "shared" / "reference" / "mudbase-openapi.yaml"
SECRET = "any-document-tests-secret-0123456789abcdef"


def app_for(name: str):
    return create_app(SPECS / name, FIXTURES, jwt_secret=SECRET)


def warnings_of(app) -> list[str]:
    return [str(problem) for problem in app.extensions["mockserver.startup"]["problems"]]


def token() -> str:
    return issue_token(SECRET, "usr_morgan_de", "morgan.chen@northwind.dev", 600)


@pytest.mark.parametrize(
    "name, expected",
    [
        (
            "empty_oneof.yaml",
            "empty_oneof.yaml:32: #/components/schemas/Simulation/properties/context/oneOf: empty oneOf",
        ),
        ("duplicate_required.yaml", "duplicate_required.yaml:24: #/components/schemas/Contact/required: duplicate"),
        ("unused_broken_ref.yaml", "unused_broken_ref.yaml:24: #/components/schemas/Legacy/properties/owner: $ref"),
        ("type_array_30.yaml", "type_array_30.yaml:19: #/paths/~1profiles~1{profileId}/get/responses/200/"),
        ("nullable_31.yaml", "nullable_31.yaml:19: #/paths/~1invoices~1{invoiceId}/get/responses/200/"),
        ("base_path.yaml", "base_path.yaml:4: #/servers/0/url: the first server has the base path /v2/acme"),
    ],
)
def test_each_imperfection_is_served_with_a_warning_naming_pointer_and_line(name, expected):
    warnings = warnings_of(app_for(name))
    assert any(expected in warning for warning in warnings), warnings
    assert all("{'" not in warning.split(": ", 2)[-1][:40] for warning in warnings)  # no schema dumps


def test_clean_documents_load_without_warnings():
    # split/: $refs to other files are bundled in without a warning each (DigitalOcean's 2,907 files had 661).
    for name in ("forms.yaml", "library_31.yaml", "security.yaml", "split/main.yaml"):
        assert warnings_of(app_for(name)) == [], name


@pytest.mark.parametrize(
    "text, reason",
    [
        ("swagger: '2.0'\ninfo: {title: x}\npaths: {}\n", r"doc.yaml:1: #/swagger: Swagger 2.0 is not served"),
        ("openapi: 3.0.3\ninfo: {title: x}\npaths: {}\n", r"doc.yaml:3: #/paths: the document has no paths"),
        ("openapi: 4.0.0\npaths: {/a: {}}\n", r"doc.yaml:1: #/openapi: not an OpenAPI 3.0 or 3.1 document"),
        ("openapi: 3.0.3\npaths: [\n", r"doc.yaml:\d+: not YAML or JSON"),
        (
            "openapi: 3.0.3\npaths:\n  /a:\n    get:\n      responses:\n        '200':\n"
            "          description: ok\n          content:\n            application/json:\n"
            "              schema: {$ref: '#/components/schemas/Gone'}\n",
            r"doc.yaml:10: #/paths/~1a/get/responses/200/content/application~1json/schema: "
            r"\$ref #/components/schemas/Gone points nowhere, and an operation uses it",
        ),
    ],
)
def test_what_cannot_be_served_is_refused_with_pointer_line_and_reason(tmp_path, text, reason):
    document = tmp_path / "doc.yaml"
    document.write_text(text)
    with pytest.raises(SpecError, match=reason):
        create_app(document, FIXTURES, jwt_secret=SECRET)


def test_an_example_that_breaks_its_schema_is_reported_and_a_valid_answer_sent(tmp_path):
    document = tmp_path / "doc.yaml"
    document.write_text(
        "openapi: 3.0.3\ninfo: {title: x, version: '1'}\npaths:\n  /chat:\n    post:\n      operationId: createChat\n"
        "      responses:\n        '201':\n          description: ok\n          content:\n"
        "            application/json:\n              schema:\n                type: object\n"
        "                required: [participants]\n                properties:\n"
        "                  participants: {type: array, items: {type: string}}\n"
        "              example: {participants: [{user: u1, role: admin}]}\n"
    )
    app = create_app(document, FIXTURES, jwt_secret=SECRET)
    (warning,) = warnings_of(app)
    assert "doc.yaml:17: #/paths/~1chat/post/responses/201/content/application~1json/example" in warning
    assert "example breaks its schema, not sent" in warning and "(at /participants/0)" in warning
    # createChat has a behaviour, written for another path: here it answers from the document.
    response = app.test_client().post("/chat")
    assert response.status_code == 201
    assert all(isinstance(participant, str) for participant in response.get_json()["participants"])


def test_behaviours_are_written_for_the_methods_and_paths_of_openapi_yaml():
    import yaml

    from mockserver.behaviours import BEHAVIOURS, ROUTES

    document = yaml.safe_load((ROOT / "openapi.yaml").read_text())
    declared = {
        operation["operationId"]: (method.upper(), path)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if isinstance(operation, dict) and "operationId" in operation
    }
    assert declared == ROUTES
    assert set(BEHAVIOURS) == set(ROUTES)


def test_examples_are_answered_first_named_one_when_several():
    client = app_for("petstore.yaml").test_client()
    response = client.get("/api/v3/pet/10", headers={"api-key": DEFAULT_API_KEY})
    assert response.status_code == 200
    assert response.get_json()["name"] == "doggie"  # the first of two named examples


def test_generated_answers_are_deterministic_realistic_and_valid():
    app = app_for("library_31.yaml")
    negotiator = app.extensions["mockserver.negotiator"]
    first = app.test_client().get("/books")
    second = app_for("library_31.yaml").test_client().get("/books")
    assert first.status_code == 200 and first.data == second.data
    assert first.headers["X-Total-Count"].isdigit()
    book = first.get_json()[0]  # the first of the seeds: the document's own answers
    assert book["isbn"][:3] in ("978", "979") and len(book["isbn"]) == 13
    assert book["updatedAt"].endswith("Z") and "T" in book["updatedAt"]
    assert "@" in book["author"]["email"] and book["website"].startswith("https://")
    checker = SchemaChecker(negotiator.data, "3.1")
    schema = negotiator.data["paths"]["/books"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert checker.error(schema, first.get_json()) is None


def test_a_failure_takes_the_status_and_body_the_operation_declares():
    client = app_for("library_31.yaml").test_client()
    response = client.post("/books", json={"title": ""})
    # addBook declares 422, not 400, with a body of its own (required `title`).
    assert response.status_code == 422
    assert "message" in response.get_json()
    response = client.get("/books?limit=99")
    assert response.status_code == 400
    assert "title" in response.get_json()  # the declared Problem, not the Error envelope


def test_a_deleted_resource_is_gone_where_the_document_declares_a_404():
    client = app_for("petstore.yaml").test_client()
    bearer = {"Authorization": f"Bearer {token()}"}
    # Pet 10 is the document's example, a seed of the inferred `pet` resource.
    assert client.get("/api/v3/pet/10", headers={"api-key": DEFAULT_API_KEY}).status_code == 200
    assert client.delete("/api/v3/pet/10", headers=bearer).status_code == 200
    assert client.get("/api/v3/pet/10", headers={"api-key": DEFAULT_API_KEY}).status_code == 404
    assert client.post("/__mock/reset", json={}).status_code == 200
    assert client.get("/api/v3/pet/10", headers={"api-key": DEFAULT_API_KEY}).status_code == 200


def test_forms_and_multipart_bodies_are_validated():
    client = app_for("forms.yaml").test_client()
    assert client.post("/subscriptions", data={"email": "a@example.com"}).status_code == 204
    assert client.post("/subscriptions", data={"frequency": "daily"}).status_code == 400
    upload = {"file": (__import__("io").BytesIO(b"png"), "a.png"), "caption": "me"}
    assert client.post("/avatars", data=upload, content_type="multipart/form-data").status_code == 201
    assert client.post("/avatars", data={"caption": "no file"}, content_type="multipart/form-data").status_code == 400


# --- security schemes --------------------------------------------------------------------


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


@pytest.mark.parametrize(
    "path, good, bad, challenge",
    [
        ("/oauth", lambda: {"Authorization": f"Bearer {token()}"}, {"Authorization": "Bearer x.y.z"}, "Bearer "),
        ("/oidc", lambda: {"Authorization": f"Bearer {token()}"}, {"Authorization": "Bearer x.y.z"}, "Bearer "),
        (
            "/header-key",
            lambda: {"X-API-Key": DEFAULT_API_KEY},
            {"X-API-Key": "wrong"},
            'ApiKey realm="every-security-scheme-type", in="header"',
        ),
        (
            "/basic",
            lambda: basic("morgan.chen@northwind.dev", "morgan-demo-password"),
            basic("usr_morgan_de", "no"),
            "Basic ",
        ),
    ],
)
def test_each_scheme_admits_its_credentials_and_refuses_with_its_challenge(path, good, bad, challenge):
    client = app_for("security.yaml").test_client()
    assert client.get(path, headers=good()).status_code == 200
    for headers in ({}, bad):
        response = client.get(path, headers=headers)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith(challenge)
        assert response.get_json()["code"] == "UNAUTHORIZED"


def test_api_keys_in_the_query_and_a_cookie():
    client = app_for("security.yaml").test_client()
    assert client.get(f"/query-key?api_key={DEFAULT_API_KEY}").status_code == 200
    assert client.get("/query-key?api_key=wrong").status_code == 401
    client.set_cookie("session_key", DEFAULT_API_KEY)
    assert client.get("/cookie-key").status_code == 200
    client.delete_cookie("session_key")
    response = client.get("/cookie-key")
    assert response.status_code == 401
    assert 'in="cookie", name="session_key"' in response.headers["WWW-Authenticate"]


def test_alternatives_that_all_fail_carry_every_challenge():
    response = app_for("security.yaml").test_client().get("/either", headers=basic("nobody", "x"))
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith('Basic realm="every-security-scheme-type"')
    assert (
        'ApiKey realm="every-security-scheme-type", in="header", name="X-API-Key"'
        in response.headers["WWW-Authenticate"]
    )


def test_malformed_basic_credentials_are_a_401_not_a_500():
    client = app_for("security.yaml").test_client()
    for value in ("Basic %%%", "Basic " + base64.b64encode(b"\xff\xfe").decode(), "Basic", "Basic bm9jb2xvbg=="):
        assert client.get("/basic", headers={"Authorization": value}).status_code == 401


@pytest.mark.parametrize(
    "name, path, realm",
    [
        ("bookings.yaml", "/v1/bookings", "bookings"),
        ("petstore.yaml", "/api/v3/pet/1", "petstore-a-swagger-petstore-3-0"),
    ],
)
def test_the_realm_of_a_challenge_is_the_documents_own(name, path, realm):
    response = app_for(name).test_client().get(path)
    assert response.status_code == 401
    assert f'realm="{realm}"' in response.headers["WWW-Authenticate"]
    assert "mudbase" not in response.headers["WWW-Authenticate"]


def test_the_console_reads_which_state_the_document_has(client):
    """GET /__mock/resources: the chats are the state of openapi.yaml's hand-written
    behaviours; another document's is its inferred resources, with their paths."""
    assert "getUserChats" in client.get("/__mock/resources").get_json()["handWritten"]
    bookings = app_for("bookings.yaml").test_client()
    model = bookings.get("/__mock/resources").get_json()
    assert model["handWritten"] == []
    paths = {resource["name"]: resource["collectionPath"] for resource in model["resources"]}
    assert {name: paths[name] for name in model["served"]} == {
        "bookings": "/bookings",
        "notes": "/bookings/{bookingId}/notes",
        "tags": "/tags",
    }
    headers = {"Authorization": f"Bearer {token()}"}
    created = bookings.post("/v1/tags", json={"name": "urgent"}, headers=headers)
    assert created.status_code == 201, created.get_json()
    assert bookings.get("/__mock/state").get_json()["itemsAdded"] == 1


# --- the real description ------------------------------------------------------------------

needs_real = pytest.mark.skipif(not REAL.exists(), reason=f"{REAL} is not on this machine")


@needs_real
def test_the_real_description_is_served_and_the_chat_operations_keep_their_behaviours():
    app = create_app(REAL, FIXTURES, jwt_secret=SECRET)
    startup = app.extensions["mockserver.startup"]
    print(f"\nthe real description: loaded in {startup['seconds']:.2f} s, {len(startup['problems'])} warnings")
    warnings = [str(problem) for problem in startup["problems"]]
    assert any("simulateAppPermissions_request/oneOf: empty oneOf" in warning for warning in warnings)
    assert any(
        "~1api~1chat~1projects~1{projectId}~1chats/post/responses/201/content/application~1json/example" in warning
        and "(at /data/participants/0)" in warning
        for warning in warnings
    )
    client = app.test_client()
    login = client.post(
        "/api/auth/login", json={"email": "morgan.chen@northwind.dev", "password": "morgan-demo-password"}
    )
    assert login.status_code == 200
    bearer = {"Authorization": f"Bearer {login.get_json()['token']}"}
    chats = "/api/chat/projects/proj_CE5hbCg5EPjP/chats"
    sent = client.post(f"{chats}/VL0TZudKjN6SiWtV/messages", json={"type": "text", "content": "hi"}, headers=bearer)
    assert sent.status_code == 201
    listed = client.get(f"{chats}/VL0TZudKjN6SiWtV/messages?limit=1", headers=bearer).get_json()
    assert listed["data"]["messages"][0]["content"] == "hi"  # state: the message sent is listed
    created = client.post(
        chats, json={"name": "Pair", "type": "direct", "participants": ["usr_CuXGNqCoY9JGW0"]}, headers=bearer
    )
    assert created.status_code == 201
    assert all(isinstance(p, str) for p in created.get_json()["data"]["participants"])  # not the broken example
    # An operation in no resource answers from the document, after authentication.
    assert client.get("/api/users/me", headers={}).status_code == 401
    assert client.get("/api/users/me", headers=bearer).status_code == 200
    assert json.loads(client.get("/api/users/me", headers=bearer).data)  # a JSON body
    # One of an inferred resource keeps state: a document never created is a 404, a created one reads back.
    data = "/api/data/projects/proj_CE5hbCg5EPjP/collections/notes/data"
    assert client.get(f"{data}/doc_1", headers=bearer).status_code == 404
    created = client.post(data, json={"title": "Agenda"}, headers=bearer)
    assert created.status_code == 201, created.get_json()
    document_id = created.get_json()["data"]["_id"]
    read = client.get(f"{data}/{document_id}", headers=bearer)
    assert read.status_code == 200 and read.get_json()["data"]["title"] == "Agenda"


def test_a_failure_under_a_default_response_keeps_its_own_status(tmp_path):
    document = tmp_path / "doc.yaml"
    document.write_text(
        "openapi: 3.0.3\ninfo: {title: x, version: '1'}\npaths:\n  /items/{n}:\n    get:\n"
        "      parameters: [{name: n, in: path, required: true, schema: {type: integer}}]\n"
        "      responses:\n        '200': {description: ok}\n        default:\n          description: error\n"
        "          content:\n            application/json:\n              schema:\n"
        "                type: object\n                required: [reason]\n"
        "                properties: {reason: {type: string}}\n"
    )
    response = create_app(document, FIXTURES, jwt_secret=SECRET).test_client().get("/items/x")
    assert response.status_code == 400
    assert set(response.get_json()) == {"reason"}  # the declared shape, as the envelope does not fit


@pytest.mark.parametrize("path", ["/search", "/search/tags"])  # compiled validators; openapi-core's
def test_an_empty_query_value_is_a_value_unless_allow_empty_value_says_not_given(path):
    client = app_for("empty_query_values.yaml").test_client()
    assert client.get(f"{path}?q=").status_code == 200  # "" is a string of at most 50 characters
    assert client.get(f"{path}?q=a&sort=").status_code == 200  # allowEmptyValue: as if not given
    refused = {"?q=a&page=": "page", "?q=a&sort=oldest": "sort", "?sort=": "q", "?page=2": "q"}
    for query, field in refused.items():
        response = client.get(path + query)
        assert response.status_code == 400, query
        assert field in response.get_json()["details"], query


def test_failures_the_document_declares_no_status_for_are_added_to_the_served_document():
    app = app_for("undeclared_failures.yaml")
    added = [warning.split("specs/")[1] for warning in warnings_of(app) if "declares no status" in warning]
    assert added == [
        "undeclared_failures.yaml:25: #/paths/~1notes/get/responses: declares no status for 400 (request data"
        " that breaks the document), 401 (missing or invalid credentials): the mock sends it, and adds it to"
        " the document it serves (/__mock/served-openapi.json)",
        "undeclared_failures.yaml:65: #/paths/~1notes~1{noteId}~1archive/post/responses: declares no status for"
        " 204 (the answer to a valid request, as the document declares only failures), 400 (request data that"
        " breaks the document), 401 (missing or invalid credentials): the mock sends it, and adds it to the"
        " document it serves (/__mock/served-openapi.json)",
    ]
    client = app.test_client()
    served = client.get("/__mock/served-openapi.json").get_json()
    responses = served["paths"]["/notes"]["get"]["responses"]
    assert sorted(responses) == ["200", "400", "401"]
    assert responses["401"]["x-mockserver-added"] is True
    schema_ref = responses["400"]["content"]["application/json"]["schema"]["$ref"]
    assert schema_ref == "#/components/schemas/MockServerError2"  # the document's own name is kept
    assert served["components"]["schemas"]["MockServerError"] == {"type": "string", "maxLength": 200}
    assert sorted(served["paths"]["/notes/{noteId}"]["get"]["responses"]) == ["200", "4XX"]  # covered
    assert sorted(served["paths"]["/health"]["get"]["responses"]) == ["204"]  # no data, no security

    contract = app.extensions["mockserver.validator"].reference
    bearer = {"Authorization": f"Bearer {token()}"}
    for path, headers, status in [("/notes", {}, 401), ("/notes?limit=99", bearer, 400), ("/notes", bearer, 200)]:
        response = client.get(path, headers=headers)
        assert response.status_code == status, path
        assert contract.response_errors("GET", path.split("?")[0], response) == [], path
    assert "WWW-Authenticate" in client.get("/notes").headers
    for headers, status in [({}, 401), (bearer, 204)]:  # 401 although 403 is declared; 204 for success
        response = client.post("/notes/n1/archive", headers=headers)
        assert response.status_code == status
        assert contract.response_errors("POST", "/notes/n1/archive", response) == []


def test_a_format_the_mock_does_not_know_admits_any_value():
    client = app_for("undeclared_failures.yaml").test_client()
    assert client.get("/notes/65a1b2c3d4e5f6789012345a").status_code == 200
    assert client.get("/notes/not-an-object-id").status_code == 200


def test_a_multipart_array_with_no_part_is_an_empty_array():
    client = app_for("multipart_arrays.yaml").test_client()

    def post(parts: str):
        body = f"{parts}--B--\r\n".encode()
        return client.post("/attachments", data=body, content_type="multipart/form-data; boundary=B")

    part = 'Content-Disposition: form-data; name="files"; filename="a"\r\n\r\nbytes\r\n'
    assert post("").status_code == 201  # files: [], as the schema allows
    assert post(f"--B\r\n{part}").status_code == 201
    refused = post(f"--B\r\n{part}" * 3)
    assert refused.status_code == 400
    assert "files" in refused.get_json()["details"]


def test_headers_with_an_underscore_are_reported_as_never_arriving_under_serve():
    warnings = [warning.split("specs/")[1] for warning in warnings_of(app_for("underscore_headers.yaml"))]
    note = "has an underscore: `mockserver serve` (waitress) drops such request headers, so it never arrives"
    assert warnings == [
        f"underscore_headers.yaml:38: #/components/securitySchemes/tenantKey/name: header X_Tenant_Key {note}",
        f"underscore_headers.yaml:30: #/components/parameters/TraceId/name: header trace_id {note}",
        f"underscore_headers.yaml:15: #/paths/~1reports/get/parameters/0/name: header X_Request_Source {note}",
    ]


def test_a_property_left_without_a_schema_by_an_empty_one_of_takes_any_value():
    # Its validator compiled `{}` (no type, no items) without end: every request was a 500.
    client = app_for("empty_oneof.yaml").test_client()
    assert client.post("/simulations").status_code == 400  # the body is required
    for context in ({"scopes": ["read"]}, [{"role": "admin"}], "any", None):
        response = client.post("/simulations", json={"action": "read", "context": context})
        assert response.status_code == 200, context
    assert client.post("/simulations", json={"action": "delete"}).status_code == 400


def test_schemas_that_refer_to_themselves_across_files_validate_requests_and_answers():
    app = app_for("recursive/main.yaml")  # node.yaml -> child.yaml -> node.yaml; Person <-> Organization
    client = app.test_client()
    served = client.get("/__mock/served-openapi.json").get_json()
    assert {"node", "Person"} <= set(served["components"]["schemas"])
    contract = app.extensions["mockserver.validator"].reference
    node = {"name": "a", "children": [{"node": {"name": "b", "children": [{"weight": 1, "node": {"name": "c"}}]}}]}
    created = client.post("/nodes", json=node)
    assert created.status_code == 201
    assert contract.response_errors("POST", "/nodes", created) == []
    node["children"][0]["node"]["children"][0]["node"]["name"] = ""  # three levels down: minLength 1
    refused = client.post("/nodes", json=node)
    assert (refused.status_code, refused.get_json()["code"]) == (400, "VALIDATION_ERROR")
    person = {"id": "p1", "name": "P", "employer": {"id": "o1", "members": [{"id": "p2", "name": "Q"}]}}
    assert client.post("/people", json=person).status_code == 201
    del person["employer"]["members"][0]["name"]
    assert client.post("/people", json=person).status_code == 400
    for path in ("/nodes/n1", "/orgs/o1"):  # generated, the recursion cut where the generator's nesting ends
        response = client.get(path)
        assert response.status_code == 200, path
        assert contract.response_errors("GET", path, response) == [], path
    members = client.get("/orgs/o1").get_json()["members"]
    assert members and all({"id", "name"} <= set(member) for member in members)


def test_a_path_with_a_query_is_served_with_a_warning_that_says_what_answers_it(tmp_path):
    # The OpenAI description's /responses?beta=true: OpenAPI paths have no query, and the mock
    # routes by the path alone; before, it said nothing.
    spec = tmp_path / "query_path.yaml"
    operation = "post: {responses: {'200': {description: ok}}}"
    spec.write_text(
        f"openapi: 3.1.0\ninfo: {{title: q, version: '1'}}\npaths:\n  /things: {{{operation}}}\n"
        f"  /things?beta=true: {{{operation}}}\n  /other?beta=true: {{{operation}}}\n"
    )
    warnings = [warning.split(": ", 2)[-1] for warning in warnings_of(create_app(spec, FIXTURES, jwt_secret=SECRET))]
    prefix = "a query in a path is not OpenAPI: whatever its query, a request to"
    assert f"{prefix} /things is that path, and /things's operations answer and check it" in warnings
    assert f"{prefix} /other is that path, and it finds no route" in warnings
