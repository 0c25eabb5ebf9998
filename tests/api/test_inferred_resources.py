"""The inferred resources keep state (behaviours/resources.py on store/items.py), in the
shapes the document declares: on tests/specs/bookings.yaml (wrapped answers, paging with a
total, a filter, merge and JSON patches, notes scoped under a booking, tags with a
client-chosen name and a declared 409) and the Petstore. Every response is checked
against the served document by the ContractClient."""

from __future__ import annotations

import uuid

import pytest
from support import FIXTURES, SECRET, ContractClient, bearer

from mockserver import create_app
from mockserver.store import StateLimits

pytestmark = pytest.mark.both_stores  # the memory and the Redis store keep the same rules

SPECS = __import__("pathlib").Path(__file__).parents[1] / "specs"
ADA = {"passenger": "Ada Lovelace", "flight": "BA117", "status": "held"}


def app_for(name: str, store_url: str, limits: StateLimits | None = None):
    app = create_app(
        SPECS / name,
        FIXTURES,
        jwt_secret=SECRET,
        store_url=store_url,
        store_prefix=f"test-{uuid.uuid4().hex}",
        limits=limits,
    )
    app.test_client_class = ContractClient
    return app


@pytest.fixture
def client(store_url: str):
    return app_for("bookings.yaml", store_url).test_client()


def seeds(client) -> list[dict]:
    """The bookings a fresh mock holds: the items of the document's own answers."""
    return client.get("/v1/bookings?limit=100", headers=bearer()).get_json()["data"]


def create(client, body: dict | None = None) -> dict:
    response = client.post("/v1/bookings", json=body or ADA, headers=bearer())
    assert response.status_code == 201, response.get_json()
    return response.get_json()["data"]


def test_a_created_booking_gets_the_server_fields_and_reads_back(client):
    booking = create(client)
    assert {key: booking[key] for key in ADA} == ADA
    uuid.UUID(booking["id"])  # the ID the server chose, as its format says
    assert booking["seats"] == 1  # the declared default
    assert booking["createdAt"] == booking["updatedAt"] and booking["createdAt"].endswith("Z")
    read = client.get(f"/v1/bookings/{booking['id']}", headers=bearer())
    assert read.status_code == 200 and read.get_json()["data"] == booking
    assert create(client)["id"] != booking["id"]  # two creates, two IDs


def test_an_unknown_id_is_the_declared_404(client):
    response = client.get(f"/v1/bookings/{uuid.uuid4()}", headers=bearer())
    assert response.status_code == 404
    assert set(response.get_json()) >= {"title", "status"}  # the declared Problem shape


def test_the_list_holds_the_seeds_and_every_created_booking_once_across_pages(client):
    seeded = [booking["id"] for booking in seeds(client)]
    assert len(seeded) == 2  # getBooking's answer and listBookings' one item
    created = [create(client, {**ADA, "passenger": f"P{n}"})["id"] for n in range(5)]
    seen, page = [], 1
    while True:
        answer = client.get(f"/v1/bookings?page={page}&limit=2", headers=bearer()).get_json()
        assert answer["pagination"] == {"page": page, "limit": 2, "total": 7}
        if not answer["data"]:
            break
        assert len(answer["data"]) <= 2
        seen += [booking["id"] for booking in answer["data"]]
        page += 1
    assert seen == [*seeded, *created]  # in the order they were made, each once


def test_a_query_parameter_named_like_a_property_filters(client):
    held = [booking["id"] for booking in seeds(client) if booking["status"] == "held"]
    confirmed = create(client, {**ADA, "status": "confirmed"})["id"]
    listed = client.get("/v1/bookings?status=confirmed", headers=bearer()).get_json()
    assert [booking["id"] for booking in listed["data"]] == [confirmed]
    assert listed["pagination"]["total"] == 1
    assert [b["id"] for b in client.get("/v1/bookings?status=held", headers=bearer()).get_json()["data"]] == held


def test_put_replaces_and_keeps_the_id_and_creation_time(client):
    booking = create(client, {**ADA, "seats": 3})
    grace = {"passenger": "Grace", "flight": "LH1"}
    replaced = client.put(f"/v1/bookings/{booking['id']}", json=grace, headers=bearer())
    assert replaced.status_code == 200
    data = replaced.get_json()["data"]
    assert data["id"] == booking["id"] and data["createdAt"] == booking["createdAt"]
    assert data["passenger"] == "Grace" and "status" not in data  # replaced, not merged
    assert data["updatedAt"] > booking["updatedAt"]


