"""The behaviours of the resources inferred from the document (mockserver/resources/):
create, list, read, replace, merge and delete, on the store's items (store/items.py),
answered in the shapes the document declares.

- **Create** stores what the request body holds of the item (only the properties its
  schema allows), plus what a server fills: the ID when the client may not send one (a
  UUID, an integer one above the largest, or another string the ID's schema accepts),
  `createdAt`/`updatedAt`-like date-times, declared defaults, and any property the answer
  requires that the client did not send (from the declared answer's own item). A
  client-chosen ID that exists is the declared 409, where one is declared; else the new
  item replaces it.
- **Read** answers the stored item; an unknown ID is a 404 (added to the served
  document where the operation declares none).
- **List** answers the items of the scope, filtered by the query parameters named like
  their properties and paged by the document's own paging parameters, with the total and
  next fields its wrapper declares.
- **Replace** (PUT) stores the body as the item, keeping its ID and creation time;
  **merge** (PATCH) applies a JSON merge patch (RFC 7396), or a JSON patch (RFC 6902)
  where `application/json-patch+json` is declared and sent. `updatedAt`-like fields
  advance. A merge whose result breaks the item's schema changes nothing (a 400).
- **Delete** deletes the item and the items of the resources scoped under it.
- An item under another's item (a booking's notes, `/bookings/{bookingId}/notes`) needs
  that item: every operation on it is a 404 while the booking does not exist.

Each answer is the declared success answer with the item (or the list) put where the
inference found it (`Placement.at`, `Listing.items`). An answer that would break its
schema is never sent: the declared answer is, and the start-up's warnings (or the log,
once per operation) say why. The hand-written behaviours take precedence: a resource with
any operation one of them serves is left to them, whole.
"""

from __future__ import annotations

import copy
import json
import logging
import re
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import jsonpatch
from flask import Response, request

from mockserver.behaviours.call import Call, rule_failures
from mockserver.contract.index import Contract
from mockserver.contract.pointers import lookup
from mockserver.pipeline.respond.encode import dump_json
from mockserver.pipeline.respond.negotiate import Answer, Negotiator
from mockserver.pipeline.validate.json_body import strict_json_loads
from mockserver.resources import Listing, Placement, Resource, ResourceModel, Role
from mockserver.resources.values import as_text, at, is_page_size, put, redrawn
from mockserver.store import RuleViolation
from mockserver.store.items import Below, Seed, id_number

log = logging.getLogger("mockserver")

# Server-kept date-times: created at creation, updated at every change.
CREATED = re.compile(r"(?i)^(created|creation|inserted|added)([_-]?(at|on|date|time|timestamp))?$|^date[_-]?created$")
UPDATED = re.compile(r"(?i)^(updated|modified|changed|last[_-]?modified)([_-]?(at|on|date|time|timestamp))?$")
JSON_PATCH = "json-patch"
MAX_ID_TRIES = 8
PAGE_COUNT_FIELDS = ("totalPages", "total_pages", "pageCount", "page_count", "pages")
MORE_FIELDS = ("hasMore", "has_more", "hasNext", "has_next", "hasNextPage", "has_next_page")


def served_resources(model: ResourceModel, hand_written: set[str]) -> list[Resource]:
    """The resources the inferred behaviours serve: those none of whose operations a
    hand-written behaviour serves."""
    return [r for r in model.resources if not any(role.operation_id in hand_written for role in r.operations)]


def failures(resources: list[Resource]) -> dict[tuple[str, str, str], dict[int, str]]:
    """What the inferred behaviours send beyond success: a 404 for an unknown ID, or for
    an item under a parent item that does not exist."""
    parents = _parents(resources)
    why = "no item with that ID (the mock's inferred resources)"
    return {
        (role.operation_id, role.method, role.path): {404: why}
        for resource in resources
        for role in resource.operations
        if role.role in ("read", "replace", "merge", "delete") or parents.get(resource.name)
    }


def _parents(resources: list[Resource]) -> dict[str, Resource]:
    """Each resource whose collection sits right under an item of another served one
    (its scope is that item's scope plus its ID): that resource, its parent."""
    by_name = {resource.name: resource for resource in resources}
    out = {}
    for resource in resources:
        parent = by_name.get(resource.parent or "")
        if parent is not None and resource.scope == (*parent.scope, parent.id.parameter):
            out[resource.name] = parent
    return out


