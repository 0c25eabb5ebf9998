"""A stateful mock server of the Mudbase chat API, driven by openapi.yaml."""

from mockserver.server.app import create_app

__all__ = ["create_app"]