def test_a_merge_patch_merges_and_a_null_removes(client):
    booking = create(client)
    patched = client.patch(
        f"/v1/bookings/{booking['id']}",
        data='{"seats": null, "status": "cancelled"}',
        content_type="application/merge-patch+json",
        headers=bearer(),
    )
    assert patched.status_code == 200, patched.get_json()
    data = patched.get_json()["data"]
    assert data["status"] == "cancelled" and data["passenger"] == ADA["passenger"] and "seats" not in data
    assert client.get(f"/v1/bookings/{booking['id']}", headers=bearer()).get_json()["data"] == data


def test_a_json_patch_applies_and_one_that_breaks_the_schema_changes_nothing(client):
    booking = create(client)
    path = f"/v1/bookings/{booking['id']}"
    patch = '[{"op": "replace", "path": "/passenger", "value": "Grace"}, {"op": "remove", "path": "/status"}]'
    patched = client.patch(path, data=patch, content_type="application/json-patch+json", headers=bearer())
    assert patched.status_code == 200, patched.get_json()
    assert patched.get_json()["data"]["passenger"] == "Grace" and "status" not in patched.get_json()["data"]
    broken = '[{"op": "replace", "path": "/flight", "value": "not a flight"}]'
    refused = client.patch(path, data=broken, content_type="application/json-patch+json", headers=bearer())
    assert refused.status_code == 400
    assert client.get(path, headers=bearer()).get_json()["data"]["flight"] == ADA["flight"]


def test_delete_makes_it_a_404_unlisted_and_takes_its_notes(client):
    booking = create(client)
    notes = f"/v1/bookings/{booking['id']}/notes"
    note = client.post(notes, json={"text": "window seat"}, headers=bearer())
    assert note.status_code == 201 and note.get_json()["id"] == 1  # an integer ID: one above the largest
    assert client.post(notes, json={"text": "vegetarian"}, headers=bearer()).get_json()["id"] == 2
    assert client.delete(f"/v1/bookings/{booking['id']}", headers=bearer()).status_code == 204
    assert client.get(f"/v1/bookings/{booking['id']}", headers=bearer()).status_code == 404
    listed = client.get("/v1/bookings?limit=100", headers=bearer()).get_json()["data"]
    assert booking["id"] not in [b["id"] for b in listed]
    assert client.get(f"{notes}/1", headers=bearer()).status_code == 404  # gone with its booking
    assert client.delete(f"/v1/bookings/{booking['id']}", headers=bearer()).status_code == 404


def test_notes_are_scoped_by_their_booking(client):
    first, second = create(client)["id"], create(client)["id"]
    client.post(f"/v1/bookings/{first}/notes", json={"text": "first's"}, headers=bearer())
    assert client.get(f"/v1/bookings/{second}/notes", headers=bearer()).get_json() == []
    assert [n["text"] for n in client.get(f"/v1/bookings/{first}/notes", headers=bearer()).get_json()] == ["first's"]
    assert client.get(f"/v1/bookings/{second}/notes/1", headers=bearer()).status_code == 404


def test_a_client_chosen_id_that_exists_is_the_declared_409(client):
    assert client.post("/v1/tags", json={"name": "vip", "colour": "gold"}, headers=bearer()).status_code == 201
    again = client.post("/v1/tags", json={"name": "vip"}, headers=bearer())
    assert again.status_code == 409
    assert client.get("/v1/tags/vip", headers=bearer()).get_json() == {"name": "vip", "colour": "gold"}


def test_reset_goes_back_to_the_seeds(client):
    first = seeds(client)
    booking = create(client)
    assert client.delete(f"/v1/bookings/{first[0]['id']}", headers=bearer()).status_code == 204
    assert client.post("/__mock/reset", json={}).status_code == 200
    assert client.get(f"/v1/bookings/{booking['id']}", headers=bearer()).status_code == 404
    assert seeds(client) == first


def test_items_past_the_limit_are_refused_and_the_state_is_kept(store_url):
    client = app_for("bookings.yaml", store_url, StateLimits(items=2)).test_client()
    create(client), create(client)
    refused = client.post("/v1/bookings", json=ADA, headers=bearer())
    assert refused.status_code == 400  # the 400 the mock adds for what breaks its limits
    assert "items" in refused.get_json()["details"]
    assert client.get("/v1/bookings", headers=bearer()).get_json()["pagination"]["total"] == 4  # 2 seeds, 2 more
    assert client.get("/__mock/state").get_json()["itemsAdded"] == 2


