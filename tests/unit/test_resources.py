"""The resource model inferred from a document alone (mockserver/resources/infer.py): on
the project's own documents, on small ones written here for each shape the rules name,
and on the full Mudbase description when it is at hand. No app is built."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support import MUDBASE_OPENAPI as MUDBASE
from support import ROOT

from mockserver.behaviours import mock_additions
from mockserver.contract.index import Contract
from mockserver.resources import ResourceModel, infer
from mockserver.resources.infer import (
    BENEATH_ITEM,
    BESIDE_COLLECTION,
    NO_COLLECTION,
    NO_ID,
    NO_ITEM_PATH,
    NO_ITEM_ROLE,
    NO_ROLE,
    ROLES,
)

SPECS = ROOT / "tests" / "specs"


def model_of(path: Path) -> ResourceModel:
    return infer(Contract(path, mock_additions()))


def accounted(path: Path, model: ResourceModel) -> None:
    """Every operation of the document is in a resource's roles or skipped, once."""
    contract = Contract(path)
    placed = [(role.method, role.path) for resource in model.resources for role in resource.operations]
    skipped = [(skip.method, skip.path) for skip in model.skipped]
    assert sorted(placed + skipped) == sorted((op.method, op.path) for op in contract.operations)
    assert all(skip.reason and skip.rule for skip in model.skipped)
    for resource in model.resources:
        assert resource.id.reason and resource.schema_reason and resource.reasons
        assert all(role.reason and role.role in ROLES for role in resource.operations)


def roles(model: ResourceModel, name: str) -> dict[str, str | list[str]]:
    """role -> operationId (a list for `list`, which a resource may have more than one of)."""
    resource = model.resource(name)
    assert resource is not None, [r.name for r in model.resources]
    found: dict[str, str | list[str]] = {}
    for role in resource.operations:
        if role.role == "list":
            found.setdefault("list", []).append(role.operation_id)  # type: ignore[union-attr]
        else:
            found[role.role] = role.operation_id
    return found


def rules(model: ResourceModel) -> dict[str, str]:
    """operationId -> the rule it was skipped by."""
    return {skip.operation_id: skip.rule for skip in model.skipped}


# --- small documents, one shape each -----------------------------------------------------


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def json_content(schema: dict, media_type: str = "application/json") -> dict:
    return {media_type: {"schema": schema}}


def operation(
    operation_id: str,
    *,
    path: tuple[str, ...] = (),
    query: tuple[str, ...] = (),
    body: dict | None = None,
    answer: dict | None = None,
    status: str = "200",
    headers: dict | None = None,
    patch_types: tuple[str, ...] = (),
) -> dict:
    parameters = [{"name": p, "in": "path", "required": True, "schema": {"type": "string"}} for p in path]
    parameters += [{"name": q, "in": "query", "schema": {"type": "string"}} for q in query]
    response: dict = {"description": "ok"}
    if answer is not None:
        response["content"] = json_content(answer)
    if headers:
        response["headers"] = headers
    node: dict = {"operationId": operation_id, "parameters": parameters, "responses": {status: response}}
    if body is not None:
        content = {media: {"schema": body} for media in patch_types} if patch_types else json_content(body)
        node["requestBody"] = {"required": True, "content": content}
    return node


def write(tmp_path: Path, paths: dict, schemas: dict | None = None) -> Path:
    document = {
        "openapi": "3.0.3",
        "info": {"title": "Shapes", "version": "1"},
        "paths": paths,
        "components": {"schemas": schemas or {}},
    }
    path = tmp_path / "shapes.json"
    path.write_text(json.dumps(document))
    return path


def infer_paths(tmp_path: Path, paths: dict, schemas: dict | None = None) -> ResourceModel:
    path = write(tmp_path, paths, schemas)
    model = model_of(path)
    accounted(path, model)
    return model


PET = {
    "type": "object",
    "required": ["name"],
    "properties": {
        "id": {"type": "integer", "format": "int64"},
        "name": {"type": "string"},
        "status": {"type": "string", "enum": ["available", "sold"]},
        "tags": {"type": "array", "items": {"type": "string"}},
        "category": {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}},
    },
}
NEW_PET = {"type": "object", "properties": {"name": {"type": "string"}, "category": PET["properties"]["category"]}}


