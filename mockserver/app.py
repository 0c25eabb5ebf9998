"""The application factory: wires the request pipeline.

A request to a spec operation walks, in order:
  routing (Flask; unknown path 404, undeclared method 405)
  -> authentication (auth.py and security.py, the operation's security requirements)
  -> validation (validation.py, openapi-core against the document)
  -> behaviour (behaviours/, keyed by operationId, against the store/), or for an
     operation without one, the answer the negotiator chose (negotiator.py)
and any ApiError on the way is rendered in the API's Error shape (errors.py), with the
status and body the operation declares for such a failure (negotiator.py).
"""

from __future__ import annotations

import logging
import re
import time
from pathlib import Path

from flask import Flask, Response, g, jsonify, request
from flask_cors import CORS
from werkzeug.exceptions import HTTPException

from . import settings
from .admin import ADMIN_PREFIX, check_admin_request, is_admin_path
from .auth import Authenticator
from .behaviours import Call, behaviour_for, chat_document, message_document
from .deployment import LOCAL, Safeguards, host_name
from .errors import ApiError, from_http_exception, internal_error, new_request_id, render
from .fixtures import load_fixtures
from .negotiator import Negotiator
from .rate_limit import limit_failures
from .spec import Contract, ExceptConverter, Operation
from .store import DEFAULT_PREFIX, MEMORY, StoreUnavailable, open_store
from .validation import validate_request

access_log = logging.getLogger("mockserver.access")
error_log = logging.getLogger("mockserver")


