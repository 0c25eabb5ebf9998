"""A stateful mock server of the Mudbase chat API, driven by openapi.yaml, and of any
OpenAPI document.

`create_app` is imported on first use: a module of the package (the contract stage, the
resource model) is imported without the server's whole stack (openapi-core, Flask,
jsonschema's format checkers), as the contract suite does in every run it starts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mockserver.server.app import create_app

__all__ = ["create_app"]


def __getattr__(name: str):
    if name == "create_app":
        from mockserver.server.app import create_app

        return create_app
    raise AttributeError(f"module 'mockserver' has no attribute {name!r}")
