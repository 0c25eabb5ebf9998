"""A reference server of tests/specs/bookings.yaml, written by hand (no mockserver), and
its broken variants: the proof that the lifecycle checks (contract_tests/lifecycle.py)
pass on a server that keeps its word and fail on each kind of server that does not
(tests/api/test_lifecycle_teeth.py).

Real state in dicts: bookings (a UUID each, wrapped answers `{"data", "message"}`, paged
by page/limit with `pagination.total`, filtered by `status`, replaced by PUT, changed by a
merge patch or a JSON patch, deleted with their notes), each booking's notes (integer
IDs) and tags (a client-chosen `name`, a 409 for one that exists). Errors are `Problem`s.
It checks nothing fancy, and answers only the statuses the document declares, but two:
a request without `Authorization: Bearer <anything>` is a 401 (any token is accepted,
none is verified), and a note of a booking that does not exist is a 404 (the document
declares neither).

`make_app(bug=...)` makes one of the broken variants (BUGS), each a bug real servers have.
"""

from __future__ import annotations

import copy
import itertools
import uuid
from datetime import UTC, datetime
from typing import Any

from flask import Flask, abort, jsonify, request

BUGS = {
    "forgets-creates": "a create answers 201 with the item, and stores nothing",
    "stale-reads": "a read after a PATCH or PUT answers the item as it was created",
    "patch-replaces": "a PATCH replaces the item with the patch instead of merging it",
    "put-drops-fields": "a PUT keeps only passenger and flight (its DTO forgot the rest)",
    "delete-nothing": "a DELETE answers 204 and deletes nothing",
    "ignores-paging": "the list answers every item on every page",
    "ignores-filter": "the list ignores its status filter",
    "same-ids": "every create gets the same ID",
    "500-unknown-id": "an unknown ID is a 500 (a KeyError), not the declared 404",
    "page-total": "pagination.total counts the items of the page, not of the list",
    "undeclared-status": "a create answers 200, where the document declares 201",
}
BOOKING_FIELDS = ("passenger", "flight", "seats", "status")  # what a client may write
SAME_ID = "00000000-0000-4000-8000-000000000000"


class PatchFailed(Exception):
    pass