def test_an_item_path_and_its_collection_have_every_role(tmp_path):
    model = infer_paths(
        tmp_path,
        {
            "/pets": {
                "get": operation("listPets", answer={"type": "array", "items": ref("Pet")}),
                "post": operation("createPet", body=ref("NewPet"), answer=ref("Pet"), status="201"),
            },
            "/pets/{petId}": {
                "get": operation("getPet", path=("petId",), answer=ref("Pet")),
                "put": operation("replacePet", path=("petId",), body=ref("Pet"), answer=ref("Pet")),
                "patch": operation("patchPet", path=("petId",), body=ref("NewPet"), answer=ref("Pet")),
                "delete": operation("deletePet", path=("petId",), status="204"),
            },
        },
        {"Pet": PET, "NewPet": NEW_PET},
    )
    [pets] = model.resources
    assert (pets.name, pets.collection_path, pets.item_path) == ("pets", "/pets", "/pets/{petId}")
    assert roles(model, "pets") == {
        "create": "createPet",
        "list": ["listPets"],
        "read": "getPet",
        "replace": "replacePet",
        "merge": "patchPet",
        "delete": "deletePet",
    }
    assert pets.reasons[0] == "/pets/{petId}: a path ending in a parameter is an item"
    assert "is its collection: it has POST createPet (create) and GET listPets" in pets.reasons[1]
    assert (pets.id.parameter, pets.id.property, pets.id.source) == (
        "petId",
        "id",
        "/components/schemas/Pet/properties/id",
    )
    assert pets.id.reason.startswith("petId -> id: petId names a pet's ID")
    assert pets.schema == "/components/schemas/Pet"
    assert pets.schema_reason.startswith("the read answer of GET getPet")
    assert pets.scope == () and pets.parent is None
    create = pets.role("create")
    # A create's body has no id (the server gives it): its fields are the item, bare.
    assert (create.request.at, create.request.schema) == ("", "/components/schemas/NewPet")
    assert "without id" in create.request.reason
    assert (create.response.status, create.response.at, create.response.schema) == (
        "201",
        "",
        "/components/schemas/Pet",
    )
    assert pets.role("delete").response is None  # a 204 holds no item
    listing = pets.role("list").listing
    assert (listing.wrapper, listing.items, listing.item_schema) == (None, "", "/components/schemas/Pet")
    assert listing.reason == "a bare array, of the item's schema"
    assert model.skipped == ()


def test_a_put_on_the_collection_with_the_id_in_its_body_replaces(tmp_path):
    model = infer_paths(
        tmp_path,
        {
            "/pet": {
                "post": operation("addPet", body=ref("Pet"), answer=ref("Pet")),
                "put": operation("updatePet", body=ref("Pet"), answer=ref("Pet")),
                "patch": operation("patchSomePet", body=ref("NewPet"), answer=ref("Pet")),
            },
            "/pet/{petId}": {"get": operation("getPetById", path=("petId",), answer=ref("Pet"))},
        },
        {"Pet": PET, "NewPet": NEW_PET},
    )
    replace = model.resource("pet").role("replace")
    assert (replace.operation_id, replace.method, replace.path) == ("updatePet", "PUT", "/pet")
    assert replace.reason == "PUT on the collection /pet with the id (id) in the body replaces the item it names"
    assert replace.request.at == ""
    # A PATCH whose body cannot name the item (no id in it) is no role.
    assert rules(model) == {"patchSomePet": NO_ROLE}
    assert "its body has no id" in model.skipped[0].reason


