"""The validation stage: a request checked against the contract.

Each operation's compiled validator (compiled.py), built on the operation's first request,
checks a request; openapi-core (reference.py) checks what those leave to it. A violation
is a 400 `VALIDATION_ERROR` whose `details` map each offending field (`body`, a body
property such as `userId`, or a parameter name) to a message.
"""

from __future__ import annotations

import threading

from mockserver.contract.index import Contract, Operation
from mockserver.pipeline.validate.compiled import Compiler, OperationValidator, Validated
from mockserver.pipeline.validate.json_body import strict_json_loads
from mockserver.pipeline.validate.reference import Reference
from mockserver.pipeline.validate.schemas import NotCompilable


class RequestValidator:
    """The compiled validators first, the reference for the rest."""

    def __init__(self, contract: Contract) -> None:
        self.contract = contract
        self.reference = Reference(contract)
        self.compiled = CompiledValidators(contract, self.reference)

    def validate(self, request) -> Validated:
        """The request's parameters and body, unmarshalled; a 400 ApiError if they break the contract."""
        validator = self.compiled.get(request.endpoint)
        result = validator.validate(request) if validator else None
        if result is None:  # the reference's, without the JSON as parsed (its decoder keeps none)
            checked = self.reference.validate(request)
            result = Validated(errors=[], body=checked.body, parameters=checked.parameters, security=checked.security)
        return result


class CompiledValidators:
    """operationId -> its compiled validator (compiled.py), each compiled on the
    operation's first request, so that start-up does not pay for all of them. None for an
    operation the fast path does not reproduce, and for every OpenAPI 3.1 operation (the
    fast path speaks 3.0's schema dialect): openapi-core validates those."""

    def __init__(self, contract: Contract, reference: Reference) -> None:
        self.contract = contract
        self.reference = reference
        self.operations = {operation.operation_id: operation for operation in contract.operations}
        self._compiler: Compiler | None = None
        self._compiled: dict[str, OperationValidator | None] = {}
        self._lock = threading.Lock()

    def get(self, operation_id: str | None) -> OperationValidator | None:
        if operation_id in self._compiled:
            return self._compiled[operation_id]
        operation = self.operations.get(operation_id or "")
        if operation is None or self.contract.version != "3.0":
            return None
        with self._lock:
            if operation_id not in self._compiled:
                self._compiled[operation_id] = self._compile(operation)
        return self._compiled[operation_id]

    def __getitem__(self, operation_id: str) -> OperationValidator:
        validator = self.get(operation_id)
        if validator is None:
            raise KeyError(operation_id)
        return validator

    def _compile(self, operation: Operation) -> OperationValidator | None:
        if self._compiler is None:
            self._compiler = Compiler(self.reference.openapi, self.contract.document, strict_json_loads)
        try:
            return self._compiler.operation(operation.path, operation.method.lower())
        except NotCompilable:
            return None
