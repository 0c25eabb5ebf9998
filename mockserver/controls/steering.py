"""What a frontend developer steers the mock with, wired into an app: latency and fault
rules (faults.py), forced responses (prefer.py), the request journal (journal.py), and
their admin routes, with the admin API's own document, the console page, the served
operations and the resources inferred from the document (resources/, on first request).

The mock's view calls `intercept` first and `forced` after validation; `before` (latency)
and `after` (the journal) are one of the app's hooks (server/hooks.py).
"""

from __future__ import annotations

import functools
import random
import threading
import time
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml
from flask import Flask, Response, g, jsonify, request

from mockserver.contract.index import Contract
from mockserver.controls.faults import DROP_CONNECTION, FaultRules, Latency, RuleBook, hold_answer
from mockserver.controls.journal import DEFAULT_SIZE, Journal
from mockserver.errors import ApiError
from mockserver.pipeline.guards import ADMIN_PREFIX, is_admin_path
from mockserver.pipeline.respond import prefer
from mockserver.pipeline.respond.negotiate import Negotiator
from mockserver.pipeline.respond.prefer import Preference
from mockserver.redaction import contract_names
from mockserver.resources import ResourceModel, infer
from mockserver.settings import MAX_BODY_BYTES

PACKAGE = resources.files(__package__)
CONSOLE_FILES = {"console.css": "text/css", "console.js": "text/javascript"}
# The console page loads its own files only: no CDN, no inline script.
CONSOLE_POLICY = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:"


@dataclass(frozen=True)
class ControlOptions:
    latency: Latency | None = None  # added to every API response (--latency)
    journal_size: int = DEFAULT_SIZE  # requests kept (--journal-size); 0 keeps none
    prefer_skips_auth: bool = False  # a Prefer header forces an answer without a valid token
    seed: int | None = None  # of the random choices: --latency ranges, rules' rates


DEFAULT_OPTIONS = ControlOptions()


