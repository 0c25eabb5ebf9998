"""Serving: the app factory (wiring only), waitress, reloading, logs, deployment safeguards."""
