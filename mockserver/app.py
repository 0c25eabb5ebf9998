"""The application factory: wires the request pipeline.

A request to a spec operation walks, in order:
  routing (Flask; unknown path 404, undeclared method 405)
  -> a fault rule of the operation, if one fires (controls.py, faults.py)
  -> authentication (auth.py and security.py, the operation's security requirements)
  -> validation (validation.py, openapi-core against the document)
  -> the answer a Prefer header forces, if any (prefer.py)
  -> behaviour (behaviours/, keyed by operationId, against the store/), or for an
     operation without one, the answer the negotiator chose (negotiator.py)
and any ApiError on the way is rendered in the API's Error shape (errors.py), with the
status and body the operation declares for such a failure (negotiator.py).
"""

from __future__ import annotations

import json
import logging
import re
import time
from pathlib import Path

from flask import Flask, Response, g, jsonify, request
from flask_cors import CORS
from werkzeug.exceptions import HTTPException

from . import settings
from .admin import ADMIN_PREFIX, check_admin_request, is_admin_path
from .admin_state import state_response
from .auth import Authenticator
from .behaviours import Call, behaviour_for
from .controls import DEFAULT_OPTIONS, ControlOptions, Controls
from .deployment import LOCAL, Safeguards, host_name
from .errors import ApiError, from_http_exception, internal_error, new_request_id, render
from .fixtures import FixtureError, load_fixtures
from .negotiator import Negotiator
from .rate_limit import limit_failures
from .security import require_own_api_key
from .spec import Contract, ExceptConverter, Operation, route_operations
from .store import DEFAULT_PREFIX, MEMORY, StateLimits, Store, StoreUnavailable, open_store
from .validation import validate_request

access_log = logging.getLogger("mockserver.access")
error_log = logging.getLogger("mockserver")


def create_app(
    spec_path: Path | str = settings.DEFAULT_SPEC,
    fixtures_dir: Path | str = settings.DEFAULT_FIXTURES,
    jwt_secret: str | None = None,
    safeguards: Safeguards = LOCAL,
    options: ControlOptions = DEFAULT_OPTIONS,
    store: Store | None = None,
    store_url: str = MEMORY,
    store_prefix: str = DEFAULT_PREFIX,
    limits: StateLimits | None = None,
) -> Flask:
    """Build a mock server; raises SpecError or FixtureError when its inputs are broken,
    SettingsError when the secret is too short (or a shared mock lacks its own API key),
    StoreError when the store cannot be opened. With a `store`, the app serves its state
    instead of opening one (a contract reloaded by `serve --watch`). The store holds at
    most its `limits` (by default MOCKSERVER_STATE_LIMITS's, store/budget.py)."""
    started = time.perf_counter()
    contract = Contract(Path(spec_path))
    negotiator = Negotiator(contract.source, contract.version)
    for operation in contract.operations:
        negotiator.prepare(operation.operation_id, operation.path, operation.method)
    fixtures_dir = Path(fixtures_dir)
    if store is None:
        store = open_store(load_fixtures(fixtures_dir), store_url, store_prefix, limits or StateLimits.from_env())
    secret = jwt_secret or settings.jwt_secret()
    settings.check_secret("The JWT secret", secret)
    require_own_api_key(contract.security_schemes, safeguards.shared)
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
    controls = Controls(app, contract, negotiator, options)
    app.extensions["mockserver.controls"] = controls

    behaviours = {
        operation.operation_id: behaviour_for(operation.operation_id, operation.method, operation.path)
        for operation in contract.operations
    }

    def answer(operation: Operation) -> Response:
        faulty = controls.intercept(operation.operation_id)
        if faulty is not None:
            return faulty
        preference = controls.preference()
        caller = None
        if preference is None or not options.prefer_skips_auth:
            caller = g.caller = authenticator.authenticate(operation, request)
        validated = validate_request(contract, request)
        if preference is not None:
            return controls.forced(operation.operation_id, preference)
        behaviour = behaviours[operation.operation_id]
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

    route_operations(app, contract, answer)

    def reload_fixtures() -> None:
        """The state starts over from the fixture files as they are now; FixtureError,
        and nothing changed, when they do not load."""
        store.load(load_fixtures(fixtures_dir))
        negotiator.forget_deletions()

    app.extensions["mockserver.reload_fixtures"] = reload_fixtures

    @app.post(f"{ADMIN_PREFIX}/reset", endpoint="__mock.reset_state")
    def reset_state() -> Response:
        try:
            reload_fixtures()
            controls.faults.clear()
        except FixtureError as exc:
            details = "\n".join(exc.errors) + "\nThe state and the fixtures in use are as they were."
            raise ApiError(400, "INVALID_FIXTURES", "Fixtures not reloaded", details) from None
        return jsonify(message="State reset to fixtures")

    @app.get(f"{ADMIN_PREFIX}/served-openapi.json", endpoint="__mock.served_document")
    def served_document() -> Response:
        # The document as served: repaired, plus the failures the mock adds (effective.py).
        return Response(json.dumps(contract.document, ensure_ascii=False), mimetype="application/json")

    @app.get(f"{ADMIN_PREFIX}/state", endpoint="__mock.show_state")
    def show_state() -> Response:
        return state_response(store, request.args)  # a summary, or a page of a chat's messages

    @app.get(f"{ADMIN_PREFIX}/health", endpoint="__mock.health")
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
        g.api_error = exc
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

    # Browsers on the allowed origins (a frontend dev server) may call the mock's API,
    # never its /__mock routes; preflight OPTIONS requests are answered by Flask and
    # flask-cors, before any authentication. An allowed origin is echoed, with
    # `Access-Control-Allow-Credentials: true` and `Vary: Origin`, so that
    # fetch(..., {credentials: "include"}) (axios's withCredentials) works.
    CORS(
        app,
        resources={rf"/(?!{ADMIN_PREFIX[1:]}(/|\Z))": {}},
        origins=list(safeguards.cors_origins),
        supports_credentials=True,
        methods=sorted({operation.method for operation in contract.operations} | {"OPTIONS"}),
        # Lower case, as browsers ask for them, and matched exactly: flask-cors echoes the names asked.
        allow_headers=[
            re.compile(rf"{re.escape(name.lower())}\Z")
            for name in ("authorization", "content-type", "prefer", *contract.api_key_headers)
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