@dataclass
class _Shape:
    """One resource's item schema, as the behaviours need it."""

    schema: dict  # merged (allOf folded)
    properties: dict[str, dict]  # each resolved and merged
    required: list[str]
    closed: bool  # additionalProperties: false
    stamped: bool  # has a created or updated date-time, which the server sets

    def now(self, call: Call) -> str | None:
        """The store's time, for an item with a date-time the server sets (else None: a
        round trip to the state process saved, on `--workers`)."""
        return call.store.now() if self.stamped else None


class ResourceBehaviours:
    """operationId -> the behaviour of its role, for every served resource."""

    def __init__(self, contract: Contract, negotiator: Negotiator, resources: list[Resource]) -> None:
        self.contract = contract
        self.negotiator = negotiator
        self.generator = negotiator.generator
        self.checker = negotiator.checker
        self.resources = resources
        self.below = self._below(resources)
        self.parents = _parents(resources)
        self.behaviours: dict[str, Callable[[Call], Response]] = {}
        self.warned: set[str] = set()
        self._shapes: dict[str, _Shape] = {}
        # operationId -> its declared success answer and that answer's JSON schema, found once.
        self._successes: dict[str, tuple[Answer | None, Any]] = {}
        self._numbered_ids: dict[str, bool] = {}  # resource -> whether its IDs are numbers
        for resource in resources:
            for role in resource.operations:
                key = negotiator.success_key(role.operation_id)
                answer = negotiator.answers.get((role.operation_id, key)) if key else None
                self._successes[role.operation_id] = (answer, negotiator.json_schemas.get((role.operation_id, key)))
                handler = getattr(self, f"_{role.role}")
                bound = _bound(handler, resource, role, self.parents.get(resource.name))
                self.behaviours.setdefault(role.operation_id, bound)

    # --- what the document gives --------------------------------------------------------

    def _schema(self, pointer: str) -> dict:
        schema = self.generator.resolve(lookup(self.contract.document, pointer, {}))
        return self.generator.merged(schema) if isinstance(schema, dict) else {}

    def _shape(self, pointer: str) -> _Shape:
        shape = self._shapes.get(pointer)
        if shape is None:
            schema = self._schema(pointer)
            properties = {
                name: (self.generator.merged(self.generator.resolve(value)) if isinstance(value, dict) else {})
                for name, value in (schema.get("properties") or {}).items()
            }
            required = [name for name in schema.get("required") or [] if isinstance(name, str)]
            closed = schema.get("additionalProperties") is False or schema.get("unevaluatedProperties") is False
            stamped = any(
                _is_date_time(value) and (CREATED.match(name) or UPDATED.match(name))
                for name, value in properties.items()
            )
            shape = self._shapes[pointer] = _Shape(schema, properties, required, closed, stamped)
        return shape

    def _template(self, operation_id: str) -> tuple[Answer | None, Any]:
        """The declared success answer and its JSON body (None when it has none), the body
        parsed anew: the item is put into it, and parsing the bytes beats a deep copy."""
        answer = self._successes[operation_id][0]
        if answer is None or not answer.content_type or "json" not in answer.content_type:
            return answer, None
        return answer, json.loads(answer.body)

    @staticmethod
    def _below(resources: list[Resource]) -> dict[str, tuple[Below, ...]]:
        """Each resource's children whose scope is its scope plus its ID, recursively."""
        by_name = {resource.name: resource for resource in resources}

        def children(parent: Resource, depth: int = 0) -> tuple[Below, ...]:
            if depth > 8:
                return ()
            return tuple(
                Below(child.name, children(child, depth + 1))
                for child in resources
                if child.parent == parent.name and child.scope == (*parent.scope, parent.id.parameter)
            )

        return {name: children(resource) for name, resource in by_name.items()}

    # --- the roles ----------------------------------------------------------------------

    def _create(self, resource: Resource, role: Role, call: Call) -> Response:
        sent = at(call.body, role.request.at if role.request else "")
        if not isinstance(sent, dict):
            return self._declared(role)
        shape = self._shape(resource.schema)
        item = self._fitted(sent, shape)
        id_name = resource.id.property
        id_schema = shape.properties.get(id_name, {})
        chosen = id_name in sent and not id_schema.get("readOnly")
        now = shape.now(call)
        for name, schema in shape.properties.items():
            if name in item and not schema.get("readOnly"):
                continue
            if _is_date_time(schema) and (CREATED.match(name) or UPDATED.match(name)):
                item[name] = now
            elif "default" in schema and name not in item:
                item[name] = copy.deepcopy(schema["default"])
        self._fill_required(item, shape, resource, role)
        scope = _scope(resource, call)
        conflict = self.negotiator.declared_key(role.operation_id, 409) is not None
        with rule_failures():
            if chosen:
                item[id_name] = sent[id_name]
                stored = call.store.add_item(resource.name, scope, as_text(sent[id_name]), item, conflict=conflict)
            else:
                stored = self._add_with_new_id(call, resource, scope, item, id_schema)
        return self._item_answer(role, role.response, stored)

    def _add_with_new_id(self, call: Call, resource: Resource, scope: tuple, item: dict, id_schema: dict) -> Any:
        if self._numbered(resource.name, id_schema):  # one above the largest, taken atomically
            stored = call.store.add_numbered_item(resource.name, scope, resource.id.property, item)
            number = stored[resource.id.property]
            if self.checker.is_valid_often(id_schema, number):
                return stored
            call.store.delete_item(resource.name, scope, str(number))  # past a `maximum`: an ID of another kind
        for _ in range(MAX_ID_TRIES):  # a generated ID another create took meanwhile: the next one
            item_id = item[resource.id.property] = self._new_id(call, resource, scope, id_schema)
            try:
                return call.store.add_item(resource.name, scope, as_text(item_id), item, conflict=True)
            except RuleViolation as exc:
                if exc.kind != "conflict":
                    raise
        raise RuleViolation("CONFLICT", "Conflict", f"No free ID for a new {resource.name} item", "conflict")

    def _numbered(self, name: str, schema: dict) -> bool:
        """The resource's IDs are numbers (its schema's type, looked up once)."""
        if name not in self._numbered_ids:
            self._numbered_ids[name] = bool(schema) and self.generator.type_of(schema) in ("integer", "number")
        return self._numbered_ids[name]

    def _new_id(self, call: Call, resource: Resource, scope: tuple, schema: dict) -> Any:
        candidates = [str(uuid.uuid4()), uuid.uuid4().hex[:24], uuid.uuid4().hex, f"{resource.name[:3]}_{_hex(12)}"]
        for candidate in candidates:
            if not schema or self.checker.is_valid_often(schema, candidate):
                return candidate
        # A pattern (an ISBN, a code): the generator's value, its letters and digits drawn anew.
        value = self.generator.value(schema, resource.id.source)
        for attempt in range(MAX_ID_TRIES * 4):
            candidate = redrawn(value, 3 + attempt)
            if self.checker.is_valid(schema, candidate):
                return candidate
        return value

    def _read(self, resource: Resource, role: Role, call: Call) -> Response:
        with rule_failures():
            item = call.store.item(resource.name, _scope(resource, call), self._path_id(resource, call))
        return self._item_answer(role, role.response, item)

    def _replace(self, resource: Resource, role: Role, call: Call) -> Response:
        sent = at(call.body, role.request.at if role.request else "")
        if not isinstance(sent, dict):
            return self._declared(role)
        shape = self._shape(resource.schema)
        item_id = self._item_id(resource, role, call, sent)
        now = shape.now(call)

        def replace(previous: Any) -> Any:
            item = self._fitted(sent, shape)
            item[resource.id.property] = previous.get(resource.id.property)
            for name, schema in shape.properties.items():
                if _is_date_time(schema) and CREATED.match(name) and name in previous:
                    item[name] = previous[name]
                elif _is_date_time(schema) and UPDATED.match(name):
                    item[name] = now
                elif schema.get("readOnly") and name in previous:
                    item[name] = previous[name]
            for name in shape.required:
                if name not in item and name in previous:
                    item[name] = previous[name]
            return item

        with rule_failures():
            _, item = call.store.change_item(resource.name, _scope(resource, call), item_id, replace)
        return self._item_answer(role, role.response, item)

    def _merge(self, resource: Resource, role: Role, call: Call) -> Response:
        shape = self._shape(resource.schema)
        patching = any(f.kind == JSON_PATCH and f.media_type.split(";")[0] == call.media_type for f in role.patch)
        sent = call.body if patching else at(call.body, role.request.at if role.request else "")
        if not patching and not isinstance(sent, dict):
            return self._declared(role)
        item_id = self._item_id(resource, role, call, sent)
        now = shape.now(call)

        def merge(previous: Any) -> Any:
            if patching:
                try:
                    item = jsonpatch.apply_patch(previous, sent)
                except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException, TypeError) as exc:
                    why = f"The JSON patch does not apply: {exc}"
                    raise RuleViolation("VALIDATION_ERROR", "Bad request", why) from None
            else:
                item = merge_patch(previous, self._fitted(sent, shape))
            if not isinstance(item, dict):
                raise RuleViolation("VALIDATION_ERROR", "Bad request", "The patched item is not an object")
            item[resource.id.property] = previous.get(resource.id.property)
            for name, schema in shape.properties.items():
                if _is_date_time(schema) and UPDATED.match(name):
                    item[name] = now
                elif schema.get("readOnly") and name in previous:
                    item[name] = previous[name]
            error = None if self.checker.is_valid_often(shape.schema, item) else self.checker.error(shape.schema, item)
            if error is not None and not patching:
                item = self._merged_within(previous, item, shape, role)
                error = self.checker.error(shape.schema, item)
            if error is not None:
                raise RuleViolation("VALIDATION_ERROR", "Bad request", f"The merged item breaks its schema: {error}")
            return item

        with rule_failures():
            _, item = call.store.change_item(resource.name, _scope(resource, call), item_id, merge)
        return self._item_answer(role, role.response, item)

    def _merged_within(self, previous: dict, merged: dict, shape: _Shape, role: Role) -> dict:
        """A merge patch valid by its request schema whose values the item's schema forbids
        (a document whose request and answer disagree): the fields that fit, merged one by
        one; the others are not stored (logged once per operation)."""
        item = dict(previous)
        refused = []
        for name in merged.keys() | previous.keys():
            candidate = {**item, name: merged[name]} if name in merged else {k: v for k, v in item.items() if k != name}
            if self.checker.is_valid(shape.schema, candidate) or not self.checker.is_valid(shape.schema, item):
                item = candidate
            else:
                refused.append(name)
        if refused and role.operation_id not in self.warned:
            self.warned.add(role.operation_id)
            log.warning(
                "%s: %s as sent would break the item's schema (the request's schema allows it): not stored",
                role.operation_id,
                ", ".join(sorted(refused)),
            )
        return item

    def _delete(self, resource: Resource, role: Role, call: Call) -> Response:
        with rule_failures():
            call.store.delete_item(
                resource.name, _scope(resource, call), self._path_id(resource, call), self.below[resource.name]
            )
        return self._declared(role)

    def _list(self, resource: Resource, role: Role, call: Call) -> Response:
        listing = role.listing
        answer, body = self._template(role.operation_id)
        if listing is None or answer is None:
            return self._declared(role)
        where = {}
        for found in listing.filters:
            wanted = call.query.get(found.parameter)
            if wanted is not None:
                where[found.property] = {as_text(value) for value in (wanted if isinstance(wanted, list) else [wanted])}
        start, size = _page(listing, call.query)
        items, total = call.store.items_page(resource.name, _scope(resource, call), where, start, size)
        start, size = min(start, total), total if size is None else size  # no page size: one page of all
        page = [self._fitted(item, self._shape(listing.item_schema)) for item in items]
        headers = dict(answer.headers)
        if body is not None or listing.items == "":
            body = put(body, listing.items, page)
            more = start + size < total
            if listing.total:
                if listing.total.startswith("header "):
                    headers[listing.total.removeprefix("header ")] = str(total)
                else:
                    body = put(body, listing.total, total)
            if listing.next and not listing.next.startswith("header "):
                body = self._next(body, listing, more, start + size, role)
            _page_fields(body, listing, call.query, start, size, total)
        return self._checked(role, Answer(answer.status, answer.content_type, _dump(body), headers), body)

    # --- answers ------------------------------------------------------------------------

    def _item_answer(self, role: Role, placement: Placement | None, item: Any) -> Response:
        """The answer holding `item`, which the store answered (a copy, the caller's own)."""
        answer = self._successes[role.operation_id][0]
        if answer is None:
            return Response(status=204)
        if placement is None:
            return answer.response()
        body = self._fitted(item, self._shape(placement.schema))
        if placement.at:  # the item inside the declared body
            template = self._template(role.operation_id)[1]
            if template is None:
                return answer.response()
            body = put(template, placement.at, body)
        return self._checked(role, Answer(answer.status, answer.content_type, _dump(body), answer.headers), body)

    def _checked(self, role: Role, answer: Answer, body: Any) -> Response:
        """`answer` (whose JSON is `body`) if it conforms to the document, else the declared
        answer (logged once)."""
        schema = self._successes[role.operation_id][1]
        if schema is None or self.checker.is_valid_often(schema, body):
            return answer.response()
        if role.operation_id not in self.warned:
            self.warned.add(role.operation_id)
            why = self.checker.error(schema, body)
            log.warning(
                "%s: the stored item does not fit the declared answer (%s): sent as declared",
                role.operation_id,
                why,
            )
        return self._declared(role)

    def _declared(self, role: Role) -> Response:
        answer = self._successes[role.operation_id][0]
        return answer.response() if answer else Response(status=204)

    def _next(self, body: Any, listing: Listing, more: bool, offset: int, role: Role) -> Any:
        """The next-page field: the next cursor (an offset) or null/absent on the last page."""
        if more and listing.paging is not None and listing.paging.style == "cursor":
            return put(body, listing.next, str(offset))
        if more:
            return body  # a link or page number the template already holds
        parent, _, name = listing.next.rpartition("/")
        container = at(body, parent)
        if isinstance(container, dict) and name in container:
            container[name] = None  # the schema check falls back where null is not allowed
        return body

    # --- items --------------------------------------------------------------------------

    @staticmethod
    def _fitted(item: Any, shape: _Shape) -> Any:
        """`item` with only the properties `shape` allows, its values shared: each caller
        owns what it fits (a body parsed for its request, a copy the store answered), and
        the store copies what it stores."""
        if not isinstance(item, dict):
            return item
        return {name: value for name, value in item.items() if not shape.closed or name in shape.properties}

    def _fill_required(self, item: dict, shape: _Shape, resource: Resource, role: Role) -> None:
        """The properties the item's schema requires that it lacks: from the declared
        answer's item, else generated."""
        missing = [name for name in shape.required if name not in item and name != resource.id.property]
        if not missing:
            return
        _, body = self._template(role.operation_id)
        example = at(body, role.response.at) if role.response and body is not None else None
        for name in missing:
            if isinstance(example, dict) and name in example:
                item[name] = copy.deepcopy(example[name])
            else:
                where = f"{resource.schema}/properties/{name}"
                item[name] = self.generator.value(shape.properties.get(name, {}), where)

    def _item_id(self, resource: Resource, role: Role, call: Call, sent: Any) -> str:
        """The ID the path names, or on the collection (`PUT /pet`) the body."""
        if role.path == resource.item_path:
            return self._path_id(resource, call)
        return as_text(sent.get(resource.id.property) if isinstance(sent, dict) else None)

    def _path_id(self, resource: Resource, call: Call) -> str:
        return as_text(call.path.get(resource.id.parameter))

    # --- seeds --------------------------------------------------------------------------

    def seeds(self) -> list[Seed]:
        """The first items of each unscoped collection: the items of the answers the mock
        served before it kept state (the read answer's, the collection list's; declared
        examples, else generated), those that fit the item's schema and have an ID."""
        out = []
        for resource in self.resources:
            if resource.scope:
                continue  # no scope values to put them under
            shape = self._shape(resource.schema)
            found: dict[str, Any] = {}
            candidates: list[Any] = []
            for role in resource.operations:
                _, body = self._template(role.operation_id)
                if body is None:
                    continue
                if role.role == "read" and role.response is not None:
                    candidates.append(at(body, role.response.at))
                elif role.role == "list" and role.listing is not None and role.path == resource.collection_path:
                    listed = at(body, role.listing.items)
                    candidates += listed if isinstance(listed, list) else []
            for item in candidates:
                fits = isinstance(item, dict) and resource.id.property in item
                if fits and self.checker.is_valid(shape.schema, item):
                    found.setdefault(as_text(item[resource.id.property]), copy.deepcopy(item))
            if found:
                out.append(Seed(resource.name, (), tuple(found.items())))
        return out


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396: `patch` merged into `target` (a null removes a member)."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for name, value in patch.items():
        if value is None:
            result.pop(name, None)
        else:
            result[name] = merge_patch(result.get(name), value)
    return result