def test_the_petstore_lifecycle(store_url):
    client = app_for("petstore.yaml", store_url).test_client()
    auth = bearer()
    pet = {"id": 4711, "name": "Rex", "photoUrls": ["https://example.com/rex.png"], "status": "available"}
    assert client.post("/api/v3/pet", json=pet, headers=auth).get_json() == pet
    assert client.get("/api/v3/pet/4711", headers=auth).get_json() == pet
    available = client.get("/api/v3/pet/findByStatus?status=available", headers=auth).get_json()
    assert pet in available and all(p["status"] == "available" for p in available)
    assert pet not in client.get("/api/v3/pet/findByStatus?status=sold", headers=auth).get_json()
    assert client.delete("/api/v3/pet/4711", headers=auth).status_code == 200
    assert client.get("/api/v3/pet/4711", headers=auth).status_code == 404
    assert pet not in client.get("/api/v3/pet/findByStatus?status=available", headers=auth).get_json()


def test_a_json_patch_that_makes_the_item_no_object_is_a_400(client):
    # Found by schemathesis: `add` at the root may replace the item with an array.
    path = f"/v1/bookings/{create(client)['id']}"
    patch = '[{"op": "add", "path": "", "value": [null, null]}]'
    refused = client.patch(path, data=patch, content_type="application/json-patch+json", headers=bearer())
    assert refused.status_code == 400
    assert client.get(path, headers=bearer()).get_json()["data"]["passenger"] == ADA["passenger"]


def test_merge_patch_follows_rfc_7396():
    from mockserver.behaviours.resources import merge_patch

    target = {"a": "b", "c": {"d": "e", "f": "g"}}
    assert merge_patch(target, {"a": "z", "c": {"f": None}}) == {"a": "z", "c": {"d": "e"}}
    assert merge_patch({"a": ["b"]}, {"a": "c"}) == {"a": "c"}
    assert merge_patch({"a": "b"}, {"b": {"c": None}}) == {"a": "b", "b": {}}
    assert target == {"a": "b", "c": {"d": "e", "f": "g"}}  # unchanged


def test_a_reloaded_contract_keeps_the_items(store_url):
    # serve --watch builds a new app around the same store when the document changes.
    first = app_for("bookings.yaml", store_url)
    booking = create(first.test_client())
    again = create_app(SPECS / "bookings.yaml", FIXTURES, jwt_secret=SECRET, store=first.extensions["mockserver.store"])
    again.test_client_class = ContractClient
    read = again.test_client().get(f"/v1/bookings/{booking['id']}", headers=bearer())
    assert read.status_code == 200 and read.get_json()["data"] == booking


DISAGREEING = """
openapi: 3.0.3
info: {title: Fees, version: "1"}
paths:
  /fees:
    post:
      operationId: createFee
      requestBody: {required: true, content: {application/json: {schema: {$ref: "#/components/schemas/Fee"}}}}
      responses: {"201": {description: ok, content: {application/json: {schema: {$ref: "#/components/schemas/Fee"}}}}}
  /fees/{feeId}:
    parameters: [{name: feeId, in: path, required: true, schema: {type: string}}]
    get:
      operationId: getFee
      responses: {"200": {description: ok, content: {application/json: {schema: {$ref: "#/components/schemas/Fee"}}}}}
    patch:
      operationId: updateFee
      requestBody:
        required: true
        content:
          application/json: {schema: {type: object, properties: {threshold: {type: number}, note: {type: string}}}}
      responses: {"200": {description: ok, content: {application/json: {schema: {$ref: "#/components/schemas/Fee"}}}}}
components:
  schemas:
    Fee:
      type: object
      properties:
        id: {type: string, readOnly: true}
        threshold: {type: number, minimum: 0}
        note: {type: string}
"""


def test_a_merge_the_request_allows_and_the_item_forbids_stores_what_fits(tmp_path, store_url):
    # Found by schemathesis on the full description: updateFeeSetting's request allows a
    # negative payoutThreshold that the item's schema (minimum 0) does not.
    spec = tmp_path / "fees.yaml"
    spec.write_text(DISAGREEING)
    client = create_app(spec, FIXTURES, jwt_secret=SECRET, store_url=store_url, store_prefix=f"t-{uuid.uuid4().hex}")
    client = client.test_client()
    fee = client.post("/fees", json={"threshold": 5, "note": "a"}).get_json()
    patched = client.patch(f"/fees/{fee['id']}", json={"threshold": -1, "note": "b"})
    assert patched.status_code == 200
    assert patched.get_json() == {**fee, "threshold": 5, "note": "b"}  # the note merged, the threshold kept


def test_an_id_holding_an_encoded_slash_is_the_operations_declared_404(client):
    # Found by schemathesis's stateful phase: WSGI decodes %2F before routing, so no route
    # matched and the 404 came in the mock's envelope, not the Problem getTag declares.
    response = client.get("/v1/tags/a%2Fb", headers=bearer())
    assert response.status_code == 404
    assert set(response.get_json()) == {"title", "status", "detail"}
