"""Serving: the app factory (wiring only), the HTTP server, reloading, logs, deployment safeguards."""
