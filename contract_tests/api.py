"""Calls of the contract's operations for scenario tests: each response is checked
against openapi.yaml (exchange.py) before the test looks at it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests

from contract_tests.exchange import Exchange
from contract_tests.redaction import SECRETS
from contract_tests.target import Role, Target, operations, spec_path


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
    response = send(target, operation_id, token, json, params, **path)
    return Exchange(response).conforms(operation_id)


def send(
    target: Target,
    operation_id: str,
    token: str | None = None,
    json: Any = None,
    params: dict[str, Any] | None = None,
    **path: str,
) -> requests.Response:
    """The request of `call`, with no check of its answer; the tokens it hands out are
    redacted from then on (a login's, a refresh's)."""
    response = requests.request(
        method_of(operation_id),
        target.url(operation_id, **path),
        headers=target.auth(token),
        json=json,
        params=params,
        timeout=30,
    )
    SECRETS.learn_from(response)
    return response


def method_of(operation_id: str) -> str:
    try:
        return operations()[operation_id][0]
    except KeyError:
        spec_path(operation_id)  # the clear error for an operation the contract lacks
        raise


def data(exchange: Exchange, status: int = 200) -> Any:
    """The `data` of a `{success: true, data: ...}` answer with that status."""
    body = exchange.expect(status).json()
    if not isinstance(body, dict) or body.get("success") is not True or "data" not in body:
        exchange.fail("expected {success: true, data: ...}")
    return body["data"]


def user_token(target: Target, role: Role) -> str:
    """A token of the member or the outsider; without one, the test is skipped with what enables it."""
    token = target.token_of(role)
    if token is None:
        pytest.skip(f"needs a token of the {role.name} ({target.user_id_of(role)}): {role.enabled_by}")
    return token


class Undo:
    """What a scenario puts back when it ends, whatever the target answered.

    A step is registered before the change it undoes, so that a change whose answer
    breaks the contract, or never comes, is undone all the same. Steps run last
    registered first; their answers are not checked (on a correct target some of
    them are refused: there was nothing to undo), only that the target answered.
    """

    def __init__(self, target: Target) -> None:
        self.target = target
        self.steps: list[tuple[str, Callable[[], object]]] = []

    def call(self, operation_id: str, token: str | None = None, json: Any = None, **path: str) -> None:
        """Send this call at the end."""
        self.steps.append((operation_id, lambda: send(self.target, operation_id, token, json, **path)))

    def do(self, what: str, step: Callable[[], object]) -> None:
        self.steps.append((what, step))

    def run(self) -> None:
        failures = []
        for what, step in reversed(self.steps):
            try:
                step()
            except requests.RequestException as exc:
                failures.append(f"{what}: {exc}")
        self.steps.clear()
        if failures:
            raise AssertionError("could not put the target back as it was: " + "; ".join(failures))
