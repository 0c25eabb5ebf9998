"""The values of items, as both the mock's behaviours (behaviours/resources.py) and the
contract suite's lifecycle checks (contract_tests/lifecycle.py) handle them: where an
item sits in a body, how an ID reads in a path or a query, a fresh value like another."""

from __future__ import annotations

import secrets
import string
from typing import Any

from mockserver.contract.pointers import lookup
from mockserver.resources.infer import SIZE_PARAMETERS


def at(body: Any, pointer: str) -> Any:
    """What `body` holds at `pointer` (`""`: the body), or None."""
    return lookup(body, pointer, None) if pointer else body


def put(body: Any, pointer: str, value: Any) -> Any:
    """`body` with `value` at `pointer` (objects made where missing); `value` for `""`."""
    if not pointer:
        return value
    body = body if isinstance(body, dict) else {}
    node = body
    parts = [part.replace("~1", "/").replace("~0", "~") for part in pointer.split("/")[1:]]
    for part in parts[:-1]:
        if not isinstance(node.get(part), dict):
            node[part] = {}
        node = node[part]
    node[parts[-1]] = value
    return body


def as_text(value: Any) -> str:
    """A value as a path or a query has it: JSON's true/false, numbers without .0."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)


def redrawn(value: Any, last: int) -> Any:
    """`value` with each digit and letter of its `last` characters replaced by a random one
    of its kind (the end of an identifier is where a pattern varies most: a serial)."""
    if not isinstance(value, str):
        return value
    draw = secrets.choice
    head, tail = value[: max(len(value) - last, 0)], value[max(len(value) - last, 0) :]
    return head + "".join(
        draw(string.digits)
        if c.isdigit()
        else draw(string.ascii_lowercase)
        if c.islower()
        else draw(string.ascii_uppercase)
        if c.isupper()
        else c
        for c in tail
    )


def is_page_size(name: str) -> bool:
    """A query parameter that sizes a page (limit, per_page, pageSize, ...)."""
    return name in SIZE_PARAMETERS