def test_a_list_beside_the_collection_filtered_by_a_property_is_a_list(tmp_path):
    pets = {"type": "array", "items": ref("Pet")}
    model = infer_paths(
        tmp_path,
        {
            "/pet": {"post": operation("addPet", body=ref("Pet"), answer=ref("Pet"))},
            "/pet/findByStatus": {"get": operation("findPetsByStatus", query=("status",), answer=pets)},
            "/pet/findByTags": {"get": operation("findPetsByTags", query=("tags", "limit"), answer=pets)},
            "/pet/findAll": {"get": operation("findAll", query=("sort",), answer=pets)},  # no filter
            "/pet/{petId}": {"get": operation("getPetById", path=("petId",), answer=ref("Pet"))},
        },
        {"Pet": PET},
    )
    assert roles(model, "pet")["list"] == ["findPetsByStatus", "findPetsByTags"]
    by_status, by_tags = model.resource("pet").roles("list")
    assert by_status.path == "/pet/findByStatus"
    assert (
        by_status.reason
        == "GET /pet/findByStatus, beside the collection, answers a list of the items filtered by status"
    )
    [status] = by_status.listing.filters
    assert (status.parameter, status.property) == ("status", "status")
    assert status.reason == "status -> status: a query parameter named like a property of the items"
    assert [f.parameter for f in by_tags.listing.filters] == ["tags"]  # limit pages, it filters nothing
    assert by_tags.listing.paging.parameters == ("limit",)
    assert rules(model) == {"findAll": BESIDE_COLLECTION}


ORDER = {
    "type": "object",
    "properties": {
        "id": {"type": "integer", "format": "int64"},
        "petId": {"type": "integer", "format": "int64"},
        "quantity": {"type": "integer"},
    },
}


def test_a_create_at_a_singular_collection_with_its_item_below(tmp_path):
    model = infer_paths(
        tmp_path,
        {
            "/store/order": {"post": operation("placeOrder", body=ref("Order"), answer=ref("Order"))},
            "/store/order/{orderId}": {
                "get": operation("getOrderById", path=("orderId",), answer=ref("Order")),
                "delete": operation("deleteOrder", path=("orderId",)),
            },
            "/store/inventory": {"get": operation("getInventory", answer={"type": "object"})},
        },
        {"Order": ORDER},
    )
    order = model.resource("order")
    assert roles(model, "order") == {"create": "placeOrder", "read": "getOrderById", "delete": "deleteOrder"}
    # The order's petId is another thing's ID: orderId names the order's own id.
    assert (order.id.parameter, order.id.property) == ("orderId", "id")
    assert rules(model) == {"getInventory": NO_ITEM_PATH}


EVENT = {
    "type": "object",
    "properties": {"eventId": {"type": "string"}, "title": {"type": "string"}, "when": {"type": "string"}},
}


def test_wrapped_bodies_record_where_the_item_sits(tmp_path):
    one = {"type": "object", "properties": {"data": ref("Event"), "message": {"type": "string"}}}
    page = {
        "type": "object",
        "properties": {
            "data": {"type": "array", "items": ref("Event")},
            "total": {"type": "integer"},
            "next": {"type": "string", "nullable": True},
        },
    }
    model = infer_paths(
        tmp_path,
        {
            "/events": {
                "get": operation("listEvents", query=("offset", "limit", "title"), answer=page),
                "post": operation(
                    "createEvent", body={"type": "object", "properties": {"data": ref("Event")}}, answer=one
                ),
            },
            "/events/{eventId}": {"get": operation("getEvent", path=("eventId",), answer=one)},
        },
        {"Event": EVENT},
    )
    events = model.resource("events")
    assert (events.id.parameter, events.id.property) == ("eventId", "eventId")
    assert events.id.reason.startswith("eventId -> eventId: the item schema's property of that name")
    assert events.schema == "/components/schemas/Event"
    read = events.role("read").response
    assert (read.at, read.schema) == ("/data", "/components/schemas/Event")
    assert read.reason == "under data, a wrapper property: the item's schema"
    create = events.role("create")
    assert (create.request.at, create.response.at) == ("/data", "/data")
    listing = events.role("list").listing
    assert (listing.wrapper, listing.items, listing.total, listing.next) == ("data", "/data", "/total", "/next")
    assert (listing.paging.style, listing.paging.parameters) == ("offset", ("offset", "limit"))
    assert [f.property for f in listing.filters] == ["title"]


