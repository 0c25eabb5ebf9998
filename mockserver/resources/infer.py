"""The resource model of a document, inferred from its paths, parameters and schemas alone.

`infer(contract)` finds each resource, the operations that create, list, read, replace,
merge and delete its items, and where the item sits in their bodies; every operation it
cannot place is `Skipped`, with why. Each inference carries a `reason` a person can check
against the document. The rules:

- A path ending in a parameter is an item path (`/pets/{petId}`), when it has a GET, PUT,
  PATCH or DELETE; the path above it is its collection wherever that has a POST (create)
  or a GET answering a list. A POST on `/store/order` with the item at
  `/store/order/{orderId}` is a collection like any other: names need not be plural.
- The parameter ties to the id property of the item's schema by name (`eventId` ->
  `eventId`, `username` -> `username`), as a thing's ID (`petId` -> `id`, `documentId` ->
  `_id`), or by schema (the only property with the parameter's pattern or format). The
  schema is the first that ties: the read answer's, the list's items', the create and
  update answers', the request bodies'. Parent path parameters scope the items.
- On the item path, GET reads, PUT replaces, PATCH merges (a JSON merge patch or a JSON
  patch, by its declared media type), DELETE deletes. On the collection, POST creates,
  GET lists, and a PUT (or PATCH) whose body holds the id replaces the item it names
  (`PUT /pet`). A GET beside the collection (`/pet/findByStatus`) answering a list of the
  same items with query parameters named like their properties is a filtered list.
- A body is the item (bare) or wraps it (`{"data": {...}, "message": ...}`): each role
  records where, as a pointer into the body and the schema there. A list is a bare array
  or an array under a wrapper property (`data`, `items`, `results`, the collection's
  name, ...), with its paging parameters (page/limit, offset/limit, per_page, pageSize,
  cursor), the total and next fields its wrapper declares, and its filters.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from typing import Any

from mockserver.contract.index import Contract, Operation
from mockserver.contract.pointers import escape, follow
from mockserver.contract.statuses import success_key

ROLES = ("create", "list", "read", "replace", "merge", "delete")
ITEM_METHODS = {"GET": "read", "PUT": "replace", "PATCH": "merge", "DELETE": "delete"}

# Where a body wraps one item, and where a list body holds its array (then the
# collection's own name, e.g. `orders`, and for one item its singular, e.g. `order`).
ITEM_WRAPPERS = ("data", "item", "result", "resource", "record", "entity", "object", "payload")
LIST_WRAPPERS = ("data", "items", "results", "records", "content", "entries", "list", "rows", "values", "hits")
# The fields of a list's wrapper (or of an object in it: pagination, meta, ...).
TOTAL_FIELDS = (
    "total",
    "totalCount",
    "total_count",
    "totalItems",
    "total_items",
    "totalResults",
    "total_results",
    "totalElements",
    "count",
)
NEXT_FIELDS = (
    "next",
    "nextCursor",
    "next_cursor",
    "nextPageToken",
    "next_page_token",
    "nextToken",
    "next_token",
    "nextPage",
    "next_page",
    "nextLink",
    "next_link",
    "endCursor",
    "cursor",
)
TOTAL_HEADERS = ("x-total-count", "x-total", "total-count")
# Paging query parameters, by kind.
PAGE_PARAMETERS = ("page", "pageNumber", "page_number", "pageNo", "pageIndex")
SIZE_PARAMETERS = ("limit", "per_page", "perPage", "pageSize", "page_size", "size", "maxResults", "max_results")
OFFSET_PARAMETERS = ("offset", "skip", "start")
CURSOR_PARAMETERS = (
    "cursor",
    "after",
    "before",
    "pageToken",
    "page_token",
    "starting_after",
    "ending_before",
    "nextToken",
    "next_token",
    "continuationToken",
)
# A parameter named as a thing's ID: petId, pet_id, pet-id, petID.
ID_SUFFIX = re.compile(r"(.+?)(Id|ID|_id|-id)")
ID_PROPERTIES = ("id", "_id", "ID", "Id", "uuid")

# Why an operation is skipped, the groups of `mockserver resources`.
NO_ITEM_PATH = "no item path"
NO_COLLECTION = "no collection"
NO_ITEM_ROLE = "no item role"
NO_ID = "no id property"
NO_ROLE = "no role"
BENEATH_ITEM = "beneath an item"
BESIDE_COLLECTION = "beside a collection"
RULES = {  # what each group of skipped operations means
    NO_ITEM_PATH: "the path neither ends in a parameter nor is the collection of one that does",
    NO_COLLECTION: "an item path and the path above it, which has no POST and no GET answering a list",
    NO_ITEM_ROLE: "an item path with no GET, PUT, PATCH or DELETE",
    NO_ID: "no schema of the item has a property the item path's parameter names",
    NO_ROLE: "on a resource's item path or collection, but in none of its roles",
    BENEATH_ITEM: "below a resource's item path: an action on an item, or a part of one",
    BESIDE_COLLECTION: "beside a collection, and no list of its items filtered by their properties",
}


@dataclass(frozen=True)
class IdBinding:
    """The item path's parameter and the property of the item it names."""

    parameter: str  # e.g. petId
    property: str  # e.g. id
    source: str  # the property's schema, a pointer into the document
    reason: str


