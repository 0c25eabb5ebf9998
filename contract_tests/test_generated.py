"""Schemathesis-generated cases for every operation of openapi.yaml: the examples,
coverage and fuzzing phases, with every built-in check and ours (checks.py)."""

from __future__ import annotations

import pytest

from contract_tests.schema import schema
from contract_tests.target import Target

# Operations whose successful calls change the target's data.
STATE_CHANGING = {"removeParticipant", "addParticipant"}


def changes_state(ctx) -> bool:
    return ctx.operation.definition.raw.get("operationId") in STATE_CHANGING


# `exclude`, not `include`: with [[operations]] in schemathesis.toml, schemathesis 4.32
# ORs an `include` with the config's own filter, which then selects every operation.
@schema.exclude(changes_state).parametrize()
def test_operation_conforms(case, target: Target):
    case.call_and_validate(base_url=target.base_url, headers=target.auth())


@pytest.mark.mutates_state
@schema.exclude(lambda ctx: not changes_state(ctx)).parametrize()
def test_state_changing_operation_conforms(case, target: Target):
    case.call_and_validate(base_url=target.base_url, headers=target.auth())