def test_a_list_in_a_data_object_with_its_pagination_beside_it(tmp_path):
    page = {
        "type": "object",
        "properties": {
            "success": {"type": "boolean"},
            "data": {
                "type": "object",
                "properties": {
                    "results": {"type": "array", "items": ref("Event")},
                    "pagination": {
                        "type": "object",
                        "properties": {"totalCount": {"type": "integer"}, "nextCursor": {"type": "string"}},
                    },
                },
            },
        },
    }
    model = infer_paths(
        tmp_path,
        {
            "/events": {"get": operation("listEvents", query=("cursor", "pageSize"), answer=page)},
            "/events/{eventId}": {"get": operation("getEvent", path=("eventId",), answer=ref("Event"))},
        },
        {"Event": EVENT},
    )
    listing = model.resource("events").role("list").listing
    assert (listing.wrapper, listing.items) == ("results", "/data/results")
    assert (listing.total, listing.next) == ("/data/pagination/totalCount", "/data/pagination/nextCursor")
    assert (listing.paging.style, listing.paging.parameters) == ("cursor", ("cursor", "pageSize"))


def test_a_total_in_a_header(tmp_path):
    headers = {"X-Total-Count": {"schema": {"type": "integer"}}, "Link": {"schema": {"type": "string"}}}
    model = infer_paths(
        tmp_path,
        {
            "/events": {
                "get": operation("listEvents", answer={"type": "array", "items": ref("Event")}, headers=headers)
            },
            "/events/{eventId}": {"get": operation("getEvent", path=("eventId",), answer=ref("Event"))},
        },
        {"Event": EVENT},
    )
    listing = model.resource("events").role("list").listing
    assert (listing.total, listing.next) == ("header X-Total-Count", "header Link")


@pytest.mark.parametrize(
    "query, style, parameters",
    [
        (("page", "limit"), "page", ("page", "limit")),
        (("offset", "limit"), "offset", ("offset", "limit")),
        (("page", "per_page"), "page", ("page", "per_page")),
        (("pageSize", "page"), "page", ("page", "pageSize")),
        (("cursor", "limit"), "cursor", ("cursor", "limit")),
        (("after",), "cursor", ("after",)),
        (("skip", "limit"), "offset", ("skip", "limit")),
        (("limit",), "limit", ("limit",)),
        (("sort", "q"), None, None),
    ],
)
def test_paging_parameters_of_each_kind(tmp_path, query, style, parameters):
    page = {"type": "object", "properties": {"items": {"type": "array", "items": ref("Event")}}}
    model = infer_paths(
        tmp_path,
        {
            "/events": {"get": operation("listEvents", query=query, answer=page)},
            "/events/{eventId}": {"get": operation("getEvent", path=("eventId",), answer=ref("Event"))},
        },
        {"Event": EVENT},
    )
    paging = model.resource("events").role("list").listing.paging
    if style is None:
        assert paging is None
    else:
        assert (paging.style, paging.parameters) == (style, parameters)
        assert paging.reason


def test_parent_path_parameters_scope_the_items(tmp_path):
    item = {"type": "object", "properties": {"_id": {"type": "string"}, "name": {"type": "string"}}}
    listed = {"type": "array", "items": ref("Thing")}
    model = infer_paths(
        tmp_path,
        {
            "/projects": {"post": operation("createProject", body=ref("Thing"), answer=ref("Thing"))},
            "/projects/{projectId}": {"get": operation("getProject", path=("projectId",), answer=ref("Thing"))},
            "/projects/{projectId}/chats": {"get": operation("listChats", path=("projectId",), answer=listed)},
            "/projects/{projectId}/chats/{chatId}": {
                "get": operation("getChat", path=("projectId", "chatId"), answer=ref("Thing"))
            },
            "/projects/{projectId}/chats/{chatId}/messages": {
                "post": operation("sendMessage", path=("projectId", "chatId"), body=ref("Thing"), answer=ref("Thing"))
            },
            "/projects/{projectId}/chats/{chatId}/messages/{messageId}": {
                "delete": operation("deleteMessage", path=("projectId", "chatId", "messageId"))
            },
            "/projects/{projectId}/chats/{chatId}/archive": {
                "post": operation("archiveChat", path=("projectId", "chatId"))
            },
        },
        {"Thing": item},
    )
    assert [(r.name, r.scope, r.parent) for r in model.resources] == [
        ("projects", (), None),
        ("chats", ("projectId",), "projects"),
        ("messages", ("projectId", "chatId"), "chats"),
    ]
    assert model.resource("messages").id.property == "_id"
    assert rules(model) == {"archiveChat": BENEATH_ITEM}