@dataclass(frozen=True)
class Placement:
    """Where the item sits in one body: the whole body, or under a wrapper property."""

    status: str | None  # the response's key (200, 201, ...); None for a request body
    media_type: str
    at: str  # a JSON pointer into the body: "" (bare), "/data"
    schema: str  # the schema there, a pointer into the document ($refs followed)
    reason: str


@dataclass(frozen=True)
class Paging:
    style: str  # page, offset, cursor, or limit (a size alone: the first N)
    parameters: tuple[str, ...]  # the query parameters, e.g. ("page", "limit")
    reason: str


@dataclass(frozen=True)
class Filter:
    parameter: str  # the query parameter
    property: str  # the item's property of that name
    reason: str


@dataclass(frozen=True)
class Listing:
    """The shape of a list's success body."""

    status: str
    media_type: str
    wrapper: str | None  # None: a bare array; else the property holding it, e.g. data
    items: str  # a JSON pointer into the body to the array: "" or "/data"
    item_schema: str  # the items' schema, a pointer into the document
    paging: Paging | None
    total: str | None  # a pointer into the body (/pagination/total), or `header X-Total-Count`
    next: str | None  # a pointer into the body to the next page's cursor or link, or `header Link`
    filters: tuple[Filter, ...]
    reason: str


@dataclass(frozen=True)
class PatchFormat:
    media_type: str
    kind: str  # merge-patch (RFC 7396; a partial object too) or json-patch (RFC 6902)
    reason: str


@dataclass(frozen=True)
class Role:
    """One operation of a resource and what it does to the items."""

    role: str  # one of ROLES
    operation_id: str
    method: str
    path: str
    reason: str
    request: Placement | None = None  # create, replace, merge: where the item sits in the body
    response: Placement | None = None  # where the item sits in the success answer, if it does
    patch: tuple[PatchFormat, ...] = ()  # merge: per declared media type
    listing: Listing | None = None  # list


@dataclass(frozen=True)
class Resource:
    name: str  # the collection's last literal segment (with those before it when two share it)
    collection_path: str
    item_path: str
    id: IdBinding
    schema: str  # the item's schema, a pointer into the document
    schema_reason: str
    scope: tuple[str, ...]  # the parent path parameters: items are kept per their values
    parent: str | None  # the resource whose item path is above the collection
    operations: tuple[Role, ...]
    reasons: tuple[str, ...]  # why the paths are an item path and its collection

    def roles(self, role: str) -> list[Role]:
        return [operation for operation in self.operations if operation.role == role]

    def role(self, role: str) -> Role | None:
        """The first operation in `role` (a resource may have several lists)."""
        return next(iter(self.roles(role)), None)


@dataclass(frozen=True)
class Skipped:
    operation_id: str
    method: str
    path: str
    rule: str  # which rule did not apply, e.g. `no collection` (one of the constants above)
    reason: str


@dataclass(frozen=True)
class ResourceModel:
    resources: tuple[Resource, ...]
    skipped: tuple[Skipped, ...]

    def resource(self, name: str) -> Resource | None:
        return next((resource for resource in self.resources if resource.name == name), None)

    def document(self) -> dict[str, Any]:
        """As JSON, with camelCase keys (what GET /__mock/resources answers)."""
        return {
            "resources": [_camel(asdict(resource)) for resource in self.resources],
            "skipped": [_camel(asdict(skipped)) for skipped in self.skipped],
        }


def infer(contract: Contract) -> ResourceModel:
    """The resources of `contract`'s document, and every operation that is in none."""
    return _Inference(contract).model()


