"""The items of the resources inferred from a document (mockserver/resources/): one
collection of JSON objects per resource and scope, in the order they were added.

A scope is the values of the collection's parent path parameters, so that an item
created under `/collections/A/data` is not in `/collections/B/data`. The rules copy what
they store and what they hand out: a behaviour never changes the state in place. Seeds
(the document's own examples) are the state after every reset, like the fixtures: they
are the baseline, and each item added past them counts against `items`, its size against
`state_bytes` (budget.py; a seed deleted makes room for one more, as fixture data
does). Both stores run these rules: in memory under the store's lock, in Redis as one
transaction over the keys of the collections it touches (keyed.py).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Collection, Iterable, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any

from mockserver.resources.values import as_text
from mockserver.store.budget import ITEMS, json_value_bytes
from mockserver.store.records import RuleViolation

ITEM_RECORD_BYTES = 200  # an item's entry beside its JSON: its ID, the dict slot, the index


@dataclass(frozen=True)
class Below:
    """A resource whose collection sits right under an item of another (its scope is the
    item's scope plus the item's ID): deleting the item deletes them, and theirs."""

    resource: str
    below: tuple[Below, ...] = ()


@dataclass(frozen=True)
class Seed:
    resource: str
    scope: tuple[str, ...]
    items: tuple[tuple[str, Any], ...]  # (ID, item), in order


_SCALARS = frozenset({str, int, float, bool, type(None)})


def copied(value: Any) -> Any:
    """A copy of a JSON value (a third of deepcopy's time on an item: no memo, no
    dispatch); anything else an item holds is deep-copied."""
    kind = type(value)
    if kind is dict:
        return {name: copied(member) for name, member in value.items()}
    if kind is list:
        return [copied(member) for member in value]
    if kind is tuple:  # a page and its count, as items_page answers
        return tuple(copied(member) for member in value)
    if kind in _SCALARS:
        return value
    return copy.deepcopy(value)


def item_bytes(item: Any) -> int:
    return ITEM_RECORD_BYTES + json_value_bytes(item)


def _missing(resource: str, item_id: str) -> RuleViolation:
    return RuleViolation("NOT_FOUND", "Not found", f"No {resource} item with ID {item_id}", "missing")


class ItemRules:
    """The rules of inferred items, shared by both stores. Where the items live is the
    store's: `_items(resource, scope)` is the collection as a mutable mapping ID -> item."""

    _item_seeds: tuple[Seed, ...] = ()

    def _items(self, resource: str, scope: tuple[str, ...]) -> MutableMapping[str, Any]:
        raise NotImplementedError

    def add_item(self, resource: str, scope: tuple[str, ...], item_id: str, item: Any, *, conflict: bool) -> Any:
        """Store `item` as `item_id`: a new one, or (unless `conflict`, then CONFLICT) in
        place of the one with that ID. What it stored."""
        with self._lock:
            items = self._items(resource, scope)
            previous = items.get(item_id)
            if previous is not None and conflict:
                raise RuleViolation(
                    "CONFLICT", "Conflict", f"A {resource} item with ID {item_id} exists already", "conflict"
                )
            if previous is None:
                self._require_within(self._usage.value(ITEMS) + 1, self.limits.items, "items", "The stored items")
            self._spend(item_bytes(item) - (item_bytes(previous) if previous is not None else 0))
            if previous is None:
                self._usage.add(ITEMS, 1)
            items[item_id] = copied(item)
            return item  # the caller's own, not the state's

    def item(self, resource: str, scope: tuple[str, ...], item_id: str) -> Any:
        with self._lock:
            found = self._items(resource, scope).get(item_id)
            if found is None:
                raise _missing(resource, item_id)
            return copied(found)

    def items_added(self) -> int:
        """How many items the state holds past the seeds (the `items` limit's count)."""
        with self._lock:
            return self._usage.value(ITEMS)

    def add_numbered_item(self, resource: str, scope: tuple[str, ...], id_property: str, item: dict) -> Any:
        """Store `item` with the ID one above the collection's largest number, chosen and
        taken in one step, so that parallel creates never pick the same one. What it stored."""
        with self._lock:
            number = self._largest_number(resource, scope) + 1
            return self.add_item(resource, scope, str(number), {**item, id_property: number}, conflict=True)

    def _largest_number(self, resource: str, scope: tuple[str, ...]) -> int:
        """The largest of the collection's IDs that are numbers (0: none), each store's own
        way (the memory store keeps it; this scans every ID)."""
        return largest_id_number(self._items(resource, scope))

    def items_page(
        self,
        resource: str,
        scope: tuple[str, ...],
        where: Mapping[str, Collection[str]],
        start: int,
        size: int | None,
    ) -> tuple[list[Any], int]:
        """The items whose property `name` reads (as a query writes it) as one of
        `where[name]`, in the order they were added: copies of those from `start`, at most
        `size` (None: all); and how many match. Only the page is copied: a list of a few
        of many items costs its page, not the collection."""
        with self._lock:
            matching = [
                item
                for item in self._items(resource, scope).values()
                if all(as_text(item.get(name)) in wanted for name, wanted in where.items())
            ]
            end = len(matching) if size is None else start + size
            return copied(matching[start:end]), len(matching)

    def change_item(
        self, resource: str, scope: tuple[str, ...], item_id: str, change: Callable[[Any], Any]
    ) -> tuple[Any, Any]:
        """Replace the item with `change(item)` (a copy: a replacement, a merge, a patch;
        it may raise RuleViolation, and then nothing changes). The item before and after."""
        with self._lock:
            items = self._items(resource, scope)
            previous = items.get(item_id)
            if previous is None:
                raise _missing(resource, item_id)
            changed = change(copied(previous))
            self._put_changed(items, item_id, previous, changed)
            return previous, changed  # neither is the state's now: it holds a copy of changed

    def swap_item(self, resource: str, scope: tuple[str, ...], item_id: str, expected: Any, changed: Any) -> bool:
        """Put `changed` in place of the item if it is still `expected`: a change computed
        from it elsewhere (a worker of store/state_process.py). Whether it did."""
        with self._lock:
            items = self._items(resource, scope)
            previous = items.get(item_id)
            if previous is None:
                raise _missing(resource, item_id)
            if previous != expected:
                return False
            self._put_changed(items, item_id, previous, changed)
            return True

    def _put_changed(self, items: MutableMapping[str, Any], item_id: str, previous: Any, changed: Any) -> None:
        self._spend(item_bytes(changed) - item_bytes(previous))
        items[item_id] = copied(changed)

    def delete_item(self, resource: str, scope: tuple[str, ...], item_id: str, below: Iterable[Below] = ()) -> None:
        """Delete the item, and every item of the resources `below` it, theirs included."""
        with self._lock:
            items = self._items(resource, scope)
            previous = items.get(item_id)
            if previous is None:
                raise _missing(resource, item_id)
            self._remove(items, item_id, previous)
            for child in below:
                self._delete_collection(child, (*scope, item_id))

    def _delete_collection(self, child: Below, scope: tuple[str, ...]) -> None:
        items = self._items(child.resource, scope)
        for item_id, item in list(items.items()):
            self._remove(items, item_id, item)
            for grandchild in child.below:
                self._delete_collection(grandchild, (*scope, item_id))

    def _remove(self, items: MutableMapping[str, Any], item_id: str, item: Any) -> None:
        del items[item_id]
        self._usage.add(ITEMS, -1)
        self._spend(-item_bytes(item))

    # --- seeds ----------------------------------------------------------------------------

    def seed_items(self, seeds: Iterable[Seed]) -> None:
        """The items every reset starts from (the document's examples). They are the state
        now unless the state has had its seeds already (a contract reloaded by `--watch`
        keeps the items, and the new seeds apply from the next reset; in Redis, the first
        replica to start writes them)."""
        self._item_seeds = tuple(seeds)
        self._write_seeds()

    def _write_seeds(self) -> None:
        """Put the seeds in the state, unless it has had them since the last reset."""
        raise NotImplementedError


def id_number(item_id: str) -> int:
    """An ID that is a number, as that number (0: not one)."""
    return int(item_id) if item_id.isascii() and item_id.isdigit() and len(item_id) < 19 else 0


def largest_id_number(ids: Iterable[str]) -> int:
    return max(map(id_number, ids), default=0)