def test_the_id_named_by_the_parameters_schema(tmp_path):
    widget = {
        "type": "object",
        "properties": {
            "code": {"type": "string", "pattern": "^W-[0-9]+$"},
            "serial": {"type": "string", "format": "uuid"},
            "name": {"type": "string"},
        },
    }
    paths = {
        "/widgets": {"get": operation("listWidgets", answer={"type": "array", "items": ref("Widget")})},
        "/widgets/{key}": {"get": operation("getWidget", path=("key",), answer=ref("Widget"))},
        "/gadgets": {"get": operation("listGadgets", answer={"type": "array", "items": ref("Widget")})},
        "/gadgets/{ref}": {"get": operation("getGadget", path=("ref",), answer=ref("Widget"))},
    }
    paths["/widgets/{key}"]["get"]["parameters"][0]["schema"] = {"type": "string", "pattern": "^W-[0-9]+$"}
    paths["/gadgets/{ref}"]["get"]["parameters"][0]["schema"] = {"type": "string", "format": "uuid"}
    model = infer_paths(tmp_path, paths, {"Widget": widget})
    key = model.resource("widgets").id
    assert (key.parameter, key.property) == ("key", "code")
    assert key.reason.startswith("key -> code: the only property of the item schema")
    assert key.reason.endswith("with the parameter's pattern, ^W-[0-9]+$")
    assert model.resource("gadgets").id.property == "serial"


@pytest.mark.parametrize(
    "parameter, properties, expected",
    [
        ("petId", ("id", "name"), "id"),
        ("eventId", ("eventId", "id"), "eventId"),  # its own name first
        ("documentId", ("_id", "createdAt"), "_id"),
        ("username", ("username", "email"), "username"),
        ("id", ("_id",), "_id"),
        ("user_id", ("id",), "id"),
    ],
)
def test_the_id_named_by_the_parameters_name(tmp_path, parameter, properties, expected):
    thing = {"type": "object", "properties": {name: {"type": "string"} for name in properties}}
    model = infer_paths(
        tmp_path,
        {
            "/things": {"post": operation("createThing", body=ref("Thing"), answer=ref("Thing"))},
            f"/things/{{{parameter}}}": {"get": operation("getThing", path=(parameter,), answer=ref("Thing"))},
        },
        {"Thing": thing},
    )
    binding = model.resource("things").id
    assert (binding.parameter, binding.property) == (parameter, expected)
    assert binding.reason.startswith(f"{parameter} -> {expected}: ")


@pytest.mark.parametrize(
    "media_types, kinds",
    [
        (("application/merge-patch+json",), ["merge-patch"]),
        (("application/json-patch+json",), ["json-patch"]),
        (("application/json",), ["merge-patch"]),
        (("application/merge-patch+json", "application/json-patch+json"), ["merge-patch", "json-patch"]),
    ],
)
def test_a_patch_is_a_merge_of_the_kind_its_media_type_says(tmp_path, media_types, kinds):
    model = infer_paths(
        tmp_path,
        {
            "/pets": {"post": operation("createPet", body=ref("Pet"), answer=ref("Pet"))},
            "/pets/{petId}": {
                "patch": operation("patchPet", path=("petId",), body=ref("NewPet"), patch_types=media_types),
            },
        },
        {"Pet": PET, "NewPet": NEW_PET},
    )
    merge = model.resource("pets").role("merge")
    assert [f.kind for f in merge.patch] == kinds
    assert [f.media_type for f in merge.patch] == list(media_types)
    assert all(f.reason for f in merge.patch)


