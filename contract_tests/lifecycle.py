"""Lifecycle checks for any document, from the resource model the mock infers
(mockserver/resources/): does a server remember what it was told?

For each resource with a create, in order: create with valid data (the request's
declared example, else generated), read it back (every field sent, with the same value),
find it in its list (and paging over the list finds it exactly once, with a total that
counts every page), merge a PATCH, replace with a PUT (every field it sends and declares
is then read back), delete it (its read is then a 404 and it is no longer listed); an
unknown ID is a 404, and two creates give two IDs.
Each check exists only where the document declares the operations it needs, says what
it expected and what it saw, and gives a curl line that reproduces it (credentials as
`$CONTRACT_TOKEN`, `$CONTRACT_API_KEY`, `$CONTRACT_BASIC`: redaction.py). Whatever a check created is
deleted at the end, where the document has a delete.

A scoped resource (`/collections/{collectionId}/data`) is checked under a parent created
for it where the parent is a resource with a create, else under the value of
CONTRACT_PATH_<NAME> (`CONTRACT_PATH_COLLECTIONID=notes`), else the parameter's example.
"""

from __future__ import annotations

import base64
import copy
import json
import os
import secrets
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import requests

from contract_tests.redaction import SECRETS
from mockserver.contract.index import Contract, Operation
from mockserver.contract.pointers import lookup
from mockserver.resources import Resource, ResourceModel, Role
from mockserver.resources.values import as_text, at, is_page_size, put, redrawn

TIMEOUT_SECONDS = 30
MAX_PAGES = 50
PASSED, FAILED, SKIPPED = "passed", "failed", "skipped"
SKIP = "skip: "  # a CheckFailed that begins so: the check does not apply
CHECKS = (
    "create",
    "read back",
    "listed",
    "paged once",
    "filtered",
    "merge",
    "replace",
    "delete",
    "unknown id",
    "two ids",
)


class CheckFailed(AssertionError):
    pass


@dataclass
class Check:
    resource: str
    name: str
    outcome: str
    detail: str = ""

    def line(self) -> str:
        return f"{self.resource}: {self.name}: {self.outcome}" + (f": {self.detail}" if self.detail else "")


@dataclass(frozen=True)
class Credentials:
    """What the suite sends for each security scheme, from the environment."""

    token: str | None = None  # bearer, OAuth2, OpenID Connect
    api_key: str | None = None  # every apiKey scheme, where it names
    basic: str | None = None  # user:password

    def __post_init__(self) -> None:
        # Known from now on to every line the suite prints (redaction.py).
        SECRETS.add(self.token, "CONTRACT_TOKEN")
        SECRETS.add(self.api_key, "CONTRACT_API_KEY")
        SECRETS.add_basic(self.basic, "CONTRACT_BASIC")

    @classmethod
    def from_env(cls) -> Credentials:
        return cls(
            os.environ.get("CONTRACT_TOKEN") or None,
            os.environ.get("CONTRACT_API_KEY") or None,
            os.environ.get("CONTRACT_BASIC") or None,
        )

    def missing(self, contract: Contract) -> list[str]:
        """The variables the document's required schemes need and the environment lacks."""
        needed: set[str] = set()
        for operation in contract.operations:
            if (
                operation.security
                and all(operation.security)
                and not any(self._covers(contract, alternative) for alternative in operation.security)
            ):
                needed |= {
                    self._variable(contract, name) or name
                    for name in operation.security[0]
                    if self._variable(contract, name)
                }
        return sorted(needed)

    def _covers(self, contract: Contract, alternative: dict) -> bool:
        return all(self._value(contract, name) is not None for name in alternative)

    def _variable(self, contract: Contract, name: str) -> str | None:
        scheme = contract.security_schemes.get(name) or {}
        kind = scheme.get("type")
        if kind == "apiKey":
            return "CONTRACT_API_KEY"
        if kind == "http" and str(scheme.get("scheme", "")).lower() == "basic":
            return "CONTRACT_BASIC"
        if kind in ("http", "oauth2", "openIdConnect"):
            return "CONTRACT_TOKEN"
        return None

    def schemathesis_auth(self, contract: Contract) -> dict[str, dict[str, str]]:
        """schemathesis's auth settings for each scheme these credentials cover."""
        auth = {}
        for name in contract.security_schemes:
            variable, value = self._variable(contract, name), self._value(contract, name)
            if value is None:
                continue
            if variable == "CONTRACT_API_KEY":
                auth[name] = {"api_key": value}
            elif variable == "CONTRACT_BASIC":
                username, _, password = value.partition(":")
                auth[name] = {"username": username, "password": password}
            else:
                auth[name] = {"bearer": value}
        return auth

    def _value(self, contract: Contract, name: str) -> str | None:
        return {"CONTRACT_API_KEY": self.api_key, "CONTRACT_BASIC": self.basic, "CONTRACT_TOKEN": self.token}.get(
            self._variable(contract, name) or ""
        )

    def apply(self, contract: Contract, operation: Operation, headers: dict, query: dict, cookies: dict) -> None:
        """Put the credentials of the first security alternative the environment covers."""
        for alternative in operation.security or []:
            if not self._covers(contract, alternative):
                continue
            for name in alternative:
                scheme = contract.security_schemes.get(name) or {}
                value = self._value(contract, name)
                if scheme.get("type") == "apiKey":
                    where = {"header": headers, "query": query, "cookie": cookies}.get(scheme.get("in"), headers)
                    where[str(scheme.get("name"))] = value
                elif self._variable(contract, name) == "CONTRACT_BASIC":
                    headers["Authorization"] = "Basic " + base64.b64encode(str(value).encode()).decode()
                else:
                    headers["Authorization"] = f"Bearer {value}"
            return


