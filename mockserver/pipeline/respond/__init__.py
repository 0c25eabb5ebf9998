"""Choosing the answer: negotiate the declared response, generate a body, force one with Prefer."""
