"""The mock's own routes beside the controls': reset, the document as served, the state,
and health. (The controls add theirs, the proxy its /__mock/violations.)"""

from __future__ import annotations

import json
from pathlib import Path

from flask import Flask, Response, jsonify, request

from mockserver.contract.index import Contract
from mockserver.controls.steering import Controls
from mockserver.errors import ApiError
from mockserver.pipeline.guards import ADMIN_PREFIX
from mockserver.pipeline.respond.negotiate import Negotiator
from mockserver.server.state_view import state_response
from mockserver.store import Store
from mockserver.store.fixtures import FixtureError, load_fixtures


def add_mock_routes(
    app: Flask, contract: Contract, store: Store, negotiator: Negotiator, controls: Controls, fixtures_dir: Path
) -> None:
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
        # The document as served: repaired, plus the failures the mock adds (contract/additions.py).
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