def create_app(
    spec_path: Path | str = settings.DEFAULT_SPEC,
    fixtures_dir: Path | str = settings.DEFAULT_FIXTURES,
    jwt_secret: str | None = None,
    safeguards: Safeguards = LOCAL,
    store_url: str = MEMORY,
    store_prefix: str = DEFAULT_PREFIX,
) -> Flask:
    """Build a mock server; raises SpecError or FixtureError when its inputs are broken,
    SettingsError when the secret is too short, StoreError when the store cannot be opened."""
    started = time.perf_counter()
    contract = Contract(Path(spec_path))
    negotiator = Negotiator(contract.source, contract.version)
    for operation in contract.operations:
        negotiator.prepare(operation.operation_id, operation.path, operation.method)
    store = open_store(load_fixtures(Path(fixtures_dir)), store_url, store_prefix)
    secret = jwt_secret or settings.jwt_secret()
    settings.check_secret("The JWT secret", secret)
    authenticator = Authenticator(
        contract.security_schemes, secret, store.users, store.session_ended, safeguards.max_token_lifetime
    )

    app = Flask(__name__)
    app.json.ensure_ascii = False  # UTF-8 bodies, as the real API sends: "👍", not "\ud83d\udc4d"
    app.config["MAX_CONTENT_LENGTH"] = settings.MAX_BODY_BYTES
    # `//` in a path is an unknown path (404 in the Error shape), not a redirect.
    app.url_map.merge_slashes = False
    app.url_map.converters["except"] = ExceptConverter
    app.extensions["mockserver.store"] = store
    app.extensions["mockserver.contract"] = contract
    app.extensions["mockserver.negotiator"] = negotiator

    def operation_view(operation: Operation):
        behaviour = behaviour_for(operation.operation_id, operation.method, operation.path)

        def view(**_path_params: str) -> Response:
            request.view_args = operation.path_values(request.view_args or {})
            caller = authenticator.authenticate(operation, request)
            validated = validate_request(contract, request)
            if behaviour is None:
                return negotiator.success(operation.operation_id, request.method, request.path)
            call = Call(
                store,
                secret,
                settings.TOKEN_LIFETIME_SECONDS,
                caller,
                validated.parameters.path,
                validated.body,
                validated.parameters.query,
            )
            return behaviour(call)

        return view

    for operation in contract.operations:
        app.add_url_rule(
            operation.flask_rule,
            endpoint=operation.operation_id,
            view_func=operation_view(operation),
            methods=[operation.method],
        )

    @app.post(f"{ADMIN_PREFIX}/reset")
    def reset_state() -> Response:
        store.reset()
        negotiator.forget_deletions()
        return jsonify(message="State reset to fixtures")

    @app.get(f"{ADMIN_PREFIX}/state")
    def show_state() -> Response:
        chats = [
            {
                "projectId": project_id,
                **chat_document(chat),
                "messages": [message_document(message, store.users) for message in chat.messages.values()],
            }
            for project_id, chat in store.chats()
        ]
        return jsonify(chats=chats)

    @app.get(f"{ADMIN_PREFIX}/health")
    def health() -> Response:
        report = store.health()
        response = jsonify(report)
        response.status_code = 200 if report["status"] == "ok" else 503
        return response

    @app.before_request
    def start_request() -> None:
        g.request_id = new_request_id()
        g.started = time.perf_counter()
        if safeguards.trusted_hosts is not None and host_name(request.host) not in safeguards.trusted_hosts:
            raise ApiError(
                400,
                "UNTRUSTED_HOST",
                "Host not allowed",
                "A mock bound to loopback answers only to localhost, 127.0.0.1 and [::1]; "
                "behind a proxy, serve it with --shared",
            )
        if is_admin_path(request.path):
            check_admin_request(request, safeguards.admin_token)

    if safeguards.rate_limit:
        declares_429 = {
            operation.operation_id
            for operation in contract.operations
            if "429" in contract.document["paths"][operation.path][operation.method.lower()].get("responses", {})
        }
        limit_failures(app, declares_429, safeguards.rate_limit)

    @app.after_request
    def finish_request(response: Response) -> Response:
        response.headers["X-Request-Id"] = g.request_id
        elapsed_ms = (time.perf_counter() - g.started) * 1000
        # Escaped, so that a %0A in the path cannot forge a log line.
        path = request.path.encode("unicode_escape").decode("ascii")
        access_log.info(
            "%s %s %s %d %.1fms", request.remote_addr, request.method, path, response.status_code, elapsed_ms
        )
        return response

    @app.errorhandler(ApiError)
    def api_error(exc: ApiError) -> Response:
        return negotiator.error(request.endpoint, exc)

    @app.errorhandler(StoreUnavailable)
    def store_unavailable(exc: StoreUnavailable) -> Response:
        # Nothing was changed; the store reconnects by itself on a later request.
        error_log.warning("%s %s: %s", request.method, request.path, exc)
        return api_error(ApiError(503, "STORE_UNAVAILABLE", "Service unavailable", str(exc), {"Retry-After": "1"}))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        return render(from_http_exception(exc))

    @app.errorhandler(Exception)
    def unexpected_error(exc: Exception) -> Response:
        error_log.exception("unhandled error on %s %s", request.method, request.path)
        return render(internal_error())

    # Browsers on other origins (a frontend dev server) may call the mock's API, never
    # its /__mock routes; preflight OPTIONS requests are answered by Flask and
    # flask-cors, before any authentication. Any origin gets `*`, never its own name.
    CORS(
        app,
        resources={rf"/(?!{ADMIN_PREFIX[1:]}(/|\Z))": {}},
        origins="*" if safeguards.cors_origins is None else list(safeguards.cors_origins),
        send_wildcard=True,
        methods=sorted({operation.method for operation in contract.operations} | {"OPTIONS"}),
        # Lower case, as browsers ask for them, and matched exactly: flask-cors echoes the names asked.
        allow_headers=[
            re.compile(rf"{re.escape(name.lower())}\Z")
            for name in ("authorization", "content-type", *contract.api_key_headers)
        ],
        expose_headers=["X-Request-Id", "WWW-Authenticate"],
        max_age=600,
        # Every error response comes from an errorhandler above and gets the headers from
        # the after_request hook; wrapping the exception handlers too did the work twice.
        intercept_exceptions=False,
    )
    app.extensions["mockserver.startup"] = {
        "seconds": time.perf_counter() - started,
        "problems": contract.problems + negotiator.problems + store.problems,
    }
    return app