def _bound(handler: Callable, resource: Resource, role: Role, parent: Resource | None) -> Callable[[Call], Response]:
    def behaviour(call: Call) -> Response:
        if parent is not None:  # an item under an item: that one must exist
            scope = _scope(resource, call)
            with rule_failures():
                call.store.item(parent.name, scope[:-1], scope[-1])
        if call.media_type and "json" in call.media_type:
            # The body as sent, valid by now: the validator's unmarshalled one has dates and
            # UUIDs as objects.
            sent = call.json if call.json is not None else strict_json_loads(request.get_data())
            call = replace(call, body=sent)
        elif call.body is not None:  # a form or multipart body: its fields as JSON, files left out
            call = replace(call, body=_jsonable(call.body))
        return handler(resource, role, call)

    behaviour.__name__ = f"{role.role}_{resource.name}"
    return behaviour


def _jsonable(value: Any) -> Any:
    """A validated form or multipart body as JSON: dates and UUIDs as text, files (bytes,
    streams) left out."""
    if isinstance(value, dict):
        out = {str(k): _jsonable(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v is not _FILE}
    if isinstance(value, list | tuple):
        return [v for v in (_jsonable(item) for item in value) if v is not _FILE]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, bytes | bytearray) or hasattr(value, "read"):
        return _FILE
    return str(value)


