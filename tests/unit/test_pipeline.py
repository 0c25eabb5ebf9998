"""Stages of the pipeline alone: routing rules from operations, the order of the hooks, the
guards, and the security stage's choice of a handler per scheme."""

from __future__ import annotations

import pytest
from flask import Flask, Response, request

from mockserver.contract.index import Operation
from mockserver.errors import ApiError
from mockserver.pipeline.guards import check_host, host_name
from mockserver.pipeline.route import flask_rule, flask_variable, path_values
from mockserver.pipeline.security.schemes import ApiKey, Basic, Bearer, Unsupported, handler_for
from mockserver.pipeline.security.tokens import realm_for
from mockserver.server.hooks import install

MESSAGE = Operation(
    "getMessage",
    "GET",
    "/chats/{chatId}/messages/{message-id}",
    (),
    claimed=(("message-id", ("read",)),),
    base_path="/v1",
)


def test_a_rule_keeps_claimed_literals_out_and_renames_what_is_no_identifier():
    variable = flask_variable("message-id")
    assert variable.isidentifier() and variable != "message_id"
    assert flask_rule(MESSAGE) == f"/v1/chats/<chatId>/messages/<except('read'):{variable}>"
    assert path_values(MESSAGE, {"chatId": "c1", variable: "m1"}) == {"chatId": "c1", "message-id": "m1"}


def test_hooks_run_before_in_order_and_after_in_reverse():
    seen: list[str] = []

    class Hook:
        def __init__(self, name: str) -> None:
            self.name = name

        def before(self) -> None:
            seen.append(f"before {self.name}")

        def after(self, response: Response) -> Response:
            seen.append(f"after {self.name}")
            return response

    class Answers:
        def before(self) -> Response:
            seen.append("before answers")
            return Response("from the hook")

    app = Flask(__name__)
    app.add_url_rule("/", "view", lambda: seen.append("view") or "from the view")
    install(app, [Hook("first"), Answers(), Hook("last")])
    assert app.test_client().get("/").get_data() == b"from the hook"
    assert seen == ["before first", "before answers", "after last", "after first"]


@pytest.mark.parametrize(
    "host, name", [("[::1]:4010", "::1"), ("LOCALHOST:80", "localhost"), ("127.0.0.1", "127.0.0.1"), ("[bad", None)]
)
def test_host_names(host, name):
    assert host_name(host) == name


def test_an_untrusted_host_is_refused():
    app = Flask(__name__)
    with app.test_request_context("/", headers={"Host": "attacker.example"}):
        with pytest.raises(ApiError) as refused:
            check_host(request, ("localhost", "127.0.0.1", "::1"))
        check_host(request, None)  # shared: any host
    assert (refused.value.status, refused.value.code) == (400, "UNTRUSTED_HOST")


@pytest.mark.parametrize(
    "scheme, kind",
    [
        ({"type": "http", "scheme": "bearer"}, Bearer),
        ({"type": "oauth2", "flows": {}}, Bearer),
        ({"type": "openIdConnect", "openIdConnectUrl": "https://id.example/.well-known"}, Bearer),
        ({"type": "http", "scheme": "Basic"}, Basic),
        ({"type": "apiKey", "in": "cookie", "name": "sid"}, ApiKey),
        ({"type": "http", "scheme": "digest"}, Unsupported),
        ({"type": "mutualTLS"}, Unsupported),
    ],
)
def test_each_scheme_gets_its_handler(scheme, kind):
    bearer = Bearer(jwt_check=None)
    handler = handler_for(scheme, bearer, {}, "realm")
    assert isinstance(handler, kind)
    if kind is Bearer:
        assert handler is bearer  # one JWT check, run once a request whatever scheme asks for it


@pytest.mark.parametrize(
    "info, realm",
    [
        ({"title": "Bookings"}, "bookings"),
        ({"title": "Petstore (a Swagger Petstore 3.0 look-alike)"}, "petstore-a-swagger-petstore-3-0"),
        ({"title": 'Café "API"\\ \r\nWWW-Authenticate: x'}, "cafe-api-www-authenticate-x"),
        ({"title": "Über-Långt " + "x" * 60}, "uber-langt"),
        ({"title": "y" * 60}, "y" * 32),
        ({"title": "日本語"}, "api"),
        ({"title": 42}, "api"),
        (None, "api"),
    ],
)
def test_the_realm_is_the_documents_title_as_a_token(info, realm):
    assert realm_for({"info": info} if info is not None else {}) == realm