def _camel(value: Any) -> Any:
    if isinstance(value, dict):
        return {re.sub(r"_([a-z])", lambda m: m.group(1).upper(), key): _camel(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_camel(item) for item in value]
    return value


def _segments(path: str) -> list[str]:
    return [segment for segment in path.split("/") if segment]


def _parameter(segment: str) -> str | None:
    """The name of a segment that is one whole parameter, `{petId}`."""
    if segment.startswith("{") and segment.endswith("}") and "{" not in segment[1:-1]:
        return segment[1:-1]
    return None


def _parent(path: str) -> str:
    return "/" + "/".join(_segments(path)[:-1])


def _name(collection_path: str) -> str:
    """The collection's last literal segment: `/projects/{projectId}/chats` -> `chats`."""
    return next((s for s in reversed(_segments(collection_path)) if _parameter(s) is None), "")


def _item_wrappers(name: str) -> tuple[str, ...]:
    """The properties a body may wrap one item of collection `name` in."""
    return (*ITEM_WRAPPERS, _singular(name), _camel_name(_singular(name)), name)


def _singular(name: str) -> str:
    for plural, single in (("ies", "y"), ("sses", "ss"), ("xes", "x"), ("s", "")):
        if name.endswith(plural) and len(name) > len(plural):
            return name[: -len(plural)] + single
    return name


def _camel_name(name: str) -> str:
    """`api-keys` -> `apiKeys`, `api_keys` -> `apiKeys`: how a body may name a collection."""
    return re.sub(r"[-_]([a-zA-Z0-9])", lambda m: m.group(1).upper(), name)


def _json_media(content: Any) -> str | None:
    """The JSON media type of a content map: application/json, else a +json or /json one, else */*."""
    if not isinstance(content, dict):
        return None
    bases = {key: key.split(";")[0].strip().lower() for key in content if isinstance(key, str)}
    for test in (
        lambda base: base == "application/json",
        lambda base: base.endswith(("+json", "/json")),
        lambda base: base in ("*/*", "application/*"),
    ):
        for key, base in bases.items():
            if test(base):
                return key
    return None


def _types(schema: Any) -> set[str]:
    kind = schema.get("type") if isinstance(schema, dict) else None
    return {kind} if isinstance(kind, str) else {str(k) for k in kind} if isinstance(kind, list) else set()


def _is_array(schema: Any) -> bool:
    return isinstance(schema, dict) and ("array" in _types(schema) or "items" in schema)


@dataclass(frozen=True)
class _Body:
    status: str | None  # the response's key; None for a request body
    media_type: str
    schema: Any
    pointer: str  # of the schema, $refs followed
    headers: dict


@dataclass(frozen=True)
class _Array:
    """Where a list body holds its array."""

    at: str  # a JSON pointer into the body: "", "/data", "/data/chats"
    wrapper: str | None  # the property holding the array
    container: tuple[Any, str]  # the object the wrapper is a property of, and its pointer
    items: Any
    items_pointer: str
    why: str


@dataclass(frozen=True)
class _Candidate:
    schema: Any
    pointer: str
    where: str  # e.g. "the read answer of GET getPetById"


class _Inference:
    def __init__(self, contract: Contract) -> None:
        self.document = contract.document
        self.operations: dict[str, dict[str, Operation]] = {}
        for operation in contract.operations:
            self.operations.setdefault(operation.path, {})[operation.method] = operation
        self.resources: list[Resource] = []
        self.claimed: set[tuple[str, str]] = set()  # (method, path) of each operation a resource has
        self.skips: dict[tuple[str, str], Skipped] = {}

    # --- the model ------------------------------------------------------------------------

    def model(self) -> ResourceModel:
        for path in self.operations:
            segments = _segments(path)
            parameter = _parameter(segments[-1]) if segments else None
            if parameter is not None:
                self._item(path, parameter)
        resources = self._named(self.resources)
        skipped = [
            self.skips.get((method, path)) or self._unplaced(operation, resources)
            for path, methods in self.operations.items()
            for method, operation in methods.items()
            if (method, path) not in self.claimed
        ]
        return ResourceModel(tuple(resources), tuple(skipped))

    @staticmethod
    def _named(resources: list[Resource]) -> list[Resource]:
        """Unique names (two `webhooks`: `non-custodial.webhooks`, ...), and each one's parent."""

        def name(resource: Resource, depth: int) -> str:
            literals = [s for s in _segments(resource.collection_path) if _parameter(s) is None]
            return ".".join(literals[-depth:]) or resource.collection_path

        names = [name(resource, 1) for resource in resources]
        for depth in range(2, 8):
            shared = {n for n in names if names.count(n) > 1}
            if not shared:
                break
            names = [name(r, depth) if n in shared else n for r, n in zip(resources, names, strict=True)]
        by_item = {resource.item_path: n for resource, n in zip(resources, names, strict=True)}
        named = []
        for resource, resource_name in zip(resources, names, strict=True):
            above, parent = resource.collection_path, None
            while above != "/" and parent is None:
                above = _parent(above)
                parent = by_item.get(above)
            named.append(replace(resource, name=resource_name, parent=parent))
        return named

    def _unplaced(self, operation: Operation, resources: list[Resource]) -> Skipped:
        """Why an operation no resource has is in none."""
        method, path = operation.method, operation.path
        for resource in resources:
            if path == resource.item_path:
                why = f"{method} on the item path of {resource.name} is none of {', '.join(ROLES)}"
                return self._skip(operation, NO_ROLE, why)
            if path == resource.collection_path:
                why = f"{method} on the collection of {resource.name} is none of {', '.join(ROLES)}"
                if method == "GET":
                    why = f"GET on the collection of {resource.name} answers no list: no array in its success body"
                elif method in ("PUT", "PATCH"):
                    why = f"{method} on the collection of {resource.name}: its body has no {resource.id.property}"
                return self._skip(operation, NO_ROLE, why)
        beneath = [r for r in resources if path.startswith(r.item_path + "/")]
        if beneath:
            resource = max(beneath, key=lambda r: len(r.item_path))
            why = f"beneath the item path {resource.item_path} of {resource.name}: an action on an item, or a part"
            return self._skip(operation, BENEATH_ITEM, why)
        beside = [r for r in resources if path.startswith(r.collection_path.rstrip("/") + "/")]
        if beside:
            resource = max(beside, key=lambda r: len(r.collection_path))
            why = (
                f"beside the collection {resource.collection_path} of {resource.name}, and no list of its items "
                "filtered by query parameters named like their properties"
            )
            return self._skip(operation, BESIDE_COLLECTION, why)
        why = f"{path} ends in no parameter, and no path below it does: neither an item nor a collection"
        below = [_segments(p) for p in self.operations if p != path and p.startswith(path.rstrip("/") + "/")]
        if any(_parameter(segments[-1]) for segments in below):  # (p != path: `/`, the root, has no segment)
            why = f"{path} ends in no parameter, and is the collection of no item path (one segment below it)"
        return self._skip(operation, NO_ITEM_PATH, why)

    @staticmethod
    def _skip(operation: Operation, rule: str, reason: str) -> Skipped:
        return Skipped(operation.operation_id, operation.method, operation.path, rule, reason)

    def _skip_all(self, paths: list[str], rule: str, reason: str) -> None:
        for path in paths:
            for operation in self.operations.get(path, {}).values():
                self.skips.setdefault((operation.method, path), self._skip(operation, rule, reason))

    # --- one item path ------------------------------------------------------------------

    def _item(self, item_path: str, parameter: str) -> None:
        collection_path = _parent(item_path)
        at_item = self.operations[item_path]
        at_collection = self.operations.get(collection_path, {})
        if not any(method in ITEM_METHODS for method in at_item):
            why = f"{item_path} ends in a parameter, but no GET, PUT, PATCH or DELETE there reads or changes an item"
            self._skip_all([item_path], NO_ITEM_ROLE, why)
            return
        name = _name(collection_path)
        create = at_collection.get("POST")
        lister = at_collection.get("GET")
        listed = self._list(lister, name) if lister else None
        if listed is None:
            lister = None  # a GET answering no list is no lister
        if create is None and lister is None:
            there = "has no POST and no GET answering a list" if at_collection else "is no path of the document"
            self._skip_all([item_path], NO_COLLECTION, f"{item_path} has no collection: {collection_path} {there}")
            why = f"{collection_path} is no collection of {item_path}: it has no POST and no GET answering a list"
            self._skip_all([collection_path], NO_COLLECTION, why)
            return

        found = [f"POST {create.operation_id} (create)"] if create else []
        found += [f"GET {lister.operation_id}, answering a list"] if lister else []
        reasons = (
            f"{item_path}: a path ending in a parameter is an item",
            f"{collection_path}, the path above it, is its collection: it has {' and '.join(found)}",
        )
        candidates = self._candidates(at_item, create, lister, listed, name)
        binding, resource = self._bind(parameter, self._path_parameter(item_path, parameter), candidates)
        if binding is None or resource is None:
            why = (
                f"{parameter} names no property of the item: no schema of its answers or bodies has a property "
                f"{parameter}, an ID property ({', '.join(ID_PROPERTIES)}), or one with the parameter's pattern "
                "or format"
            )
            self._skip_all([item_path, collection_path], NO_ID, why)
            return

        wrappers = _item_wrappers(name)
        roles: list[Role] = []
        if create is not None:
            why = f"POST on the collection {collection_path} creates an item"
            roles.append(self._role("create", create, why, resource, binding, wrappers))
        if lister is not None and listed is not None:
            why = f"GET on the collection {collection_path} answers a list of the items"
            listing = self._listing(lister, *listed, resource)
            roles.append(Role("list", lister.operation_id, "GET", collection_path, why, listing=listing))
        for method in ("PUT", "PATCH"):  # PUT /pet: the id in the body names the item
            operation = at_collection.get(method)
            request = self._request_body(operation) if operation else None
            if (
                operation is not None
                and request is not None
                and self._place(request, resource, binding, wrappers, True)
            ):
                role = ITEM_METHODS[method]
                why = (
                    f"{method} on the collection {collection_path} with the id ({binding.property}) in the body "
                    f"{'replaces' if role == 'replace' else 'merges into'} the item it names"
                )
                roles.append(self._role(role, operation, why, resource, binding, wrappers))
        for method, role in ITEM_METHODS.items():
            operation = at_item.get(method)
            if operation is not None:
                verb = {"read": "reads", "replace": "replaces", "merge": "merges into", "delete": "deletes"}[role]
                why = f"{method} on the item path {verb} the item it names"
                roles.append(self._role(role, operation, why, resource, binding, wrappers))
        roles += self._filtered_lists(collection_path, item_path, name, resource, binding)
        roles.sort(key=lambda role: ROLES.index(role.role))

        self.claimed.update((role.method, role.path) for role in roles)
        self.resources.append(
            Resource(
                name=name,
                collection_path=collection_path,
                item_path=item_path,
                id=binding,
                schema=resource.pointer,
                schema_reason=f"{resource.where}: the first schema of the item with the property {parameter} ties to",
                scope=tuple(p for p in (_parameter(s) for s in _segments(collection_path)) if p is not None),
                parent=None,
                operations=tuple(roles),
                reasons=reasons,
            )
        )

    def _candidates(
        self,
        at_item: dict[str, Operation],
        create: Operation | None,
        lister: Operation | None,
        listed: tuple[_Body, _Array] | None,
        name: str,
    ) -> Iterator[_Candidate]:
        """The schemas the item may have, in the order they are tried for its id: the read
        answer's, the list's items', the create and update answers', the request bodies'
        (each body itself, then under each wrapper property it has)."""
        wrappers = _item_wrappers(name)

        def body_and_wrapped(body: _Body | None, where: str) -> Iterator[_Candidate]:
            if body is None:
                return
            yield _Candidate(body.schema, body.pointer, where)
            properties = self._properties(body.schema, body.pointer)
            for wrapper in wrappers:
                if wrapper in properties:
                    yield _Candidate(*properties[wrapper], f"{where}, under {wrapper}")

        if "GET" in at_item:
            read = at_item["GET"]
            yield from body_and_wrapped(self._response_body(read), f"the read answer of GET {read.operation_id}")
        if lister is not None and listed is not None:
            array = listed[1]
            yield _Candidate(array.items, array.items_pointer, f"the items of GET {lister.operation_id}'s list")
        for operation in (create, at_item.get("PUT"), at_item.get("PATCH")):
            if operation is not None:
                where = f"the answer of {operation.method} {operation.operation_id}"
                yield from body_and_wrapped(self._response_body(operation), where)
        for operation in (create, at_item.get("PUT")):
            if operation is not None:
                where = f"the request body of {operation.method} {operation.operation_id}"
                yield from body_and_wrapped(self._request_body(operation), where)

    def _bind(
        self, parameter: str, parameter_schema: Any, candidates: Iterator[_Candidate]
    ) -> tuple[IdBinding | None, _Candidate | None]:
        for candidate in candidates:
            properties = self._properties(candidate.schema, candidate.pointer)
            binding = self._tie(parameter, parameter_schema, properties, candidate) if properties else None
            if binding is not None:
                return binding, candidate
        return None, None

    @staticmethod
    def _tie(
        parameter: str, parameter_schema: Any, properties: dict[str, tuple[Any, str]], candidate: _Candidate
    ) -> IdBinding | None:
        """The property `parameter` names: by name, as a thing's ID, or by schema."""
        if parameter in properties:
            reason = f"{parameter} -> {parameter}: the item schema's property of that name ({candidate.where})"
            return IdBinding(parameter, parameter, properties[parameter][1], reason)
        match = ID_SUFFIX.fullmatch(parameter)
        if match or parameter.lower() in ("id", "_id", "uuid"):
            owner = f"{parameter} names a {match.group(1)}'s ID" if match else f"{parameter} is an ID"
            for name in ID_PROPERTIES:
                if name in properties:
                    reason = (
                        f"{parameter} -> {name}: {owner}, and the item schema ({candidate.where}) has no "
                        f"{parameter} property but {name}"
                    )
                    return IdBinding(parameter, name, properties[name][1], reason)
        for keyword in ("pattern", "format"):
            wanted = parameter_schema.get(keyword) if isinstance(parameter_schema, dict) else None
            if wanted is None:
                continue
            same = [
                name
                for name, (schema, _pointer) in properties.items()
                if isinstance(schema, dict) and schema.get(keyword) == wanted
            ]
            if len(same) == 1:
                reason = (
                    f"{parameter} -> {same[0]}: the only property of the item schema ({candidate.where}) with the "
                    f"parameter's {keyword}, {wanted}"
                )
                return IdBinding(parameter, same[0], properties[same[0]][1], reason)
        return None

    # --- roles ----------------------------------------------------------------------------

    def _role(
        self, role: str, operation: Operation, reason: str, resource: _Candidate, binding: IdBinding, wrappers
    ) -> Role:
        request = None
        if role in ("create", "replace", "merge"):
            body = self._request_body(operation)
            request = self._place(body, resource, binding, wrappers, False) if body else None
        response = self._response_body(operation)
        placed = self._place(response, resource, binding, wrappers, False) if response else None
        patch = self._patch_formats(operation) if role == "merge" else ()
        return Role(role, operation.operation_id, operation.method, operation.path, reason, request, placed, patch)

    def _place(
        self, body: _Body, resource: _Candidate, binding: IdBinding, wrappers: tuple[str, ...], need_id: bool
    ) -> Placement | None:
        """Where the item sits in `body`: the body itself, or under a wrapper property. With
        `need_id`, only where the schema there has the id property; without, a free-form
        object counts too, and so does any object in a request body (a create's fields
        come without the id)."""
        key = binding.property
        request = body.status is None

        def placed(at: str, pointer: str, why: str) -> Placement:
            return Placement(body.status, body.media_type, at, pointer, why)

        properties = self._properties(body.schema, body.pointer)
        if body.pointer == resource.pointer or key in properties:
            why = "the item's schema" if body.pointer == resource.pointer else f"a schema with {key}"
            return placed("", body.pointer, f"the body is the item (bare): {why}")
        for wrapper, (schema, pointer) in properties.items():
            if pointer == resource.pointer or (wrapper in wrappers and key in self._properties(schema, pointer)):
                why = "the item's schema" if pointer == resource.pointer else f"a schema with {key}"
                return placed(f"/{escape(wrapper)}", pointer, f"under {wrapper}, a wrapper property: {why}")
        if need_id:
            return None
        for wrapper in wrappers:
            schema, pointer = properties.get(wrapper, (None, ""))
            if _free_form(schema) or (request and self._properties(schema, pointer)):
                what = "a free-form object" if _free_form(schema) else "an object"
                return placed(f"/{escape(wrapper)}", pointer, f"under {wrapper}, a wrapper property: {what}")
        if _free_form(body.schema):
            return placed("", body.pointer, "the body is the item (bare): a free-form object")
        if request and properties:
            return placed("", body.pointer, f"the body is the item (bare): an object of its fields, without {key}")
        return None

    def _patch_formats(self, operation: Operation) -> tuple[PatchFormat, ...]:
        request_body, pointer = self._request_node(operation)
        content = request_body.get("content") if isinstance(request_body, dict) else None
        formats = []
        for media_type, media in (content if isinstance(content, dict) else {}).items():
            base = str(media_type).split(";")[0].strip().lower()
            at = f"{pointer}/content/{escape(media_type)}/schema"
            schema, _ = follow(self.document, media.get("schema") if isinstance(media, dict) else None, at, None)
            if base == "application/merge-patch+json":
                kind, why = "merge-patch", "a JSON merge patch (RFC 7396), by its media type"
            elif base == "application/json-patch+json":
                kind, why = "json-patch", "a JSON patch (RFC 6902), by its media type"
            elif base.endswith(("/json", "+json")) and _is_array(schema):
                kind, why = "json-patch", f"an array of operations as {media_type}: a JSON patch (RFC 6902)"
            elif base.endswith(("/json", "+json")):
                kind, why = "merge-patch", f"a partial object as {media_type}: merged as a JSON merge patch (RFC 7396)"
            else:
                continue
            formats.append(PatchFormat(str(media_type), kind, why))
        return tuple(formats)

    # --- lists ----------------------------------------------------------------------------

    def _list(self, operation: Operation, name: str) -> tuple[_Body, _Array] | None:
        """The success body of a GET and its array, when it holds a list of objects (bare,
        under a wrapper, or under a wrapper in `data`); `name` the collection's."""
        body = self._response_body(operation)
        array = self._array(body, name) if body else None
        return (body, array) if body and array else None

    def _array(self, body: _Body, name: str) -> _Array | None:
        def array(at: str, wrapper: str | None, container: tuple[Any, str], schema: Any, pointer: str, why: str):
            items, items_pointer = follow(self.document, schema.get("items"), f"{pointer}/items", None)
            if not isinstance(items, dict):
                return None
            return _Array(at, wrapper, container, items, items_pointer, why)

        if _is_array(body.schema):
            return array("", None, (body.schema, body.pointer), body.schema, body.pointer, "a bare array")
        top = self._properties(body.schema, body.pointer)
        places = [("", (body.schema, body.pointer), top)]
        for wrapper in ITEM_WRAPPERS:  # {"success": true, "data": {"chats": [...], "total": 2}}
            if wrapper in top and not _is_array(top[wrapper][0]):
                places.append((f"/{escape(wrapper)}", top[wrapper], self._properties(*top[wrapper])))
        for at, container, properties in places:
            arrays = {key: value for key, value in properties.items() if _is_array(value[0])}
            named = [w for w in (*LIST_WRAPPERS, name, _camel_name(name)) if w in arrays]
            if named:
                wrapper, why = named[0], f"an array under {at[1:] + '/' if at else ''}{named[0]}, a wrapper property"
            elif len(arrays) == 1:
                [wrapper] = arrays
                why = f"an array under {at[1:] + '/' if at else ''}{wrapper}, the only array there"
            else:
                continue
            found = array(f"{at}/{escape(wrapper)}", wrapper, container, *arrays[wrapper], why)
            if found is not None:
                return found
        return None

    def _listing(self, operation: Operation, body: _Body, array: _Array, resource: _Candidate) -> Listing:
        item_properties = self._properties(array.items, array.items_pointer)
        query = [name for (name, where) in self._parameters(operation) if where == "query"]
        paging = _paging(query)
        total, next_field = self._page_fields(body, array) if array.wrapper else (None, None)
        headers = {str(name).lower(): str(name) for name in body.headers}
        if total is None:
            total = next((f"header {headers[h]}" for h in TOTAL_HEADERS if h in headers), None)
        if next_field is None and "link" in headers:
            next_field = f"header {headers['link']}"
        paged = set(paging.parameters) if paging else set()
        filters = tuple(
            Filter(name, name, f"{name} -> {name}: a query parameter named like a property of the items")
            for name in query
            if name in item_properties and name not in paged
        )
        of = "the item's schema" if array.items_pointer == resource.pointer else array.items_pointer
        return Listing(
            body.status or "",
            body.media_type,
            array.wrapper,
            array.at,
            array.items_pointer,
            paging,
            total,
            next_field,
            filters,
            f"{array.why}, of {of}",
        )

    def _page_fields(self, body: _Body, array: _Array) -> tuple[str | None, str | None]:
        """The total and next fields beside a list's array (or in an object beside it, such
        as pagination or meta), or at the body's top."""
        container_at = array.at.rsplit("/", 1)[0]
        places: list[tuple[str, dict]] = []
        for at, (schema, pointer) in ((container_at, array.container), ("", (body.schema, body.pointer))):
            properties = self._properties(schema, pointer)
            places.append((at, properties))
            for key, (inner, inner_pointer) in properties.items():
                if key != array.wrapper and not _is_array(inner):
                    nested = self._properties(inner, inner_pointer)
                    if nested:
                        places.append((f"{at}/{escape(key)}", nested))
        fields = []
        for names in (TOTAL_FIELDS, NEXT_FIELDS):
            fields.append(next((f"{at}/{escape(f)}" for f in names for at, props in places if f in props), None))
        return fields[0], fields[1]

    def _filtered_lists(
        self, collection_path: str, item_path: str, name: str, resource: _Candidate, binding: IdBinding
    ) -> list[Role]:
        """GETs beside the collection (`/pet/findByStatus`) answering a list of the same
        items, with query parameters named like their properties."""
        roles = []
        prefix = collection_path.rstrip("/") + "/"
        for path, methods in self.operations.items():
            rest = _segments(path[len(prefix) :]) if path.startswith(prefix) else []
            operation = methods.get("GET")
            if len(rest) != 1 or _parameter(rest[0]) is not None or operation is None or path == item_path:
                continue
            listed = self._list(operation, name)
            if listed is None or ("GET", path) in self.claimed:
                continue
            array = listed[1]
            same = array.items_pointer == resource.pointer
            if not same and binding.property not in self._properties(array.items, array.items_pointer):
                continue
            listing = self._listing(operation, *listed, resource)
            if listing.filters:
                by = ", ".join(f.parameter for f in listing.filters)
                why = f"GET {path}, beside the collection, answers a list of the items filtered by {by}"
                roles.append(Role("list", operation.operation_id, "GET", path, why, listing=listing))
        return roles

    # --- the document ---------------------------------------------------------------------

    def _node(self, operation: Operation) -> tuple[dict, str]:
        method = operation.method.lower()
        return self.document["paths"][operation.path][method], f"/paths/{escape(operation.path)}/{method}"

    def _parameters(self, operation: Operation) -> dict[tuple[str, str], Any]:
        """The operation's parameters and its path's, by (name, in), $refs followed."""
        node, pointer = self._node(operation)
        item_pointer = f"/paths/{escape(operation.path)}"
        found: dict[tuple[str, str], Any] = {}
        for at, holder in ((item_pointer, self.document["paths"][operation.path]), (pointer, node)):
            parameters = holder.get("parameters")
            for index, parameter in enumerate(parameters if isinstance(parameters, list) else []):
                parameter, _ = follow(self.document, parameter, f"{at}/parameters/{index}", None)
                if isinstance(parameter, dict) and "name" in parameter:
                    found[(str(parameter["name"]), str(parameter.get("in")))] = parameter
        return found

    def _path_parameter(self, path: str, name: str) -> Any:
        """The schema of path parameter `name`, as the first operation on `path` declares it."""
        for operation in self.operations[path].values():
            parameter = self._parameters(operation).get((name, "path"))
            if parameter is not None:
                return follow(self.document, parameter.get("schema"), "", None)[0]
        return None

    def _request_node(self, operation: Operation) -> tuple[Any, str]:
        node, pointer = self._node(operation)
        return follow(self.document, node.get("requestBody"), f"{pointer}/requestBody", None)

    def _request_body(self, operation: Operation) -> _Body | None:
        return self._body(None, *self._request_node(operation))

    def _response_body(self, operation: Operation) -> _Body | None:
        """The JSON body of the operation's success (statuses.success_key)."""
        node, pointer = self._node(operation)
        responses = node.get("responses") if isinstance(node.get("responses"), dict) else {}
        keys = {str(key): key for key in responses}
        status = success_key(list(keys))
        if status is None:
            return None
        response, at = follow(self.document, responses[keys[status]], f"{pointer}/responses/{escape(status)}", None)
        return self._body(status, response, at)

    def _body(self, status: str | None, node: Any, pointer: str) -> _Body | None:
        content = node.get("content") if isinstance(node, dict) else None
        media_type = _json_media(content)
        media = content.get(media_type) if media_type else None
        if not isinstance(media, dict):
            return None
        at = f"{pointer}/content/{escape(media_type)}/schema"
        schema, at = follow(self.document, media.get("schema"), at, None)
        if not isinstance(schema, dict):
            return None
        headers = node.get("headers") if isinstance(node.get("headers"), dict) else {}
        return _Body(status, str(media_type), schema, at, headers)

    def _properties(self, schema: Any, pointer: str, depth: int = 0) -> dict[str, tuple[Any, str]]:
        """An object schema's properties, its allOf's included: name -> (schema, pointer),
        $refs followed."""
        schema, pointer = follow(self.document, schema, pointer, None)
        if not isinstance(schema, dict) or depth > 8:
            return {}
        properties: dict[str, tuple[Any, str]] = {}
        all_of = schema.get("allOf")
        for index, member in enumerate(all_of if isinstance(all_of, list) else []):
            properties.update(self._properties(member, f"{pointer}/allOf/{index}", depth + 1))
        members = schema.get("properties")
        for name, member in (members if isinstance(members, dict) else {}).items():
            properties[str(name)] = follow(self.document, member, f"{pointer}/properties/{escape(name)}", None)
        return properties


def _free_form(schema: Any) -> bool:
    """An object schema that names no properties (`type: object`)."""
    free = isinstance(schema, dict) and "object" in _types(schema)
    return free and not any(schema.get(key) for key in ("properties", "allOf", "oneOf", "anyOf"))


def _paging(query: list[str]) -> Paging | None:
    """The paging style of a list's query parameters."""

    def present(names: tuple[str, ...]) -> list[str]:
        return [name for name in query if name in names]

    size = present(SIZE_PARAMETERS)
    with_size = f" and a page size ({size[0]})" if size else ""
    for style, names, what in (
        ("cursor", CURSOR_PARAMETERS, "a cursor"),
        ("offset", OFFSET_PARAMETERS, "an offset"),
        ("page", PAGE_PARAMETERS, "a page number"),
    ):
        first = present(names)
        if first:
            return Paging(style, (first[0], *size[:1]), f"{what} ({first[0]}){with_size}")
    if size:
        return Paging("limit", (size[0],), f"a page size alone ({size[0]}): the first items")
    return None
