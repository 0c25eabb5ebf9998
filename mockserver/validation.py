"""Request validation against the contract, with openapi-core.

A violation is a 400 `VALIDATION_ERROR` whose `details` map each offending field
(`body`, a body property such as `userId`, or a parameter name) to a message.
"""

from __future__ import annotations

from typing import Any

from openapi_core.deserializing.media_types.exceptions import MediaTypeDeserializeError
from openapi_core.templating.media_types.exceptions import MediaTypeNotFound
from openapi_core.unmarshalling.request.datatypes import RequestUnmarshalResult
from openapi_core.validation.request.exceptions import (
    MissingRequestBodyError,
    ParameterValidationError,
    RequestBodyValidationError,
)
from openapi_core.validation.schemas.exceptions import InvalidSchemaValue

from .errors import ApiError
from .spec import Contract


def validate_request(contract: Contract, request) -> RequestUnmarshalResult:
    """The request's parameters and body, unmarshalled; a 400 ApiError if they break the contract."""
    result = contract.openapi.unmarshal_request(contract.openapi_request(request))
    if result.errors:
        details: dict[str, str] = {}
        for error in result.errors:
            details.update(describe(error))
        raise ApiError(400, "VALIDATION_ERROR", "Validation failed", details)
    return result


def describe(error: Exception) -> dict[str, str]:
    """Field name -> message for one openapi-core error."""
    if isinstance(error, ParameterValidationError):
        cause = error.__cause__
        if isinstance(cause, InvalidSchemaValue):
            return {error.name: "; ".join(e.message for e in cause.schema_errors)}
        return {error.name: str(error)}
    if isinstance(error, MissingRequestBodyError):
        return {"body": "Request body is required"}
    if isinstance(error, RequestBodyValidationError):
        return _describe_body(error.__cause__)
    return {"request": str(error)}


def _describe_body(cause: BaseException | None) -> dict[str, str]:
    if isinstance(cause, MediaTypeNotFound):
        return {"body": f"Content-Type must be one of {', '.join(cause.availableMimetypes)}, not {cause.mimetype}"}
    if isinstance(cause, MediaTypeDeserializeError):
        # The reason is the ValueError our JSON decoder raised (see json_body.strict_json_loads).
        reason = cause.__context__
        return {"body": str(reason) if reason else "Body cannot be decoded"}
    if isinstance(cause, InvalidSchemaValue):
        messages: dict[str, list[str]] = {}
        for schema_error in cause.schema_errors:
            messages.setdefault(_field(schema_error), []).append(schema_error.message)
        return {field: "; ".join(texts) for field, texts in messages.items()}
    return {"body": "Body is invalid"}


def _field(schema_error: Any) -> str:
    """`userId` for an error at or below a top-level property; `body` for the body itself."""
    path = list(schema_error.absolute_path)
    if path:
        return str(path[0])
    if schema_error.validator == "required" and isinstance(schema_error.instance, dict):
        # jsonschema reports a missing property on the parent object, one error each.
        for name in schema_error.validator_value:
            if name not in schema_error.instance and repr(name) in schema_error.message:
                return name
    return "body"
