"""Request validation against the contract.

Each operation's validator, compiled at start-up (request_validators.py), checks a
request; openapi-core, the reference, checks what those leave to it. A violation is a
400 `VALIDATION_ERROR` whose `details` map each offending field (`body`, a body property
such as `userId`, or a parameter name) to a message.
"""

from __future__ import annotations

from openapi_core.deserializing.media_types.exceptions import MediaTypeDeserializeError
from openapi_core.templating.media_types.exceptions import MediaTypeNotFound
from openapi_core.unmarshalling.request.datatypes import RequestUnmarshalResult
from openapi_core.validation.request.exceptions import (
    MissingRequestBodyError,
    ParameterValidationError,
    RequestBodyValidationError,
)
from openapi_core.validation.schemas.exceptions import InvalidSchemaValue

from mockserver.contract.index import Contract
from mockserver.errors import ApiError
from mockserver.pipeline.validate.compiled import schema_error_details


def validate_request(contract: Contract, request) -> RequestUnmarshalResult:
    """The request's parameters and body, unmarshalled; a 400 ApiError if they break the contract."""
    validator = contract.request_validators.get(request.endpoint)
    result = validator.validate(request) if validator else None
    return result if result is not None else reference_validate_request(contract, request)


def reference_validate_request(contract: Contract, request) -> RequestUnmarshalResult:
    """validate_request with openapi-core alone."""
    try:
        result = contract.openapi.unmarshal_request(contract.openapi_request(request))
    except (AssertionError, ValueError, TypeError, LookupError, UnicodeError) as exc:
        # openapi-core's form and multipart decoders raise these on bodies they cannot split.
        details = {"body": f"Body cannot be decoded: {exc}"}
        raise ApiError(400, "VALIDATION_ERROR", "Validation failed", details) from None
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
        return schema_error_details(cause.schema_errors)
    return {"body": "Body is invalid"}
