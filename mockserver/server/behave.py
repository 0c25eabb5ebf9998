"""The mock's last stage, where the proxy has the Forwarder: a fault rule if one fires,
then security, validation, a forced answer (Prefer), and the behaviour of the operation
(behaviours/, against the store: a hand-written one, else that of an inferred resource) or,
for an operation without one, its declared answer."""

from __future__ import annotations

from flask import Response, g, request

from mockserver import settings
from mockserver.behaviours import Call, behaviour_for
from mockserver.behaviours.resources import ResourceBehaviours
from mockserver.contract.index import Contract, Operation
from mockserver.controls.steering import Controls
from mockserver.pipeline.respond.negotiate import Negotiator
from mockserver.pipeline.security.authenticate import Authenticator
from mockserver.pipeline.validate.request import RequestValidator
from mockserver.resources import Resource
from mockserver.store import Store


class Behave:
    """`behave(operation)` answers one routed request to `operation`."""

    def __init__(
        self,
        contract: Contract,
        controls: Controls,
        authenticator: Authenticator,
        validator: RequestValidator,
        negotiator: Negotiator,
        store: Store,
        secret: str,
        resources: list[Resource] = (),
    ) -> None:
        self.controls = controls
        self.authenticator = authenticator
        self.validator = validator
        self.negotiator = negotiator
        self.store = store
        self.secret = secret
        # The inferred resources' behaviours where no hand-written one serves the operation;
        # their first items are the document's own examples (seeds).
        inferred = ResourceBehaviours(contract, negotiator, list(resources))
        store.seed_items(inferred.seeds())
        self.behaviours = {
            operation.operation_id: behaviour_for(operation.operation_id, operation.method, operation.path)
            or inferred.behaviours.get(operation.operation_id)
            for operation in contract.operations
        }

    def __call__(self, operation: Operation) -> Response:
        controls = self.controls
        faulty = controls.intercept(operation.operation_id)
        if faulty is not None:
            return faulty
        preference = controls.preference()
        caller = None
        if preference is None or not controls.options.prefer_skips_auth:
            caller = g.caller = self.authenticator.authenticate(operation, request)
        validated = self.validator.validate(request)
        if preference is not None:
            return controls.forced(operation.operation_id, preference)
        behaviour = self.behaviours[operation.operation_id]
        if behaviour is None:
            return self.negotiator.success(operation.operation_id, request.method, request.path)
        call = Call(
            self.store,
            self.secret,
            settings.TOKEN_LIFETIME_SECONDS,
            caller,
            validated.parameters.path,
            validated.body,
            validated.parameters.query,
            request.mimetype,
            validated.json,
        )
        return behaviour(call)
