"""JSON pointers (RFC 6901) and local `$ref`s: the one resolver every stage uses.

A pointer is written as the mock builds it (`/paths/~1pets~1{petId}/get`); a `$ref` is a
URI fragment (`#/components/schemas/Pet`), where percent-encoding applies too.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

MAX_HOPS = 32  # a chain of $refs longer than this is a loop
_MISSING = object()


def escape(part: str | int) -> str:
    return str(part).replace("~", "~0").replace("/", "~1")


def unescape(part: str) -> str:
    """One part of a `$ref` fragment: percent-decoded, then RFC 6901's ~1 and ~0."""
    return unquote(part).replace("~1", "/").replace("~0", "~")


def pointer_parts(pointer: str) -> list[str]:
    """The parts of a `$ref` fragment's pointer (`/components/schemas/Pet` -> [...])."""
    return [unescape(part) for part in pointer.lstrip("/").split("/")] if pointer.strip("/") else []


def array_index(part: str, length: int) -> int | None:
    """`part` of a pointer as an index of an array of `length` items, or None: only ASCII
    digits (`int` takes `²` and refuses 5,000 digits), and within the array."""
    if part.isascii() and part.isdigit() and len(part) <= len(str(length)) and int(part) < length:
        return int(part)
    return None


def _child(node: Any, part: str) -> Any:
    if isinstance(node, list):
        index = array_index(part, len(node))
        if index is None:
            raise LookupError(part)
        return node[index]
    return node[part]


def lookup(document: Any, pointer: str, default: Any = _MISSING) -> Any:
    """The node at a JSON pointer the mock wrote (no percent-decoding); LookupError, or
    `default` when given, where nothing is there."""
    node = document
    for part in pointer.split("/")[1:] if pointer else []:
        part = part.replace("~1", "/").replace("~0", "~")
        try:
            node = _child(node, part)
        except (LookupError, TypeError, ValueError):
            if default is _MISSING:
                raise LookupError(pointer) from None
            return default
    return node


def lookup_ref(document: Any, ref: str, default: Any = _MISSING) -> Any:
    """The node a local `$ref` (`#/...`) points to; LookupError, or `default` when given."""
    node = document
    for part in pointer_parts(ref.partition("#")[2]):
        try:
            node = _child(node, part)
        except (LookupError, TypeError, ValueError):
            if default is _MISSING:
                raise LookupError(ref) from None
            return default
    return node


def follow(document: Any, node: Any, pointer: str, default: Any = _MISSING) -> tuple[Any, str]:
    """`node` (at `pointer`) with its local `$ref`s followed, and the pointer where it ends;
    a `$ref` to nowhere is a LookupError, or `default` when given."""
    for _ in range(MAX_HOPS):
        ref = node.get("$ref") if isinstance(node, dict) else None
        if not isinstance(ref, str) or not ref.startswith("#"):
            break
        node, pointer = lookup_ref(document, ref, default), ref[1:]
    return node, pointer


def objects(data: Any) -> Iterator[dict]:
    """Every mapping in `data`, each once: containers that YAML aliases share are looked
    into once, so a walk costs what the document's distinct nodes do, not their copies."""
    seen: set[int] = set()
    nodes = [data]
    while nodes:
        node = nodes.pop()
        if not isinstance(node, dict | list) or id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, dict):
            yield node
            nodes.extend(node.values())
        else:
            nodes.extend(node)
