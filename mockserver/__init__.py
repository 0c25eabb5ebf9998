"""A stateful mock server of the Mudbase chat API, driven by openapi.yaml."""

from .app import create_app

__all__ = ["create_app"]
