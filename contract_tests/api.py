"""Calls of the contract's operations for scenario tests: each response is checked
against openapi.yaml (exchange.py) before the test looks at it."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from contract_tests.exchange import Exchange
from contract_tests.target import Target, spec_path

METHODS = {}  # operationId -> HTTP method, read from openapi.yaml on first use


def call(
    target: Target,
    operation_id: str,
    token: str | None = None,
    json: Any = None,
    params: dict[str, Any] | None = None,
    **path: str,
) -> Exchange:
    """`operation_id` on the target's project and chat (unless `path` names others), as the
    suite's user unless `token` says otherwise."""
    response = requests.request(
        method_of(operation_id),
        target.url(operation_id, **path),
        headers=target.auth(token),
        json=json,
        params=params,
        timeout=30,
    )
    return Exchange(response, secrets=(target.token,)).conforms(operation_id)


def method_of(operation_id: str) -> str:
    if not METHODS:
        import yaml

        from contract_tests.target import SPEC

        document = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
        for item in document["paths"].values():
            for method, operation in item.items():
                if isinstance(operation, dict) and "operationId" in operation:
                    METHODS[operation["operationId"]] = method.upper()
    spec_path(operation_id)  # a clear error for an operation the contract lacks
    return METHODS[operation_id]


def data(exchange: Exchange, status: int = 200) -> Any:
    """The `data` of a `{success: true, data: ...}` answer with that status."""
    body = exchange.expect(status).json()
    if not isinstance(body, dict) or body.get("success") is not True or "data" not in body:
        exchange.fail("expected {success: true, data: ...}")
    return body["data"]


def user_token(target: Target, user_id: str, given: str | None, role: str) -> str:
    """A token of another user: given through the environment, or signed with the secret."""
    token = given or target.token_for(user_id)
    if token is None:
        pytest.skip(f"needs a token of the {role} ({user_id}): set its CONTRACT_*_TOKEN, or CONTRACT_JWT_SECRET")
    return token