_FILE = object()


def _scope(resource: Resource, call: Call) -> tuple[str, ...]:
    return tuple(as_text(call.path.get(name)) for name in resource.scope)


def _hex(length: int) -> str:
    return uuid.uuid4().hex[:length]


def _is_date_time(schema: dict) -> bool:
    return schema.get("format") == "date-time"


def _page(listing: Listing, query: dict[str, Any]) -> tuple[int, int | None]:
    """The first index and the size of the page the query asks for (None: every item)."""
    paging = listing.paging
    if paging is None:
        return 0, None
    values = {name: query.get(name) for name in paging.parameters}
    size = next((v for n, v in values.items() if is_page_size(n) and isinstance(v, int) and v > 0), None)
    if paging.style == "page":
        page = next((v for n, v in values.items() if not is_page_size(n) and isinstance(v, int)), 1)
        if size is None:  # every item on page 1
            return (0 if page <= 1 else sys.maxsize), None
        return max(page - 1, 0) * size, size
    if paging.style == "offset":
        offset = next((v for n, v in values.items() if not is_page_size(n) and isinstance(v, int)), 0)
        return max(offset, 0), size
    if paging.style == "cursor":
        cursor = next((v for n, v in values.items() if not is_page_size(n) and v is not None), None)
        offset = id_number(str(cursor)) if cursor is not None else 0
        return offset or 0, size
    return 0, size


def _page_fields(body: Any, listing: Listing, query: dict[str, Any], start: int, size: int, total: int) -> None:
    """The wrapper's own fields about the page, where the declared answer has them (beside
    the total, or at the top): the paging parameters as used, the page count, more or not."""
    places = [body]
    if listing.total and not listing.total.startswith("header "):
        places.insert(0, at(body, listing.total.rpartition("/")[0]))
    used = {name: query[name] for name in (listing.paging.parameters if listing.paging else ()) if name in query}
    pages = -(-total // size) if size else 0
    more = start + size < total
    for place in places:
        if not isinstance(place, dict):
            continue
        for name in list(place):
            if name in used and isinstance(used[name], int):
                place[name] = used[name]
            elif name in PAGE_COUNT_FIELDS:
                place[name] = pages
            elif name in MORE_FIELDS:
                place[name] = more


def _dump(body: Any) -> bytes:
    return dump_json(body)
