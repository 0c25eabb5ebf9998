"""The application factories: the mock and the validating proxy, one pipeline each, with
the same routing, hooks and error handling, and a different last stage.

A request to an operation walks, in order:
  routing (pipeline/route.py; unknown path 404, undeclared method 405)
  -> the hooks, in one list (hooks.py): request ID, guards (Host, admin token), then for
     the mock latency and the journal (controls/), and the failed-login rate limit
  -> the last stage:
     the mock: a fault rule, if one fires (controls/faults.py)
       -> security (pipeline/security/, the operation's requirements)
       -> validation (pipeline/validate/)
       -> the answer a Prefer header forces, if any (pipeline/respond/prefer.py)
       -> the behaviour (behaviours/, keyed by operationId, against the store/), or for an
          operation without one, the declared answer (pipeline/respond/negotiate.py);
     the proxy: the request checked, forwarded, the response checked (proxy/)
and any ApiError on the way is rendered in the API's Error shape (errors.py); the mock
sends it with the status and body the operation declares for such a failure.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from flask import Flask, Response, g, request
from flask_cors import CORS
from werkzeug.exceptions import HTTPException, NotFound

from mockserver import settings
from mockserver.behaviours import hand_written, served_contract
from mockserver.contract.index import Contract
from mockserver.controls.steering import DEFAULT_OPTIONS, ControlOptions, Controls
from mockserver.errors import ApiError, from_http_exception, internal_error, render, untraced
from mockserver.pipeline.guards import ADMIN_PREFIX, is_admin_path
from mockserver.pipeline.respond.encode import JSONProvider
from mockserver.pipeline.respond.negotiate import Negotiator
from mockserver.pipeline.respond.reasons import REASONS_HEADER
from mockserver.pipeline.route import SpanningRoutes, prepare_routing, route_operations
from mockserver.pipeline.security.authenticate import Authenticator
from mockserver.pipeline.security.schemes import require_own_api_key
from mockserver.pipeline.security.tokens import REALM, realm_for
from mockserver.pipeline.security.verification import ANY, MOCK_TOKENS, TokenVerification
from mockserver.pipeline.validate.request import RequestValidator
from mockserver.proxy.forward import Forwarder, ProxySettings
from mockserver.server.admin_routes import add_mock_routes
from mockserver.server.behave import Behave
from mockserver.server.deployment import LOCAL, Safeguards
from mockserver.server.hooks import AsteriskTarget, Guards, RequestStart, install
from mockserver.server.rate_limit import RateLimit
from mockserver.server.sharing import Shared
from mockserver.store import DEFAULT_PREFIX, MEMORY, StateLimits, Store, StoreUnavailable, open_store
from mockserver.store.fixtures import load_fixtures

error_log = logging.getLogger("mockserver")


class _Flask(Flask):
    def ensure_sync(self, func: Callable) -> Callable:
        # The mock registers no async view or hook; Flask asks this of each of them on every
        # request, which inspect's look at the function made 2% of a read's CPU.
        return func


def new_app(max_body_bytes: int | None) -> Flask:
    """A Flask app as both pipelines need it."""
    app = _Flask(__name__, static_folder=None)
    app.json = JSONProvider(app)
    app.config["MAX_CONTENT_LENGTH"] = max_body_bytes
    prepare_routing(app)
    return app


def handle_errors(
    app: Flask, api_error: Callable[[ApiError], Response], plain: Callable[[ApiError], Response] = render
) -> None:
    """One set of error handlers: an ApiError as `api_error` renders it; Werkzeug's own
    errors (routing, body size) and anything unexpected in the Error envelope, by `plain`."""
    app.register_error_handler(ApiError, api_error)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        return plain(from_http_exception(untraced(exc)))

    @app.errorhandler(Exception)
    def unexpected_error(exc: Exception) -> Response:
        error_log.exception("unhandled error on %s %s", request.method, request.path)
        return plain(internal_error())


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
    auth: TokenVerification = MOCK_TOKENS,
    shared: Shared | None = None,
) -> Flask:
    """Build a mock server; raises SpecError or FixtureError when its inputs are broken,
    SettingsError when the secret is too short (or a shared mock lacks its own API key, or
    would take any token), StoreError when the store cannot be opened. With a `store`, the
    app serves its state instead of opening one (a contract reloaded by `serve --watch`).
    The store holds at most its `limits` (by default MOCKSERVER_STATE_LIMITS's,
    store/budget.py). `auth` is what the bearer schemes accept (`serve --auth`,
    pipeline/security/verification.py): by default the mock's own tokens. `shared`: what
    the workers of `serve --workers N` share (sharing.py), its store as `store`."""
    started = time.perf_counter()
    contract, model, served = served_contract(Path(spec_path))
    validator = RequestValidator(contract)
    negotiator = Negotiator(contract.source, contract.version, shared.deleted_paths() if shared else None)
    for operation in contract.operations:
        negotiator.prepare(operation.operation_id, operation.path, operation.method)
    fixtures_dir = Path(fixtures_dir)
    if store is None:
        store = open_store(load_fixtures(fixtures_dir), store_url, store_prefix, limits or StateLimits.from_env())
    secret = jwt_secret or settings.jwt_secret()
    settings.check_secret("The JWT secret", secret)
    require_own_api_key(contract.security_schemes, safeguards.shared)
    if auth.mode == ANY and safeguards.shared:
        raise settings.SettingsError("--auth any takes any token: a shared mock checks them (--auth mock, jwks:, pem:)")
    # The Mudbase API's realm where its behaviours serve the document, else the document's own.
    handwritten = hand_written(contract)
    realm = REALM if handwritten else realm_for(contract.document)
    authenticator = Authenticator(
        contract.security_schemes, secret, store.users, store.session_ended, safeguards.max_token_lifetime, auth, realm
    )

    app = new_app(settings.MAX_BODY_BYTES)
    app.config["MOCKSERVER_BASE_PATH"] = contract.base_path  # for the 404's hint (errors.py)
    app.extensions["mockserver.store"] = store
    app.extensions["mockserver.contract"] = contract
    app.extensions["mockserver.validator"] = validator
    app.extensions["mockserver.negotiator"] = negotiator
    kept = tuple(resource.name for resource in served)
    controls = Controls(app, contract, negotiator, options, model, kept, tuple(sorted(handwritten)), shared)
    app.extensions["mockserver.controls"] = controls
    # In request order: the request ID, the guards, latency and the journal, the rate limit.
    hooks: list = [
        RequestStart(),
        AsteriskTarget([operation.method for operation in contract.operations]),
        Guards(safeguards.trusted_hosts, safeguards.admin_token, is_admin_path),
        controls,
    ]

    behave = Behave(contract, controls, authenticator, validator, negotiator, store, secret, served)
    route_operations(app, contract, behave)

    add_mock_routes(app, contract, store, negotiator, controls, fixtures_dir)

    if safeguards.rate_limit:
        declares_429 = {
            operation.operation_id
            for operation in contract.operations
            if "429" in contract.document["paths"][operation.path][operation.method.lower()].get("responses", {})
        }
        hooks.append(RateLimit(declares_429, safeguards.rate_limit, shared.failures() if shared else None))
    install(app, hooks)

    def api_error(exc: ApiError) -> Response:
        g.api_error = untraced(exc)  # for the journal
        return negotiator.error(request.endpoint, exc)

    @app.errorhandler(StoreUnavailable)
    def store_unavailable(exc: StoreUnavailable) -> Response:
        # The store reconnects by itself on a later request; the message says whether the
        # call may still take effect (one that timed out).
        error_log.warning("%s %s: %s", request.method, request.path, exc)
        return api_error(ApiError(503, "STORE_UNAVAILABLE", "Service unavailable", str(exc), {"Retry-After": "1"}))

    # Werkzeug's own errors as no operation declares them: the envelope, with X-Mock-Validation.
    handle_errors(app, api_error, partial(negotiator.error, None))
    spanning = SpanningRoutes(contract)

    @app.errorhandler(NotFound)
    def no_route(exc: NotFound) -> Response:
        # An ID holding an encoded `/` reaches no route: the 404 of the operation it was for.
        operation = spanning.match(request.method, request.path)
        return negotiator.error(operation.operation_id if operation else None, from_http_exception(untraced(exc)))

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
        expose_headers=["X-Request-Id", "WWW-Authenticate", REASONS_HEADER],
        max_age=600,
        # Every error response comes from an errorhandler above and gets the headers from
        # the after_request hook; wrapping the exception handlers too did the work twice.
        intercept_exceptions=False,
        # No CORS headers where no browser asked (no Origin). So its hook, which matches the
        # path against the resources first, is skipped then (7% of a Petstore read's CPU).
        always_send=False,
    )
    hooks_after = app.after_request_funcs[None]
    cors_after = hooks_after[-1]  # flask-cors's, registered by CORS() just now
    hooks_after[-1] = lambda response: cors_after(response) if "HTTP_ORIGIN" in request.environ else response
    app.extensions["mockserver.startup"] = {
        "seconds": time.perf_counter() - started,
        "problems": contract.problems + negotiator.problems + store.problems + _auth_problems(auth),
    }
    return app


def _auth_problems(auth: TokenVerification) -> list[str]:
    if auth.mode != ANY:
        return []
    return [
        "--auth any: bearer tokens are NOT verified; any `Authorization: Bearer ...` passes, "
        "expired, unsigned or forged (the caller is a JWT's `sub`, else `anonymous`)"
    ]


def create_proxy_app(spec_path: Path | str, proxy_settings: ProxySettings) -> Flask:
    """The proxy as a WSGI app: the mock's pipeline with `forward` as its last stage. Raises
    SpecError when the contract is broken, ValueError when the upstream URL is not usable."""
    contract = Contract(Path(spec_path))  # as written: the mock's additions are the mock's alone
    app = new_app(None)  # bodies past the mock's limit are streamed on unchecked
    app.url_map.strict_slashes = False
    forwarder = Forwarder(app, contract, proxy_settings)
    install(
        app,
        [
            RequestStart(stamp=False),  # the upstream's headers pass unchanged
            AsteriskTarget(forwarder.every_method),
            Guards(proxy_settings.trusted_hosts, proxy_settings.admin_token, forwarder.own_route),
        ],
    )
    handle_errors(app, render)
    return app
