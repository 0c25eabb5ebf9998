"""Schemathesis-generated cases for every operation of openapi.yaml: the examples,
coverage and fuzzing phases, with every built-in check and ours (checks.py)."""

from __future__ import annotations

import pytest

from contract_tests.schema import schema
from contract_tests.target import Target

# Operations whose successful calls change the target's chats, messages or keys.
STATE_CHANGING = {
    "createChat",
    "putChatE2eeKey",
    "sendMessage",
    "markMessagesAsRead",
    "editMessage",
    "deleteMessage",
    "addReaction",
    "removeReaction",
    "addParticipant",
    "removeParticipant",
}


def changes_state(ctx) -> bool:
    return ctx.operation.definition.raw.get("operationId") in STATE_CHANGING


def headers_for(case, target: Target) -> dict[str, str]:
    """The suite's token; logoutUser gets a session of its own, which it may end."""
    if case.operation.definition.raw.get("operationId") != "logoutUser":
        return target.auth()
    token = target.fresh_token()
    if token is None:
        pytest.skip("logoutUser would end the session of CONTRACT_TOKEN; set CONTRACT_PASSWORD to test it")
    return target.auth(token)


# `exclude`, not `include`: with [[operations]] in schemathesis.toml, schemathesis 4.32
# ORs an `include` with the config's own filter, which then selects every operation.
@schema.exclude(changes_state).parametrize()
def test_operation_conforms(case, target: Target):
    case.call_and_validate(base_url=target.base_url, headers=headers_for(case, target))


@pytest.mark.mutates_state
@schema.exclude(lambda ctx: not changes_state(ctx)).parametrize()
def test_state_changing_operation_conforms(case, target: Target):
    case.call_and_validate(base_url=target.base_url, headers=target.auth())