@dataclass
class _Sent:
    response: requests.Response
    curl: str


@dataclass
class Lifecycles:
    """The lifecycle checks of `model`'s resources against the server at `base_url`."""

    contract: Contract
    model: ResourceModel
    base_url: str
    credentials: Credentials = field(default_factory=Credentials.from_env)
    session: requests.Session = field(default_factory=requests.Session)

    def __post_init__(self) -> None:
        # Imported here: the generator and the schema checker pull in jsonschema's format
        # checkers (a second of import), which a run of the openapi.yaml suite never needs.
        from mockserver.pipeline.respond.generate import Generator
        from mockserver.pipeline.respond.negotiate import SchemaChecker

        self.base_url = self.base_url.rstrip("/")
        self.checker = SchemaChecker(self.contract.document, self.contract.version)
        self.generator = Generator(self.contract.document, self.contract.version, self.checker.is_valid)
        self.operations = {operation.operation_id: operation for operation in self.contract.operations}
        self.by_name = {resource.name: resource for resource in self.model.resources}

    # --- running ----------------------------------------------------------------------

    def checkable(self) -> list[Resource]:
        """The resources with a create and a way to see the item again (read or list)."""
        return [r for r in self.model.resources if r.role("create") and (r.role("read") or self._main_list(r))]

    def not_checkable(self, resource: Resource) -> str | None:
        """Why no lifecycle of `resource` can be run, or None."""
        create = resource.role("create")
        if create is None:
            return "the document declares no create"
        if not (resource.role("read") or self._main_list(resource)):
            return "the document declares neither a read of an item nor a list of the collection"
        responses = self.contract.document["paths"][create.path][create.method.lower()].get("responses") or {}
        if not any(str(key).startswith("2") for key in responses):
            return f"{create.operation_id} declares no 2xx answer"
        body = self.generator.resolve(
            self.contract.document["paths"][create.path][create.method.lower()].get("requestBody") or {}
        )
        media_types = [str(m).split(";")[0].strip().lower() for m in (body.get("content") or {})]
        if media_types and not any(m == "application/json" or m.endswith("+json") for m in media_types):
            return f"{create.operation_id} takes {', '.join(media_types)}: the lifecycle sends JSON bodies only"
        return None

    def run(self, resource: Resource) -> list[Check]:
        why = self.not_checkable(resource)
        if why is not None:
            return [Check(resource.name, name, SKIPPED, why) for name in CHECKS]
        checks: list[Check] = []
        created: list[tuple[Resource, dict[str, str], str]] = []  # what to delete at the end
        try:
            scope = self._scope(resource, created)
            if scope is None:
                return [Check(resource.name, name, SKIPPED, self._scope_reason(resource)) for name in CHECKS]
            self._lifecycle(resource, scope, checks, created)
        finally:
            for owner, values, item_id in reversed(created):
                self._delete_quietly(owner, values, item_id)
        return checks

    @contextmanager
    def _check(self, checks: list[Check], resource: Resource, name: str) -> Iterator[None]:
        try:
            yield
        except CheckFailed as failure:
            why = str(failure)
            if why.startswith(SKIP):
                checks.append(Check(resource.name, name, SKIPPED, why.removeprefix(SKIP)))
            else:
                checks.append(Check(resource.name, name, FAILED, why))
        else:
            checks.append(Check(resource.name, name, PASSED))

    def _lifecycle(self, resource: Resource, scope: dict[str, str], checks: list[Check], created: list) -> None:
        create, read, listing = resource.role("create"), resource.role("read"), self._main_list(resource)
        sent, item_id, answer = None, None, None
        with self._check(checks, resource, "create"):
            sent, item_id, answer = self._create(resource, create, scope)
            created.append((resource, scope, item_id))
        if item_id is None:
            checks += [Check(resource.name, name, SKIPPED, "the create failed") for name in CHECKS[1:]]
            return
        if read:
            with self._check(checks, resource, "read back"):
                item = self._read(resource, read, scope, item_id)
                self._same_fields(sent, item, self._read_url(resource, scope, item_id), "read back")
        else:
            checks.append(Check(resource.name, "read back", SKIPPED, "the document declares no read of an item"))
        if listing:
            with self._check(checks, resource, "listed"):
                self._listed(resource, listing, scope, item_id, expected=1)
            with self._check(checks, resource, "paged once"):
                self._paged_once(resource, listing, scope, item_id)
        else:
            checks += [
                Check(resource.name, name, SKIPPED, "the document declares no list of the collection")
                for name in ("listed", "paged once")
            ]
        filtered = [r for r in resource.roles("list") if r.listing and r.listing.filters]
        if filtered:
            with self._check(checks, resource, "filtered"):
                self._filtered(resource, filtered[0], scope, item_id, sent)
        else:
            checks.append(Check(resource.name, "filtered", SKIPPED, "no list with a filter named like a property"))
        for role_name, check in (("merge", "merge"), ("replace", "replace")):
            role = next((r for r in resource.roles(role_name) if r.path == resource.item_path), None)
            if role is None or not read:
                why = f"the document declares no {role_name} on the item path" if read else "no read to see it"
                checks.append(Check(resource.name, check, SKIPPED, why))
                continue
            with self._check(checks, resource, check):
                self._change(resource, role, read, scope, item_id, sent)
        delete = resource.role("delete")
        if delete:
            with self._check(checks, resource, "delete"):
                self._delete(resource, delete, read, listing, scope, item_id)
                created.pop()
        else:
            checks.append(Check(resource.name, "delete", SKIPPED, "the document declares no delete"))
        if read:
            with self._check(checks, resource, "unknown id"):
                self._unknown(resource, read, scope)
        else:
            checks.append(Check(resource.name, "unknown id", SKIPPED, "the document declares no read of an item"))
        if resource.id.property in sent or self._client_chooses_id(resource, create):
            checks.append(Check(resource.name, "two ids", SKIPPED, "the client chooses the ID"))
        else:
            with self._check(checks, resource, "two ids"):
                _, first, _ = self._create(resource, create, scope)
                created.append((resource, scope, first))
                _, second, _ = self._create(resource, create, scope)
                created.append((resource, scope, second))
                if first == second:
                    raise CheckFailed(f"two creates gave the same ID {first!r}")

    # --- the steps ----------------------------------------------------------------------

    def _create(self, resource: Resource, role: Role, scope: dict[str, str]) -> tuple[dict, str, Any]:
        body = self._new_body(resource, role)
        sent = at(body, role.request.at if role.request else "")
        exchange = self._send(role, scope, body=body)
        self._expect_success(exchange, role, "create")
        answer = _json(exchange.response)
        item = at(answer, role.response.at) if role.response else None
        id_name = resource.id.property
        item_id = None
        if isinstance(item, dict) and item.get(id_name) is not None:
            item_id = as_text(item[id_name])
        elif isinstance(sent, dict) and sent.get(id_name) is not None:
            item_id = as_text(sent[id_name])
        if item_id is None:
            raise CheckFailed(f"expected the created item's {id_name} in the answer, saw none\n{exchange.curl}")
        return sent if isinstance(sent, dict) else {}, item_id, answer

    def _read(self, resource: Resource, role: Role, scope: dict[str, str], item_id: str) -> Any:
        exchange = self._send(role, {**scope, resource.id.parameter: item_id})
        if exchange.response.status_code != 200 and not 200 <= exchange.response.status_code < 300:
            raise CheckFailed(f"expected the created item, saw {exchange.response.status_code}\n{exchange.curl}")
        return at(_json(exchange.response), role.response.at if role.response else "")

    def _same_fields(self, sent: dict, item: Any, where: str, step: str) -> None:
        if not isinstance(item, dict):
            raise CheckFailed(f"{step}: expected the item as an object, saw {_short(item)}\n{where}")
        readable = self._readable(sent)
        differ = {
            name: (value, item.get(name, "<absent>")) for name, value in readable.items() if item.get(name) != value
        }
        if differ:
            lines = "; ".join(f"{name}: sent {_short(a)}, saw {_short(b)}" for name, (a, b) in differ.items())
            raise CheckFailed(f"{step}: the fields sent are not what the server holds: {lines}\n{where}")

    def _listed(self, resource: Resource, role: Role, scope: dict[str, str], item_id: str, expected: int) -> None:
        ids, exchange = self._list_ids(resource, role, scope, self._big_page(role))
        count = ids.count(item_id)
        if count != expected:
            what = "listed once" if expected == 1 else "no longer listed"
            raise CheckFailed(f"expected {item_id} {what}, saw it {count} times in {len(ids)} items\n{exchange.curl}")

    def _paged_once(self, resource: Resource, role: Role, scope: dict[str, str], item_id: str) -> None:
        listing = role.listing
        paging = listing.paging if listing else None
        if paging is None or paging.style not in ("page", "offset"):
            raise CheckFailed("skip: the list declares no page or offset paging")
        size_name = next((p for p in paging.parameters if is_page_size(p)), None)
        position_name = next((p for p in paging.parameters if not is_page_size(p)), None)
        if size_name is None or position_name is None:
            raise CheckFailed("skip: the list's paging has no page size and position")
        seen: list[str] = []
        totals: set[Any] = set()
        last_curl = ""
        first = self._first_page(role, position_name)
        for number in range(MAX_PAGES):
            position = first + number if paging.style == "page" else number * 2
            ids, exchange = self._list_ids(resource, role, scope, {size_name: 2, position_name: position})
            last_curl = exchange.curl
            if listing.total and not listing.total.startswith("header "):
                totals.add(at(_json(exchange.response), listing.total))
            if not ids:
                break
            seen += ids
        if seen.count(item_id) != 1:
            raise CheckFailed(f"paging 2 at a time found {item_id} {seen.count(item_id)} times\n{last_curl}")
        if totals and totals != {len(seen)} and len(seen) < MAX_PAGES * 2:
            raise CheckFailed(
                f"expected a total of {len(seen)} (the items of every page), "
                f"saw {sorted(map(str, totals))}\n{last_curl}"
            )

    def _filtered(self, resource: Resource, role: Role, scope: dict, item_id: str, sent: dict) -> None:
        """Listed by a filter with the item's own value, and not by another value."""
        listing = role.listing
        found = next((f for f in listing.filters if f.property in sent), None)
        if found is None:
            raise CheckFailed(f"{SKIP}the item sent no value of {', '.join(f.property for f in listing.filters)}")
        own = sent[found.property]
        ids, exchange = self._list_ids(resource, role, scope, {found.parameter: as_text(own), **self._big_page(role)})
        if ids.count(item_id) != 1:
            raise CheckFailed(
                f"expected {item_id} listed once with {found.parameter}={as_text(own)}, "
                f"saw it {ids.count(item_id)} times\n{exchange.curl}"
            )
        other = self._other_value(role, found.parameter, own)
        if other is None:
            return
        ids, exchange = self._list_ids(resource, role, scope, {found.parameter: as_text(other), **self._big_page(role)})
        if item_id in ids:
            raise CheckFailed(
                f"expected {item_id} (its {found.property} is {as_text(own)}) not listed with "
                f"{found.parameter}={as_text(other)}, saw it\n{exchange.curl}"
            )

    def _other_value(self, role: Role, name: str, own: Any) -> Any:
        """Another valid value of a query parameter: another of its enum, else None."""
        schema = self._parameter_schema(role, name)
        items = self.generator.resolve(schema.get("items")) if self.generator.type_of(schema) == "array" else schema
        options = (items or {}).get("enum") or [] if isinstance(items, dict) else []
        return next((value for value in options if value != own), None)

    def _change(self, resource: Resource, role: Role, read: Role, scope: dict, item_id: str, sent: dict) -> None:
        values = {**scope, resource.id.parameter: item_id}
        changed_name, new_value = self._a_change(resource, role, sent)
        if changed_name is None:
            raise CheckFailed("skip: no property of the item to change with a new valid value")
        if role.role == "merge":
            body: Any = {changed_name: new_value}
            media = next((f.media_type for f in role.patch if f.kind == "merge-patch"), None)
            # the fields sent at create stay as they were, the changed one is new
            expected = {**self._readable(sent), changed_name: new_value}
        else:
            media = None
            body = {**copy.deepcopy(self._readable(sent, writing=True)), changed_name: new_value}
            # every field the PUT sent that its request declares is what the item now holds
            declared = self._request_schema(role).get("properties") or {}
            expected = {name: value for name, value in self._readable(body).items() if name in declared}
            expected[changed_name] = new_value
        if role.request and role.request.at:
            body = put({}, role.request.at, body)
        exchange = self._send(role, values, body=body, media_type=media)
        self._expect_success(exchange, role, role.role)
        item = self._read(resource, read, scope, item_id)
        self._same_fields(expected, item, exchange.curl, f"after the {role.method}")

    def _delete(self, resource: Resource, role: Role, read: Role | None, listing: Role | None, scope, item_id) -> None:
        exchange = self._send(role, {**scope, resource.id.parameter: item_id})
        self._expect_success(exchange, role, "delete")
        if read:
            again = self._send(read, {**scope, resource.id.parameter: item_id})
            if again.response.status_code != 404:
                raise CheckFailed(f"expected 404 for the deleted item, saw {again.response.status_code}\n{again.curl}")
        if listing:
            self._listed(resource, listing, scope, item_id, expected=0)

    def _unknown(self, resource: Resource, read: Role, scope: dict[str, str]) -> None:
        unknown = self._unknown_id(resource, read)
        exchange = self._send(read, {**scope, resource.id.parameter: unknown})
        if exchange.response.status_code != 404:
            raise CheckFailed(
                f"expected 404 for an ID never created ({unknown}), "
                f"saw {exchange.response.status_code}\n{exchange.curl}"
            )

    def _delete_quietly(self, resource: Resource, scope: dict[str, str], item_id: str) -> None:
        delete = resource.role("delete")
        if delete is not None:
            with suppress(CheckFailed):
                self._send(delete, {**scope, resource.id.parameter: item_id})

    # --- requests -----------------------------------------------------------------------

    def _send(
        self,
        role: Role,
        values: dict[str, str],
        body: Any = None,
        query: dict | None = None,
        media_type: str | None = None,
    ) -> _Sent:
        operation = self.operations[role.operation_id]
        path = role.path
        for name, value in values.items():
            path = path.replace("{" + name + "}", quote(str(value), safe=""))
        headers: dict[str, str] = {"Accept": "application/json"}
        query = dict(query or {})
        cookies: dict[str, str] = {}
        self.credentials.apply(self.contract, operation, headers, query, cookies)
        data = None
        if body is not None:
            data = json.dumps(body)
            headers["Content-Type"] = media_type or "application/json"
        request = requests.Request(
            role.method, self.base_url + path, headers=headers, params=query, cookies=cookies, data=data
        )
        prepared = self.session.prepare_request(request)
        curl = self._curl(prepared)
        try:
            response = self.session.send(prepared, timeout=TIMEOUT_SECONDS)
        except requests.RequestException as exc:
            raise CheckFailed(f"{role.method} {path}: {exc}\n{curl}") from None
        sent = _Sent(response, curl)
        self._conforms(sent, role)
        return sent

    def _conforms(self, sent: _Sent, role: Role) -> None:
        """A JSON answer of a declared status has the declared shape, the server's own fields
        (IDs, date-times) their declared formats."""
        responses = self.contract.document["paths"][role.path][role.method.lower()].get("responses") or {}
        status = sent.response.status_code
        key = next((k for k in (str(status), f"{status // 100}XX", "default") if k in responses), None)
        response = self.generator.resolve(responses.get(key)) if key else None
        content = response.get("content") if isinstance(response, dict) else None
        media = next((m for m in content or {} if "json" in str(m)), None)
        body = _json(sent.response)
        if media is None or body is None:
            return
        schema = (self.generator.resolve(content[media]) or {}).get("schema")
        error = self.checker.error(schema, body) if schema is not None else None
        if error is not None:
            raise CheckFailed(f"{role.method} {role.path}: the {status} answer breaks its schema: {error}\n{sent.curl}")

    def _curl(self, prepared: requests.PreparedRequest) -> str:
        parts = ["curl", "-i", "-X", str(prepared.method)]
        for name, value in prepared.headers.items():
            if name.lower() in ("authorization", "content-type", "cookie") or name.lower() not in (
                "user-agent",
                "accept-encoding",
                "accept",
                "connection",
                "content-length",
            ):
                parts += ["-H", f"{name}: {value}"]
        if prepared.body:
            body = prepared.body.decode() if isinstance(prepared.body, bytes) else str(prepared.body)
            parts += ["--data-binary", body]
        parts.append(str(prepared.url))
        return SECRETS.shell_join(parts)

    def _expect_success(self, exchange: _Sent, role: Role, step: str) -> None:
        """A success the operation declares (its 201, not any 2xx)."""
        status = exchange.response.status_code
        responses = self.contract.document["paths"][role.path][role.method.lower()].get("responses") or {}
        declared = [str(key) for key in responses if str(key).startswith("2") or str(key) in ("2XX", "2xx")]
        fits = str(status) in declared or ("2XX" in declared or "2xx" in declared) and 200 <= status < 300
        if not fits and not (not declared and 200 <= status < 300):
            expected = " or ".join(declared) or "a 2xx"
            raise CheckFailed(
                f"{step}: expected {expected}, saw {status}: {exchange.response.text[:300]}\n{exchange.curl}"
            )

    def _list_ids(self, resource: Resource, role: Role, scope: dict[str, str], query: dict) -> tuple[list[str], _Sent]:
        exchange = self._send(role, scope, query=query)
        self._expect_success(exchange, role, "list")
        listed = at(_json(exchange.response), role.listing.items if role.listing else "")
        if not isinstance(listed, list):
            raise CheckFailed(f"expected the list's items, saw {_short(listed)}\n{exchange.curl}")
        return [as_text(item.get(resource.id.property)) for item in listed if isinstance(item, dict)], exchange

    # --- data ---------------------------------------------------------------------------

    def _main_list(self, resource: Resource) -> Role | None:
        return next((r for r in resource.roles("list") if r.path == resource.collection_path), None)

    def _big_page(self, role: Role) -> dict[str, int]:
        paging = role.listing.paging if role.listing else None
        size = next((p for p in paging.parameters if is_page_size(p)), None) if paging else None
        if size is None:
            return {}
        schema = self._parameter_schema(role, size)
        return {size: int(schema.get("maximum", 100)) if isinstance(schema.get("maximum"), int) else 100}

    def _first_page(self, role: Role, name: str) -> int:
        schema = self._parameter_schema(role, name)
        minimum = schema.get("minimum")
        return int(minimum) if isinstance(minimum, int) and minimum in (0, 1) else 1

    def _parameter_schema(self, role: Role, name: str) -> dict:
        operation = self.contract.document["paths"][role.path][role.method.lower()]
        shared = self.contract.document["paths"][role.path].get("parameters") or []
        for parameter in [*(operation.get("parameters") or []), *shared]:
            parameter = self.generator.resolve(parameter)
            if isinstance(parameter, dict) and parameter.get("name") == name:
                schema = self.generator.resolve(parameter.get("schema") or {})
                return schema if isinstance(schema, dict) else {}
        return {}

    def _request_media(self, role: Role) -> dict:
        operation = self.contract.document["paths"][role.path][role.method.lower()]
        body = self.generator.resolve(operation.get("requestBody") or {})
        content = body.get("content") if isinstance(body, dict) else None
        media_type = role.request.media_type if role.request else "application/json"
        media = (content or {}).get(media_type)
        return self.generator.resolve(media) if isinstance(media, dict) else {}

    def _new_body(self, resource: Resource, role: Role) -> Any:
        """The request's declared example where it is valid, else a generated value; a
        client-chosen ID made unique."""
        media = self._request_media(role)
        schema = media.get("schema") or {}
        examples = [media["example"]] if "example" in media else []
        examples += [
            self.generator.resolve(e).get("value")
            for e in (media.get("examples") or {}).values()
            if isinstance(self.generator.resolve(e), dict)
        ]
        body = next((copy.deepcopy(e) for e in examples if e is not None and self.checker.is_valid(schema, e)), None)
        if body is None:
            body = self.generator.value(schema, f"lifecycle/{resource.name}", writing=True)
        item = at(body, role.request.at if role.request else "")
        if isinstance(item, dict) and (resource.id.property in item or self._client_chooses_id(resource, role)):
            id_schema = self._property_schema(role, resource.id.property)
            item[resource.id.property] = self._fresh_value(id_schema, item.get(resource.id.property))
        return body

    def _client_chooses_id(self, resource: Resource, role: Role) -> bool:
        schema = self._property_schema(role, resource.id.property)
        return bool(schema) and not schema.get("readOnly") and resource.id.property in self._required(role)

    def _required(self, role: Role) -> list[str]:
        schema = self._request_schema(role)
        return list(schema.get("required") or [])

    def _request_schema(self, role: Role) -> dict:
        if role.request is None:
            return {}
        schema = self.generator.resolve(lookup(self.contract.document, role.request.schema, {}))
        return self.generator.merged(schema) if isinstance(schema, dict) else {}

    def _property_schema(self, role: Role, name: str) -> dict:
        schema = (self._request_schema(role).get("properties") or {}).get(name)
        schema = self.generator.resolve(schema) if schema is not None else {}
        return schema if isinstance(schema, dict) else {}

    def _fresh_value(self, schema: dict, like: Any) -> Any:
        kind = self.generator.type_of(schema) if schema else "string"
        if kind in ("integer", "number"):
            low = int(schema.get("minimum", 1)) if isinstance(schema.get("minimum"), int | float) else 1
            high = int(schema.get("maximum", 2**31)) if isinstance(schema.get("maximum"), int | float) else 2**31
            return secrets.randbelow(max(high - low, 1)) + low
        for candidate in (str(uuid.uuid4()), uuid.uuid4().hex[:24], f"lc{uuid.uuid4().hex[:10]}"):
            if self.checker.is_valid(schema, candidate):
                return candidate
        base = like if isinstance(like, str) else str(self.generator.value(schema, "lifecycle/id"))
        for attempt in range(64):
            candidate = redrawn(base, 3 + attempt)
            if self.checker.is_valid(schema, candidate):
                return candidate
        return base

    def _a_change(self, resource: Resource, role: Role, sent: dict) -> tuple[str | None, Any]:
        """A property the request may set, and a new valid value for it (not what was sent)."""
        schema = self._request_schema(role)
        for name, prop in (schema.get("properties") or {}).items():
            prop = self.generator.resolve(prop)
            if name == resource.id.property or not isinstance(prop, dict) or prop.get("readOnly"):
                continue
            prop = self.generator.merged(prop)
            if self.generator.type_of(prop) != "string" or prop.get("format") in ("date-time", "date", "binary"):
                continue
            options = [v for v in prop.get("enum") or [] if v != sent.get(name)]
            if prop.get("enum"):
                if options:
                    return name, options[0]
                continue
            for candidate in (f"changed {_hex(6)}", f"changed-{_hex(6)}", redrawn(str(sent.get(name, "")), 3)):
                if candidate != sent.get(name) and self.checker.is_valid(prop, candidate):
                    return name, candidate
        return None, None

    def _unknown_id(self, resource: Resource, read: Role) -> str:
        schema = self._parameter_schema(read, resource.id.parameter)
        value = self._fresh_value(schema, None)
        return as_text(value)

    def _readable(self, sent: dict, writing: bool = False) -> dict:
        """The fields sent that a server hands back: all but writeOnly ones (a password)."""
        return {name: value for name, value in (sent or {}).items() if writing or not self._write_only(name)}

    def _write_only(self, name: str) -> bool:
        return name.lower() in ("password", "secret", "passwordconfirmation")

    def _read_url(self, resource: Resource, scope: dict, item_id: str) -> str:
        path = resource.item_path
        for key, value in {**scope, resource.id.parameter: item_id}.items():
            path = path.replace("{" + key + "}", quote(str(value), safe=""))
        return f"GET {self.base_url}{path}"

    # --- scopes -------------------------------------------------------------------------

    def _scope(self, resource: Resource, created: list, depth: int = 0) -> dict[str, str] | None:
        """Values for the resource's parent path parameters: a parent created for it, an
        environment variable, the parameter's example; None when there is none."""
        values: dict[str, str] = {}
        parent = self.by_name.get(resource.parent) if resource.parent else None
        if parent is not None and depth < 4 and parent.scope == resource.scope[:-1]:
            parent_scope = self._scope(parent, created, depth + 1)
            parent_id = None
            if parent_scope is not None and parent.role("create") and not self.not_checkable(parent):
                try:
                    _, parent_id, _ = self._create(parent, parent.role("create"), parent_scope)
                    created.append((parent, parent_scope, parent_id))
                except CheckFailed:
                    parent_id = None
            listing = self._main_list(parent)
            if parent_scope is not None and parent_id is None and listing is not None:
                # No parent of its own: one the server has already.
                try:
                    ids, _ = self._list_ids(parent, listing, parent_scope, self._big_page(listing))
                except CheckFailed:
                    ids = []
                parent_id = ids[0] if ids else None
            if parent_id is not None:
                return {**parent_scope, resource.scope[-1]: parent_id}
        for name in resource.scope:
            value = os.environ.get(f"CONTRACT_PATH_{name.upper()}") or self._example(resource, name)
            if value is None:
                return None
            values[name] = value
        return values

    def _scope_reason(self, resource: Resource) -> str:
        names = ", ".join(f"CONTRACT_PATH_{name.upper()}" for name in resource.scope)
        return f"needs a value for {', '.join(resource.scope)}: set {names}"

    def _example(self, resource: Resource, name: str) -> str | None:
        role = resource.operations[0]
        operation = self.contract.document["paths"][role.path]
        for parameter in [
            *(operation.get("parameters") or []),
            *((operation.get(role.method.lower()) or {}).get("parameters") or []),
        ]:
            parameter = self.generator.resolve(parameter)
            if isinstance(parameter, dict) and parameter.get("name") == name and parameter.get("in") == "path":
                if "example" in parameter:
                    return as_text(parameter["example"])
                schema = self.generator.resolve(parameter.get("schema") or {})
                return as_text(self.generator.value(schema, f"lifecycle/{name}", name))
        return None


def _json(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 120 else text[:117] + "..."


def _hex(length: int) -> str:
    return uuid.uuid4().hex[:length]