def test_a_json_patch_array_under_application_json(tmp_path):
    operations = {"type": "array", "items": {"type": "object", "properties": {"op": {}, "path": {}, "value": {}}}}
    model = infer_paths(
        tmp_path,
        {
            "/pets": {"post": operation("createPet", body=ref("Pet"), answer=ref("Pet"))},
            "/pets/{petId}": {"patch": operation("patchPet", path=("petId",), body=operations, answer=ref("Pet"))},
        },
        {"Pet": PET},
    )
    [kind] = model.resource("pets").role("merge").patch
    assert kind.kind == "json-patch"


def test_where_the_rules_do_not_apply_each_operation_is_skipped_with_why(tmp_path):
    blob = {"type": "object", "properties": {"title": {"type": "string"}}}
    model = infer_paths(
        tmp_path,
        {
            "/health": {"get": operation("health", answer={"type": "object"})},
            "/reports/{reportId}": {"get": operation("getReport", path=("reportId",), answer=ref("Blob"))},
            "/resets/{token}": {"post": operation("resetPassword", path=("token",))},
            "/logs": {"get": operation("logSummary", answer=ref("Blob"))},  # an object, no list
            "/logs/{logId}": {"get": operation("getLog", path=("logId",), answer=ref("Blob"))},
            "/notes": {"post": operation("createNote", body=ref("Blob"), answer=ref("Blob"))},
            "/notes/{noteId}": {"get": operation("getNote", path=("noteId",), answer=ref("Blob"))},
            "/pets": {
                "post": operation("createPet", body=ref("Pet"), answer=ref("Pet")),
                "delete": operation("deleteAllPets"),
            },
            "/pets/{petId}": {
                "get": operation("getPet", path=("petId",), answer=ref("Pet")),
                "post": operation("feedPet", path=("petId",)),
            },
            "/pets/{petId}/photos": {"post": operation("uploadPhoto", path=("petId",))},
        },
        {"Pet": PET, "Blob": blob},
    )
    assert [r.name for r in model.resources] == ["pets"]
    assert rules(model) == {
        "health": NO_ITEM_PATH,
        "getReport": NO_COLLECTION,
        "resetPassword": NO_ITEM_ROLE,
        "logSummary": NO_COLLECTION,
        "getLog": NO_COLLECTION,
        "createNote": NO_ID,
        "getNote": NO_ID,
        "deleteAllPets": NO_ROLE,
        "feedPet": NO_ROLE,
        "uploadPhoto": BENEATH_ITEM,
    }
    why = {skip.operation_id: skip.reason for skip in model.skipped}
    assert why["getReport"] == "/reports/{reportId} has no collection: /reports is no path of the document"
    assert why["logSummary"] == "/logs is no collection of /logs/{logId}: it has no POST and no GET answering a list"
    assert why["createNote"].startswith("noteId names no property of the item")
    assert why["uploadPhoto"].startswith("beneath the item path /pets/{petId} of pets")


def test_two_collections_of_one_name_are_told_apart(tmp_path):
    listed = {"type": "array", "items": ref("Pet")}
    model = infer_paths(
        tmp_path,
        {
            "/wallet/webhooks": {"get": operation("listWalletHooks", answer=listed)},
            "/wallet/webhooks/{webhookId}": {"get": operation("getWalletHook", path=("webhookId",), answer=ref("Pet"))},
            "/billing/webhooks": {"get": operation("listBillingHooks", answer=listed)},
            "/billing/webhooks/{webhookId}": {
                "get": operation("getBillingHook", path=("webhookId",), answer=ref("Pet"))
            },
        },
        {"Pet": PET},
    )
    assert [r.name for r in model.resources] == ["wallet.webhooks", "billing.webhooks"]


def test_the_model_as_json_has_camel_case_keys(tmp_path):
    document = model_of(SPECS / "petstore.yaml").document()
    assert json.loads(json.dumps(document)) == document
    [pet] = document["resources"]
    assert {"collectionPath", "itemPath", "schemaReason"} <= set(pet)
    assert {"operationId", "method", "path", "role"} <= set(pet["operations"][0])
    assert {"operationId", "rule", "reason"} <= set(document["skipped"][0])