def make_app(bug: str | None = None) -> Flask:
    if bug is not None and bug not in BUGS:
        raise ValueError(f"unknown bug {bug!r}: one of {', '.join(BUGS)}")
    app = Flask(__name__)
    bookings: dict[str, dict] = {}
    as_created: dict[str, dict] = {}  # stale-reads: what a read answers
    notes: dict[str, dict[int, dict]] = {}
    tags: dict[str, dict] = {}
    note_ids = itertools.count(1)

    def problem(status: int, title: str, detail: str = ""):
        return jsonify({"title": title, "status": status, **({"detail": detail} if detail else {})}), status

    def booking(booking_id: str) -> dict:
        if bug == "500-unknown-id":
            return bookings[booking_id]  # the KeyError is a 500
        if booking_id not in bookings:
            abort(404)
        return bookings[booking_id]

    def answer(item: dict, message: str, status: int = 200):
        return jsonify({"data": item, "message": message}), status

    def body() -> Any:
        return request.get_json(force=True, silent=True)

    def fields() -> dict:
        sent = body()
        return sent if isinstance(sent, dict) else {}

    def now() -> str:
        return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")

    def written(sent: dict) -> dict:
        return {"seats": 1, **{name: sent[name] for name in BOOKING_FIELDS if name in sent}}

    @app.errorhandler(404)
    def not_found(error):
        return problem(404, "Not found", "No such thing")

    @app.before_request
    def authenticate():
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return problem(401, "Unauthorized", "Send Authorization: Bearer <token>")
        return None

    @app.post("/v1/bookings")
    def create_booking():
        stamp = now()
        item = {"id": SAME_ID if bug == "same-ids" else str(uuid.uuid4()), **written(fields())}
        item |= {"createdAt": stamp, "updatedAt": stamp}
        if bug != "forgets-creates":
            bookings[item["id"]] = item
            as_created[item["id"]] = copy.deepcopy(item)
            notes[item["id"]] = {}
        return answer(item, "Booking created.", 200 if bug == "undeclared-status" else 201)

    @app.get("/v1/bookings")
    def list_bookings():
        page = max(request.args.get("page", 1, type=int), 1)
        limit = min(max(request.args.get("limit", 20, type=int), 1), 100)
        status = request.args.get("status")
        items = list(bookings.values())
        if status is not None and bug != "ignores-filter":
            items = [item for item in items if item.get("status") == status]
        shown = items if bug == "ignores-paging" else items[(page - 1) * limit : page * limit]
        total = len(shown) if bug == "page-total" else len(items)
        return jsonify({"data": shown, "pagination": {"page": page, "limit": limit, "total": total}})

    @app.get("/v1/bookings/<booking_id>")
    def get_booking(booking_id: str):
        item = booking(booking_id)
        return answer(as_created[booking_id] if bug == "stale-reads" else item, "The booking.")

    @app.put("/v1/bookings/<booking_id>")
    def replace_booking(booking_id: str):
        old = booking(booking_id)
        sent = fields()
        if bug == "put-drops-fields":
            sent = {name: sent[name] for name in ("passenger", "flight") if name in sent}
        item = {"id": booking_id, **written(sent), "createdAt": old["createdAt"], "updatedAt": now()}
        bookings[booking_id] = item
        return answer(item, "Booking replaced.")

    @app.patch("/v1/bookings/<booking_id>")
    def update_booking(booking_id: str):
        old = booking(booking_id)
        patch = body()
        try:
            if request.mimetype == "application/merge-patch+json":
                if not isinstance(patch, dict):
                    raise PatchFailed("a merge patch is an object")
                changed = merge(copy.deepcopy(old) if bug != "patch-replaces" else {}, patch)
            elif request.mimetype == "application/json-patch+json":
                changed = json_patch(copy.deepcopy(old), patch)
            else:
                raise PatchFailed("send application/merge-patch+json or application/json-patch+json")
        except PatchFailed as failure:
            return problem(400, "The patch does not apply", str(failure))
        item = {"id": booking_id, **written(changed), "createdAt": old["createdAt"], "updatedAt": now()}
        bookings[booking_id] = item
        return answer(item, "Booking updated.")

    @app.delete("/v1/bookings/<booking_id>")
    def delete_booking(booking_id: str):
        booking(booking_id)
        if bug != "delete-nothing":
            del bookings[booking_id], as_created[booking_id], notes[booking_id]
        return "", 204

    @app.post("/v1/bookings/<booking_id>/notes")
    def add_note(booking_id: str):
        booking(booking_id)
        sent = fields()
        note = {"id": 1 if bug == "same-ids" else next(note_ids), "text": str(sent.get("text", ""))}
        if bug != "forgets-creates":
            notes[booking_id][note["id"]] = note
        return jsonify(note), 200 if bug == "undeclared-status" else 201

    @app.get("/v1/bookings/<booking_id>/notes")
    def list_notes(booking_id: str):
        booking(booking_id)
        return jsonify(list(notes[booking_id].values()))

    @app.get("/v1/bookings/<booking_id>/notes/<int(signed=True):note_id>")
    def get_note(booking_id: str, note_id: int):
        booking(booking_id)
        if bug == "500-unknown-id":
            return jsonify(notes[booking_id][note_id])
        return jsonify(notes[booking_id][note_id]) if note_id in notes[booking_id] else abort(404)

    @app.post("/v1/tags")
    def create_tag():
        sent = fields()
        tag = {name: str(sent[name]) for name in ("name", "colour") if name in sent}
        if tag.get("name", "") in tags:
            return problem(409, "Conflict", f"A tag named {tag['name']!r} exists")
        if bug != "forgets-creates":
            tags[tag.get("name", "")] = tag
        return jsonify(tag), 200 if bug == "undeclared-status" else 201

    @app.get("/v1/tags/<name>")
    def get_tag(name: str):
        if bug == "500-unknown-id":
            return jsonify(tags[name])
        return jsonify(tags[name]) if name in tags else abort(404)

    return app


def merge(target: Any, patch: Any) -> Any:
    """RFC 7396: a JSON merge patch applied to `target`."""
    if not isinstance(patch, dict):
        return patch
    target = target if isinstance(target, dict) else {}
    for name, value in patch.items():
        if value is None:
            target.pop(name, None)
        else:
            target[name] = merge(target.get(name), value)
    return target


def json_patch(item: dict, operations: Any) -> dict:
    """RFC 6902 on the item's top-level fields (its fields are all scalars)."""
    if not isinstance(operations, list):
        raise PatchFailed("a JSON patch is an array of operations")
    for operation in operations:
        if not isinstance(operation, dict):
            raise PatchFailed("an operation is an object")
        op, name = operation.get("op"), field_of(operation.get("path"))
        if op in ("move", "copy"):
            source = field_of(operation.get("from"))
            if source not in item:
                raise PatchFailed(f"nothing at /{source}")
            value = item.pop(source) if op == "move" else item[source]
            item[name] = value
        elif op == "add" and "value" in operation:
            item[name] = operation["value"]
        elif op in ("replace", "remove", "test") and name not in item:
            raise PatchFailed(f"nothing at /{name}")
        elif op == "replace" and "value" in operation:
            item[name] = operation["value"]
        elif op == "remove":
            del item[name]
        elif op == "test" and "value" in operation:
            if item[name] != operation["value"]:
                raise PatchFailed(f"/{name} is not {operation['value']!r}")
        else:
            raise PatchFailed(f"cannot apply {operation!r}")
    return item


def field_of(pointer: Any) -> str:
    if not isinstance(pointer, str) or not pointer.startswith("/") or "/" in pointer[1:]:
        raise PatchFailed(f"{pointer!r} is not a top-level field of the booking")
    name = pointer[1:].replace("~1", "/").replace("~0", "~")
    if name not in BOOKING_FIELDS:
        raise PatchFailed(f"/{name} is not a field a client may write")
    return name
