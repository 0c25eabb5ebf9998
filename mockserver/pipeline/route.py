"""Routing: a Flask route for each operation of the contract, its endpoint the operationId.

A path parameter becomes a Flask variable (renamed where its name is no identifier), and
one a more concrete sibling path claims a literal of (`/messages/read` beside
`/messages/{messageId}`) excludes that literal, as OpenAPI matches concrete paths first.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from flask import Flask, request
from werkzeug.routing import BaseConverter

from mockserver.contract.index import Contract, Operation

_PARAMETER = re.compile(r"{([^{}/]+)}")


def flask_rule(operation: Operation) -> str:
    """The Flask rule of `operation`, under the contract's base path."""
    claimed = dict(operation.claimed)

    def rule_part(match: re.Match) -> str:
        name = match.group(1)
        variable = flask_variable(name)
        if name in claimed:
            literals = ", ".join(repr(literal) for literal in claimed[name])
            return f"<except({literals}):{variable}>"
        return f"<{variable}>"

    return operation.base_path + _PARAMETER.sub(rule_part, operation.path)


def path_values(operation: Operation, routed: dict[str, str]) -> dict[str, str]:
    """Flask's routed values under the document's parameter names (`pet-id`, not `p_pet_id`)."""
    names = {flask_variable(name): name for name in _PARAMETER.findall(operation.path)}
    return {names.get(variable, variable): value for variable, value in routed.items()}


def flask_variable(name: str) -> str:
    """A Flask rule variable for a path parameter: the name itself when it is an identifier."""
    if name.isidentifier():
        return name
    return "p_" + re.sub(r"\W", "_", name) + "_" + format(sum(map(ord, name)), "x")


class ExceptConverter(BaseConverter):
    """A path segment, except the given literals (`<except('read'):messageId>`)."""

    def __init__(self, url_map, *literals: str) -> None:
        super().__init__(url_map)
        self.regex = "(?!(?:" + "|".join(re.escape(literal) for literal in literals) + ")$)[^/]+"


def prepare_routing(app: Flask) -> None:
    """The URL map both apps need: `//` is an unknown path (not a redirect), and the
    converter that keeps claimed literals out of a parameter."""
    app.url_map.merge_slashes = False
    app.url_map.converters["except"] = ExceptConverter


def route_operations(app: Flask, contract: Contract, handle: Callable, **options) -> None:
    """A Flask route for each operation of `contract`, its endpoint the operationId:
    `handle(operation)` answers it, with request.view_args as the operation's path values.
    `options`: add_url_rule's own (e.g. provide_automatic_options)."""
    for operation in contract.operations:
        app.add_url_rule(
            flask_rule(operation),
            endpoint=operation.operation_id,
            view_func=_view(operation, handle),
            methods=[operation.method],
            **options,
        )


class SpanningRoutes:
    """The operation a path that matches no route would reach if its parameters could hold
    a `/`: an ID with an encoded `%2F`, which WSGI decodes before routing. Its 404 is then
    the operation's own, in the shape it declares. Each pattern is compiled on first use."""

    def __init__(self, contract: Contract) -> None:
        self.operations = sorted(contract.operations, key=lambda operation: operation.path.count("{"))
        self._patterns: dict[str, re.Pattern] = {}

    def match(self, method: str, path: str) -> Operation | None:
        for operation in self.operations:
            if operation.method != method or "{" not in operation.path:
                continue
            pattern = self._patterns.get(operation.operation_id)
            if pattern is None:
                template = re.escape(operation.base_path + operation.path)
                pattern = re.compile(re.sub(r"\\\{[^}]*\\\}", ".+", template) + r"\Z")
                self._patterns[operation.operation_id] = pattern
            if pattern.match(path):
                return operation
        return None


def _view(operation: Operation, handle: Callable):
    def view(**_path_params: str):
        request.view_args = path_values(operation, request.view_args or {})
        return handle(operation)

    return view