# --- the project's own documents ---------------------------------------------------------


def test_petstore():
    model = model_of(SPECS / "petstore.yaml")
    accounted(SPECS / "petstore.yaml", model)
    assert roles(model, "pet") == {
        "create": "addPet",
        "list": ["findPetsByStatus"],
        "read": "getPetById",
        "delete": "deletePet",
    }
    pet = model.resource("pet")
    assert (pet.collection_path, pet.item_path, pet.id.property, pet.schema) == (
        "/pet",
        "/pet/{petId}",
        "id",
        "/components/schemas/Pet",
    )
    assert [f.parameter for f in pet.role("list").listing.filters] == ["status"]
    # /store/order has a POST but no item path below it: no resource (yet).
    assert rules(model) == {"getInventory": NO_ITEM_PATH, "placeOrder": NO_ITEM_PATH, "logoutUser": NO_ITEM_PATH}


def test_library_31():
    model = model_of(SPECS / "library_31.yaml")
    accounted(SPECS / "library_31.yaml", model)
    books = model.resource("books")
    assert roles(model, "books") == {"create": "addBook", "list": ["listBooks"], "read": "getBook"}
    assert (books.id.parameter, books.id.property) == ("isbn", "isbn")
    create = books.role("create")
    assert (create.request.schema, create.response.schema) == (
        "/components/schemas/NewBook",
        "/components/schemas/Book",
    )
    listing = books.role("list").listing
    assert (listing.paging.style, listing.total) == ("limit", "header X-Total-Count")


def test_base_path_has_a_list_but_no_item():
    model = model_of(SPECS / "base_path.yaml")
    assert model.resources == ()
    assert rules(model) == {"listOrders": NO_ITEM_PATH}


def test_the_mudbase_chat_api():
    model = model_of(ROOT / "openapi.yaml")
    accounted(ROOT / "openapi.yaml", model)
    chats = model.resource("chats")
    assert (chats.id.property, chats.scope) == ("_id", ("projectId",))
    messages = model.resource("messages")
    assert (messages.scope, messages.parent) == (("projectId", "chatId"), "chats")
    assert roles(model, "messages") == {
        "create": "sendMessage",
        "list": ["getChatMessages"],
        "merge": "editMessage",
        "delete": "deleteMessage",
    }
    assert messages.role("list").listing.items == "/data/messages"  # {"data": {"messages": [...], ...}}
    # Reactions, participants, reads and keys are actions on an item, or parts of one.
    assert {skip.rule for skip in model.skipped} == {BENEATH_ITEM, NO_ITEM_PATH}


@pytest.mark.parametrize("spec", sorted(SPECS.glob("*.yaml")), ids=lambda path: path.name)
def test_every_operation_of_each_document_is_placed_or_skipped(spec):
    accounted(spec, model_of(spec))


@pytest.mark.skipif(not MUDBASE.is_file(), reason=f"{MUDBASE} is absent")
def test_the_full_mudbase_description():
    model = model_of(MUDBASE)
    accounted(MUDBASE, model)
    data = model.resource("data")
    assert data.collection_path == "/api/data/projects/{projectId}/collections/{collectionId}/data"
    assert data.item_path == data.collection_path + "/{documentId}"
    assert (data.id.parameter, data.id.property) == ("documentId", "_id")
    assert data.scope == ("projectId", "collectionId")
    assert roles(model, "data") == {
        "create": "createData",
        "list": ["listData"],
        "read": "getData",
        "merge": "updateData",
        "delete": "deleteData",
    }
    # {"message": ..., "data": {...}}: the item sits under data.
    assert data.role("read").response.at == "/data"
    assert data.role("create").response.at == "/data"
    listing = data.role("list").listing
    assert (listing.wrapper, listing.total) == ("data", "/pagination/total")
    assert (listing.paging.style, listing.paging.parameters) == ("page", ("page", "limit"))
    # The collections the data is kept in are a resource of their own.
    assert model.resource("collections").id.property == "_id"