@functools.cache
def admin_document() -> dict[str, Any]:
    """The admin API's document, read once per process (every app shares it, read-only):
    with the pure-Python loader it took half a second, at every create_app."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(PACKAGE.joinpath("admin_openapi.yaml").read_text(encoding="utf-8"), Loader=loader)


class Controls:
    def __init__(
        self,
        app: Flask,
        contract: Contract,
        negotiator: Negotiator,
        options: ControlOptions,
        model: ResourceModel | None = None,
        served: tuple[str, ...] = (),
        hand_written: tuple[str, ...] = (),
        shared: Any = None,
    ) -> None:
        """`shared`: what the workers of one mock share (server/sharing.py), or None."""
        self.negotiator = negotiator
        self.options = options
        self.document = admin_document()
        book = shared.rule_book() if shared else RuleBook(options.seed)
        self.faults = FaultRules(self.document, negotiator.statuses, book)
        # The journal's bytes are a limit of the state's (--state-limits journal_bytes=).
        limits = getattr(app.extensions.get("mockserver.store"), "limits", None)
        secret_names = contract_names(contract.security_schemes)
        max_bytes = limits.journal_bytes if limits else None
        if shared:
            self.journal = shared.journal(options.journal_size, secret_names, max_bytes)
        else:
            self.journal = Journal(options.journal_size, secret_names, max_bytes)
        self.operations = [
            {
                "operationId": operation.operation_id,
                "method": operation.method,
                "path": operation.path,
                "statuses": negotiator.statuses.get(operation.operation_id, []),
            }
            for operation in contract.operations
        ]
        self.latency_rng = random.Random(options.seed)
        self.latency_lock = threading.Lock()
        self.contract = contract
        self.model = model
        self.served = served  # the resources the mock keeps state for
        self.hand_written = hand_written  # the operationIds a hand-written behaviour serves
        self._resources: dict[str, Any] | None = None
        self._resources_lock = threading.Lock()
        self._routes(app)

    def resources(self) -> dict[str, Any]:
        """The resource model of the document, as JSON, with the names of the resources the
        mock keeps state for (`served`: not those a hand-written behaviour serves) and the
        operations a hand-written behaviour serves (`handWritten`)."""
        with self._resources_lock:
            if self._resources is None:
                model = self.model if self.model is not None else infer(self.contract)
                self._resources = {
                    **model.document(),
                    "served": list(self.served),
                    "handWritten": list(self.hand_written),
                }
            return self._resources

    # --- the hook: latency before, the journal after -------------------------------------

    def before(self) -> None:
        self._delay()

    def after(self, response: Response) -> Response:
        return self._record(response)

    # --- per API request ----------------------------------------------------------------

    def intercept(self, operation_id: str) -> Response | None:
        """What a fault rule makes of this call: a delay (then None: carry on), a forced
        status (a response, or an ApiError), or a dropped connection."""
        rule = self.faults.take(operation_id)
        if rule is None:
            return None
        if rule.delay_ms:
            self._hold(rule.delay_ms)
        if rule.status is not None:
            return prefer.forced_response(self.negotiator, operation_id, Preference(code=rule.status), rule.id)
        if rule.fault is not None:
            drop = request.environ.get(DROP_CONNECTION)
            if drop is None:  # under a server that cannot drop a connection (Flask's test client)
                details = f"{rule.id}: {rule.fault} needs mockserver serve"
                raise ApiError(500, "FAULT_NOT_SUPPORTED", "Internal server error", details)
            drop(rule.fault)
            g.fault = rule.fault
            return Response(status=204)  # never sent: the server closes the connection instead
        return None

    def preference(self) -> Preference | None:
        """The Prefer header's forcing, if any (a 400 ApiError when malformed)."""
        return prefer.read(request.headers.get(prefer.HEADER))

    def forced(self, operation_id: str, preference: Preference) -> Response:
        return prefer.forced_response(self.negotiator, operation_id, preference, f"Prefer: {preference.describe()}")

    def _delay(self) -> None:
        g.arrived = time.perf_counter()
        if self.options.latency and not is_admin_path(request.path):
            self._hold(self.options.latency.draw(self.latency_rng, self.latency_lock))

    @staticmethod
    def _hold(milliseconds: int) -> None:
        if hold_answer(request.environ, milliseconds):  # to come: the journal's duration includes it
            g.held_ms = getattr(g, "held_ms", 0) + milliseconds

    def _record(self, response: Response) -> Response:
        # One look-up of each context-local proxy (each access through one costs a lookup),
        # and the raw query and content types: parsing them waits until the journal is read.
        req, ctx = request._get_current_object(), g._get_current_object()
        if not self.journal.size or is_admin_path(req.path):
            return response
        environ = req.environ
        error = getattr(ctx, "api_error", None)
        length = req.content_length or 0
        self.journal.record(
            time=time.time(),
            method=req.method,
            path=req.path,
            query_string=environ.get("QUERY_STRING", ""),
            operation_id=req.endpoint if req.endpoint in self.negotiator.statuses else None,
            caller=getattr(getattr(ctx, "caller", None), "user_id", None),
            status=None if getattr(ctx, "fault", None) else response.status_code,
            duration_ms=(time.perf_counter() - getattr(ctx, "arrived", ctx.started)) * 1000
            + getattr(ctx, "held_ms", 0),
            request_headers=req.headers,
            # What the request handling read already (a body the mock refused unread is read
            # here, within the body limit).
            request_body=req.get_data(cache=True) if 0 < length <= MAX_BODY_BYTES else b"",
            request_type=environ.get("CONTENT_TYPE"),
            response_body=b"" if response.direct_passthrough else response.get_data(),
            response_type=response.headers.get("Content-Type"),
            validation_errors=error.details if error is not None and error.status == 400 else None,
            fault=getattr(ctx, "fault", None),
        )
        return response

    # --- admin routes -------------------------------------------------------------------

    def _routes(self, app: Flask) -> None:
        console = PACKAGE.joinpath("console")

        @app.get(ADMIN_PREFIX, endpoint="__mock.console_page")
        @app.get(f"{ADMIN_PREFIX}/", endpoint="__mock.console_page")
        def console_page() -> Response:
            return self._console_response(console.joinpath("index.html").read_bytes(), "text/html")

        @app.get(f"{ADMIN_PREFIX}/console/<name>", endpoint="__mock.console_file")
        def console_file(name: str) -> Response:
            if name not in CONSOLE_FILES:
                raise ApiError(404, "NOT_FOUND", "Not found", f"The console has no file {name}")
            return self._console_response(console.joinpath(name).read_bytes(), CONSOLE_FILES[name])

        @app.get(f"{ADMIN_PREFIX}/openapi.json", endpoint="__mock.admin_openapi")
        def admin_openapi() -> Response:
            return jsonify(self.document)

        @app.get(f"{ADMIN_PREFIX}/operations", endpoint="__mock.served_operations")
        def served_operations() -> Response:
            return jsonify(operations=self.operations)

        @app.get(f"{ADMIN_PREFIX}/resources", endpoint="__mock.resources")
        def resources() -> Response:
            return jsonify(self.resources())

        @app.get(f"{ADMIN_PREFIX}/faults", endpoint="__mock.list_faults")
        def list_faults() -> Response:
            return jsonify(faults=self.faults.listing())

        @app.post(f"{ADMIN_PREFIX}/faults", endpoint="__mock.add_fault")
        def add_fault() -> Response:
            body = request.get_json(silent=True)
            if body is None:
                raise ApiError(400, "VALIDATION_ERROR", "Validation failed", {"body": "A JSON object is required"})
            response = jsonify(self.faults.add(body).document())
            response.status_code = 201
            return response

        @app.delete(f"{ADMIN_PREFIX}/faults", endpoint="__mock.clear_faults")
        def clear_faults() -> Response:
            self.faults.clear()
            return jsonify(message="Fault rules cleared")

        @app.delete(f"{ADMIN_PREFIX}/faults/<rule_id>", endpoint="__mock.remove_fault")
        def remove_fault(rule_id: str) -> Response:
            if not self.faults.remove(rule_id):
                raise ApiError(404, "NOT_FOUND", "Not found", f"No fault rule {rule_id}")
            return jsonify(message=f"Fault rule {rule_id} removed")

        @app.get(f"{ADMIN_PREFIX}/requests", endpoint="__mock.list_requests")
        def list_requests() -> Response:
            return jsonify(requests=self.journal.listing(request.args), capacity=self.journal.size)

        @app.delete(f"{ADMIN_PREFIX}/requests", endpoint="__mock.clear_requests")
        def clear_requests() -> Response:
            self.journal.clear()
            return jsonify(message="Journal cleared")

    @staticmethod
    def _console_response(data: bytes, mimetype: str) -> Response:
        response = Response(data, mimetype=mimetype)
        response.headers["Content-Security-Policy"] = CONSOLE_POLICY
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Cache-Control"] = "no-cache"
        return response
