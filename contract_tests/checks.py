"""Checks of our own, registered with schemathesis for the pytest suite and the CLI
(schemathesis.toml loads this module through `hooks`)."""

from __future__ import annotations

import json

import schemathesis
from schemathesis import Case, CheckContext, Response


class ValidInputRejectedAsInvalid(AssertionError):
    pass


@schemathesis.check
def valid_input_is_not_a_validation_error(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """Schema-valid input may fail a business rule (a 400 with its own code), but never validation.

    This keeps the teeth that narrowing `positive_data_acceptance` to allow 400 took away.
    """
    if case.meta is None or not case.meta.generation.mode.is_positive or response.status_code != 400:
        return None
    try:
        code = json.loads(response.content).get("code")
    except (ValueError, AttributeError):
        return None  # not the Error shape: response_schema_conformance reports that
    if code == "VALIDATION_ERROR":
        raise ValidInputRejectedAsInvalid("Schema-valid input was answered with code VALIDATION_ERROR")
    return None
